"""Every error's advice, followed, works; the CLI labels imported images; outputs say
exactly what there is."""

import re

from click.testing import CliRunner
from sqlalchemy import select

from cockpit.cli import cli
from core.db import Label, TrainData, open_database
from tests.imaging import make_image


def run(*args, input=None, env=None):
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def labels_by_original(workspace):
    with open_database(workspace).session() as session:
        rows = session.execute(
            select(TrainData.original_name, Label.label_name).outerjoin(
                Label, TrainData.label_id == Label.id
            )
        ).all()
    return dict(rows)


def test_unknown_key_advice_config_show_lists_the_known_keys(workspace):
    ws = str(workspace.root)
    workspace.params_file.write_text(workspace.params_file.read_text() + "batch_sise: 16\n")
    refused = run("-w", ws, "config", "hash")
    assert refused.exit_code == 2 and "`cockpit config show` lists the known keys" in refused.output
    shown = run("-w", ws, "config", "show", env={"COLUMNS": "400"})  # the advice
    assert shown.exit_code == 0, shown.output
    rows = {line.split("│")[1].strip(): line for line in shown.output.splitlines() if "│" in line}
    assert "learning rate" in rows["lr"] and "images per batch" in rows["batch_size"]
    assert "unknown key 'batch_sise' (did you mean 'batch_size'?)" in rows["batch_sise"]
    assert "experiment id: none until the unknown key(s) batch_sise are renamed" in shown.output
    # machine-readable output stays strict
    assert run("-w", ws, "config", "show", "--format", "json").exit_code == 2


def test_split_ratios_with_two_values_says_it_needs_three_and_the_example_works(workspace):
    ws = str(workspace.root)
    original = workspace.params_file.read_text()
    workspace.params_file.write_text(original + "split_ratios: [0.8, 0.2]\n")
    refused = run("-w", ws, "config", "hash")
    assert refused.exit_code == 2
    (line,) = error_lines(refused)
    assert "Field required" not in line
    assert line.startswith("error: configs/params.yaml: split_ratios: expected 3 values")
    assert "train, valid, test" in line and "adding up to 1" in line and "[0.8, 0.2]" in line
    example = re.search(r"write e\.g\. (split_ratios: \[.*\])$", line).group(1)
    workspace.params_file.write_text(original + example + "\n")
    assert run("-w", ws, "config", "hash").exit_code == 0
    workspace.params_file.write_text(original + "split_ratios: [0.5, 0.2, 0.2, 0.1]\n")
    (line,) = error_lines(run("-w", ws, "config", "hash"))
    assert "expected 3 values" in line


def test_deleting_a_missing_theme_says_so_before_asking(workspace):
    result = run("-w", str(workspace.root), "theme", "delete", "nosuch", input="y\n")
    assert result.exit_code == 2
    assert "theme 'nosuch' does not exist" in result.output
    assert "[y/N]" not in result.output


def test_theme_list_has_no_dangling_separators(workspace, tmp_path):
    ws = str(workspace.root)
    run("-w", ws, "theme", "create", "pets", "--labels", "cat,dog")
    listed = run("-w", ws, "theme", "list").stdout.splitlines()
    assert listed[0] == "pets (id 1): no images yet"
    files = [make_image(tmp_path / f"p{i}.png", i) for i in range(3)]
    run("-w", ws, "import", "--theme", "pets", "--label", "cat", str(files[0]), str(files[1]))
    run("-w", ws, "import", "--theme", "pets", str(files[2]))
    assert run("-w", ws, "theme", "list").stdout.splitlines()[0] == (
        "pets (id 1): 3 images (1 unlabeled); unsplit 3"
    )
    run("-w", ws, "label", "set", "--theme", "pets", "--label", "dog", str(files[2]))
    run("-w", ws, "split", "--theme", "pets")
    first = run("-w", ws, "theme", "list").stdout.splitlines()[0]
    assert first.startswith("pets (id 1): 3 images; train ") and not first.endswith((";", " "))


def _imported_theme(workspace, tmp_path, count=4):
    ws = str(workspace.root)
    assert run("-w", ws, "theme", "create", "pets", "--labels", "cat,dog").exit_code == 0
    files = [make_image(tmp_path / "src" / f"img{i}.png", i) for i in range(count)]
    assert run("-w", ws, "import", "--theme", "pets", str(tmp_path / "src")).exit_code == 0
    return ws, files


