"""CIFAR-10 as a paired colorization dataset: A = grayscale, B = the colour photo, same file names.

``prepare_cifar10(out)`` downloads ``cifar-10-python.tar.gz`` (``$GANCTL_CIFAR10_URL`` or the Toronto URL,
MD5-checked, kept in ``$GANCTL_HOME/raw/cifar10``) and exports 50,000 train and 10,000 test images (32 x 32)
as PNG: ``trainA``/``testA`` gray (1-channel, ITU-R 601-2 luma, the same formula as Pillow's
``convert("L")``), ``trainB``/``testB`` colour; ``labels`` records each image's class, ``classes`` the names.

The CIFAR "python" batches are pickles. They are read straight out of the tarball (nothing is extracted)
with :class:`RestrictedUnpickler`, which only lets numpy rebuild arrays: a tampered file that tries to
call anything else is refused instead of run.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.data.download import download_file
from ganctl.data.prepared import PreparedDataset, report_prepared
from ganctl.data.staging import check_destination, staging_dir
from ganctl.errors import InputError
from ganctl.paths import raw_dir

# numpy and the PNG export (torch) are imported by the functions that use them: the dataset table
# (`ganctl datasets`) imports this module for CIFAR10_URL and must start at once.
if TYPE_CHECKING:
    import numpy as np

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"

# The only callables a CIFAR batch pickle needs: numpy's array/dtype reconstruction (module name differs
# between numpy 1 and 2) and the codec Python 3 uses for protocol-2 bytes.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "numpy.core.multiarray"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "numpy.core.multiarray"),
    ("numpy.core.numeric", "_frombuffer"): ("numpy._core.numeric", "numpy.core.numeric"),
    ("numpy._core.numeric", "_frombuffer"): ("numpy._core.numeric", "numpy.core.numeric"),
    ("numpy", "ndarray"): ("numpy",),
    ("numpy", "dtype"): ("numpy",),
    ("_codecs", "encode"): ("_codecs",),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that can rebuild numpy arrays, lists, dicts, strings and numbers, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        modules = _ALLOWED.get((module, name))
        if modules is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only numpy arrays are allowed)")
        for candidate in modules:
            try:
                return getattr(importlib.import_module(candidate), name)
            except (ImportError, AttributeError):
                continue
        raise pickle.UnpicklingError(f"cannot find {module}.{name} in this numpy")


def restricted_loads(data: bytes) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (Python 2 strings decoded as bytes)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()


def _get(batch: dict, key: str) -> Any:
    return batch[key.encode()] if key.encode() in batch else batch[key]


def parse_cifar_batch(raw: bytes, member_name: str, archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: uint8 images N x 32 x 32 x 3 and int64 labels."""
    import numpy as np

    try:
        batch = restricted_loads(raw)
        data = np.asarray(_get(batch, "data"), dtype=np.uint8)
        labels = np.asarray(_get(batch, "labels"), dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError) as exc:
        raise InputError(archive, f"{member_name}: not a CIFAR-10 batch ({exc})") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise InputError(archive, f"{member_name}: unexpected shapes {data.shape} / {labels.shape}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_cifar10(archive: str | os.PathLike) -> dict[str, Any]:
    """Train and test images, labels and class names from ``cifar-10-python.tar.gz`` (one pass over it)."""
    import numpy as np

    archive = Path(archive)
    wanted = set(TRAIN_BATCHES) | {TEST_BATCH, "batches.meta"}
    raw: dict[str, bytes] = {}
    try:
        with tarfile.open(archive) as tf:
            for member in tf:  # streaming: a .tar.gz is decompressed once, not once per batch
                name = Path(member.name).name
                if member.isfile() and name in wanted and (fh := tf.extractfile(member)) is not None:
                    raw[name] = fh.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(archive, f"not a readable CIFAR-10 archive ({exc})") from None
    missing = sorted(wanted - {"batches.meta"} - set(raw))
    if missing:
        raise InputError(archive, f"has no {', '.join(missing)}; not the CIFAR-10 python archive")
    train = [parse_cifar_batch(raw[name], name, archive) for name in TRAIN_BATCHES]
    test_images, test_labels = parse_cifar_batch(raw[TEST_BATCH], TEST_BATCH, archive)
    classes = None
    if "batches.meta" in raw:
        try:
            names = _get(restricted_loads(raw["batches.meta"]), "label_names")
        except (pickle.UnpicklingError, KeyError, TypeError, EOFError) as exc:
            raise InputError(archive, f"batches.meta: unreadable ({exc})") from None
        classes = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    return {
        "train_images": np.concatenate([t[0] for t in train]),
        "train_labels": np.concatenate([t[1] for t in train]),
        "test_images": test_images,
        "test_labels": test_labels,
        "classes": classes,
    }


def prepare_cifar10(out: str | os.PathLike, overwrite: bool = False,
                    archive: str | os.PathLike | None = None) -> PreparedDataset:
    """Export CIFAR-10 into ``out`` (see the module docstring); ``archive`` skips the download."""
    from ganctl.data.export import SplitImages, write_splits
    from ganctl.data.grayscale import luma

    start = time.perf_counter()
    out = Path(out)
    check_destination(out, overwrite)
    url = os.environ.get("GANCTL_CIFAR10_URL") or CIFAR10_URL
    source = url if archive is None else str(Path(archive).resolve())
    if archive is None:
        archive = download_file(url, raw_dir("cifar10") / "cifar-10-python.tar.gz", md5=CIFAR10_MD5,
                                description="download cifar-10-python.tar.gz")
    data = read_cifar10(archive)
    splits = {
        "trainA": SplitImages(luma(data["train_images"]), data["train_labels"]),
        "trainB": SplitImages(data["train_images"], data["train_labels"]),
        "testA": SplitImages(luma(data["test_images"]), data["test_labels"]),
        "testB": SplitImages(data["test_images"], data["test_labels"]),
    }
    with staging_dir(out, overwrite) as stage:
        counts, labels = write_splits(stage, splits, f"cifar10 {out.name}")
        write_dataset_meta(stage, {
            "name": out.name,
            "kind": "cifar10",
            "source": source,
            "options": {},
            "seed": None,
            "counts": counts,
            "channels": {"A": 1, "B": 3},
            "paired": True,
            "classes": data["classes"],
            "labels": labels,
        })
    return report_prepared("cifar10", out, counts, start)
