"""Training batches in a resumable order: which images make up each step, read from disk or from memory.

* :class:`BatchOrder` is the one seeded, rank-sharded order every recipe uses: per epoch each *stream* (a
  domain of an unpaired set; a single set is one stream) is shuffled on its own from ``(seed, epoch)``
  alone, shorter streams are cycled, and each process takes its slice of every step. Any step's batch is
  known without replaying the steps before it, so ``--resume`` continues exactly.
* Augmentation (resize -> random crop -> flip) draws from the sample's position in that order, not from
  a worker's random state, for the same reason (:class:`Preprocess`).
* :class:`MemoryBatches` serves images decoded once into memory (digits, unaugmented sets that fit);
  :class:`FileBatches` reads them per batch in DataLoader workers (photos).

Batch images are float in [-1, 1]; an unreadable image is reported once and replaced, never fatal.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from ganctl import console
from ganctl.data.imageio import open_image, pil_to_tensor, to_mode
from ganctl.device import available_cpus
from ganctl.errors import ImageReadError, InputError, OptionError

# Unaugmented image sets up to this many decoded bytes are held in memory instead of read per batch.
MEMORY_BUDGET = 2 * 2**30


class BatchOrder:
    """Which items make up batch ``k`` of epoch ``e`` on this rank (see the module docstring).

    ``sizes`` has one entry per stream; an epoch has as many positions as the longest stream, and every
    step takes ``batch_size`` positions per process (a last partial step is dropped).
    """

    def __init__(self, sizes: Sequence[int], batch_size: int, seed: int, world_size: int = 1, rank: int = 0):
        self.sizes, self.batch_size, self.seed = list(sizes), batch_size, seed
        self.world_size, self.rank = world_size, rank
        self.length = max(self.sizes)
        self.steps_per_epoch = self.length // (batch_size * world_size)
        if self.steps_per_epoch == 0:
            per = " per domain" if len(self.sizes) > 1 else ""
            raise OptionError("--batch-size", f"{batch_size} x {world_size} process(es) is more than the "
                              f"{self.length} training images{per}")

    def permutation(self, epoch: int, stream: int = 0) -> torch.Tensor:
        """Stream ``stream``'s item indices for the ``length`` positions of ``epoch``."""
        n = self.sizes[stream]
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch * len(self.sizes) + stream) % (2**63))
        perm = torch.randperm(n, generator=g)
        return perm.repeat(-(-self.length // n))[: self.length]

    def augment_seed(self, epoch: int, position: int) -> int:
        """The seed of the random augmentation of the sample at ``position`` of ``epoch``."""
        return (self.seed * 7919 + epoch) * self.length + position

    def batches(self, epoch: int, start: int = 0) -> Iterator[list[tuple[int, ...]]]:
        """Batches ``start``, ``start + 1``, ... of ``epoch`` on this rank: per sample (index per stream..., seed)."""
        perms = [self.permutation(epoch, s).tolist() for s in range(len(self.sizes))]
        per_step = self.batch_size * self.world_size
        for k in range(start, self.steps_per_epoch):
            first = k * per_step + self.rank * self.batch_size
            yield [(*(p[i] for p in perms), self.augment_seed(epoch, i)) for i in range(first, first + self.batch_size)]


@dataclass(frozen=True)
class Preprocess:
    """Per image: resize to ``size``; with ``augment``, resize to ``load_size``, random ``size`` crop, random flip."""

    size: int
    load_size: int
    augment: bool = True

    def apply(self, img: Image.Image, rng: random.Random | None) -> Image.Image:
        """Transform one image; ``rng`` None (or no augmentation) means a plain resize to ``size``."""
        if rng is None or not self.augment:
            return img.resize((self.size, self.size), Image.BICUBIC) if img.size != (self.size, self.size) else img
        if img.size != (self.load_size, self.load_size):
            img = img.resize((self.load_size, self.load_size), Image.BICUBIC)
        if self.load_size > self.size:
            x = rng.randint(0, self.load_size - self.size)
            y = rng.randint(0, self.load_size - self.size)
            img = img.crop((x, y, x + self.size, y + self.size))
        elif img.size != (self.size, self.size):
            img = img.resize((self.size, self.size), Image.BICUBIC)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return img


def load_tensor(path: Path, channels: int, pre: Preprocess, rng: random.Random | None) -> torch.Tensor:
    """One image as a C x H x W tensor in [-1, 1] (C = ``channels``: 1 gray, 3 colour)."""
    img = to_mode(open_image(path), "L" if channels == 1 else "RGB")
    return pil_to_tensor(pre.apply(img, rng)) * 2 - 1


class ImageFiles:
    """Reads images of one folder list by index; an unreadable one is reported once and the next one used."""

    def __init__(self, files: Sequence[Path], channels: int, pre: Preprocess):
        self.files, self.channels, self.pre = list(files), channels, pre
        self._reported: set[int] = set()

    def load(self, index: int, rng_seed: int | None) -> torch.Tensor:
        """Image ``index`` (or the next readable one) as C x S x S in [-1, 1], augmented from ``rng_seed``."""
        for k in range(len(self.files)):
            i = (index + k) % len(self.files)
            try:
                return load_tensor(self.files[i], self.channels, self.pre,
                                   None if rng_seed is None else random.Random(rng_seed))
            except ImageReadError as exc:
                if i not in self._reported:
                    self._reported.add(i)
                    console.warn(f"{exc} (skipped)")
        raise InputError(self.files[0].parent, "no image in this folder can be read")


class UnalignedPairs(Dataset):
    """Item ``(ia, ib, seed)``: image ``ia`` of domain A and image ``ib`` of domain B, each augmented."""

    def __init__(self, a: ImageFiles, b: ImageFiles):
        self.a, self.b = a, b

    def __len__(self) -> int:
        return max(len(self.a.files), len(self.b.files))

    def __getitem__(self, item: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        ia, ib, seed = item
        return self.a.load(ia, seed * 2), self.b.load(ib, seed * 2 + 1)


class SingleImages(Dataset):
    """Item ``(index, seed)``: image ``index`` of one folder list, augmented."""

    def __init__(self, images: ImageFiles):
        self.images = images

    def __len__(self) -> int:
        return len(self.images.files)

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        index, seed = item
        return self.images.load(index, seed)


def decode_all(files: Sequence[Path], channels: int, size: int, label: str) -> torch.Tensor:
    """Every image of ``files`` as one uint8 N x C x size x size tensor (unreadable ones black, reported)."""
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


def fits_in_memory(counts: Sequence[int], channels: Sequence[int], size: int) -> bool:
    """True when ``counts[i]`` decoded images of ``channels[i]`` channels and ``size`` px fit :data:`MEMORY_BUDGET`."""
    return sum(n * c * size * size for n, c in zip(counts, channels)) <= MEMORY_BUDGET


def _as_input(tensor: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float in [-1, 1]; anything else (labels) as it is."""
    return tensor.float().div_(127.5).sub_(1) if tensor.dtype == torch.uint8 else tensor


class MemoryBatches:
    """Batches from tensors in memory, in :class:`BatchOrder`'s order.

    ``streams[s]`` is a tuple of aligned tensors (e.g. images and labels) indexed by stream ``s``'s order;
    a batch is the tuple of every stream's tensors (a single tensor when there is only one).
    """

    def __init__(self, order: BatchOrder, streams: Sequence[tuple[torch.Tensor, ...]]):
        self.order, self.streams = order, list(streams)

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch on this rank."""
        return self.order.steps_per_epoch

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Any]:
        """Batches ``start``, ``start + 1``, ... of ``epoch``."""
        for batch in self.order.batches(epoch, start):
            out = []
            for s, tensors in enumerate(self.streams):
                index = torch.tensor([sample[s] for sample in batch])
                out.extend(_as_input(t[index]) for t in tensors)
            yield out[0] if len(out) == 1 else tuple(out)


def ignore_stop_signals(worker_id: int) -> None:
    """In a DataLoader worker: ignore the signals that stop a run. They reach the workers too when a whole
    process group is stopped (Ctrl-C, ``kill -TERM -PGID``, ``pkill -f``, a batch system); the trainer finishes
    its step and saves, then stops its workers itself (torch's own SIGTERM handler would kill them mid-epoch)."""
    import signal

    from ganctl.training.loop import STOP_SIGNALS

    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class StepBatches:
    """``steps`` batches of a data source as one epoch (cycling its epochs), for recipes scheduled in steps.

    Step ``k`` of the run is step ``k mod n`` of the source's epoch ``k // n`` (n: the source's steps per epoch),
    so the order stays a function of the step and resume stays exact; the loop's per-epoch work (checkpoint,
    sample grid) then happens once per ``steps``, not once per short pass over a small dataset.
    """

    def __init__(self, source: Any, steps: int):
        self.source, self.steps_per_epoch = source, steps

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Any]:
        """Batches ``start``, ``start + 1``, ... of this epoch of ``steps``."""
        inner = self.source.steps_per_epoch
        step = epoch * self.steps_per_epoch + start
        end = (epoch + 1) * self.steps_per_epoch
        while step < end:
            inner_epoch, inner_start = divmod(step, inner)
            for batch in self.source.epoch(inner_epoch, inner_start):
                yield batch
                step += 1
                if step == end:
                    return


class FileBatches:
    """Batches read from disk by DataLoader workers, in :class:`BatchOrder`'s order.

    The dataset's items are the samples :meth:`BatchOrder.batches` yields. Workers never outnumber the
    CPUs this process may use.
    """

    def __init__(self, order: BatchOrder, dataset: Dataset, num_workers: int = 0, pin_memory: bool = False):
        self.order, self.dataset = order, dataset
        self.num_workers = min(num_workers, available_cpus())
        self.pin_memory = pin_memory

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch on this rank."""
        return self.order.steps_per_epoch

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Any]:
        """Batches ``start``, ``start + 1``, ... of ``epoch``."""
        # A generator of its own: creating the loader must not draw from the global random state, or a run
        # resumed mid-epoch (one loader more) would draw different dropout and noise than an uninterrupted one.
        loader = DataLoader(self.dataset, batch_sampler=list(self.order.batches(epoch, start)),
                            num_workers=self.num_workers, pin_memory=self.pin_memory,
                            prefetch_factor=4 if self.num_workers > 0 else None,
                            worker_init_fn=ignore_stop_signals if self.num_workers > 0 else None,
                            generator=torch.Generator().manual_seed(self.order.seed * 1_000_003 + epoch))
        yield from loader


def fixed_images(files: Sequence[Path], channels: int, size: int, count: int) -> torch.Tensor:
    """The first ``count`` readable images of ``files`` resized to ``size``: the fixed batch of sample grids."""
    images = ImageFiles(files, channels, Preprocess(size=size, load_size=size, augment=False))
    return torch.stack([images.load(i, None) for i in range(min(count, len(files)))])


def load_digits(source: str | os.PathLike | None, size: int, split: str = "train",
                labels: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """MNIST digits of ``split`` as uint8 N x 1 x size x size (resized when size is not 28), with labels if asked."""
    from ganctl.data.mnist import SOURCE_HINT, MnistOffline, load_mnist

    try:
        mnist = load_mnist(source)
    except MnistOffline as exc:  # the recipes that read MNIST (gan, classifier) have --source
        raise exc.with_hint(SOURCE_HINT) from None
    images = (mnist.train_images if split == "train" else mnist.test_images).unsqueeze(1)
    if size != images.shape[-1]:
        chunks = [F.interpolate(c.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
                  for c in images.split(4096)]
        images = torch.cat(chunks).round().clamp(0, 255).to(torch.uint8)
    images = images.contiguous()
    if not labels:
        return images
    return images, (mnist.train_labels if split == "train" else mnist.test_labels).long()



def unpaired_batches(folders: Any, channels: dict[str, int], opts: Any, world_size: int = 1, rank: int = 0,
                     pin_memory: bool = False) -> MemoryBatches | FileBatches:
    """(A, B) batches of an A/B dataset (:class:`ganctl.data.domains.DomainFolders`) for unpaired recipes.

    ``channels`` per domain (1 or 3) may differ from the files'; ``opts`` gives ``size``, ``load_size``,
    ``augment``, ``batch_size``, ``seed`` and ``num_workers``. Without augmentation the images are decoded once
    into memory when they fit; otherwise workers read them per batch.
    """
    files = {k: folders.files[f"train{k}"] for k in ("A", "B")}
    counts = [len(files["A"]), len(files["B"])]
    order = BatchOrder(counts, opts.batch_size, opts.seed, world_size, rank)
    if not opts.augment and fits_in_memory(counts, [channels["A"], channels["B"]], opts.size):
        return MemoryBatches(order, [(decode_all(files[k], channels[k], opts.size, f"train{k}"),) for k in ("A", "B")])
    pre = Preprocess(size=opts.size, load_size=opts.load_size, augment=opts.augment)
    pairs = UnalignedPairs(*(ImageFiles(files[k], channels[k], pre) for k in ("A", "B")))
    return FileBatches(order, pairs, opts.num_workers, pin_memory=pin_memory)


def fixed_test_images(folders: Any, channels: dict[str, int], size: int, count: int) -> dict[str, torch.Tensor]:
    """The sample grids' fixed images: up to ``count`` test images per domain (train images without a test split),
    as many of A as of B."""
    fixed = {k: fixed_images(folders.files[f"test{k}"] or folders.files[f"train{k}"], channels[k], size, count)
             for k in ("A", "B")}
    common = min(len(fixed["A"]), len(fixed["B"]))
    return {k: t[:common] for k, t in fixed.items()}


class AlignedPairs(Dataset):
    """Item ``(index, seed)``: pair ``index`` as (input, target), the same resize, crop and flip on both images.

    ``pairs`` are :class:`ganctl.data.pairs.ImagePair` (two files, or one side-by-side file); ``swap`` makes B
    the input (``--direction BtoA``); ``channels`` are (input, target) channels. Both images go through
    :class:`Preprocess` with one seed, so they draw the same crop and flip. An unreadable pair is reported once
    and the next one used.
    """

    def __init__(self, pairs: Sequence[Any], channels: tuple[int, int], pre: Preprocess, swap: bool = False):
        self.pairs, self.channels, self.pre, self.swap = list(pairs), channels, pre, swap
        self._reported: set[int] = set()

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int, rng_seed: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pair ``index`` (or the next readable one) as two C x S x S tensors in [-1, 1]."""
        from ganctl.data.pairs import open_pair

        for k in range(len(self.pairs)):
            i = (index + k) % len(self.pairs)
            try:
                images = open_pair(self.pairs[i])
            except ImageReadError as exc:
                if i not in self._reported:
                    self._reported.add(i)
                    console.warn(f"{exc} (skipped)")
                continue
            if self.swap:
                images = images[::-1]
            out = []
            for img, channels in zip(images, self.channels):
                rng = None if rng_seed is None else random.Random(rng_seed)
                out.append(pil_to_tensor(self.pre.apply(to_mode(img, "L" if channels == 1 else "RGB"), rng)) * 2 - 1)
            return out[0], out[1]
        raise InputError(self.pairs[0].a.parent, "no pair in this folder can be read")

    def __getitem__(self, item: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, seed = item
        return self.load(index, seed)


def fixed_pairs(pairs: Sequence[Any], channels: tuple[int, int], size: int, count: int,
                swap: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` readable pairs resized to ``size``, as (inputs, targets): the fixed batch of sample grids."""
    reader = AlignedPairs(pairs, channels, Preprocess(size=size, load_size=size, augment=False), swap)
    loaded = [reader.load(i, None) for i in range(min(count, len(pairs)))]
    return torch.stack([a for a, _ in loaded]), torch.stack([b for _, b in loaded])
