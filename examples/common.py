"""What the examples share: running ganctl's own commands, the common flags, and the README's picture strips.

Every example is a short script of ``ganctl`` commands (run as ``python -m ganctl ...`` with this Python, which must
import ganctl: ``pip install .``). Each command is printed before it runs, so an example doubles as a recipe
to copy; its ``--json`` result is parsed and the number the example reproduces is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def parser(doc: str, name: str) -> argparse.ArgumentParser:
    """An argparse parser with the flags every example takes: ``--full`` or ``--smoke``, ``--work``, ``--images``."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0], epilog=doc.split("\n\n", 1)[-1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    length = p.add_mutually_exclusive_group()
    length.add_argument("--full", action="store_true", help="train for the full length (hours on a CPU) instead of the "
                   "quick default (minutes)")
    length.add_argument("--smoke", action="store_true", help="two training steps of tiny networks (ganctl's smoke "
                   "preset): checks that the example runs, reproduces nothing")
    p.add_argument("--work", type=Path, default=Path("runs") / "examples" / name,
                   help="folder for the datasets, runs and outputs this example makes (default: %(default)s)")
    p.add_argument("--images", type=Path, help="also write the README's pictures into this folder "
                   "(docs/images in the repository)")
    return p


def mode(args: argparse.Namespace) -> str:
    """``smoke``, ``full`` or ``quick``: the length the example was asked for."""
    return "smoke" if args.smoke else "full" if args.full else "quick"


SMOKE = ["--preset", "smoke"]


def mnist_source(value: Path | None) -> list[str]:
    """``--source DIR`` for MNIST's IDX files when given, else nothing (ganctl's cache, downloaded once)."""
    return ["--source", str(value)] if value is not None else []


def ganctl(*args: object, as_json: bool = True) -> dict:
    """Run ``ganctl ARGS`` (printed first, ``--json`` added), stop the example if it fails; its JSON result."""
    argv = [str(a) for a in args]
    print("$ ganctl " + shlex.join(argv), file=sys.stderr, flush=True)
    command = [sys.executable, "-m", "ganctl", "--quiet", *argv, *(["--json"] if as_json else [])]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"example stopped: 'ganctl {shlex.join(argv)}' exited with {done.returncode}")
    return json.loads(done.stdout) if as_json else {}


def train(*args: object) -> dict:
    """``ganctl train ARGS --json``, with the wall time of the whole command added as ``wall_seconds``."""
    start = time.perf_counter()
    result = ganctl("train", *args)
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(f"trained to step {result['step']} in {result['seconds']:.0f} s", file=sys.stderr)
    return result


def fresh(path: Path) -> Path:
    """``path``, or ``path2``, ``path3``, ... : the first that does not exist (runs are never overwritten)."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}{n}")
    return candidate


def first_images(folder: Path, n: int, out: Path) -> list[Path]:
    """Copy the first ``n`` images below ``folder`` by relative path (not hand-picked) into the new folder ``out``,
    flattened (``daisy/1.png`` -> ``daisy_1.png``); their paths relative to ``folder``."""
    import shutil

    files = sorted((p.relative_to(folder) for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES),
                   key=lambda p: p.as_posix())[:n]
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for rel in files:
        shutil.copy2(folder / rel, out / flat_name(rel))
    return files


def flat_name(rel: Path) -> str:
    """The file name :func:`first_images` gives the image at ``rel``."""
    return rel.as_posix().replace("/", "_")


def images_in(folder: Path) -> list[Path]:
    """The images of ``folder`` (not below it), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def write_strip(rows: list[list[Path]], out: Path, tile: int = 96, gap: int = 2) -> Path:
    """Tile images into one picture, one row per list, each image resized to ``tile`` pixels high; a ``.jpg``
    ``out`` is saved as JPEG (quality 85), anything else as PNG. Returns ``out``."""
    from PIL import Image

    opened = [[Image.open(p).convert("RGB") for p in row] for row in rows]
    scaled = [[im.resize((max(1, round(im.width * tile / im.height)), tile), Image.BICUBIC) for im in row]
              for row in opened]
    width = max(sum(im.width for im in row) + gap * (len(row) - 1) for row in scaled)
    canvas = Image.new("RGB", (width, tile * len(scaled) + gap * (len(scaled) - 1)), "white")
    for r, row in enumerate(scaled):
        x = 0
        for im in row:
            canvas.paste(im, (x, r * (tile + gap)))
            x += im.width + gap
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".jpg", ".jpeg"):
        canvas.save(out, quality=85, optimize=True)
    else:
        canvas.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)", file=sys.stderr)
    return out


def shrink_png(path: Path, colours: int = 32) -> Path:
    """Rewrite a figure PNG with a palette of ``colours`` (a plot needs few): a quarter of the size."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)", file=sys.stderr)
    return path


def report(numbers: dict) -> None:
    """Print the example's result as JSON on stdout."""
    print(json.dumps(numbers, indent=2))
