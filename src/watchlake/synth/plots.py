"""PNG plots of the fidelity report (matplotlib, Agg backend): error heatmaps, distributions, shares."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from watchlake.schemas import MOTION_FIELDS
from watchlake.synth.fidelity import NUMERIC, Samples


def error_heatmaps(report: Mapping[str, Any], path: Path) -> None:
    """Classes x columns heatmaps of mean and sd relative error (and KS when present)."""
    classes = [name for name, cls in report["classes"].items() if "numeric" in cls]
    metrics = ["mean_relative_error", "sd_relative_error", "ks"]
    figure, axes = plt.subplots(len(metrics), 1, figsize=(12, 3 + 1.2 * len(classes)), squeeze=False)
    for axis, metric in zip(axes[:, 0], metrics, strict=True):
        grid = np.array(
            [
                [
                    np.nan if (v := report["classes"][c]["numeric"].get(col, {}).get(metric)) is None else v
                    for col in NUMERIC
                ]
                for c in classes
            ],
            dtype=float,
        )
        image = axis.imshow(grid, aspect="auto", cmap="viridis", vmin=0)
        axis.set_title(metric.replace("_", " "))
        axis.set_yticks(range(len(classes)), classes)
        axis.set_xticks(range(len(NUMERIC)), NUMERIC, rotation=60, ha="right", fontsize=7)
        figure.colorbar(image, ax=axis)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def motion_histograms(source: Samples, generated: Samples, path: Path) -> None:
    """Histograms of the motion axes, all classes pooled: source versus generated samples."""
    figure, axes = plt.subplots(3, 3, figsize=(12, 9))
    for axis, column in zip(axes.ravel(), MOTION_FIELDS, strict=True):
        real = np.concatenate(
            [values[column] for values in source.values() if column in values] or [np.empty(0)]
        )
        made = np.concatenate(
            [values[column] for values in generated.values() if column in values] or [np.empty(0)]
        )
        if len(real) and len(made):
            low, high = np.percentile(np.concatenate([real, made]), [0.5, 99.5])
            bins = np.linspace(low, high, 60) if high > low else 30
            axis.hist(real, bins=bins, alpha=0.5, density=True, label="source")
            axis.hist(made, bins=bins, alpha=0.5, density=True, label="generated")
        axis.set_title(column, fontsize=9)
    axes[0, 0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def share_bars(report: Mapping[str, Any], path: Path) -> None:
    """Label shares and, per class, location type shares: source versus generated bars."""
    panels = [("labels", report["labels"])] + [
        (f"{name}: location_type", cls["location_type"])
        for name, cls in report["classes"].items()
        if "location_type" in cls
    ]
    figure, axes = plt.subplots(len(panels), 1, figsize=(10, 2.4 * len(panels)), squeeze=False)
    for axis, (title, shares) in zip(axes[:, 0], panels, strict=True):
        keys = list(shares)
        positions = np.arange(len(keys))
        axis.bar(positions - 0.2, [shares[k]["source"] for k in keys], 0.4, label="source")
        axis.bar(positions + 0.2, [shares[k]["generated"] for k in keys], 0.4, label="generated")
        axis.set_xticks(positions, keys, rotation=30, ha="right", fontsize=7)
        axis.set_title(title, fontsize=9)
    axes[0, 0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
