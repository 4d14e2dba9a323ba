"""The nearest earlier experiment and the differences from it (pure functions)."""

from core.history.preview import (
    DATA_KEY,
    ExperimentRecord,
    describe_plan,
    nearest_experiment,
    param_changes,
)
from core.training.checkpoints import ResumePlan

DATA = {"theme_id": 1, "classes": ["a", "b"], "images": 10, "digest": "x"}


def record(eid, theme="t", modified=0.0, data=DATA, **params):
    base = {"lr": 0.001, "batch_size": 32, "optimizer": "adam", "split_ratios": [0.7, 0.15, 0.15]}
    return ExperimentRecord(eid, theme, {**base, **params}, data, modified)


def test_changes_compare_canonically_and_include_data():
    current = {"lr": 1e-3, "batch_size": 32, "optimizer": "sgd", "split_ratios": (0.7, 0.15, 0.15)}
    changes = param_changes(record("a").params, current, DATA, {**DATA, "images": 12})
    assert [(c.key, c.earlier, c.current) for c in changes] == [
        ("optimizer", "adam", "sgd"),
        (DATA_KEY, "10 images (a, b)", "12 images (a, b)"),
    ]
    assert [c.key for c in param_changes({"dropout": 0.1}, {})] == ["dropout"]


def test_nearest_has_fewest_changes_same_theme_newest_on_tie():
    records = [
        record("far", lr=0.1, batch_size=8, modified=5),
        record("near_old", lr=0.1, modified=1),
        record("near_new", batch_size=64, modified=2),
        record("other_theme", theme="u", modified=9),
    ]
    params = {**record("x").params}
    chosen, changes = nearest_experiment(records, "t", params, DATA)
    assert chosen.experiment_id == "near_new"
    assert [(c.key, c.earlier, c.current) for c in changes] == [("batch_size", 64, 32)]
    assert nearest_experiment(records, "none", params, DATA) is None


def test_plan_headlines():
    assert describe_plan(ResumePlan("new", 0, 5, None))[0] == "new experiment"
    assert describe_plan(ResumePlan("resume", 2, 5, None))[0] == "resume (epoch 2 of 5)"
    assert describe_plan(ResumePlan("extend", 2, 5, None))[0] == "adds 3 epochs"
    assert describe_plan(ResumePlan("complete", 5, 5, None))[0] == "already complete"
