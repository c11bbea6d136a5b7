"""The public pix2pix datasets (Isola et al. 2017): paired sets of side-by-side A|B images, split into A/B folders.

``download_pix2pix(name, out)`` fetches ``<base>/<name>.tar.gz`` (base: ``$GANCTL_PIX2PIX_URL`` or the
Berkeley server the reference's ``download_pix2pix_dataset.sh`` uses) into ``$GANCTL_HOME/raw/pix2pix/``
(the shared part: :func:`ganctl.data.archive_dataset.download_archive_dataset`). Each image of its
``train/``, ``val/`` and ``test/`` holds A in the left half and B in the right half; they are cut into
``trainA/x.png`` and ``trainB/x.png`` (PNG: the pixels the reference trains on, exactly), so the pairs have the
same names and every recipe reads the set (pix2pix as pairs, CycleGAN and CUT as two domains). ``test/``
becomes ``testA/ testB/``; ``val/`` becomes ``valA/ valB/``, or the test split when there is no ``test/``
(maps, edges2shoes), as the CycleGAN versions of these sets have it. ``cityscapes`` is listed but cannot be
downloaded: its licence forbids redistribution, so the error says where to get it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ganctl import console
from ganctl.data.archive_dataset import dataset_root, download_archive_dataset
from ganctl.errors import ImageReadError, OptionError
from ganctl.paths import raw_dir

PIX2PIX_BASE_URL = "https://efrosgans.eecs.berkeley.edu/pix2pix/datasets"

# name -> (description: what A and B are, approximate download size)
PIX2PIX_DATASETS: dict[str, tuple[str, str]] = {
    "facades": ("facade photos (A) | labels (B), paired (CMP Facades)", "~29 MB tar.gz"),
    "maps": ("aerial photos (A) | Google maps (B), paired", "~239 MB tar.gz"),
    "edges2shoes": ("shoe edges (A) | shoe photos (B), paired (UT Zappos50K)", "~2 GB tar.gz"),
    "night2day": ("scenes at night | by day, paired (Transient Attributes)", "~1.9 GB tar.gz"),
    "cityscapes": ("street photos (A) | labels (B), paired (not redistributable)", "-"),
}


def pix2pix_url(name: str) -> str:
    """Download URL of one pix2pix dataset archive (base overridable with ``$GANCTL_PIX2PIX_URL``)."""
    base = os.environ.get("GANCTL_PIX2PIX_URL") or PIX2PIX_BASE_URL
    return f"{base.rstrip('/')}/{name}.tar.gz"


def _split_targets(root: Path) -> dict[str, str]:
    """Side-by-side folder -> ganctl split (``train`` -> ``train``; ``val`` -> ``test`` when there is no test/)."""
    present = {s for s in ("train", "val", "test") if (root / s).is_dir()}
    targets = {"train": "train", "test": "test", "val": "val" if "test" in present else "test"}
    return {s: targets[s] for s in sorted(present)}


def split_side_by_side(root: Path, stage: Path) -> dict[str, Any]:
    """Cut every side-by-side image below ``root`` into ``stage``'s A and B folders (see the module docstring).

    Returns the dataset.json keys that say what was done: ``splits`` (where each folder went) and ``skipped``
    (images that could not be read or cut, with why).
    """
    from ganctl.data.imageio import list_images
    from ganctl.data.pngwriter import write_png
    from ganctl.data.side_by_side import open_side_by_side

    jobs = []
    targets = _split_targets(root)
    for folder, split in targets.items():
        for path in list_images(root / folder):
            name = path.relative_to(root / folder).with_suffix(".png")
            jobs.append((path, stage / f"{split}A" / name, stage / f"{split}B" / name))
    for _, a, b in jobs:
        a.parent.mkdir(parents=True, exist_ok=True)
        b.parent.mkdir(parents=True, exist_ok=True)

    def cut(job: tuple[Path, Path, Path]) -> str | None:
        source, dest_a, dest_b = job
        try:
            half_a, half_b = open_side_by_side(source)
        except ImageReadError as exc:
            return f"{source.relative_to(root).as_posix()} ({exc.problem})"
        write_png(half_a, dest_a)
        write_png(half_b, dest_b)
        return None

    skipped = []
    # Decoding JPEGs and encoding PNGs release the GIL for most of their time, so threads scale here.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool, \
            console.progress(f"split {root.name} into A and B", len(jobs), unit="img") as advance:
        for problem in pool.map(cut, jobs):
            advance()
            if problem:
                skipped.append(problem)
    if skipped:
        console.warn(f"skipped {len(skipped)} image(s) that could not be cut into A and B (listed in dataset.json)")
    return {"splits": {folder: f"{split}A/ {split}B/" for folder, split in targets.items()}, "skipped": skipped}


def download_pix2pix(name: str, out: str | os.PathLike, overwrite: bool = False) -> Any:
    """Download the pix2pix dataset ``name`` and split it into A/B folders in ``out`` (see the module docstring)."""
    if name not in PIX2PIX_DATASETS:
        raise OptionError("NAME", f"unknown pix2pix dataset {name!r}; known: {', '.join(PIX2PIX_DATASETS)}")
    archive = raw_dir("pix2pix") / f"{name}.tar.gz"

    def arrange(extracted: Path, stage: Path) -> dict[str, Any]:
        return split_side_by_side(dataset_root(extracted, name, archive, ("train", "val", "test")), stage)

    return download_archive_dataset(name, pix2pix_url(name), archive, out, overwrite, arrange,
                                    {"kind": "pix2pix-download", "channels": {"A": 3, "B": 3}, "paired": True})
