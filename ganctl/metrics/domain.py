"""The photo domain classifier: a small CNN that tells a dataset's domain A from its domain B, as a judge.

``eval run`` on an unpaired photo run asks it how many translated test images it takes for the target domain
(``domain_accuracy``), and ``--features domain`` uses its pooled features for FID/KID; neither needs downloaded
weights. The ``domain-classifier`` recipe (:mod:`ganctl.training.domain_classifier`) trains one per dataset,
seeded, and installs it in ``$GANCTL_HOME/weights/`` under a name keyed by the dataset's content: the sha256 of
the training split's files (names and bytes) and of the classifier's settings (:func:`cache_key`), so an edited
dataset or other settings get a classifier of their own. :func:`ganctl.metrics.classifier_cache.get_domain_classifier`
trains it on first use.

Its accuracy is measured on the dataset's test split (testA + testB); a dataset without one lends a seeded
share of each training domain to measure it (:func:`split_files`), and the classifier's file says which.

Every image reaches the network the same way in training and in use (:func:`to_input`): read as RGB (gray
images repeated), resized to the classifier's square size (bilinear, antialiased; aspect ratio not kept).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganctl.checkpoint import load_checkpoint, save_checkpoint
from ganctl.errors import CheckpointError
from ganctl.models.classifier import DomainClassifier
from ganctl.paths import weights_dir

KIND = "domain-classifier"
CACHE_VERSION = 1  # part of the cache key: a change to how the classifier is trained makes old files stale
DOMAINS = ("A", "B")


@dataclass
class TrainedDomainClassifier:
    """A trained domain classifier and what its file says about it (``info``: the checkpoint config)."""

    model: DomainClassifier
    size: int
    accuracy: float
    info: dict[str, Any]
    path: Path | None = None

    @property
    def measured_on(self) -> str:
        """Where ``accuracy`` was measured, in words (the test split, or a held-out share of train)."""
        return str(self.info.get("accuracy_on", "?"))


def split_files(files: dict[str, list[Path]], holdout: float, seed: int) -> tuple[dict[str, list[Path]],
                                                                                  dict[str, list[Path]], str]:
    """(train files, test files, how the test files were chosen) per domain A/B of a dataset's file lists.

    ``files`` has ``trainA``, ``trainB``, ``testA``, ``testB``. With both test folders filled, they are the test
    files; otherwise a seeded ``holdout`` share of each training domain (at least one image) is held out.
    """
    if all(files.get(f"test{d}") for d in DOMAINS):
        train = {d: list(files[f"train{d}"]) for d in DOMAINS}
        test = {d: list(files[f"test{d}"]) for d in DOMAINS}
        return train, test, f"the test split ({len(test['A'])} testA + {len(test['B'])} testB images)"
    train, test = {}, {}
    for d in DOMAINS:
        names = list(files[f"train{d}"])
        order = list(range(len(names)))
        random.Random(f"{seed}-{d}").shuffle(order)
        n = max(1, round(holdout * len(names))) if len(names) > 1 else 0
        held = set(order[:n])
        test[d] = [p for i, p in enumerate(names) if i in held]
        train[d] = [p for i, p in enumerate(names) if i not in held]
    how = (f"a held-out {holdout:.0%} of the training split ({len(test['A'])} A + {len(test['B'])} B images; "
           f"the dataset has no test split)")
    return train, test, how


def cache_key(root: Path, train_files: dict[str, list[Path]], settings: dict[str, Any]) -> str:
    """sha256 (hex) of the training split's files (relative names and bytes, A then B) and of ``settings``."""
    digest = hashlib.sha256(json.dumps({"version": CACHE_VERSION, **settings}, sort_keys=True).encode())
    for d in DOMAINS:
        for path in train_files[f"train{d}"]:
            digest.update(f"\n{d}:{Path(path).relative_to(root).as_posix()}\n".encode())
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def cached_path(name: str, key: str) -> Path:
    """Where the classifier of a dataset goes: ``$GANCTL_HOME/weights/domain_classifier-<name>-<key16>.safetensors``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "dataset"
    return weights_dir() / f"domain_classifier-{safe}-{key[:16]}.safetensors"


def to_input(images: Sequence[torch.Tensor], size: int) -> torch.Tensor:
    """uint8 C x H x W images (any sizes, gray or RGB) -> one float batch N x 3 x size x size in [0, 1]."""
    out = []
    for img in images:
        x = img.float().div(255.0)[None]
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out.append(x.clamp_(0, 1))
    return torch.cat(out) if out else torch.empty(0, 3, size, size)


@torch.inference_mode()
def predict_b(model: DomainClassifier, images: Sequence[torch.Tensor], size: int, batch_size: int = 64) -> torch.Tensor:
    """For each uint8 image: True when the classifier takes it for domain B (bool tensor N, on the CPU)."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch_size):
        x = to_input(images[start:start + batch_size], size).to(device)
        out.append(model(x).argmax(1).cpu() == 1)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.bool)


def share_taken_for(model: DomainClassifier, images: Sequence[torch.Tensor], size: int, domain: str,
                    batch_size: int = 64) -> float:
    """The share of uint8 ``images`` that the classifier takes for ``domain`` (``A`` or ``B``)."""
    is_b = predict_b(model, images, size, batch_size)
    return float((is_b if domain == "B" else ~is_b).float().mean()) if len(is_b) else float("nan")


def accuracy(model: DomainClassifier, images: dict[str, Sequence[torch.Tensor]], size: int) -> dict[str, float]:
    """``accuracy`` over the images of both domains together, and ``accuracy_A`` / ``accuracy_B`` per domain."""
    right = {d: share_taken_for(model, images[d], size, d) for d in DOMAINS}
    counts = {d: len(images[d]) for d in DOMAINS}
    total = sum(right[d] * counts[d] for d in DOMAINS) / max(1, sum(counts.values()))
    return {"accuracy": total, "accuracy_A": right["A"], "accuracy_B": right["B"]}


def save_domain_classifier(model: DomainClassifier, path: str | os.PathLike, info: dict[str, Any]) -> Path:
    """Install a trained classifier at ``path`` atomically (a ganctl safetensors checkpoint, network ``classifier``);
    ``info`` (settings, accuracy and where it was measured, ...) becomes its config, with the architecture."""
    config = {"kind": KIND, "arch": {"width": model.width, "feature_dim": model.feature_dim}, **info}
    return save_checkpoint(path, {"classifier": model}, config=config)


def load_domain_classifier(path: str | os.PathLike, device: torch.device | str = "cpu") -> TrainedDomainClassifier:
    """Load a classifier written by :func:`save_domain_classifier`."""
    path = Path(path)
    ck = load_checkpoint(path, with_state=False)
    if ck.config.get("kind") != KIND:
        raise CheckpointError(path, "is a ganctl checkpoint but not a domain classifier")
    model = DomainClassifier(**ck.config.get("arch", {}))
    ck.load_into({"classifier": model})
    model.to(device).eval()
    return TrainedDomainClassifier(model=model, size=int(ck.config["size"]),
                                   accuracy=float(ck.config.get("accuracy", float("nan"))), info=ck.config, path=path)


class DomainFeatures(nn.Module):
    """Feature extractor for FID/KID: the classifier's pooled features of uint8 images N x C x H x W."""

    def __init__(self, trained: TrainedDomainClassifier):
        super().__init__()
        self.model = trained.model.eval()
        self.size = trained.size
        self.num_features = trained.model.feature_dim

    @torch.inference_mode()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = to_input(list(images), self.size)  # uint8, as FeatureDistance passes them
        return self.model.embed(x.to(next(self.model.parameters()).device))
