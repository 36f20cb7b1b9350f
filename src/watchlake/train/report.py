"""The training report: metrics JSON and a confusion-matrix PNG, written through the registry's store."""

from __future__ import annotations

import io
import json
from typing import Any

from watchlake.lake import join
from watchlake.registry.store import Store


def confusion_png(metrics: dict[str, Any], title: str) -> bytes:
    """A PNG of the row-normalised confusion matrix with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels = metrics["confusion"]["labels"]
    matrix = metrics["confusion"]["matrix"]
    share = [[cell / max(1, sum(row)) for cell in row] for row in matrix]
    size = max(4.0, 0.6 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for i, row in enumerate(matrix):
        for j, cell in enumerate(row):
            axes.text(
                j, i, str(cell), ha="center", va="center", color="white" if share[i][j] > 0.5 else "black"
            )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def write_report(store: Store, folder: str, report: dict[str, Any]) -> dict[str, str]:
    """Write ``metrics.json`` and ``confusion_matrix.png`` under ``folder``; return their URIs."""
    uris = {"metrics": join(folder, "metrics.json"), "confusion_matrix": join(folder, "confusion_matrix.png")}
    store.write_bytes(uris["metrics"], json.dumps(report, indent=2).encode())
    title = f"{report['model']} v{report['version']}: macro-F1 {report['metrics']['macro_f1']:.3f}"
    store.write_bytes(uris["confusion_matrix"], confusion_png(report["metrics"], title))
    return uris
