"""Property tests of the experiment id (docs/experiment-id.md)."""

import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import parse_overrides, resolve_params
from core.hashing import UNHASHED_KEYS, canonical_json, experiment_id
from core.workspace import Workspace

keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=20),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
params = st.dictionaries(
    keys.filter(lambda k: k not in UNHASHED_KEYS), values, min_size=1, max_size=10
)


@given(params, st.randoms())
def test_key_order_does_not_matter(p, rnd):
    items = list(p.items())
    rnd.shuffle(items)
    assert experiment_id(dict(items)) == experiment_id(p)


@given(params)
def test_equivalent_spellings_give_the_same_id(p):
    respelled = {
        k: (float(v) if isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**53 else v)
        for k, v in p.items()
    }
    respelled = {k: (tuple(v) if isinstance(v, list) else v) for k, v in respelled.items()}
    assert experiment_id(respelled) == experiment_id(p)


@given(params, st.data())
def test_any_value_change_gives_a_new_id(p, data):
    key = data.draw(st.sampled_from(sorted(p)))
    new_value = data.draw(values)
    # a change is a value that is not an equivalent spelling of the old one
    if canonical_json({key: new_value}) == canonical_json({key: p[key]}):
        return
    changed = {**p, key: new_value}
    assert experiment_id(changed) != experiment_id(p)


@given(params, keys, values)
def test_adding_a_parameter_gives_a_new_id(p, key, value):
    if key in p or key in UNHASHED_KEYS:
        return
    assert experiment_id({**p, key: value}) != experiment_id(p)


@given(params, st.integers(1, 10_000))
def test_run_length_is_not_hashed(p, epochs):
    assert experiment_id({**p, "max_epochs": epochs}) == experiment_id(p)
    assert experiment_id({**p, "run_name": "anything"}) == experiment_id(p)


@given(params, st.text(min_size=1, max_size=16), st.text(min_size=1, max_size=16))
def test_data_fingerprint_is_part_of_the_id(p, a, b):
    if a == b:
        return
    assert experiment_id(p, {"theme": 1, "images": a}) != experiment_id(
        p, {"theme": 1, "images": b}
    )
    assert experiment_id(p, {"images": a}) != experiment_id(p)


def test_float_spellings_and_special_values():
    assert (
        experiment_id({"lr": 1e-3}) == experiment_id({"lr": 0.001}) == experiment_id({"lr": 0.0010})
    )
    assert experiment_id({"x": -0.0}) == experiment_id({"x": 0})
    assert experiment_id({"x": True}) != experiment_id({"x": 1})
    assert experiment_id({"x": math.nan}) == experiment_id({"x": float("nan")})
    assert experiment_id({"x": math.inf}) != experiment_id({"x": -math.inf})
    assert experiment_id({"x": "é"}) == experiment_id({"x": "e\u0301"})  # NFC
    assert experiment_id({"s": {3, 1, 2}}) == experiment_id({"s": [1, 2, 3]})


def test_paths_inside_the_workspace_are_relative(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    a = experiment_id({"weights": one / "w" / "r18.pth"}, base_dir=one)
    b = experiment_id({"weights": two / "w" / "r18.pth"}, base_dir=two)
    assert a == b == experiment_id({"weights": Path("w/r18.pth")})


def test_id_is_stable_across_versions():
    # this exact text and id are documented; changing them orphans every experiment
    assert (
        canonical_json({"b": 2, "a": 0.5})
        == '{"augments":null,"code":null,"data":null,"params":{"a":0.5,"b":2},"schema":2}'
    )
    assert experiment_id({"b": 2, "a": 0.5}) == "3571c0bf234a"
    full = {
        "augments": {"train": [{"type": "HorizontalFlip", "p": 0.5}]},
        "code": {"m": "ab"},
        "hashed_keys": ("max_epochs",),
    }
    assert experiment_id({"b": 2, "a": 0.5, "max_epochs": 3}, {"digest": "x"}, **full) == (
        "9038cd44b3dc"
    )


def test_augments_code_and_searched_max_epochs_are_part_of_the_id():
    p = {"lr": 0.001, "max_epochs": 5}
    flip = {"train": [{"type": "HorizontalFlip", "p": 0.5}], "normalize": {"mean": [0.5]}}
    assert experiment_id(p, augments=flip) != experiment_id(p)
    vertical = {**flip, "train": [{"type": "VerticalFlip", "p": 1.0}]}
    assert experiment_id(p, augments=vertical) != experiment_id(p, augments=flip)
    # the parsed list, not the file text: 0.5 and 5e-1, key order, do not matter
    respelled = {"normalize": {"mean": [0.5]}, "train": [{"p": 5e-1, "type": "HorizontalFlip"}]}
    assert experiment_id(p, augments=respelled) == experiment_id(p, augments=flip)
    assert experiment_id(p, code={"m": "1"}) != experiment_id(p, code={"m": "2"})
    # max_epochs extends an experiment, except where a study searches it
    assert experiment_id({**p, "max_epochs": 9}) == experiment_id(p)
    searched = {"hashed_keys": ("max_epochs",)}
    assert experiment_id({**p, "max_epochs": 9}, **searched) != experiment_id(p, **searched)


REPO_WORKSPACE = Workspace.resolve(Path(__file__).resolve().parents[3])


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["0.001", "1e-3", "1.0e-3", "0.0010"]), st.sampled_from(["32", "32.0"]))
def test_resolved_parameters_hash_the_same_for_any_spelling(lr, batch):
    base = resolve_params(REPO_WORKSPACE, overrides=parse_overrides(["lr=0.001", "batch_size=32"]))
    other = resolve_params(
        REPO_WORKSPACE, overrides=parse_overrides([f"lr={lr}", f"batch_size={batch}"])
    )
    assert other.experiment_id() == base.experiment_id()
    raised = resolve_params(REPO_WORKSPACE, overrides=parse_overrides(["lr=0.002"]))
    assert raised.experiment_id() != base.experiment_id()


def test_workspace_augments_and_definition_sources_change_the_resolved_id(workspace):
    first = resolve_params(workspace).experiment_id()
    text = workspace.augments_file.read_text()
    # comments and spellings of the same list keep the id
    workspace.augments_file.write_text("# same transforms\n" + text.replace("p: 0.5", "p: 5.0e-1"))
    assert resolve_params(workspace).experiment_id() == first
    workspace.augments_file.write_text(
        "train:\n  - type: VerticalFlip\n    p: 1\n  - type: InvertImg\n    p: 1\n"
    )
    replaced = resolve_params(workspace).experiment_id()
    assert replaced != first
    workspace.augments_file.write_text(text)
    assert resolve_params(workspace).experiment_id() == first

    model = workspace.definitions_dir / "models" / "simple_cnn" / "model.py"
    plots = workspace.definitions_dir / "models" / "simple_cnn" / "plots.py"
    plots.write_text(plots.read_text() + "\n# drawing only\n")
    assert resolve_params(workspace).experiment_id() == first  # plots do not train
    model.write_text(model.read_text() + "\n# a changed network\n")
    assert resolve_params(workspace).experiment_id() != first