def test_label_set_by_file_original_name_stored_name_and_glob(workspace, tmp_path, monkeypatch):
    ws, files = _imported_theme(workspace, tmp_path, count=5)
    listed = run("-w", ws, "label", "unlabeled", "--theme", "pets")
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert sorted(original for _, original in rows) == [f"img{i}.png" for i in range(5)]
    assert "5 unlabeled images in theme 'pets'" in listed.stderr
    stored = dict((original, path) for path, original in rows)

    by_file = run("-w", ws, "label", "set", "--theme", "pets", "--label", "cat", str(files[0]))
    assert by_file.exit_code == 0, by_file.output
    monkeypatch.chdir(tmp_path / "src")  # a relative path is a file too
    assert (
        run("-w", ws, "label", "set", "--theme", "pets", "--label", "cat", "img1.png").exit_code
        == 0
    )
    monkeypatch.chdir(tmp_path)  # not a file here: the original name of an imported image
    assert (
        run("-w", ws, "label", "set", "--theme", "pets", "--label", "dog", "img2.png").exit_code
        == 0
    )
    stored_name = stored["img3.png"].rsplit("/", 1)[1]
    assert (
        run("-w", ws, "label", "set", "--theme", "pets", "--label", "dog", stored_name).exit_code
        == 0
    )
    assert labels_by_original(workspace) == {
        "img0.png": "cat",
        "img1.png": "cat",
        "img2.png": "dog",
        "img3.png": "dog",
        "img4.png": None,
    }
    relabeled = run("-w", ws, "label", "set", "--theme", "pets", "--label", "dog", "img[01].*")
    assert relabeled.exit_code == 0
    assert "labeled 2 images of theme 'pets'; 2 had another label" in relabeled.stdout
    assert labels_by_original(workspace)["img0.png"] == "dog"
    remaining = run("-w", ws, "label", "unlabeled", "--theme", "pets").stdout.splitlines()
    assert remaining == [f"{stored['img4.png']}\timg4.png"]


def test_an_unknown_label_changes_nothing_and_its_advice_works(workspace, tmp_path):
    ws, files = _imported_theme(workspace, tmp_path)
    before = labels_by_original(workspace)
    result = run("-w", ws, "label", "set", "--theme", "pets", "--label", "bird", *map(str, files))
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "label 'bird' does not exist in theme 'pets'" in line and "no label was changed" in line
    assert labels_by_original(workspace) == before
    command = re.search(r"`cockpit (label add [^`]+)`", line).group(1).split()
    assert run("-w", ws, *command).exit_code == 0
    again = run("-w", ws, "label", "set", "--theme", "pets", "--label", "bird", *map(str, files))
    assert again.exit_code == 0
    assert set(labels_by_original(workspace).values()) == {"bird"}


def test_an_unknown_file_changes_nothing_and_the_listing_it_advises_gives_names_that_work(
    workspace, tmp_path
):
    ws, files = _imported_theme(workspace, tmp_path)
    result = run(
        "-w", ws, "label", "set", "--theme", "pets", "--label", "cat", str(files[0]), "nothere.png"
    )
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith("error: nothere.png: no image of theme 'pets'")
    assert labels_by_original(workspace)["img0.png"] is None  # the valid one was not applied
    command = re.search(r"`cockpit (label unlabeled [^`]+)`", line).group(1).split()
    listed = run("-w", ws, *command).stdout.splitlines()
    paths = [row.split("\t")[0] for row in listed]
    assert run("-w", ws, "label", "set", "--theme", "pets", "--label", "cat", *paths).exit_code == 0
    assert set(labels_by_original(workspace).values()) == {"cat"}


def test_an_ambiguous_original_name_asks_for_the_stored_name(workspace, tmp_path):
    ws = str(workspace.root)
    run("-w", ws, "theme", "create", "pets", "--labels", "cat,dog")
    make_image(tmp_path / "a" / "same.png", 1)
    make_image(tmp_path / "b" / "same.png", 2)
    run(
        "-w",
        ws,
        "import",
        "--theme",
        "pets",
        "--no-imagefolder",
        str(tmp_path / "a"),
        str(tmp_path / "b"),
    )
    result = run("-w", ws, "label", "set", "--theme", "pets", "--label", "cat", "same.png")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "'same.png' is the original name of 2 images" in line and "stored name" in line
    stored = re.search(r"\((images/\S+?)[,)]", line).group(1)
    assert run("-w", ws, "label", "set", "--theme", "pets", "--label", "cat", stored).exit_code == 0
    with open_database(workspace).session() as session:
        labeled = session.execute(select(TrainData.image_path, TrainData.label_id)).all()
    assert [path for path, label in labeled if label is not None] == [stored]


