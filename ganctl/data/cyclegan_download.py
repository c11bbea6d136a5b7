"""The public CycleGAN datasets (Zhu et al. 2017): download the zip, extract it safely, move it into place.

``download_cyclegan(name, out)`` fetches ``<base>/<name>.zip`` (base: ``$GANCTL_CYCLEGAN_URL`` or the Berkeley
server) into ``$GANCTL_HOME/raw/cyclegan/`` (resumable; the server publishes no checksums, so the zip's own
CRCs are what verify it), extracts it with :func:`ganctl.data.download.safe_extract` into a staging folder
beside ``out``, checks the ``trainA/trainB/testA/testB`` layout and renames it onto ``out``. The zip is
deleted once the dataset is in place. ``cityscapes`` is listed but cannot be downloaded: its licence
forbids redistribution, so the error says where to get it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ganctl.data.dataset_meta import SPLITS, count_split_images, write_dataset_meta
from ganctl.data.download import download_file, safe_extract
from ganctl.data.prepared import PreparedDataset, report_prepared
from ganctl.data.staging import check_destination, staging_dir
from ganctl.errors import GanctlError, InputError, OptionError
from ganctl.paths import raw_dir

CYCLEGAN_BASE_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets"

# name -> (description, approximate download size as listed on the server)
CYCLEGAN_DATASETS: dict[str, tuple[str, str]] = {
    "apple2orange": ("apples <-> oranges (ImageNet)", "~75 MB zip"),
    "summer2winter_yosemite": ("Yosemite in summer <-> winter (Flickr)", "~126 MB zip"),
    "horse2zebra": ("horses <-> zebras (ImageNet)", "~111 MB zip"),
    "monet2photo": ("Monet paintings <-> photos", "~291 MB zip"),
    "cezanne2photo": ("Cezanne paintings <-> photos", "~267 MB zip"),
    "ukiyoe2photo": ("Ukiyo-e prints <-> photos", "~279 MB zip"),
    "vangogh2photo": ("Van Gogh paintings <-> photos", "~292 MB zip"),
    "maps": ("aerial photos <-> Google maps", "~1.4 GB zip"),
    "cityscapes": ("street photos <-> semantic labels (not redistributable)", "-"),
    "facades": ("building facades <-> labels", "~34 MB zip"),
    "iphone2dslr_flower": ("iPhone <-> DSLR flower photos (Flickr)", "~324 MB zip"),
}

NOT_REDISTRIBUTABLE = {
    "cityscapes": "its licence does not allow redistribution: register at https://www.cityscapes-dataset.com, "
                  "download gtFine and leftImg8bit, and arrange them as trainA/trainB/testA/testB",
}


def cyclegan_url(name: str) -> str:
    """Download URL of one CycleGAN dataset zip (base overridable with ``$GANCTL_CYCLEGAN_URL``)."""
    base = os.environ.get("GANCTL_CYCLEGAN_URL") or CYCLEGAN_BASE_URL
    return f"{base.rstrip('/')}/{name}.zip"


def _dataset_root(extracted: Path, name: str, archive: Path) -> Path:
    """The folder inside the extracted zip that holds the splits (normally ``<name>/``)."""
    for candidate in (extracted / name, extracted):
        if any((candidate / split).is_dir() for split in SPLITS):
            return candidate
    subdirs = [p for p in extracted.iterdir() if p.is_dir()]
    if len(subdirs) == 1 and any((subdirs[0] / split).is_dir() for split in SPLITS):
        return subdirs[0]
    raise InputError(archive, "does not contain trainA/trainB/testA/testB folders")


def download_cyclegan(name: str, out: str | os.PathLike, overwrite: bool = False) -> PreparedDataset:
    """Download and unpack the CycleGAN dataset ``name`` into ``out`` (see the module docstring)."""
    start = time.perf_counter()
    if name not in CYCLEGAN_DATASETS:
        raise OptionError("NAME", f"unknown CycleGAN dataset {name!r}; known: {', '.join(CYCLEGAN_DATASETS)}")
    if name in NOT_REDISTRIBUTABLE:
        raise GanctlError(f"{name} cannot be downloaded by ganctl: {NOT_REDISTRIBUTABLE[name]}")
    out = Path(out)
    check_destination(out, overwrite)
    url = cyclegan_url(name)
    archive = download_file(url, raw_dir("cyclegan") / f"{name}.zip", description=f"download {name}.zip")
    with staging_dir(out, overwrite) as stage:
        extracted = safe_extract(archive, stage / ".extract")
        root = _dataset_root(extracted, name, archive)
        for child in root.iterdir():
            if child.name in SPLITS:
                os.rename(child, stage / child.name)
        for split in SPLITS:
            (stage / split).mkdir(exist_ok=True)
        shutil.rmtree(stage / ".extract")
        counts = count_split_images(stage)
        if not any(counts.values()):
            raise InputError(archive, "contains no images")
        write_dataset_meta(stage, {
            "name": name,
            "kind": "cyclegan-download",
            "source": url,
            "options": {},
            "seed": None,
            "counts": counts,
            "channels": {"A": 3, "B": 3},
        })
    archive.unlink(missing_ok=True)
    return report_prepared(name, out, counts, start)

