"""One self-contained HTML page per run: config, loss curves, sample grids per epoch, metrics.

The page needs no network: plots are embedded as base64 PNG; the run's own images (``samples/``,
``grid.png``, ``latent_*.png``) are embedded too while they add up to at most ``embed_limit`` bytes,
and referenced by relative links otherwise (the page lives in the run folder, beside them).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ganctl import __version__
from ganctl.errors import InputError
from ganctl.fsutil import atomic_write_text
from ganctl.runs import MetricsLog
from ganctl.viz.curves import curve_records, group_losses, plot_losses
from ganctl.viz.figures import figure_png
from ganctl.viz.grid import sample_images
from ganctl.viz.loading import checkpoint_config, epoch_checkpoints

EMBED_LIMIT = 24 * 1024 * 1024
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c0d0;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:18px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:17px;margin:4px 0 12px}h3{font-size:14px;margin:10px 0 6px;color:#444}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#f4f5f7;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:18px}.card span{font-size:12px;color:#667}
table{border-collapse:collapse;font-size:13px;width:auto;min-width:50%}
td,th{border-bottom:1px solid #e4e6eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f5f7}td.num{font-variant-numeric:tabular-nums;text-align:right}
img{max-width:100%;image-rendering:auto}img.pixel{image-rendering:pixelated}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px}
figure{margin:0}figcaption{font-size:12px;color:#555;margin-top:2px}
.muted{color:#778;font-size:13px}code{background:#f4f5f7;padding:1px 4px;border-radius:3px}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts as ``(dotted.key, value)`` rows; lists stay whole."""
    if isinstance(obj, dict) and obj:
        rows = []
        for k, v in obj.items():
            rows.extend(_flatten(v, f"{prefix}{k}."))
        return rows
    return [(prefix.rstrip("."), obj)]


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(rows: list[tuple[str, Any]], head: tuple[str, str] = ("key", "value")) -> str:
    body = "".join(
        f"<tr><td><code>{_esc(k)}</code></td><td{' class=num' if _is_num(v) else ''}>{_esc(_fmt(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table><tr><th>{_esc(head[0])}</th><th>{_esc(head[1])}</th></tr>{body}</table>"


class _Images:
    """Turns a run file into an ``<img src>``: a data URI while embedding, else a relative link."""

    def __init__(self, run_dir: Path, files: list[Path], embed_limit: int):
        self.run_dir = run_dir
        self.embed = sum(p.stat().st_size for p in files) <= embed_limit

    def src(self, path: Path) -> str:
        if self.embed:
            mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
            return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
        return quote(path.relative_to(self.run_dir).as_posix())

    def tag(self, path: Path, alt: str, small: bool = False) -> str:
        from PIL import Image

        try:
            with Image.open(path) as img:
                width = img.width
        except OSError:
            width = 0
        # Tiny digit grids are shown enlarged with crisp pixels instead of a blurry upscale.
        cls = ' class="pixel"' if 0 < width < 400 else ""
        if small:
            style = ' style="width:100%"'
        else:
            style = f' style="width:{min(3 * width, 1100)}px"' if 0 < width < 400 else ""
        return f'<img src="{_esc(self.src(path))}" alt="{_esc(alt)}"{cls}{style}>'


def _run_kind(run_dir: Path, config: dict[str, Any]) -> str:
    latest = run_dir / "checkpoints" / "latest.safetensors"
    kind = config.get("kind")
    if not kind and latest.exists():
        try:
            kind = checkpoint_config(latest).get("kind")
        except InputError:
            kind = None
    return str(kind or "unknown")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None


def _summary(config: dict[str, Any], kind: str, records: list[dict[str, Any]], n_ckpt: int) -> str:
    last_step = max((r.get("step", 0) for r in records), default=0)
    last_epoch = max((r.get("epoch", 0) for r in records), default=0)
    cards = [("kind", kind), ("dataset", Path(str(config.get("data") or config.get("dataset") or "–")).name),
             ("steps", last_step), ("epochs", last_epoch), ("checkpoints", n_ckpt)]
    train = [r for r in records if r.get("kind", "train") == "train"]
    if train:
        for key in ("loss_G", "loss_cycle_A", "loss_D_A", "loss_D"):
            if _is_num(train[-1].get(key)):
                cards.append((f"last {key}", train[-1][key]))
    inner = "".join(f'<div class="card"><b>{_esc(_fmt(v))}</b><span>{_esc(k)}</span></div>' for k, v in cards)
    return f'<div class="cards">{inner}</div>'


def _losses_section(records: list[dict[str, Any]]) -> str:
    fig = plot_losses(records)
    if fig is None:
        return '<p class="muted">No losses logged yet (<code>metrics.jsonl</code> is missing or empty).</p>'
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    plotted = curve_records(records)
    rows = []
    for group, keys in group_losses(plotted).items():
        for key in keys:
            values = [r[key] for r in plotted if _is_num(r.get(key)) and math.isfinite(r[key])]
            if values:
                rows.append((group, key, values[0], values[-1], min(values), len(values)))
    head = "".join(f"<th>{h}</th>" for h in ("group", "loss", "first", "last", "min", "points"))
    body = "".join(
        f"<tr><td>{_esc(g)}</td><td><code>{_esc(k)}</code></td>"
        + "".join(f"<td class=num>{_esc(_fmt(v))}</td>" for v in values)
        + "</tr>"
        for g, k, *values in rows
    )
    return f'<img src="data:image/png;base64,{data}" alt="loss curves"><table><tr>{head}</tr>{body}</table>'


def _samples_section(samples: dict[int, Path], images: _Images, kind: str) -> str:
    if not samples:
        return '<p class="muted">No sample grids yet (<code>samples/epoch_NNNN.png</code>).</p>'
    last_epoch, last = list(samples.items())[-1]
    parts = []
    if kind == "cyclegan":
        parts.append('<p class="muted">Rows: real A | fake B | reconstructed A, then real B | fake A | '
                     "reconstructed B; the same fixed test images every epoch.</p>")
    parts.append(f"<h3>Latest: epoch {last_epoch}</h3><figure>{images.tag(last, f'epoch {last_epoch}')}</figure>")
    if len(samples) > 1:
        cells = "".join(
            f"<figure>{images.tag(p, f'epoch {e}', small=True)}<figcaption>epoch {e}</figcaption></figure>"
            for e, p in samples.items()
        )
        parts.append(f'<h3>Every epoch</h3><div class="gallery">{cells}</div>')
    return "".join(parts)


def _figures_section(figures: list[Path], images: _Images) -> str:
    return "".join(f"<h3>{_esc(p.name)}</h3><figure>{images.tag(p, p.stem)}</figure>" for p in figures)


def _metrics_section(eval_result: Any, records: list[dict[str, Any]]) -> str:
    parts = []
    if eval_result is not None:
        parts.append(f"<h3>eval.json</h3>{_table(_flatten(eval_result), ('metric', 'value'))}")
    evals = [r for r in records if r.get("kind") == "eval"]
    if evals:
        keys = [k for k in dict.fromkeys(k for r in evals for k in r) if k != "kind"]
        head = "".join(f"<th>{_esc(k)}</th>" for k in keys)
        body = "".join(
            "<tr>" + "".join(f"<td class=num>{_esc(_fmt(r.get(k)))}</td>" for k in keys) + "</tr>" for r in evals
        )
        parts.append(f"<h3>Evaluations logged during training</h3><table><tr>{head}</tr>{body}</table>")
    if not parts:
        return '<p class="muted">No metrics yet: run <code>ganctl eval run RUN</code> to measure this run.</p>'
    return "".join(parts)


def _checkpoints_section(run_dir: Path) -> str:
    folder = run_dir / "checkpoints"
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if not files:
        return '<p class="muted">No checkpoints.</p>'
    rows = [(p.name, f"{p.stat().st_size / 1e6:.1f} MB") for p in files]
    return _table(rows, ("file", "size"))


def render_report(run_dir: str | os.PathLike, embed_limit: int = EMBED_LIMIT) -> str:
    """The HTML text of the run's report (see :func:`write_report`)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "no such run folder")
    if not (run_dir / "config.json").exists() and not (run_dir / "metrics.jsonl").exists():
        raise InputError(run_dir, "is not a ganctl run folder (no config.json or metrics.jsonl)")
    config = _read_json(run_dir / "config.json") or {}
    if not isinstance(config, dict):
        raise InputError(run_dir / "config.json", "is not a JSON object")
    records = MetricsLog(run_dir / "metrics.jsonl").read()
    kind = _run_kind(run_dir, config)
    samples = sample_images(run_dir)
    figures = sorted(p for pattern in ("grid.png", "latent_*.png") for p in run_dir.glob(pattern))
    images = _Images(run_dir, list(samples.values()) + figures, embed_limit)
    n_ckpt = len(epoch_checkpoints(run_dir))
    name = run_dir.resolve().name
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("Summary", _summary(config, kind, records, n_ckpt)),
        ("Loss curves", _losses_section(records)),
        ("Samples per epoch", _samples_section(samples, images, kind)),
    ]
    if figures:
        sections.append(("Figures (ganctl viz)", _figures_section(figures, images)))
    sections += [
        ("Metrics", _metrics_section(_read_json(run_dir / "eval.json"), records)),
        ("Configuration", _table(_flatten(config)) if config else '<p class="muted">No config.json.</p>'),
        ("Checkpoints", _checkpoints_section(run_dir)),
    ]
    body = "".join(f"<section><h2>{_esc(title)}</h2>{content}</section>" for title, content in sections)
    note = "" if images.embed else " · images linked from the run folder (too large to embed)"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_esc(name)} · ganctl</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(name)} <span style=\"font-weight:400;color:#b8c0d0\">· {_esc(kind)} run</span></h1>"
        f"<p>{_esc(str(run_dir))} · written {now} by ganctl {_esc(__version__)}{_esc(note)}</p></header>"
        f"<main>{body}</main></body></html>\n"
    )


def write_report(run_dir: str | os.PathLike, embed_limit: int = EMBED_LIMIT) -> Path:
    """Write ``RUN/report.html`` atomically and return its path; safe to call again at any time."""
    path = Path(run_dir) / "report.html"
    atomic_write_text(path, render_report(run_dir, embed_limit))
    return path
