"""Which named datasets are in the cache, and how big they are (for ``ganctl datasets``)."""

from __future__ import annotations

from typing import Any

from ganctl.data.dataset_meta import count_split_images, read_dataset_meta
from ganctl.data.prepared import default_out
from ganctl.data.registry import list_datasets
from ganctl.errors import InputError


def local_image_count(folder) -> int:
    """Images in a local dataset folder: from dataset.json's counts, else by listing the splits."""
    try:
        meta = read_dataset_meta(folder)
    except InputError:
        meta = None
    counts = meta.get("counts") if meta else None
    if isinstance(counts, dict) and all(isinstance(v, int) for v in counts.values()):
        return sum(counts.values())
    return sum(count_split_images(folder).values())


def dataset_rows() -> list[dict[str, Any]]:
    """One dict per named dataset: name, kind, description, size, source, local, path, images."""
    rows = []
    for info in list_datasets():
        folder = default_out(info.name)
        local = folder.is_dir()
        images = local_image_count(folder) if local else None
        rows.append({
            "name": info.name,
            "kind": info.kind,
            "description": info.description,
            "size": f"{images:,} images" if images is not None else info.size,
            "source": info.source,
            "local": local,
            "path": str(folder) if local else None,
            "images": images,
        })
    return rows
