"""The ``flowers`` named dataset: the public TensorFlow flower photos as a gray -> colour paired set.

The archive ``flower_photos.tgz`` (3,670 colour photos of daisies, dandelions, roses, sunflowers and tulips,
CC BY licensed Flickr photos) is downloaded once into ``$GANCTL_HOME/raw/flowers`` (override the address with
``GANCTL_FLOWERS_URL``), extracted safely, and turned into A = gray, B = colour pairs by
:func:`ganctl.data.grayscale.prepare_grayscale` (10 % held out for test). It serves ``train colorize``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ganctl.data.dataset_meta import read_dataset_meta, write_dataset_meta
from ganctl.data.download import download_file, safe_extract
from ganctl.data.prepared import PreparedDataset
from ganctl.paths import raw_dir

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"


def prepare_flowers(out: str | os.PathLike, overwrite: bool = False) -> PreparedDataset:
    """Download the flower photos (once) and prepare them as a paired gray -> colour dataset in ``out``."""
    # Imported here (numpy, PIL, torch): the dataset table (`ganctl datasets`) imports this module for FLOWERS_URL.
    from ganctl.data.grayscale import prepare_grayscale

    url = os.environ.get("GANCTL_FLOWERS_URL") or FLOWERS_URL
    # No published checksum exists for this archive; the size comes from the server and is checked.
    archive = download_file(url, raw_dir("flowers") / "flower_photos.tgz", description="download flower_photos.tgz")
    with tempfile.TemporaryDirectory(prefix=".flowers-", dir=raw_dir("flowers")) as tmp:
        photos = safe_extract(archive, Path(tmp))
        prepared = prepare_grayscale(photos, out, test_fraction=0.1, seed=0, overwrite=overwrite)
    meta = read_dataset_meta(out) or {}
    write_dataset_meta(out, {**meta, "name": Path(out).name, "kind": "flowers", "source": url})
    return prepared
