"""Per-trial overhead of the tuning machinery: the same trainings run as Optuna trials
(storage, suggestions, pruning reports, MLflow child runs) and called directly.

    .venv/bin/python benchmarks/bench_tuning.py

Two workspaces hold identical demo data; both are warmed up with one training first. The
study's grid gives the trials known parameters, and the direct path trains exactly those.
A trial's time runs from its suggestion to its reported value (the objective, including
its MLflow child run); the model registration at the end of a study is excluded.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import resolve_params  # noqa: E402
from core.config.optuna_params import load_optuna_params  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.training.run import TrialHooks, train_experiment  # noqa: E402
from core.tuning.study import run_study  # noqa: E402

FIXED = {
    "max_epochs": 3,
    "image_size": 32,
    "image_mode": "L",
    "batch_size": 32,
    "num_workers": 0,
    "early_stopping_patience": 0,
}
LRS = [0.001, 0.003, 0.01]


def workspace(root: Path, images: Path):
    ws = init_workspace(root).workspace
    db = open_database(ws)
    create_theme(db, "shapes")
    import_images(db, ws, "shapes", [images])
    return ws


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_demo_images(tmp_path / "images", per_class=100, size=32, seed=1)
        tuned = workspace(tmp_path / "tuned", tmp_path / "images")
        direct = workspace(tmp_path / "direct", tmp_path / "images")
        base = ", ".join(f"{k}: {v}" for k, v in FIXED.items())
        tuned.optuna_params_file.write_text(
            f"study: {{name: bench, n_trials: {len(LRS)}, pruner: none}}\n"
            f"base_params: {{{base}}}\n"
            f"search_space:\n  lr: {{type: categorical, choices: {LRS}}}\n"
        )
        # warm up imports and stores on both sides, so neither pays first-use costs
        for ws in (tuned, direct):
            warm = resolve_params(ws, base={**FIXED, "lr": 0.02}, read_params_file=False)
            train_experiment(ws, "shapes", warm, echo=lambda _line: None)
        marks: dict[str, float] = {}

        def stamp(line: str) -> None:
            if line.startswith("trial "):
                marks[line.split(":")[0] + (" end" if " = " in line else " start")] = (
                    time.perf_counter()
                )

        run_study(tuned, "shapes", load_optuna_params(tuned.optuna_params_file), echo=stamp)
        import optuna

        study = optuna.load_study(study_name="bench", storage=tuned.optuna_storage_url)
        trial_times = {
            t.params["lr"]: marks[f"trial {t.number} end"] - marks[f"trial {t.number} start"]
            for t in study.trials
        }
        direct_times = {}
        for lr in LRS:
            params = resolve_params(direct, base={**FIXED, "lr": lr}, read_params_file=False)
            # the same training without Optuna: no storage, suggestions or reports; like a
            # trial it is not packaged (that happens once per study, excluded above)
            plain = TrialHooks(run_name=f"direct_{lr}", tags={}, on_epoch=lambda _m, _e: None)
            start = time.perf_counter()
            train_experiment(direct, "shapes", params, echo=lambda _line: None, trial=plain)
            direct_times[lr] = time.perf_counter() - start
    print(f"{'lr':>8} {'trial s':>9} {'direct s':>9} {'overhead s':>11} {'overhead %':>11}")
    for lr in LRS:
        overhead = trial_times[lr] - direct_times[lr]
        print(
            f"{lr:>8} {trial_times[lr]:9.2f} {direct_times[lr]:9.2f} {overhead:11.2f}"
            f" {100 * overhead / direct_times[lr]:10.1f}%"
        )
    print("goal: overhead < 2% or < 0.3 s per trial")


if __name__ == "__main__":
    main()
