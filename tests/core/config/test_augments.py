import pytest

from core.config.augments import build_train_transforms, load_augments
from core.errors import CockpitError


def test_example_augments_build_real_transforms(workspace):
    config = load_augments(workspace.augments_file)
    built = build_train_transforms(config, "configs/augments.yaml")
    assert [type(t).__name__ for t in built] == [
        "HorizontalFlip",
        "Rotate",
        "RandomBrightnessContrast",
    ]


def test_missing_augments_means_no_augmentation(tmp_path):
    assert load_augments(tmp_path / "none.yaml").train == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "train:\n  - type: HorizontalFlop\n",
            r"train\[0\]\.type: 'HorizontalFlop' is not an albumentations transform",
        ),
        (
            "train:\n  - type: Rotate\n    limit: banana\n",
            r"train\[0\] \(Rotate\): invalid arguments",
        ),
        ("train:\n  - p: 0.5\n", r"train\[0\]\.type: Field required"),
        ("trian: []\n", r"trian: unknown key"),
        (
            "normalize:\n  mean: [0.5, 0.5, 0.5]\n  std: [0, 1, 1]\n",
            r"normalize\.std: .*greater than 0",
        ),
    ],
)
def test_bad_augments_name_the_yaml_key(tmp_path, text, expected):
    path = tmp_path / "augments.yaml"
    path.write_text(text)
    with pytest.raises(CockpitError, match=expected):
        build_train_transforms(load_augments(path), path)
