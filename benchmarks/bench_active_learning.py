"""Active learning on the demo shapes (or a real image set): uncertainty vs random sampling.

    .venv/bin/python benchmarks/bench_active_learning.py [--pool N] [--heldout H]
        [--start S] [--batch B] [--rounds R] [--epochs E] [--score margin]
        [--seed SEED] [--repeats K] [--images FOLDER] [--set KEY=VALUE ...]

A pool of N unlabeled demo shapes (32 px; or, with ``--images``, N images drawn at random
from that ImageFolder of PNGs, such as the handwritten digits ``real_digits.py`` writes,
and H others of it held out) is imported into a fresh workspace, once per
strategy, and the same S pool images (as many per class as possible, fixed seed) get their
true label. Each round trains the theme (``train_experiment``: split, fit, register a model
version) with the demo's simple_cnn settings, lr 0.001 and E epochs, measures the accuracy
of that registered version on H held-out images that are never in the pool (predicted
through its pyfunc model, as ``cockpit demo`` does), then labels B more pool images with
their true label (``set_labels``; the truth is the class folder the generator wrote them to):

- uncertainty: ``suggest`` predicts the unlabeled pool with the new version and stores the
  scores in the database; the B most uncertain by the stored ``--score`` (margin, the order
  ``suggest`` ranks by; or entropy, least_confidence) are labeled next;
- random: B unlabeled images drawn at random (fixed seed).

Both strategies use the same pool, initial set, training seed and settings, and the same
budget, so round 0 is the same model. The labeled images are split 80/20 into train/valid
(the version holds the best valid-loss weights; no test split: accuracy is on the held-out
set). The comparison runs K times (seeds SEED, SEED+1, ...: other images, initial set and
training seed) and the table shows the mean accuracies.

"Labels saved": the fewest labeled images at which the mean uncertainty curve reaches the
mean random curve's final accuracy, and how many fewer that is than the random curve's final
count (measured at the rounds, so in steps of B; also given with the curve drawn straight
between rounds). Defaults take about 10 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from core.assist.suggest import suggest, suggestions  # noqa: E402
from core.config import parse_overrides, resolve_params  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.labeling import set_labels  # noqa: E402
from core.data.themes import create_theme, get_theme  # noqa: E402
from core.db import TrainData, open_database  # noqa: E402
from core.demo.pipeline import DEMO_SETTINGS  # noqa: E402
from core.demo.shapes import DEMO_CLASSES, write_demo_images  # noqa: E402
from core.models.predict import load_pyfunc  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402

THEME = "shapes"
MODEL = f"{THEME}_model"  # core.training.packaging.registered_name
STRATEGIES = ("uncertainty", "random")
SCORES = ("margin", "entropy", "least_confidence")
TRAINING = (
    # the demo's lr 0.005 left several of these small trainings stuck at one class (chance
    # accuracy 0.333, measured: 4 of 14 trainings up to 210 images); 0.001 (the workspace
    # template's) did so once in 14, at 60 images
    "lr=0.001",
    "early_stopping_patience=0",  # every training runs --epochs epochs
    "split_ratios=[0.8,0.2,0.0]",  # no test split: accuracy is measured on the held-out set
    "registration=always",  # every round's training becomes the version it is measured by
)


def quiet(_line: str) -> None:
    pass


def heldout_accuracy(workspace, version: str, files: list[Path]) -> float:
    """Accuracy of ``shapes_model/<version>`` on the held-out files (truth: their folder)."""
    import pandas as pd

    _info, model, _classes = load_pyfunc(workspace, f"{MODEL}/{version}")
    predicted = model.predict(pd.DataFrame({"image": [p.read_bytes() for p in files]}))
    truth = [p.parent.name for p in files]
    return sum(a == b for a, b in zip(predicted["label"], truth, strict=True)) / len(files)


def real_split(
    images: Path, pool_size: int, heldout_size: int, seed: int
) -> tuple[list[Path], list[Path]]:
    """A real image set's files drawn at random into a pool and a held-out set."""
    files = sorted(images.rglob("*.png"))
    if pool_size + heldout_size > len(files):
        raise SystemExit(
            f"--pool {pool_size} + --heldout {heldout_size} exceed the {len(files)} PNGs "
            f"of {images}"
        )
    random.Random(f"split-{seed}").shuffle(files)
    return sorted(files[:pool_size]), files[pool_size : pool_size + heldout_size]


