from core.config import resolve_params
from core.config.optuna_params import OptunaParams
from core.data.snapshot import DataSnapshot, SnapshotItem
from core.tuning.validation import validate_study


def snapshot(per_class_train, with_test=True):
    items, number = [], 0
    for index, count in enumerate(per_class_train):
        for split, n in (("train", count), ("valid", 3), ("test", 3 if with_test else 0)):
            for _ in range(n):
                number += 1
                items.append(SnapshotItem(number, f"images/1/{number}.png", index, split))
    names = tuple(f"c{i}" for i in range(len(per_class_train)))
    return DataSnapshot(1, "t", names, tuple(items), "digest")


def config(**study):
    return OptunaParams.model_validate(
        {
            "study": study,
            "search_space": {"optimizer": {"type": "categorical", "choices": ["adam", "sgd"]}},
        }
    )


def test_a_sound_study_passes(workspace):
    result = validate_study(config(n_trials=2), resolve_params(workspace), snapshot([20, 20]), "s")
    assert result.ok and not result.warnings and result.corrected is None


def test_too_few_images_per_class_warns(workspace):
    result = validate_study(config(n_trials=2), resolve_params(workspace), snapshot([20, 2]), "s")
    assert result.ok
    assert any("class 'c1' has 2 train image(s)" in w for w in result.warnings)


def test_problems_come_with_a_corrected_configuration(workspace):
    result = validate_study(
        config(n_trials=50, metric="test_acc", sampler="cmaes"),
        resolve_params(workspace),
        snapshot([20, 20], with_test=False),
        "s",
    )
    assert not result.ok and "needs test images" in result.errors[0]
    assert any("2 points" in w for w in result.warnings)
    fixed = result.corrected.study
    assert (fixed.metric, fixed.n_trials, fixed.sampler) == ("valid_acc", 2, "tpe")
