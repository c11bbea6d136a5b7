"""MNIST from its four official IDX files, gzipped or not, from a folder or downloaded once into the cache.

Contract (other modules rely on it):

- ``load_mnist(source=None) -> MnistData`` with ``train_images`` (uint8 tensor 60000 x 28 x 28, white
  digit on black), ``train_labels`` (int64, 60000), ``test_images`` (10000 x 28 x 28), ``test_labels``.
  (Smaller, self-made IDX files load too, as long as images are N x 28 x 28 uint8 with N labels 0-9.)
- ``source`` is a folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each may end in ``.gz``; the dotted spelling
  ``train-images.idx3-ubyte`` is accepted too). A missing folder or file raises ``InputError`` naming the
  folder and the missing file; a malformed file raises ``InputError`` naming it.
- ``source=None`` uses ``$GANCTL_HOME/raw/mnist`` (:func:`ganctl.paths.raw_dir`), downloading the four
  ``.gz`` files there first when missing. Files already there with the official MD5 are used as they are
  (a test can pre-seed the cache by copying or symlinking the real files there).
- Mirrors: ``$GANCTL_MNIST_MIRRORS`` (base URLs separated by spaces or commas, each ending where the file
  names start) replaces the default list :data:`MNIST_MIRRORS`.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganctl import console
from ganctl.data.download import download_from_mirrors, verify_file
from ganctl.errors import GanctlError, InputError
from ganctl.paths import raw_dir

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# name -> (MD5 of the official .gz, its size in bytes)
MNIST_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", 28881),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", 1648877),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", 4542),
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


@dataclass(frozen=True)
class MnistData:
    """The MNIST arrays: images uint8 N x 28 x 28 (white on black), labels int64 N."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def mnist_mirrors() -> list[str]:
    """Base URLs to download MNIST from: ``$GANCTL_MNIST_MIRRORS`` or :data:`MNIST_MIRRORS`."""
    value = os.environ.get("GANCTL_MNIST_MIRRORS", "").replace(",", " ").split()
    return value or list(MNIST_MIRRORS)


def parse_idx(data: bytes, name: str | os.PathLike = "IDX data") -> np.ndarray:
    """Decode the bytes of one IDX file (the MNIST container format) into a numpy array."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise InputError(name, "not an IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise InputError(name, "truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise InputError(name, f"IDX data has {len(data) - header} bytes, expected {expected} for shape {shape}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array (the inverse of :func:`parse_idx`; used to write small MNIST subsets)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gunzipping it when it is gzip-compressed (whatever its name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except OSError as exc:  # includes gzip.BadGzipFile
        raise InputError(path, f"cannot read ({exc})") from None
    except EOFError:
        raise InputError(path, "truncated gzip file") from None
    return parse_idx(raw, path)


def find_idx_file(folder: str | os.PathLike, name: str) -> Path | None:
    """The file for ``name`` in ``folder``: plain, ``.gz``, or with the dotted spelling; None if absent."""
    folder = Path(folder)
    dotted = name.replace("-idx", ".idx")
    for candidate in (name + ".gz", name, dotted + ".gz", dotted):
        path = folder / candidate
        if path.is_file():
            return path
    return None


def download_mnist(folder: str | os.PathLike | None = None) -> Path:
    """Make sure the four official .gz files are in ``folder`` (default the cache), downloading what is missing."""
    folder = Path(folder) if folder is not None else raw_dir("mnist")
    missing = [n for n, (md5, size) in MNIST_FILES.items() if not verify_file(folder / f"{n}.gz", md5, size)]
    if missing:
        console.info(f"downloading MNIST into {folder}")
    for name in missing:
        md5, size = MNIST_FILES[name]
        urls = [base.rstrip("/") + f"/{name}.gz" for base in mnist_mirrors()]
        try:
            download_from_mirrors(urls, folder / f"{name}.gz", md5=md5, size=size,
                                  description=f"download {name}.gz")
        except GanctlError as exc:
            raise MnistOffline(str(exc), folder) from None
    return folder


class MnistOffline(GanctlError):
    """MNIST could not be downloaded: the message says where to copy the files, plus a hint that fits the command
    (:meth:`with_hint`: only options the command has, e.g. ``--source DIR`` where it is one)."""

    def __init__(self, problem: str, folder: Path, hint: str = ""):
        self.problem, self.folder = problem, folder
        super().__init__(f"{problem}; without network, copy MNIST's four IDX files (.gz or not) into {folder}{hint}")

    def with_hint(self, hint: str) -> MnistOffline:
        """The same error ending in ``hint`` (e.g. ``" or pass --source DIR"``) instead of any earlier one."""
        return MnistOffline(self.problem, self.folder, hint)


SOURCE_HINT = " or pass --source DIR (a folder with them)"
"""The offline hint of a command that has ``--source DIR``."""


def load_mnist(source: str | os.PathLike | None = None) -> MnistData:
    """Load MNIST from ``source`` (a folder with the four IDX files) or from the cache (see module doc)."""
    if source is None:
        folder = download_mnist()
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise InputError(folder, "no such MNIST folder (expected the four IDX files, .gz or not)")
    arrays = {}
    for name in MNIST_FILES:
        path = find_idx_file(folder, name)
        if path is None:
            raise InputError(folder, f"MNIST file {name} (or {name}.gz) is missing")
        arrays[name] = (path, read_idx(path))
    for images, labels in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                           ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        (ipath, iarr), (lpath, larr) = arrays[images], arrays[labels]
        if iarr.ndim != 3 or iarr.shape[1:] != (28, 28) or iarr.dtype != np.uint8:
            raise InputError(ipath, f"expected uint8 images N x 28 x 28, got {iarr.dtype} {iarr.shape}")
        if larr.ndim != 1 or len(larr) != len(iarr):
            raise InputError(lpath, f"expected {len(iarr)} labels, got shape {larr.shape}")
        if len(larr) and (larr.min() < 0 or larr.max() > 9):
            raise InputError(lpath, "labels outside 0-9")
    return MnistData(
        train_images=torch.from_numpy(arrays["train-images-idx3-ubyte"][1].copy()),
        train_labels=torch.from_numpy(arrays["train-labels-idx1-ubyte"][1].astype(np.int64)),
        test_images=torch.from_numpy(arrays["t10k-images-idx3-ubyte"][1].copy()),
        test_labels=torch.from_numpy(arrays["t10k-labels-idx1-ubyte"][1].astype(np.int64)),
    )


def mnist_source_label(source: str | os.PathLike | None) -> str:
    """What a dataset made from MNIST records as its ``source``: the IDX folder given, or the cached download."""
    return str(Path(source).resolve()) if source is not None else "MNIST (ganctl cache)"
