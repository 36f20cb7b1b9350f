"""Benchmark: how many labels each query strategy needs to fix a model that new watches fool.

Pool-based simulation on a planted shift. The windows are the project's own (``watchlake sample`` -> ingest ->
clean -> features, cached). The first half of the participants are the training watches; the others are new
watches whose class signatures differ: every class moves, on the new watches only, by a fixed offset on a few of
every feature (a seeded random direction per class, each feature by ``--shift`` x N(0, 1) standard deviations of
the training watches), so the first model gets many of
them wrong. The new watches are split by participant into an unlabelled pool and a held-out set.

Each strategy starts from the model trained on the training watches alone, then repeatedly asks the oracle (the
ground truth) for the ``--batch`` pool windows it doubts most, retrains on training watches + labels so far, and
is scored (macro-F1) on the same held-out new watches. ``random`` asks for random windows. The ceiling is the
model trained on the training watches + the whole labelled pool.

The model recipe is the project's random forest (settings.train: trees, depth, inverse-frequency class weights,
the categorical indexed) fitted with scikit-learn, the same for every strategy: a simulation of
strategies x seeds x rounds is several hundred fits, which Spark ML would take an hour over on 2 cores. The doubt
measures are the predictor's (``predict.confidence_measure``): lowest highest-probability (``max_probability``,
least confidence), smallest margin between the two most probable classes (``margin``, the project's default) and
highest entropy (``entropy``).

Usage: python -m bench.active_learning.run [--participants 24] [--hours 3] [--seeds 5] [--batch 10]
                                           [--rounds 30] [--shift 1.0] [--quick]
Writes bench/results/active_learning.json, .md (the table) and .png (the learning curves).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS  # noqa: E402
from watchlake.labels.transforms import ACTIVITY  # noqa: E402
from watchlake.settings import Settings, load_settings  # noqa: E402

log = logging.getLogger("bench.active_learning")
RESULTS = ROOT / "bench" / "results"
STRATEGIES = ("margin", "max_probability", "entropy", "random")
DEFAULT_STRATEGY = "margin"
CEILING_SHARE = 0.95
POOL_SHARE = 0.6  # of the new watches' participants; the rest is the held-out set


# ---------------------------------------------------------------- data: the project's windows, cached


def bench_settings(workdir: Path) -> Settings:
    return load_settings(
        "local",
        runtime_dir=str(workdir / "runtime"),
        lake={"root": str(workdir / "lake")},
        spark={"master": "local[2]", "shuffle_partitions": 2, "ui_enabled": False, "driver_memory": "4g"},
        catalog={"kind": "none"},
    )


def project_windows(workdir: Path, participants: int, hours: float, seed: int) -> pd.DataFrame:
    """The labelled feature windows of a generated sample, through the real stages (cached by size and seed)."""
    marker = workdir / "windows.json"
    wanted = {"participants": participants, "hours": hours, "seed": seed}
    settings = bench_settings(workdir)
    cached = workdir / "windows.parquet"
    if not (marker.exists() and json.loads(marker.read_text()) == wanted and cached.exists()):
        from watchlake.casas.sample import generate_sample
        from watchlake.spark import build_session
        from watchlake.stages import run_stage

        # Another size's files would otherwise be staged beside the new ones.
        for stale in ("sample", "lake", "runtime"):
            shutil.rmtree(workdir / stale, ignore_errors=True)
        started = time.perf_counter()
        generate_sample(workdir / "sample", participants, hours, groups=2, seed=seed)
        run_stage("ingest", settings, source=str(workdir / "sample"))
        spark = build_session(settings, "bench-active-learning")
        try:
            for name in ("clean", "features"):
                run_stage(name, settings, spark)
            from watchlake.features.dataset import read_windows
            from watchlake.lake import Lake

            read_windows(spark, Lake.from_settings(settings)).toPandas().to_parquet(cached)
        finally:
            spark.stop()
        marker.write_text(json.dumps(wanted))
        log.info("built the windows in %.0f s", time.perf_counter() - started)
    windows = pd.read_parquet(cached)
    from watchlake.labels.mapping import load_mapping

    ignore = load_mapping(settings.labels.mapping_file).ignore
    keep = windows[ACTIVITY].notna() & (windows[ACTIVITY] != ignore)
    if "partial" in windows.columns:
        keep &= ~windows["partial"].astype(bool)
    return windows[keep].reset_index(drop=True)


# ---------------------------------------------------------------- the planted shift (pure)


@dataclass(frozen=True)
class Split:
    base_x: np.ndarray
    base_y: np.ndarray
    pool_x: np.ndarray
    pool_y: np.ndarray
    heldout_x: np.ndarray
    heldout_y: np.ndarray
    classes: tuple[str, ...]


def encoded(windows: pd.DataFrame) -> np.ndarray:
    """The numeric features, then each categorical as its index among its sorted values (as StringIndexer)."""
    columns = [windows[list(FEATURE_COLUMNS)].to_numpy(dtype=float)]
    for name in CATEGORICAL_COLUMNS:
        codes = {value: i for i, value in enumerate(sorted(windows[name].dropna().unique()))}
        columns.append(windows[name].map(codes).fillna(len(codes)).to_numpy(dtype=float)[:, None])
    return np.hstack(columns)


def plant_shift(windows: pd.DataFrame, shift: float, seed: int) -> Split:
    """Training watches, and new watches (pool and held-out) whose class signatures are moved."""
    participants = sorted(windows["participant"].unique())
    half = len(participants) // 2
    base_ids, new_ids = participants[:half], participants[half:]
    pool_count = max(1, round(POOL_SHARE * len(new_ids)))
    pool_ids, heldout_ids = new_ids[:pool_count], new_ids[pool_count:]
    x = encoded(windows)
    y = windows[ACTIVITY].to_numpy()
    who = windows["participant"].to_numpy()
    base = np.isin(who, base_ids)
    numeric = len(FEATURE_COLUMNS)
    scale = x[base, :numeric].std(axis=0)
    scale[~np.isfinite(scale) | (scale == 0)] = 1.0
    rng = np.random.default_rng(seed)
    classes = tuple(sorted(set(y)))
    shifted = x.copy()
    for name in classes:
        offset = np.zeros(x.shape[1])
        offset[:numeric] = shift * rng.standard_normal(numeric) * scale
        shifted[~base & (y == name)] += offset
    pool, heldout = np.isin(who, pool_ids), np.isin(who, heldout_ids)
    return Split(x[base], y[base], shifted[pool], y[pool], shifted[heldout], y[heldout], classes)


# ---------------------------------------------------------------- the simulation


def doubt(probabilities: np.ndarray, strategy: str) -> np.ndarray:
    """Larger: the model is less sure of the window (the predictor's confidence measures, turned around)."""
    ranked = -np.sort(-probabilities, axis=1)
    if strategy == "max_probability":
        return -ranked[:, 0]
    if strategy == "margin":
        second = ranked[:, 1] if ranked.shape[1] > 1 else 0.0
        return -(ranked[:, 0] - second)
    if strategy == "entropy":
        logs = np.log(np.where(probabilities > 0, probabilities, 1.0))
        return -(probabilities * logs).sum(axis=1)
    raise ValueError(f"unknown strategy {strategy!r}")


def fit(x: np.ndarray, y: np.ndarray, trees: int, depth: int, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(
        n_estimators=trees, max_depth=depth, class_weight="balanced", random_state=seed, n_jobs=2
    )
    return model.fit(x, y)


def macro_f1(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, model.predict(x), average="macro", labels=sorted(set(y)), zero_division=0))


def learning_curve(
    split: Split, strategy: str, seed: int, batch: int, rounds: int, trees: int, depth: int
) -> list[float]:
    """Macro-F1 on the held-out new watches after 0, batch, 2 x batch, ... labels."""
    rng = np.random.default_rng(seed)
    labelled = np.zeros(len(split.pool_y), dtype=bool)
    curve = []
    for _ in range(rounds + 1):
        x = np.vstack([split.base_x, split.pool_x[labelled]])
        y = np.concatenate([split.base_y, split.pool_y[labelled]])
        model = fit(x, y, trees, depth, seed)
        curve.append(macro_f1(model, split.heldout_x, split.heldout_y))
        open_rows = np.flatnonzero(~labelled)
        if open_rows.size == 0:
            break
        take = min(batch, open_rows.size)
        if strategy == "random":
            chosen = rng.choice(open_rows, size=take, replace=False)
        else:
            scores = doubt(model.predict_proba(split.pool_x[open_rows]), strategy)
            chosen = open_rows[np.argsort(-scores, kind="stable")[:take]]
        labelled[chosen] = True
    return curve


def labels_to_reach(curve: list[float], target: float, batch: int) -> int | None:
    """Labels taken when the curve first reaches ``target`` (None: never within the budget)."""
    for step, value in enumerate(curve):
        if value >= target:
            return step * batch
    return None


# ---------------------------------------------------------------- report


def summarise(curves: dict[str, list[list[float]]], ceilings: list[float], batch: int) -> dict[str, Any]:
    table = {}
    for strategy, runs in curves.items():
        needed = [
            labels_to_reach(run, CEILING_SHARE * ceiling, batch)
            for run, ceiling in zip(runs, ceilings, strict=True)
        ]
        # A seed that never reaches the target within the budget counts as more than any budget: the median is
        # still defined while fewer than half the seeds miss.
        median = float(np.median([np.inf if n is None else n for n in needed]))
        table[strategy] = {
            "labels_per_seed": needed,
            "median_labels": median if np.isfinite(median) else None,
            "start_macro_f1": float(np.mean([run[0] for run in runs])),
            "final_macro_f1": float(np.mean([run[-1] for run in runs])),
        }
    return table


def markdown(result: dict[str, Any]) -> str:
    rows = [
        f"Ceiling (training watches + the whole pool of {result['pool_windows']} labelled): macro-F1 "
        f"{result['ceiling_macro_f1']:.3f}; target {int(CEILING_SHARE * 100)}% of it. "
        f"{result['seeds']} seeds, batches of {result['batch']}, at most {result['budget']} labels.",
        "",
        "| strategy | labels to 95% of the ceiling (median) | per seed | macro-F1 at 0 labels | at the budget |",
        "|---|---:|---|---:|---:|",
    ]
    for strategy, figures in result["strategies"].items():
        median = figures["median_labels"]
        shown = f"{median:.0f}" if median is not None else f"> {result['budget']}"
        per_seed = ", ".join("-" if n is None else str(n) for n in figures["labels_per_seed"])
        mark = " (default)" if strategy == DEFAULT_STRATEGY else ""
        rows.append(
            f"| {strategy}{mark} | {shown} | {per_seed} | {figures['start_macro_f1']:.3f} | "
            f"{figures['final_macro_f1']:.3f} |"
        )
    ratio = result.get("default_over_random")
    rows += ["", f"Default over random: {ratio:.2f} (target <= 0.5)" if ratio is not None else ""]
    return "\n".join(rows) + "\n"


def plot(curves: dict[str, list[list[float]]], ceiling: float, batch: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    for strategy, runs in curves.items():
        length = min(len(run) for run in runs)
        mean = np.mean([run[:length] for run in runs], axis=0)
        axes.plot(
            np.arange(length) * batch,
            mean,
            label=strategy,
            linewidth=2 if strategy == DEFAULT_STRATEGY else 1,
        )
    axes.axhline(ceiling, color="grey", linestyle="--", label="ceiling (whole pool)")
    axes.axhline(CEILING_SHARE * ceiling, color="grey", linestyle=":", label="95% of the ceiling")
    axes.set_xlabel("labels from the new watches")
    axes.set_ylabel("macro-F1 on held-out new watches")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=24)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--shift", type=float, default=1.0, help="class offset on the new watches, in SDs")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 12 rounds, 8 participants x 1 h")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "active_learning.json",
        help="results JSON (.md and .png beside it)",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / ".runtime" / "bench" / "active_learning")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.rounds, args.participants, args.hours = 2, 12, 8, 1.0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args.workdir.mkdir(parents=True, exist_ok=True)
    windows = project_windows(args.workdir, args.participants, args.hours, seed=2026)
    train = bench_settings(args.workdir).train
    started = time.perf_counter()
    curves: dict[str, list[list[float]]] = {name: [] for name in STRATEGIES}
    ceilings = []
    for seed in range(args.seeds):
        split = plant_shift(windows, args.shift, seed)
        whole_x = np.vstack([split.base_x, split.pool_x])
        whole_y = np.concatenate([split.base_y, split.pool_y])
        ceilings.append(
            macro_f1(
                fit(whole_x, whole_y, train.num_trees, train.max_depth, seed),
                split.heldout_x,
                split.heldout_y,
            )
        )
        for strategy in STRATEGIES:
            curves[strategy].append(
                learning_curve(
                    split, strategy, seed, args.batch, args.rounds, train.num_trees, train.max_depth
                )
            )
        log.info("seed %d done (%.0f s): ceiling %.3f", seed, time.perf_counter() - started, ceilings[-1])
    strategies = summarise(curves, ceilings, args.batch)
    default, random = strategies[DEFAULT_STRATEGY]["median_labels"], strategies["random"]["median_labels"]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "windows": len(windows),
        "participants": args.participants,
        "hours": args.hours,
        "shift_sd": args.shift,
        "pool_windows": len(split.pool_y),
        "heldout_windows": len(split.heldout_y),
        "seeds": args.seeds,
        "batch": args.batch,
        "budget": args.batch * args.rounds,
        "ceiling_macro_f1": float(np.mean(ceilings)),
        "strategies": strategies,
        "curves": curves,
        "ceilings": ceilings,
        "default_over_random": (default / random) if default is not None and random else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    args.out.with_suffix(".md").write_text(markdown(result))
    plot(curves, result["ceiling_macro_f1"], args.batch, args.out.with_suffix(".png"))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
