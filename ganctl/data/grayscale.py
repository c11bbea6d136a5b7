"""Paired colorization data from a folder of colour photos: A = grayscale copy, B = the colour original.

``prepare_grayscale(src, out)`` (``ganctl prepare grayscale``):

- every image below ``src`` (recursive, hidden files skipped) is decoded with EXIF rotation applied;
- the split is deterministic: relative paths are sorted, shuffled with ``seed``, and the first
  ``round(n * test_fraction)`` go to test (at least one when ``test_fraction > 0`` and n > 1);
- ``train|testB/<rel>.png`` is the colour image (RGB, lossless PNG, so A and B are pixel-aligned), and
  ``train|testA/<rel>.png`` its grayscale copy (1-channel, ITU-R 601-2 luma: Pillow's ``convert("L")``);
  subfolders are kept, the extension becomes ``.png`` (``photo.jpg.png`` if two sources would collide);
- images that are already grayscale (mode L, or R = G = B everywhere) are skipped: they carry no colour;
- unreadable or corrupt images are reported and skipped with a count (``strict`` stops at the first);
- ``out`` equal to or inside ``src`` is refused, so the originals are never touched.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from ganctl import console
from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.data.formats import is_video_path
from ganctl.data.imageio import list_images, open_image, to_mode
from ganctl.data.pngwriter import write_png
from ganctl.data.prepared import PreparedDataset
from ganctl.data.staging import check_destination, staging_dir
from ganctl.errors import ImageReadError, InputError, OptionError
from ganctl.fsutil import check_output_outside_input

MAX_REPORTED = 5


def luma(rgb: np.ndarray) -> np.ndarray:
    """uint8 ... x 3 RGB -> uint8 gray: ITU-R 601-2 in Pillow's fixed-point form, bit-identical to ``convert("L")``."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def is_grayscale_image(img: Image.Image) -> bool:
    """True when an RGB image has R = G = B in every pixel (or the image is gray by mode)."""
    if img.mode in ("L", "LA", "1", "I", "I;16", "F"):
        return True
    arr = np.asarray(img.convert("RGB"))
    return bool((arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all())


def split_test(names: list[str], test_fraction: float, seed: int) -> set[str]:
    """The names that go to test: a seeded shuffle of the sorted names, the first ``round(n * f)`` of them."""
    if not 0 <= test_fraction < 1:
        raise OptionError("--test-fraction", f"must be in [0, 1), got {test_fraction}")
    order = sorted(names)
    random.Random(seed).shuffle(order)
    n_test = round(len(order) * test_fraction)
    if test_fraction > 0 and n_test == 0 and len(order) > 1:
        n_test = 1
    return set(order[:n_test])


def output_names(rel_paths: list[str]) -> dict[str, str]:
    """Relative source path -> relative output name (``.png``; the old suffix kept when two would collide)."""
    plain = {rel: str(PurePosixPath(rel).with_suffix(".png")) for rel in rel_paths}
    seen: dict[str, int] = {}
    for name in plain.values():
        seen[name] = seen.get(name, 0) + 1
    return {rel: name if seen[name] == 1 else rel + ".png" for rel, name in plain.items()}


def _convert_one(src: Path, dest_a: Path, dest_b: Path) -> str:
    """Write the gray and colour copies of one image; returns "ok", "gray" or raises ImageReadError."""
    img = open_image(src)
    if img.mode in ("L", "LA", "1", "I", "I;16", "F"):
        return "gray"
    rgb = to_mode(img, "RGB")
    if is_grayscale_image(rgb):
        return "gray"
    dest_a.parent.mkdir(parents=True, exist_ok=True)
    dest_b.parent.mkdir(parents=True, exist_ok=True)
    write_png(rgb, dest_b)
    write_png(rgb.convert("L"), dest_a)
    return "ok"


def prepare_grayscale(
    src: str | os.PathLike,
    out: str | os.PathLike,
    test_fraction: float = 0.1,
    seed: int = 0,
    strict: bool = False,
    overwrite: bool = False,
) -> PreparedDataset:
    """Make a paired gray -> colour dataset from a photo folder (see the module docstring)."""
    start = time.perf_counter()
    src, out = Path(src), Path(out)
    if src.is_file():
        video = is_video_path(src, gif_as_video=True)
        hint = "; for a video's frames use: ganctl prepare frames VIDEO --out DIR" if video else ""
        raise InputError(src, f"is a file; give a folder of colour photos{hint}")
    if not src.is_dir():
        raise InputError(src, "no such folder of photos")
    check_destination(out, overwrite)  # before any work: a bad --out fails at once
    check_output_outside_input(out, src)
    files = list_images(src)
    if not files:
        raise InputError(src, "contains no images (jpg, png, webp, bmp, tif, gif)")
    rels = [p.relative_to(src).as_posix() for p in files]
    test = split_test(rels, test_fraction, seed)
    names = output_names(rels)
    counts = {"trainA": 0, "trainB": 0, "testA": 0, "testB": 0}
    bad: list[str] = []
    skipped_gray = 0
    with staging_dir(out, overwrite) as stage:
        for split in counts:
            (stage / split).mkdir()

        def job(rel: str) -> tuple[str, str]:
            suffix = "test" if rel in test else "train"
            try:
                status = _convert_one(src / rel, stage / f"{suffix}A" / names[rel], stage / f"{suffix}B" / names[rel])
            except ImageReadError as exc:
                if strict:
                    raise
                return rel, f"bad:{exc.problem}"
            return rel, status

        # Decoding JPEGs and encoding PNGs release the GIL for most of their time, so threads scale here.
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool, \
                console.progress(f"grayscale {src.name}", len(rels), unit="img") as advance:
            for rel, status in pool.map(job, rels):
                advance()
                suffix = "test" if rel in test else "train"
                if status == "ok":
                    counts[f"{suffix}A"] += 1
                    counts[f"{suffix}B"] += 1
                elif status == "gray":
                    skipped_gray += 1
                else:
                    bad.append(f"{rel} ({status[4:]})")
        if not counts["trainA"] and not counts["testA"]:
            raise InputError(src, "no usable colour images (all were unreadable or already grayscale)")
        write_dataset_meta(stage, {
            "name": out.name,
            "kind": "grayscale",
            "source": str(src.resolve()),
            "options": {"test_fraction": test_fraction},
            "seed": seed,
            "counts": counts,
            "channels": {"A": 1, "B": 3},
            "paired": True,
            "skipped": {"unreadable": bad, "grayscale": skipped_gray},
        })
    for line in bad[:MAX_REPORTED]:
        console.warn(f"skipped unreadable image {line}")
    if len(bad) > MAX_REPORTED:
        console.warn(f"... and {len(bad) - MAX_REPORTED} more unreadable images (listed in dataset.json)")
    result = PreparedDataset(out, counts, time.perf_counter() - start,
                             skipped={"unreadable": len(bad), "already grayscale": skipped_gray})
    console.info(f"[green]grayscale[/] {result.summary()}")
    return result
