"""Named datasets: what ``--data NAME`` means, and where a named dataset lives.

Contract (other modules rely on it):

- ``resolve_dataset(name_or_dir) -> Path``:

  - an existing folder is returned as it is, after checking it has ``trainA/`` and ``trainB/``, or at
    least ``testA/`` (``InputError`` naming the folder otherwise). A folder wins over a name: ``--data
    mnist-color`` with a folder ``./mnist-color`` in the working directory uses that folder.
  - a known name (:func:`list_datasets`) resolves to ``$GANCTL_HOME/datasets/<name>``; when that folder is
    missing the dataset is prepared or downloaded there first, with default options (``mnist-color``:
    A = ``gray``, B = ``mnist1``, 32 x 32, seed 0, all of MNIST; ``mnist-rotate``: 90 degrees).
  - a path-like string that does not exist raises ``InputError``; an unknown name raises
    ``OptionError("--data", ...)`` listing the known names.

- ``list_datasets() -> list[NamedDataset]`` and ``DATASETS`` (by name): ``mnist-color``, ``mnist-rotate``,
  ``mnist`` (gray digits, single domain: trainA/testA), ``cifar10`` and ``flowers`` (A = gray, B = colour,
  paired), the public CycleGAN sets (:data:`ganctl.data.cyclegan_download.CYCLEGAN_DATASETS`) and the public
  pix2pix sets (:data:`ganctl.data.pix2pix_download.PIX2PIX_DATASETS`, paired A/B folders).
- ``prepare_named(name, out=None, overwrite=False)`` makes one (``ganctl prepare download NAME``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ganctl import console
from ganctl.data.archive_dataset import CITYSCAPES_SOURCE, NOT_REDISTRIBUTABLE
from ganctl.data.cyclegan_download import CYCLEGAN_DATASETS, cyclegan_url, download_cyclegan
from ganctl.data.pix2pix_download import PIX2PIX_DATASETS, download_pix2pix, pix2pix_url
from ganctl.data.prepared import PreparedDataset, default_out
from ganctl.errors import InputError, OptionError


@dataclass(frozen=True)
class NamedDataset:
    """A named dataset: how it is made and what the ``datasets`` table says about it."""

    name: str
    kind: str
    description: str
    source: str
    size: str
    prepare: Callable[[Path, bool], PreparedDataset]


def _mnist_color(out: Path, overwrite: bool) -> PreparedDataset:
    from ganctl.data.mnist_color import prepare_mnist_color

    return prepare_mnist_color(out=out, overwrite=overwrite)


def _mnist_rotate(out: Path, overwrite: bool) -> PreparedDataset:
    from ganctl.data.mnist_rotate import prepare_mnist_rotate

    return prepare_mnist_rotate(out=out, overwrite=overwrite)


def _mnist_digits(out: Path, overwrite: bool) -> PreparedDataset:
    from ganctl.data.mnist_digits import prepare_mnist_digits

    return prepare_mnist_digits(out=out, overwrite=overwrite)


def _cifar10(out: Path, overwrite: bool) -> PreparedDataset:
    from ganctl.data.cifar10 import prepare_cifar10

    return prepare_cifar10(out=out, overwrite=overwrite)


def _flowers(out: Path, overwrite: bool) -> PreparedDataset:
    from ganctl.data.flowers import prepare_flowers

    return prepare_flowers(out=out, overwrite=overwrite)


def _download(download: Callable[..., PreparedDataset], name: str) -> Callable[[Path, bool], PreparedDataset]:
    def prepare(out: Path, overwrite: bool) -> PreparedDataset:
        return download(name, out=out, overwrite=overwrite)

    return prepare


def _build() -> dict[str, NamedDataset]:
    from ganctl.data.cifar10 import CIFAR10_URL
    from ganctl.data.flowers import FLOWERS_URL

    mnist_src = "MNIST IDX files (ossci-datasets / yann.lecun.com mirrors)"
    entries = [
        NamedDataset("mnist-color", "mnist-color", "gray digits (A) <-> digits coloured by class (B)", mnist_src,
                    "70,000 digits", _mnist_color),
        NamedDataset("mnist-rotate", "mnist-rotate", "upright digits (A) <-> digits rotated 90 degrees (B)",
                    mnist_src, "70,000 digits", _mnist_rotate),
        NamedDataset("mnist", "mnist", "MNIST digits, one domain (trainA/testA), for the digit GAN", mnist_src,
                    "70,000 digits", _mnist_digits),
        NamedDataset("cifar10", "cifar10", "CIFAR-10 photos: gray (A) -> colour (B), paired, for colorization",
                    CIFAR10_URL, "60,000 images", _cifar10),
        NamedDataset("flowers", "flowers", "flower photos: gray (A) -> colour (B), paired, for colorization",
                    FLOWERS_URL, "3,670 photos", _flowers),
    ]
    for name, (description, size) in CYCLEGAN_DATASETS.items():
        entries.append(NamedDataset(name, "cyclegan", description, cyclegan_url(name), size,
                                    _download(download_cyclegan, name)))
    for name, (description, size) in PIX2PIX_DATASETS.items():
        source = CITYSCAPES_SOURCE if name in NOT_REDISTRIBUTABLE else pix2pix_url(name)
        entries.append(NamedDataset(name, "pix2pix", description, source, size, _download(download_pix2pix, name)))
    return {e.name: e for e in entries}


DATASETS: dict[str, NamedDataset] = _build()


def list_datasets() -> list[NamedDataset]:
    """Every named dataset, in table order."""
    return list(DATASETS.values())


def check_dataset_folder(folder: str | os.PathLike) -> Path:
    """``folder`` when it has trainA/ and trainB/, or at least testA/; InputError otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "no such dataset folder")
    has = {p.name for p in folder.iterdir() if p.is_dir()}
    if not ({"trainA", "trainB"} <= has or "testA" in has):
        raise InputError(folder, "not a dataset folder: expected trainA/ and trainB/ (or at least testA/) inside")
    return folder


def prepare_named(name: str, out: str | os.PathLike | None = None, overwrite: bool = False) -> PreparedDataset:
    """Prepare or download the named dataset into ``out`` (default its cache folder)."""
    info = DATASETS.get(name)
    if info is None:
        raise OptionError("NAME", f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return info.prepare(Path(out) if out is not None else default_out(name), overwrite)


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or text.startswith((".", "~"))


def resolve_dataset(name_or_dir: str | os.PathLike) -> Path:
    """The dataset folder for ``--data NAME|DIR`` (see the module docstring)."""
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        return check_dataset_folder(path)
    text = str(name_or_dir)
    if text in DATASETS:
        folder = default_out(text)
        if not folder.is_dir():
            console.info(f"dataset [bold]{text}[/] is not in the cache yet; making it in {folder}")
            from ganctl.data.mnist import MnistOffline

            try:
                prepare_named(text, folder)
            except MnistOffline as exc:
                if text.startswith("mnist-"):  # mnist-color, mnist-rotate: their prepare commands take --source
                    raise exc.with_hint(f" or make it first with: ganctl prepare {text} --source DIR") from None
                raise
        return check_dataset_folder(folder)
    if path.exists():
        raise InputError(path, "is a file, not a dataset folder")
    if _looks_like_path(text):
        raise InputError(path, "no such dataset folder")
    raise OptionError("--data", f"unknown dataset {text!r} and no such folder; known names: {', '.join(DATASETS)}")
