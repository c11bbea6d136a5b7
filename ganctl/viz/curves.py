"""Loss curves from ``metrics.jsonl``: every ``loss_*`` key, grouped into generator, discriminator,
cycle, identity and other, plus the learning rate."""

from __future__ import annotations

import math
import re
from typing import Any

GROUPS = (
    ("generator", re.compile(r"^loss_(G|GAN|gen)(_|$)", re.IGNORECASE)),
    ("discriminator", re.compile(r"^loss_(D|disc)(_|$)", re.IGNORECASE)),
    ("cycle", re.compile(r"^loss_cyc", re.IGNORECASE)),
    ("identity", re.compile(r"^loss_(idt|identity)", re.IGNORECASE)),
)
# Above this many points a curve is drawn faint and an exponential moving average drawn over it.
_SMOOTH_ABOVE = 60


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def curve_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records to plot: the per-step ``train`` ones, or the ``epoch`` ones when there are none."""
    train = [r for r in records if r.get("kind", "train") == "train"]
    return train or [r for r in records if r.get("kind") == "epoch"]


def group_losses(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """``{group: [loss keys]}`` for the ``loss_*`` keys present, in the order generator, discriminator,
    cycle, identity, other; empty groups are left out."""
    keys: list[str] = []
    for r in records:
        keys.extend(k for k, v in r.items() if k.startswith("loss_") and _is_number(v) and k not in keys)
    grouped: dict[str, list[str]] = {}
    for key in keys:
        group = next((name for name, pattern in GROUPS if pattern.match(key)), "other")
        grouped.setdefault(group, []).append(key)
    order = [name for name, _ in GROUPS] + ["other"]
    return {g: sorted(grouped[g]) for g in order if g in grouped}


def _ema(values: list[float], span: int) -> list[float]:
    alpha = 2 / (span + 1)
    out, acc = [], values[0]
    for v in values:
        acc = alpha * v + (1 - alpha) * acc
        out.append(acc)
    return out


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, r in enumerate(records):
        v = r.get(key)
        if _is_number(v):
            xs.append(float(r.get("step", i)))
            ys.append(float(v))
    return xs, ys


def plot_losses(records: list[dict[str, Any]]):
    """A figure with one panel per loss group (and one for ``lr``), or None when nothing can be plotted."""
    from ganctl.viz.figures import new_figure

    records = curve_records(records)
    groups = group_losses(records)
    panels: list[tuple[str, list[str]]] = list(groups.items())
    if any(_is_number(r.get("lr")) for r in records):
        panels.append(("learning rate", ["lr"]))
    if not panels:
        return None
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig = new_figure(6.2 * cols, 3.0 * rows + 0.3, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (title, keys) in zip(axes, panels):
        for i, key in enumerate(keys):
            xs, ys = _series(records, key)
            if not xs:
                continue
            colour = f"C{i % 10}"
            label = key.removeprefix("loss_") if key != "lr" else "lr"
            if len(ys) > _SMOOTH_ABOVE and key != "lr":  # the schedule is exact: never smooth it
                ax.plot(xs, ys, color=colour, alpha=0.25, linewidth=0.8)
                ax.plot(xs, _ema(ys, max(5, len(ys) // 50)), color=colour, linewidth=1.6, label=label)
            else:
                ax.plot(xs, ys, color=colour, linewidth=1.4, marker="o" if len(ys) < 20 else None,
                        markersize=3, label=label)
        ax.set_title(title, fontsize=11)
        if keys == ["lr"]:
            ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0), useOffset=False)
        ax.set_xlabel("step", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return fig
