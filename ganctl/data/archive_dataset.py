"""A public dataset published as one archive: download it once, extract it safely, arrange it into A/B folders.

:func:`download_archive_dataset` is what the CycleGAN sets (:mod:`ganctl.data.cyclegan_download`) and the
pix2pix sets (:mod:`ganctl.data.pix2pix_download`) share: the archive is fetched into ``$GANCTL_HOME/raw/``
(resumable; these servers publish no checksums, so the archive's own CRCs verify it), extracted with
:func:`ganctl.data.download.safe_extract` into a staging folder beside ``out``, arranged by the caller into
``trainA/ trainB/ testA/ testB/``, described in ``dataset.json`` and renamed onto ``out``; the archive is
deleted once the dataset is in place. A set whose licence forbids redistribution (:data:`NOT_REDISTRIBUTABLE`)
is refused with where to get it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganctl.data.dataset_meta import SPLITS, count_split_images, write_dataset_meta
from ganctl.data.download import download_file, safe_extract
from ganctl.data.prepared import PreparedDataset, default_out, report_prepared
from ganctl.data.staging import check_destination, staging_dir
from ganctl.errors import GanctlError, InputError

NOT_REDISTRIBUTABLE = {
    "cityscapes": "its licence does not allow redistribution: register at https://www.cityscapes-dataset.com, "
                  "download gtFine and leftImg8bit, and arrange them as trainA/trainB/testA/testB (photos in A, "
                  "label images in B under the same file names)",
}
CITYSCAPES_SOURCE = "https://www.cityscapes-dataset.com (register; download by hand)"

# arrange(extracted folder, staging folder) moves or writes the splits into the staging folder; what it
# returns is added to dataset.json.
Arrange = Callable[[Path, Path], dict[str, Any]]


def dataset_root(extracted: Path, name: str, archive: Path, splits: tuple[str, ...] = SPLITS) -> Path:
    """The folder inside an extracted archive that holds the ``splits`` (normally ``<name>/``)."""
    for candidate in (extracted / name, extracted):
        if any((candidate / split).is_dir() for split in splits):
            return candidate
    subdirs = [p for p in extracted.iterdir() if p.is_dir()]
    if len(subdirs) == 1 and any((subdirs[0] / split).is_dir() for split in splits):
        return subdirs[0]
    raise InputError(archive, f"does not contain {'/'.join(splits)} folders")


def download_archive_dataset(name: str, url: str, archive: Path, out: str | os.PathLike, overwrite: bool,
                             arrange: Arrange, meta: dict[str, Any]) -> PreparedDataset:
    """Download ``url`` to ``archive``, extract it, ``arrange`` it into ``out`` (see the module docstring).

    ``meta`` is the dataset.json besides ``name``, ``source``, ``options``, ``seed`` and ``counts``.
    """
    start = time.perf_counter()
    if name in NOT_REDISTRIBUTABLE:
        raise GanctlError(f"{name} cannot be downloaded by ganctl: {NOT_REDISTRIBUTABLE[name]}")
    out = Path(out)
    check_destination(out, overwrite)
    try:
        archive = download_file(url, archive, description=f"download {archive.name}")
    except GanctlError as exc:
        raise GanctlError(f"{exc}; without network, copy the dataset's folders (trainA/ trainB/ ...) into "
                          f"{default_out(name)} (--data {name} then uses it), or train on any dataset folder with "
                          "--data DIR") from None
    with staging_dir(out, overwrite) as stage:
        extracted = safe_extract(archive, stage / ".extract")
        extra = arrange(extracted, stage)
        for split in SPLITS:
            (stage / split).mkdir(exist_ok=True)
        shutil.rmtree(extracted)
        counts = count_split_images(stage)
        if not any(counts.values()):
            raise InputError(archive, "contains no images")
        write_dataset_meta(stage, {"name": name, **meta, "source": url, "options": {}, "seed": None, "counts": counts,
                                   **extra})
    archive.unlink(missing_ok=True)
    return report_prepared(name, out, counts, start)