def test_a_file_never_imported_is_named_and_the_import_advice_labels_it(workspace, tmp_path):
    ws, _files = _imported_theme(workspace, tmp_path)
    new = make_image(tmp_path / "new.png", 99)
    result = run("-w", ws, "label", "set", "--theme", "pets", "--label", "cat", str(new))
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert f"{new} is not an image of theme 'pets'" in line
    command = re.search(r"`cockpit (import [^`]+)`", line).group(1).split()
    assert run("-w", ws, *command).exit_code == 0
    assert labels_by_original(workspace)["new.png"] == "cat"


def test_labels_from_a_csv_are_applied_all_or_nothing(workspace, tmp_path):
    ws, _files = _imported_theme(workspace, tmp_path)
    sheet = tmp_path / "labels.csv"
    sheet.write_text("file,label\nsrc/img0.png,cat\nimg1.png,dog\nsrc/img2.png,horse\n")
    result = run("-w", ws, "label", "set", "--theme", "pets", "--from-csv", str(sheet))
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert f"{sheet} line 4: label 'horse' does not exist" in line
    assert set(labels_by_original(workspace).values()) == {None}

    sheet.write_text("file,label\nsrc/img0.png,cat\nimg0.png,dog\n")
    result = run("-w", ws, "label", "set", "--theme", "pets", "--from-csv", str(sheet))
    assert result.exit_code == 2 and "give each image one label" in result.stderr
    assert set(labels_by_original(workspace).values()) == {None}

    sheet.write_text("file,label\nsrc/img0.png,cat\nimg1.png,dog\nsrc/img2.png,dog\n")
    result = run("-w", ws, "label", "set", "--theme", "pets", "--from-csv", str(sheet))
    assert result.exit_code == 0, result.output
    assert labels_by_original(workspace) == {
        "img0.png": "cat",
        "img1.png": "dog",
        "img2.png": "dog",
        "img3.png": None,
    }
    sheet.write_text("path;label\n")
    result = run("-w", ws, "label", "set", "--theme", "pets", "--from-csv", str(sheet))
    assert result.exit_code == 2 and "expected the header file,label" in result.stderr


def test_a_tiny_theme_is_told_how_many_more_images_and_that_works(workspace, tmp_path):
    ws = str(workspace.root)
    run("-w", ws, "theme", "create", "pets", "--labels", "cat,dog")
    cat = make_image(tmp_path / "cat0.png", 0)
    unlabeled = make_image(tmp_path / "u.png", 1)
    run("-w", ws, "import", "--theme", "pets", "--label", "cat", str(cat))
    run("-w", ws, "import", "--theme", "pets", str(unlabeled))
    run("-w", ws, "split", "--theme", "pets")
    result = run("-w", ws, "config", "preview", "--theme", "pets")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "has labeled images of 1 class only (images per label: cat 1)" in line
    command = re.search(r"`cockpit (label set [^`]+) FILE\.\.\.`", line).group(1).split()
    assert command[-1] == "dog"
    assert run("-w", ws, *command, str(unlabeled)).exit_code == 0
    run("-w", ws, "split", "--theme", "pets")  # still one image per class: all in train

    result = run("-w", ws, "config", "preview", "--theme", "pets")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "has no valid images (cat 1 train; dog 1 train)" in line
    assert "a class needs about 5 images to fill train, valid and test" in line
    need, label = re.search(
        r"(\d+) more labeled images? of '(\w+)' put one in valid", line
    ).groups()
    more = [make_image(tmp_path / f"more{i}.png", 10 + i) for i in range(int(need))]
    command = re.search(r"`cockpit (import [^`]+) PATH`", line).group(1).split()
    assert command == ["import", "--theme", "pets", "--label", label]
    assert run("-w", ws, *command, *map(str, more)).exit_code == 0
    assert run("-w", ws, "split", "--theme", "pets").exit_code == 0
    result = run("-w", ws, "config", "preview", "--theme", "pets")
    assert result.exit_code == 0, result.output
    assert "new experiment" in result.output
