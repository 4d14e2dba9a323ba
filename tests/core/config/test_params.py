import pytest

from core.config import parse_overrides, resolve_params
from core.errors import CockpitError


def resolve(ws, *sets, text=None):
    if text is not None:
        ws.params_file.write_text(text)
    return resolve_params(ws, overrides=parse_overrides(sets))


def test_defaults_merge_common_dataset_adapter_model(workspace):
    workspace.params_file.unlink()
    resolved = resolve(workspace)
    values, sources = resolved.values, resolved.sources
    assert values["lr"] == 0.001 and sources["lr"] == "default (common)"
    assert values["split_ratios"] == (0.7, 0.15, 0.15)
    assert sources["split_ratios"] == "default (dataset images)"
    assert values["image_size"] == 32
    assert sources["image_size"] == "default (adapter simple_cnn/classification)"
    assert values["dropout"] == 0.0 and sources["dropout"] == "default (model simple_cnn)"


def test_choosing_another_model_brings_its_parameters(workspace):
    resolved = resolve(workspace, "model=resnet", "image_size=64")
    assert resolved.values["arch"] == "resnet18"
    assert "dropout" not in resolved.values
    assert resolved.sources["model"] == "--set model=resnet"


def test_later_config_redefines_earlier_parameter(workspace):
    # the resnet adapter's image_size (min 32) replaces nothing of simple_cnn's (min 16)
    with pytest.raises(CockpitError, match=r"image_size.*>= 32"):
        resolve(workspace, "model=resnet", "image_size=16")


def test_params_file_values_and_overrides_win_over_defaults(workspace):
    resolved = resolve(workspace, "batch_size=8", text="lr: 0.01\nbatch_size: 64\n")
    assert resolved.values["lr"] == 0.01 and resolved.sources["lr"] == "configs/params.yaml"
    assert resolved.values["batch_size"] == 8
    assert resolved.sources["batch_size"] == "--set batch_size=8"


def test_set_coerces_by_parameter_type(workspace):
    resolved = resolve(
        workspace,
        "lr=1e-3",
        "max_epochs=20",
        "run_name=007",
        "split_ratios=[0.8,0.1,0.1]",
        "precision=32",
    )
    assert resolved.values["lr"] == 0.001
    assert resolved.values["max_epochs"] == 20
    assert resolved.values["run_name"] == "007"
    assert resolved.values["split_ratios"] == (0.8, 0.1, 0.1)
    assert resolved.values["precision"] == "32"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "batch_sise: 32\n",
            r"configs/params.yaml: unknown key 'batch_sise' \(did you mean 'batch_size'\?\)",
        ),
        ("lr: abc\n", r"configs/params.yaml: lr: .*valid number.*expected float > 0, <= 10.*'abc'"),
        ("lr: -1\n", r"configs/params.yaml: lr: Input should be greater than 0"),
        ("batch_size: 3.5\n", r"batch_size: .*fractional part.*expected int >= 1"),
        ("batch_size: true\n", r"batch_size: expected a number, got true"),
        ("optimizer: adm\n", r"optimizer: 'adm' is not one of 'adam', 'adamw', 'sgd'"),
        (
            "model: resnt\n",
            r"configs/params.yaml: model: model 'resnt' is not registered.*did you mean 'resnet'",
        ),
        (
            "split_ratios: [0.5, 0.2, 0.2]\n",
            r"split_ratios: train, valid and test ratios must .* add up to 1",
        ),
        ("lr: [0.1\n", r"configs/params.yaml: line \d+, column \d+: invalid YAML"),
    ],
)
def test_bad_params_file_gives_one_clear_line(workspace, text, expected):
    with pytest.raises(CockpitError, match=expected) as info:
        resolve(workspace, text=text)
    assert "\n" not in str(info.value)


def test_every_problem_is_reported(workspace):
    with pytest.raises(CockpitError) as info:
        resolve(workspace, text="lr: 0\nbatch_size: 0\nbogus: 1\n")
    assert len(str(info.value).splitlines()) == 3


def test_bad_override_names_the_option(workspace):
    with pytest.raises(CockpitError, match=r"^--set lr=fast: lr:"):
        resolve(workspace, "lr=fast")
    with pytest.raises(CockpitError, match="expected key=value"):
        parse_overrides(["lr"])


def test_explicit_params_file_must_exist(workspace, tmp_path):
    with pytest.raises(CockpitError, match="does not exist"):
        resolve_params(workspace, params_file=tmp_path / "nope.yaml")


def test_section_gives_a_definition_its_dataclass(workspace):
    from definitions.models.simple_cnn.config import SimpleCNNConfig

    resolved = resolve(workspace, "dropout=0.25")
    assert resolved.section(SimpleCNNConfig) == SimpleCNNConfig(dropout=0.25)
