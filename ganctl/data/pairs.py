"""Paired A -> B data (pix2pix), found cheaply before training: file lists and image headers only, no torch.

Two layouts hold pairs:

* **A/B folders** (what every ``ganctl prepare`` writes, ``prepare grayscale`` included): ``trainA/x.png``
  pairs with ``trainB/x.png``, matched by relative path without the extension (``x.png`` pairs with
  ``x.jpg``); the test pairs come from ``testA/`` and ``testB/``. Named datasets resolve to such a folder.
* **side by side** (the pix2pix reference layout): ``train/``, ``val/``, ``test/`` of images that hold A in
  the left half and B in the right half, so their width must be even; the test pairs come from ``test/``,
  else ``val/``.

Files without a partner are counted; data without any pair is refused (:func:`find_pairs`), so unpaired
sets go to CycleGAN or CUT instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image

from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.data.domains import files_channels
from ganctl.data.imageio import list_images, open_image
from ganctl.data.pix2pix_download import PIX2PIX_DATASETS
from ganctl.data.registry import resolve_dataset
from ganctl.data.side_by_side import check_even_width, open_side_by_side
from ganctl.errors import InputError

SIDE_BY_SIDE_SPLITS = ("train", "val", "test")
# Images whose header is read to decide gray or colour, and to check side-by-side widths up front.
PROBE = 64


class ImagePair(NamedTuple):
    """One training pair: files ``a`` and ``b``, or one side-by-side file ``a`` (``b`` None: A left, B right)."""

    a: Path
    b: Path | None


@dataclass
class NameMatch:
    """The images of two folders matched by relative path without the extension."""

    pairs: list[ImagePair]
    only_a: int = 0  # images of the first folder without a partner
    only_b: int = 0
    ambiguous: int = 0  # names that stand for two files in one folder (x.png and x.jpg): left out


def images_by_name(folder: Path) -> tuple[dict[str, Path], set[str]]:
    """The images below ``folder`` by relative name without extension, and the names two files share."""
    found: dict[str, Path] = {}
    ambiguous = set()
    for path in list_images(folder) if folder.is_dir() else []:
        key = path.relative_to(folder).with_suffix("").as_posix()
        if key in found:
            ambiguous.add(key)
        found[key] = path
    return found, ambiguous


def match_by_name(folder_a: Path, folder_b: Path) -> NameMatch:
    """Pairs of ``folder_a`` and ``folder_b`` images with the same relative name (extension aside), sorted."""
    a, ambiguous_a = images_by_name(folder_a)
    b, ambiguous_b = images_by_name(folder_b)
    ambiguous = ambiguous_a | ambiguous_b
    keys = sorted((a.keys() & b.keys()) - ambiguous)
    return NameMatch([ImagePair(a[k], b[k]) for k in keys], only_a=len(a.keys() - b.keys()),
                     only_b=len(b.keys() - a.keys()), ambiguous=len(ambiguous))


@dataclass
class PairedImages:
    """A paired dataset as training and ``eval run`` see it (A and B as stored; ``--direction`` swaps roles)."""

    root: Path
    name: str
    layout: str  # "folders" or "side-by-side"
    train: list[ImagePair]
    test: list[ImagePair]
    test_split: str | None  # where the test pairs come from ("testA/ testB/", "test/", "val/"), None: no test split
    channels: dict[str, int]  # {"A": 1|3, "B": 1|3}
    image_size: int  # the larger side of the first training image of A (one half of a side-by-side image)
    unpaired: dict[str, int] = field(default_factory=dict)  # training images without a partner, per folder
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """What made the dataset, as ``dataset.json`` says (``grayscale``, ``pix2pix-download``, ...), or None."""
        return self.meta.get("kind")

    def unpaired_note(self) -> str | None:
        """The warning for a partly paired set (which files were left out), or None when every image has a partner."""
        if not any(self.unpaired.values()):
            return None
        counts = ", ".join(f"{n} in {where}" for where, n in self.unpaired.items() if n)
        return f"{sum(self.unpaired.values())} training image(s) have no partner of the same name ({counts}); " \
               f"training on the {len(self.train)} pairs"

    def describe(self) -> str:
        """``<root> (N pairs, 1->3 channels)`` for the start line of a run."""
        layout = ", side by side" if self.layout == "side-by-side" else ""
        return f"{self.root} ({len(self.train)} pairs{layout}, {self.channels['A']}->{self.channels['B']} channels)"


def _header_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as img:
            return img.size
    except OSError:
        return None  # an unreadable file is reported when it is loaded


def _folder_pairs(root: Path) -> PairedImages:
    meta = read_dataset_meta(root) or {}
    if meta.get("paired") is False or (meta.get("paired_test") and not meta.get("paired")):
        raise InputError(root, f"is an unpaired dataset ({meta.get('kind') or 'dataset.json'}: trainA/ and trainB/ "
                               "hold different images under the same names); pix2pix learns from pairs, use ganctl "
                               "train cyclegan for unpaired data")
    train = match_by_name(root / "trainA", root / "trainB")
    if not train.pairs:
        n_a, n_b = len(list_images(root / "trainA")), len(list_images(root / "trainB"))
        if not n_a or not n_b:
            raise InputError(root / ("trainA" if not n_a else "trainB"), "contains no images")
        hint = "for unpaired data use ganctl train cyclegan"
        if meta.get("kind") == "cyclegan-download" and meta.get("name") in PIX2PIX_DATASETS:
            hint = f"ganctl prepare download {meta['name']} --overwrite fetches the paired version of this set"
        raise InputError(root, f"has no pairs: none of the {n_a} images in trainA/ has a partner of the same name "
                               f"among the {n_b} in trainB/ (pix2pix learns from paired images; {hint})")
    test = match_by_name(root / "testA", root / "testB")
    channels = {"A": files_channels([p.a for p in train.pairs]), "B": files_channels([p.b for p in train.pairs])}
    for d, c in (meta.get("channels") or {}).items():
        if d in channels and int(c) in (1, 3):
            channels[d] = int(c)
    size = next((max(s) for s in map(_header_size, (p.a for p in train.pairs[:16])) if s), None)
    if size is None:
        raise InputError(root / "trainA", "none of the first images can be read")
    return PairedImages(root=root, name=str(meta.get("name") or root.name), layout="folders", train=train.pairs,
                        test=test.pairs, test_split="testA/ testB/" if test.pairs else None, channels=channels,
                        image_size=size, unpaired={"trainA/": train.only_a, "trainB/": train.only_b}, meta=meta)


def open_pair(pair: ImagePair) -> tuple[Image.Image, Image.Image]:
    """The decoded A and B images of a pair (the halves of a side-by-side image); ImageReadError when unusable."""
    if pair.b is None:
        return open_side_by_side(pair.a)
    return open_image(pair.a), open_image(pair.b)


def _side_by_side_pairs(root: Path) -> PairedImages:
    splits = {s: list_images(root / s) if (root / s).is_dir() else [] for s in SIDE_BY_SIDE_SPLITS}
    if not splits["train"]:
        raise InputError(root / "train", "contains no images")
    first = None
    for path in splits["train"][:PROBE]:
        size = _header_size(path)
        if size is not None:
            check_even_width(path, size[0])
        first = first or size
    if first is None:
        raise InputError(root / "train", "none of the first images can be read")
    test_split = "test" if splits["test"] else "val" if splits["val"] else None
    channels = files_channels(splits["train"])
    meta = read_dataset_meta(root) or {}
    return PairedImages(root=root, name=str(meta.get("name") or root.name), layout="side-by-side",
                        train=[ImagePair(p, None) for p in splits["train"]],
                        test=[ImagePair(p, None) for p in splits[test_split]] if test_split else [],
                        test_split=f"{test_split}/" if test_split else None, channels={"A": channels, "B": channels},
                        image_size=max(first[0] // 2, first[1]), meta=meta)


def find_pairs(data: str | os.PathLike) -> PairedImages:
    """The pairs of ``--data DIR|NAME`` (see the module docstring), or one clear error."""
    path = Path(data).expanduser()
    if path.is_dir() and not (path / "trainA").is_dir() and (path / "train").is_dir():
        return _side_by_side_pairs(path)
    if path.is_dir() and not ((path / "trainA").is_dir() and (path / "trainB").is_dir()):
        raise InputError(path, "holds no pairs: expected trainA/ and trainB/ with the same file names, or train/ "
                               "[val/ test/] of side-by-side A|B images")
    return _folder_pairs(Path(resolve_dataset(data)))
