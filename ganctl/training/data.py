"""Unaligned A/B image folders for CycleGAN-style training, with a resumable data order.

* :func:`inspect_dataset` finds ``trainA/ trainB/ testA/ testB/`` (the public CycleGAN layout), the
  channels of each domain (``dataset.json`` ``channels`` or the image modes) and whether the data are
  digits (native size <= 32 px: small nets, no preprocessing).
* :class:`PairOrder` decides which A and which B image make up each batch: per epoch one permutation of
  A and an independent one of B (the shorter domain cycled), both from ``(seed, epoch)`` alone, split
  across DDP ranks. So the order of any step is known without replaying earlier ones: resume is exact.
* Photo preprocessing (resize -> random crop -> flip) draws its randomness from the sample's position
  in that order, not from a worker's RNG, for the same reason.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from ganctl import console
from ganctl.data.imageio import list_images, open_image, pil_to_tensor, to_mode
from ganctl.errors import ImageReadError, InputError, OptionError

DIGIT_MAX_SIZE = 32
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def resolve_data(data: str | os.PathLike) -> Path:
    """A dataset folder from ``--data NAME|DIR`` (named sets are prepared on first use)."""
    try:
        from ganctl.data.registry import resolve_dataset
    except ImportError:  # the named-dataset registry is optional; a folder always works
        resolve_dataset = None
    if resolve_dataset is not None:
        return Path(resolve_dataset(data))
    path = Path(data)
    if not path.is_dir():
        raise InputError(path, "no such dataset folder")
    return path


def read_meta(root: Path) -> dict[str, Any]:
    """``dataset.json`` of a dataset folder ({} when absent)."""
    try:
        from ganctl.data.dataset_meta import read_dataset_meta
    except ImportError:
        read_dataset_meta = None
    if read_dataset_meta is not None:
        meta = read_dataset_meta(root)
        return dict(meta) if meta else {}
    path = root / "dataset.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None


@dataclass
class DatasetInfo:
    """What training needs to know about an A/B dataset folder."""

    root: Path
    name: str
    files: dict[str, list[Path]]  # trainA, trainB, testA, testB (test lists may be empty)
    channels: dict[str, int]  # {"A": 1|3, "B": 1|3}
    native_size: int  # the larger side of the first training images
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_digits(self) -> bool:
        """Small images (MNIST-like): small nets, no resize/crop/flip."""
        return self.native_size <= DIGIT_MAX_SIZE


def _domain_channels(files: list[Path], probe: int = 64) -> int:
    """1 when every probed image is grayscale, else 3 (a colour domain may hold a few gray photos)."""
    for path in files[:probe]:
        try:
            with Image.open(path) as img:
                if img.mode not in _GRAY_MODES:
                    return 3
        except OSError:
            continue
    return 1


def inspect_dataset(data: str | os.PathLike) -> DatasetInfo:
    """Find the domain folders, channels and size of a dataset, with one clear error when unusable."""
    root = resolve_data(data)
    files = {}
    for split in ("trainA", "trainB", "testA", "testB"):
        folder = root / split
        files[split] = list_images(folder) if folder.is_dir() else []
    for split in ("trainA", "trainB"):
        if not (root / split).is_dir():
            raise InputError(root, f"has no {split}/ folder (expected trainA/ trainB/ [testA/ testB/])")
        if not files[split]:
            raise InputError(root / split, "contains no images")
    meta = read_meta(root)
    channels = {d: _domain_channels(files[f"train{d}"]) for d in ("A", "B")}
    for d, c in (meta.get("channels") or {}).items():
        if d in channels and int(c) in (1, 3):
            channels[d] = int(c)
    sizes = []
    for split in ("trainA", "trainB"):
        img = open_image(files[split][0])
        sizes.append(max(img.size))
    return DatasetInfo(root=root, name=str(meta.get("name") or root.name), files=files, channels=channels,
                       native_size=max(sizes), meta=meta)


@dataclass(frozen=True)
class Preprocess:
    """Per-image preprocessing: resize to ``load_size`` -> random ``size`` crop -> random flip (photos)."""

    size: int
    load_size: int
    crop: bool = True
    flip: bool = True

    def apply(self, img: Image.Image, rng: random.Random | None) -> Image.Image:
        """Transform one image; ``rng`` None means deterministic (resize to ``size``, no flip)."""
        if rng is None:
            return img.resize((self.size, self.size), Image.BICUBIC) if img.size != (self.size, self.size) else img
        if img.size != (self.load_size, self.load_size):
            img = img.resize((self.load_size, self.load_size), Image.BICUBIC)
        if self.crop and self.load_size > self.size:
            x = rng.randint(0, self.load_size - self.size)
            y = rng.randint(0, self.load_size - self.size)
            img = img.crop((x, y, x + self.size, y + self.size))
        elif img.size != (self.size, self.size):
            img = img.resize((self.size, self.size), Image.BICUBIC)
        if self.flip and rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return img


def load_tensor(path: Path, channels: int, pre: Preprocess, rng: random.Random | None) -> torch.Tensor:
    """One image as a C x H x W tensor in [-1, 1]."""
    img = to_mode(open_image(path), "L" if channels == 1 else "RGB")
    return pil_to_tensor(pre.apply(img, rng)) * 2 - 1


class PairOrder:
    """Which (A index, B index, augmentation seed) triples make up batch ``k`` of epoch ``e`` on this rank."""

    def __init__(self, len_a: int, len_b: int, batch_size: int, seed: int, world_size: int = 1, rank: int = 0):
        self.len_a, self.len_b = len_a, len_b
        self.batch_size, self.seed = batch_size, seed
        self.world_size, self.rank = world_size, rank
        self.epoch_length = max(len_a, len_b)
        self.steps_per_epoch = self.epoch_length // (batch_size * world_size)
        if self.steps_per_epoch == 0:
            raise OptionError("--batch-size", f"{batch_size} x {world_size} process(es) is more than the "
                             f"{self.epoch_length} images per domain")

    def _perm(self, n: int, epoch: int, domain: int) -> torch.Tensor:
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch * 2 + domain) % (2**63))
        perm = torch.randperm(n, generator=g)
        reps = -(-self.epoch_length // n)
        return perm.repeat(reps)[: self.epoch_length]

    def batches(self, epoch: int, start: int = 0) -> Iterator[list[tuple[int, int, int]]]:
        """Batches ``start``, ``start + 1``, ... of ``epoch`` for this rank."""
        pa, pb = self._perm(self.len_a, epoch, 0).tolist(), self._perm(self.len_b, epoch, 1).tolist()
        per_step = self.batch_size * self.world_size
        for k in range(start, self.steps_per_epoch):
            first = k * per_step + self.rank * self.batch_size
            yield [(pa[i], pb[i], (self.seed * 7919 + epoch) * self.epoch_length + i)
                   for i in range(first, first + self.batch_size)]


class UnalignedPairs(Dataset):
    """Reads the A and B image of one ``(ia, ib, seed)`` triple from disk, with photo preprocessing."""

    def __init__(self, files_a: list[Path], files_b: list[Path], channels: dict[str, int], pre: Preprocess | None):
        self.files = {"A": files_a, "B": files_b}
        self.channels = channels
        self.pre = pre

    def __len__(self) -> int:
        return max(len(self.files["A"]), len(self.files["B"]))

    def __getitem__(self, item: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        ia, ib, seed = item
        out = []
        for domain, index, salt in (("A", ia, 0), ("B", ib, 1)):
            path = self.files[domain][index]
            if self.pre is None:
                img = to_mode(open_image(path), "L" if self.channels[domain] == 1 else "RGB")
                out.append(pil_to_tensor(img) * 2 - 1)
            else:
                out.append(load_tensor(path, self.channels[domain], self.pre, random.Random(seed * 2 + salt)))
        return out[0], out[1]


def preload_domain(files: list[Path], channels: int, size: int, label: str) -> torch.Tensor:
    """Every image of a (small-image) domain as one uint8 N x C x size x size tensor."""
    mode = "L" if channels == 1 else "RGB"
    # numpy per image, one tensor at the end: per-image torch ops crawl when the CPU is contended.
    out = np.empty((len(files), size, size, channels), dtype=np.uint8)
    skipped = 0
    with console.progress(f"loading {label}", total=len(files), unit="img") as advance:
        for i, path in enumerate(files):
            try:
                img = to_mode(open_image(path), mode)
            except ImageReadError as exc:
                console.warn(str(exc))
                skipped += 1
                img = Image.new(mode, (size, size))
            if img.size != (size, size):
                img = img.resize((size, size), Image.BICUBIC)
            out[i] = np.asarray(img, dtype=np.uint8).reshape(size, size, channels)
            if i % 1000 == 999 or i == len(files) - 1:
                advance(i % 1000 + 1)
    if skipped:
        console.warn(f"{skipped} unreadable image(s) in {label} replaced by black")
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


class PairLoader:
    """Batches of (A, B) tensors in [-1, 1] in :class:`PairOrder`'s order, resumable at any batch.

    Digit data are decoded once into memory (tens of thousands of 28 px images); photos are read
    per batch by DataLoader workers.
    """

    def __init__(self, info: DatasetInfo, size: int, load_size: int, batch_size: int, seed: int,
                 num_workers: int = 0, world_size: int = 1, rank: int = 0, pin_memory: bool = False):
        self.info = info
        self.order = PairOrder(len(info.files["trainA"]), len(info.files["trainB"]), batch_size, seed,
                               world_size, rank)
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.memory: dict[str, torch.Tensor] | None = None
        if info.is_digits:
            self.memory = {d: preload_domain(info.files[f"train{d}"], info.channels[d], size, f"train{d}")
                           for d in ("A", "B")}
            self.dataset = None
        else:
            self.dataset = UnalignedPairs(info.files["trainA"], info.files["trainB"], info.channels,
                                          Preprocess(size=size, load_size=load_size))

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch on this rank (the last partial batch is dropped)."""
        return self.order.steps_per_epoch

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield the batches of ``epoch`` from batch index ``start`` on."""
        batches = self.order.batches(epoch, start)
        if self.memory is not None:
            for batch in batches:
                ia = torch.tensor([b[0] for b in batch])
                ib = torch.tensor([b[1] for b in batch])
                a = self.memory["A"][ia].float().div_(127.5).sub_(1)
                b = self.memory["B"][ib].float().div_(127.5).sub_(1)
                yield a, b
            return
        loader = DataLoader(self.dataset, batch_sampler=list(batches), num_workers=self.num_workers,
                            pin_memory=self.pin_memory, persistent_workers=False,
                            prefetch_factor=4 if self.num_workers > 0 else None)
        yield from loader


def fixed_test_batch(info: DatasetInfo, domain: str, count: int, size: int) -> torch.Tensor:
    """The first ``count`` test images of ``domain`` (train images if there is no test split), resized."""
    files = info.files[f"test{domain}"] or info.files[f"train{domain}"]
    pre = Preprocess(size=size, load_size=size, crop=False, flip=False)
    return torch.stack([load_tensor(p, info.channels[domain], pre, None) for p in files[:count]])
