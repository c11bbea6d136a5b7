"""What a training set holds, found cheaply before training starts (file lists and image headers only).

* :func:`inspect_domain_folders`: an A/B dataset folder, ``trainA/ trainB/ [testA/ testB/]`` (the public
  CycleGAN layout, and what every ``ganctl prepare`` writes): its files, the channels of each domain
  (``dataset.json`` ``channels`` or the image modes), the size of its images and the kind of dataset that
  ``dataset.json`` records (``mnist-color``, ``grayscale``, ...), which is what picks a recipe's preset.
* :func:`find_colour_photos`: the colour photos to learn colour from: a plain folder of photos (gray ones
  skipped), the colour domain ``trainB/`` of a dataset folder, or a named dataset.

No pixels are decoded beyond the first image of each domain; nothing here needs torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.data.imageio import list_images, open_image
from ganctl.data.registry import resolve_dataset
from ganctl.errors import ImageReadError, InputError

GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
SPLITS = ("trainA", "trainB", "testA", "testB")


def is_gray_file(path: Path) -> bool:
    """True when the file's header says it holds a grayscale image (the pixels are not decoded)."""
    try:
        with Image.open(path) as img:
            return img.mode in GRAY_MODES
    except OSError:
        return False  # an unreadable file is reported when it is loaded


def largest_side(files: list[Path]) -> int:
    """The larger side of the first readable image of ``files``."""
    for path in files[:16]:
        try:
            return max(open_image(path).size)
        except ImageReadError:
            continue
    raise InputError(files[0].parent, "none of the first images can be read")


@dataclass
class DomainFolders:
    """An A/B dataset folder as training sees it."""

    root: Path
    name: str
    files: dict[str, list[Path]]  # trainA, trainB, testA, testB (the test lists may be empty)
    channels: dict[str, int]  # {"A": 1|3, "B": 1|3}
    image_size: int  # the larger side of the first training image of either domain
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """What made the dataset, as ``dataset.json`` says (``mnist-color``, ``grayscale``, ...), or None."""
        return self.meta.get("kind")

    def describe(self) -> str:
        """``<root> (N A / M B images, 1->3 channels)`` for the start line of a run."""
        return (f"{self.root} ({len(self.files['trainA'])} A / {len(self.files['trainB'])} B images, "
                f"{self.channels['A']}->{self.channels['B']} channels)")


def files_channels(files: list[Path], probe: int = 64) -> int:
    """1 when every probed image is grayscale, else 3 (a colour domain may hold a few gray photos)."""
    return 1 if all(is_gray_file(p) for p in files[:probe]) else 3


def inspect_domain_folders(data: str | os.PathLike) -> DomainFolders:
    """The A/B folders of ``--data NAME|DIR`` (named sets are prepared on first use), or one clear error."""
    root = Path(resolve_dataset(data))
    files = {split: list_images(root / split) if (root / split).is_dir() else [] for split in SPLITS}
    for split in ("trainA", "trainB"):
        if not (root / split).is_dir():
            raise InputError(root, f"has no {split}/ folder (expected trainA/ trainB/ [testA/ testB/])")
        if not files[split]:
            raise InputError(root / split, "contains no images")
    meta = read_dataset_meta(root) or {}
    channels = {d: files_channels(files[f"train{d}"]) for d in ("A", "B")}
    for d, c in (meta.get("channels") or {}).items():
        if d in channels and int(c) in (1, 3):
            channels[d] = int(c)
    size = max(largest_side(files["trainA"]), largest_side(files["trainB"]))
    return DomainFolders(root=root, name=str(meta.get("name") or root.name), files=files, channels=channels,
                         image_size=size, meta=meta)


@dataclass
class ColourPhotos:
    """The colour photos of a colorize run: training files and the files of the fixed sample grid."""

    root: Path
    name: str
    train: list[Path]
    test: list[Path]
    kind: str | None = None  # dataset.json's kind, when the photos come from a dataset folder
    skipped_gray: int = 0

    @property
    def image_size(self) -> int:
        """The larger side of the first readable training photo."""
        return largest_side(self.train)


def find_colour_photos(data: str | os.PathLike) -> ColourPhotos:
    """Colour training photos from ``--data``: a plain folder, a dataset folder (its ``trainB/``) or a name."""
    path = Path(data).expanduser()
    if path.is_dir() and not (path / "trainB").is_dir():
        files = list_images(path)
        colour = [p for p in files if not is_gray_file(p)]
        if not colour:
            problem = "contains no images" if not files else "contains only grayscale images (nothing to learn from)"
            raise InputError(path, problem)
        return ColourPhotos(root=path, name=path.name, train=colour, test=[], skipped_gray=len(files) - len(colour))
    root = path if path.is_dir() else Path(resolve_dataset(data))
    train = list_images(root / "trainB") if (root / "trainB").is_dir() else []
    if not train:
        raise InputError(root, "has no colour images in trainB/ (a colorize dataset keeps its colour photos there)")
    test = list_images(root / "testB") if (root / "testB").is_dir() else []
    meta = read_dataset_meta(root) or {}
    return ColourPhotos(root=root, name=root.name if path.is_dir() else str(data), train=train, test=test,
                        kind=meta.get("kind"))
