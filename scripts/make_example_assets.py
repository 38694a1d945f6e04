"""Make the example site's own images, which we draw (its alerts log is written by a build
notebook, notebooks/_data/alerts.ipynb, which `nbpress build` runs).

Run once by a maintainer (`.venv/bin/python scripts/make_example_assets.py`); the results are
committed, so a build never depends on this script. Seeded: the same files every time.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch, RegularPolygon  # noqa: E402

CONTENT = Path(__file__).resolve().parent.parent / "content"


def badge(path: Path) -> None:
    """A hexagonal badge in the spirit of a cloud certification, drawn by us."""
    fig, ax = plt.subplots(figsize=(3, 3), dpi=100)
    ax.add_patch(RegularPolygon((0.5, 0.5), 6, radius=0.46, color="#232f3e"))
    ax.add_patch(RegularPolygon((0.5, 0.5), 6, radius=0.40, color="#ff9900"))
    ax.add_patch(RegularPolygon((0.5, 0.5), 6, radius=0.36, color="#232f3e"))
    ax.text(0.5, 0.58, "CLOUD", ha="center", va="center", color="white", fontsize=20,
            fontweight="bold")
    ax.text(0.5, 0.42, "engineer", ha="center", va="center", color="#ff9900", fontsize=14)
    _save(fig, ax, path)


def card(path: Path, title: str, colour: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.add_patch(FancyBboxPatch((0.03, 0.06), 0.94, 0.88, boxstyle="round,pad=0.02",
                                color=colour))
    for k in range(5):
        ax.add_patch(Circle((0.15 + 0.17 * k, 0.28), 0.04 + 0.012 * k, color="white",
                            alpha=0.35))
    ax.text(0.5, 0.62, title, ha="center", va="center", color="white", fontsize=24,
            fontweight="bold")
    _save(fig, ax, path)


def _save(fig, ax, path: Path) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("auto")
    ax.axis("off")
    fig.savefig(path, transparent=True, metadata={"Software": None})
    plt.close(fig)


if __name__ == "__main__":
    badge(CONTENT / "images" / "aws.png")
    card(CONTENT / "images" / "site-card.png", "Markdown + notebooks", "#2f855a")
    card(CONTENT / "images" / "alerts-card.png", "On-call alerts", "#c05621")
