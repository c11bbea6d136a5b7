"""The public CycleGAN datasets (Zhu et al. 2017): unpaired A/B zips from the Berkeley server.

``download_cyclegan(name, out)`` fetches ``<base>/<name>.zip`` (base: ``$GANCTL_CYCLEGAN_URL`` or the Berkeley
server) into ``$GANCTL_HOME/raw/cyclegan/`` and moves its ``trainA/trainB/testA/testB`` folders into ``out``
(:func:`ganctl.data.archive_dataset.download_archive_dataset` does the shared part: resumable download, safe
extraction, staging, ``dataset.json``). The paired sets the CycleGAN paper also used (facades, maps,
cityscapes) come from the pix2pix server instead (:mod:`ganctl.data.pix2pix_download`), split into A/B
folders with the same file names, so CycleGAN, CUT and pix2pix all train on them.
"""

from __future__ import annotations

import os
from pathlib import Path

from ganctl.data.archive_dataset import dataset_root, download_archive_dataset
from ganctl.data.dataset_meta import SPLITS
from ganctl.data.prepared import PreparedDataset
from ganctl.errors import OptionError
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
    "iphone2dslr_flower": ("iPhone <-> DSLR flower photos (Flickr)", "~324 MB zip"),
}


def cyclegan_url(name: str) -> str:
    """Download URL of one CycleGAN dataset zip (base overridable with ``$GANCTL_CYCLEGAN_URL``)."""
    base = os.environ.get("GANCTL_CYCLEGAN_URL") or CYCLEGAN_BASE_URL
    return f"{base.rstrip('/')}/{name}.zip"


def download_cyclegan(name: str, out: str | os.PathLike, overwrite: bool = False) -> PreparedDataset:
    """Download and unpack the CycleGAN dataset ``name`` into ``out`` (see the module docstring)."""
    if name not in CYCLEGAN_DATASETS:
        raise OptionError("NAME", f"unknown CycleGAN dataset {name!r}; known: {', '.join(CYCLEGAN_DATASETS)}")
    archive = raw_dir("cyclegan") / f"{name}.zip"

    def arrange(extracted: Path, stage: Path) -> dict:
        for child in dataset_root(extracted, name, archive).iterdir():
            if child.name in SPLITS:
                os.rename(child, stage / child.name)
        return {}

    return download_archive_dataset(name, cyclegan_url(name), archive, out, overwrite, arrange,
                                    {"kind": "cyclegan-download", "channels": {"A": 3, "B": 3}})
