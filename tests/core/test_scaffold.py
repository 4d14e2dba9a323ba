from core.scaffold import TEMPLATE_ROOT, init_workspace


def test_init_scaffolds_configs_definitions_and_runtime_dirs(tmp_path):
    report = init_workspace(tmp_path / "ws")
    ws = report.workspace
    for name in ("params.yaml", "augments.yaml", "optuna_params.yaml", "registry.json"):
        assert (ws.configs_dir / name).is_file()
    assert (ws.definitions_dir / "models" / "simple_cnn" / "model.py").is_file()
    assert (
        ws.definitions_dir / "models" / "resnet" / "adapters" / "classification" / "adapter.py"
    ).is_file()
    assert ws.queue_state_dir("pending").is_dir()
    assert (ws.root / ".gitignore").is_file()
    assert not list(ws.root.rglob("__pycache__"))
    assert "configs/params.yaml" in report.written


def test_init_keeps_user_files_unless_forced(tmp_path):
    ws = init_workspace(tmp_path / "ws").workspace
    ws.params_file.write_text("lr: 0.5\n")
    report = init_workspace(ws.root)
    assert ws.params_file.read_text() == "lr: 0.5\n"
    assert "configs/params.yaml" in report.kept
    init_workspace(ws.root, overwrite=True)
    assert ws.params_file.read_text() == (TEMPLATE_ROOT / "configs" / "params.yaml").read_text()