def initial_names(pool: list[Path], start: int, seed: int, classes: tuple[str, ...]) -> list[str]:
    """``start`` pool file names, as even across the classes as possible, at random."""
    rng = random.Random(seed)
    by_class = {kind: sorted(p.name for p in pool if p.parent.name == kind) for kind in classes}
    chosen = []
    for kind in classes:
        chosen += rng.sample(by_class[kind], min(len(by_class[kind]), start // len(classes)))
    rest = sorted({p.name for p in pool} - set(chosen))
    chosen += rng.sample(rest, start - len(chosen))
    return chosen


def run_strategy(
    args, tmp: Path, strategy: str, seed: int, pool: list[Path], heldout: list[Path]
) -> tuple[list[int], list[float], float]:
    """Labeled counts and held-out accuracies per round, and the seconds it took."""
    from core.training.run import train_experiment

    started = time.perf_counter()
    workspace = init_workspace(tmp / f"ws-{strategy}-{seed}").workspace
    db = open_database(workspace)
    create_theme(db, THEME, labels=args.classes)
    # one worker, sorted files: the same image ids in every workspace
    import_images(db, workspace, THEME, pool, imagefolder=False, workers=1)
    truth = {p.name: p.parent.name for p in pool}
    assert len(truth) == len(pool), "pool file names must be unique across the classes"
    with db.session() as session:
        theme = get_theme(session, THEME)
        theme_id = theme.id
        label_ids = {label.label_name: label.id for label in theme.labels}
        ids = dict(
            session.execute(
                select(TrainData.original_name, TrainData.id).where(TrainData.theme_id == theme_id)
            ).all()
        )
    assert len(ids) == len(pool), f"imported {len(ids)} of {len(pool)} pool images"
    names = {image_id: name for name, image_id in ids.items()}

    def label(chosen_names: list[str]) -> None:
        for kind in args.classes:
            chosen = [ids[n] for n in chosen_names if truth[n] == kind]
            set_labels(db, theme_id, chosen, label_ids[kind], labeled_by=f"benchmark-{strategy}")

    labeled = initial_names(pool, args.start, seed, args.classes)
    label(labeled)
    params = resolve_params(
        workspace, overrides=parse_overrides(training_settings(args, seed)), read_params_file=False
    )
    rng = random.Random(f"random-{seed}")
    counts, accuracies = [], []
    for round_index in range(args.rounds + 1):
        outcome = train_experiment(workspace, THEME, params, echo=quiet)
        if not outcome.model_version:
            raise SystemExit(f"{strategy} round {round_index}: no registered version ({outcome})")
        counts.append(len(labeled))
        accuracies.append(heldout_accuracy(workspace, outcome.model_version, heldout))
        print(
            f"  {strategy:<11} seed {seed} round {round_index}: {len(labeled):>4} labeled, "
            f"held-out accuracy {accuracies[-1]:.3f}  ({time.perf_counter() - started:6.0f} s)",
            flush=True,
        )
        if round_index == args.rounds:
            break
        unlabeled = sorted(set(ids) - set(labeled))
        if strategy == "random":
            batch = rng.sample(unlabeled, args.batch)
        else:
            done = suggest(workspace, THEME, f"{MODEL}/{outcome.model_version}", echo=quiet)
            assert done.predicted == len(unlabeled), done.to_dict()
            stored = [s for s in suggestions(db, THEME, done.spec) if s.given_label is None]
            if args.score == "margin":  # small margin = uncertain
                stored.sort(key=lambda s: (s.margin, s.image_id))
            else:  # large entropy / least confidence = uncertain
                stored.sort(key=lambda s: (-getattr(s, args.score), s.image_id))
            batch = [names[s.image_id] for s in stored[: args.batch]]
        label(batch)
        labeled += batch
    return counts, accuracies, time.perf_counter() - started


def training_settings(args, seed: int | str) -> list[str]:
    """The demo's settings, then this benchmark's, then ``--set``'s (the last one wins)."""
    merged: dict[str, str] = {}
    for item in (
        *DEMO_SETTINGS,
        *TRAINING,
        f"max_epochs={args.epochs}",
        f"seed={seed}",
        f"split_seed={seed}",
        *args.set,
    ):
        key = item.partition("=")[0].strip()
        merged.pop(key, None)  # a key set again moves to the end, where it is shown
        merged[key] = item
    return list(merged.values())


def reached_at(counts: list[int], uncertain: list[float], rand: list[float]) -> int | None:
    """The fewest labeled images at which ``uncertain`` reaches ``rand``'s final accuracy."""
    return next((c for c, a in zip(counts, uncertain, strict=True) if a >= rand[-1]), None)


def interpolated(counts: list[int], uncertain: list[float], target: float) -> float | None:
    """Where the uncertainty curve, drawn straight between rounds, first reaches ``target``."""
    for i, accuracy in enumerate(uncertain):
        if accuracy >= target:
            if i == 0:
                return float(counts[0])
            low, high = uncertain[i - 1], accuracy
            return counts[i - 1] + (target - low) / (high - low) * (counts[i] - counts[i - 1])
    return None


def labels_saved(counts: list[int], uncertain: list[float], rand: list[float]) -> str:
    target, count = rand[-1], reached_at(counts, uncertain, rand)
    if count is None:
        return (
            f"not reached: uncertainty never reaches the random curve's final accuracy "
            f"{target:.3f} within {counts[-1]} labeled images (its best: {max(uncertain):.3f})"
        )
    between = interpolated(counts, uncertain, target)
    return (
        f"uncertainty reaches the random curve's final accuracy {target:.3f} at {count} "
        f"labeled images; random needed {counts[-1]}: {counts[-1] - count} labels saved "
        f"({(counts[-1] - count) / counts[-1]:.0%}); straight between rounds it reaches it "
        f"at {between:.0f}: {counts[-1] - between:.0f} saved"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=600, help="pool images (all classes)")
    parser.add_argument("--heldout", type=int, default=600, help="held-out test images")
    parser.add_argument("--start", type=int, default=30, help="initially labeled images")
    parser.add_argument("--batch", type=int, default=30, help="images labeled per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--score", choices=SCORES, default="margin")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--images", type=Path,
        help="a real image set: an ImageFolder of PNGs (default: demo shapes)",
    )
    parser.add_argument("--repeats", type=int, default=4, help="seeds, averaged")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="training parameter"
    )
    args = parser.parse_args()
    if args.images:
        args.classes = tuple(sorted(d.name for d in args.images.iterdir() if d.is_dir()))
        pool_size = args.pool
    else:
        args.classes = DEMO_CLASSES
        per_class = -(-args.pool // len(DEMO_CLASSES))
        pool_size = per_class * len(DEMO_CLASSES)
    if args.start < 2 * len(args.classes) or args.start + args.rounds * args.batch > pool_size:
        raise SystemExit(
            f"--start must be at least {2 * len(args.classes)} (two per class) and start + "
            "rounds x batch within --pool"
        )

    import torch

    torch.set_num_threads(1)  # as cockpit demo: this network is too small for more
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(
        f"cpus: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, "
        f"torch {torch.__version__}"
    )
    print(
        f"settings: {args.images or 'demo shapes'} 32 px, pool {pool_size}, held-out "
        f"{args.heldout}, start "
        f"{args.start}, +{args.batch} x {args.rounds} rounds, score {args.score}, seeds "
        f"{args.seed}..{args.seed + args.repeats - 1} ({args.repeats} repeat(s))"
    )
    print("training: " + " ".join(training_settings(args, "SEED")))
    started = time.perf_counter()
    curves: dict[str, list[list[float]]] = {s: [] for s in STRATEGIES}
    counts: list[int] = []
    seconds = {s: 0.0 for s in STRATEGIES}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for repeat in range(args.repeats):
            seed = args.seed + repeat
            if args.images:
                pool, heldout = real_split(args.images, args.pool, args.heldout, seed)
            else:
                pool = sorted(
                    write_demo_images(tmp / f"pool-{seed}", per_class=per_class, size=32, seed=seed)
                )
                heldout = write_demo_images(
                    tmp / f"heldout-{seed}",
                    per_class=-(-args.heldout // len(DEMO_CLASSES)),
                    size=32,
                    seed=seed + 10_000,
                )
            for strategy in STRATEGIES:
                counts, accuracies, took = run_strategy(args, tmp, strategy, seed, pool, heldout)
                curves[strategy].append(accuracies)
                seconds[strategy] += took

    means = {s: [statistics.fmean(r) for r in zip(*curves[s], strict=True)] for s in STRATEGIES}
    print()
    label = "mean " if args.repeats > 1 else ""
    print(f"labeled   {label}acc uncertainty   {label}acc random   difference")
    for i, count in enumerate(counts):
        u, r = means["uncertainty"][i], means["random"][i]
        print(
            f"{count:>7}   {u:>{16 + len(label)}.3f}   {r:>{11 + len(label)}.3f}   {u - r:+10.3f}"
        )
    if args.repeats > 1:
        print()
        print("per repeat: seed, final accuracy uncertainty / random, labels saved")
        for repeat, (u, r) in enumerate(zip(*curves.values(), strict=True)):
            count = reached_at(counts, u, r)
            saved = "not reached" if count is None else str(counts[-1] - count)
            print(f"  seed {args.seed + repeat}: {u[-1]:.3f} / {r[-1]:.3f}, {saved}")
    print()
    print("labels saved: " + labels_saved(counts, means["uncertainty"], means["random"]))
    print(
        f"time: uncertainty {seconds['uncertainty']:.0f} s, random {seconds['random']:.0f} s, "
        f"total {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
