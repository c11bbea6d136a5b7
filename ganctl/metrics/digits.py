"""A small CNN digit classifier that ganctl trains itself on MNIST, for digit metrics and digit features.

It is the judge of the digit tasks: ``eval run`` asks it which digit a translated image shows (digit-kept
accuracy) and ``eval fid --features digits`` uses its penultimate layer as the feature space of the Fréchet
distance, which is meaningful for 28 px digits and needs no downloaded weights. ``ganctl train classifier``
(:mod:`ganctl.training.classifier`) trains it, seeded, and installs it as
``$GANCTL_HOME/weights/digit_classifier.safetensors`` (a ganctl checkpoint: no pickle);
:func:`ganctl.metrics.classifier_cache.get_classifier` does so on first use.

Colour images: MNIST is white on black, so a colour digit is classified from its brightest channel, rescaled
so its brightest pixel is white (:func:`to_digit_gray`). For features, each RGB channel goes through the
network on its own and the three embeddings are concatenated, so a red digit and a white digit of the same
shape get different features (FID between a gray and a coloured set is large).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganctl.checkpoint import load_checkpoint, save_checkpoint
from ganctl.errors import CheckpointError
from ganctl.models.classifier import DigitClassifier
from ganctl.paths import weights_dir

CLASSIFIER_FILE = "digit_classifier.safetensors"
DIGIT_SIZE = 28


@dataclass
class TrainedClassifier:
    """A trained classifier and what is known about it."""

    model: DigitClassifier
    test_accuracy: float
    info: dict[str, Any]
    path: Path | None = None


def classifier_path() -> Path:
    """Where the cached classifier lives: ``$GANCTL_HOME/weights/digit_classifier.safetensors``."""
    return weights_dir() / CLASSIFIER_FILE


def resize_digits(x: torch.Tensor) -> torch.Tensor:
    """Resize N x C x H x W float images to 28 x 28 (bilinear, antialiased) unless they are already."""
    if x.shape[-2:] == (DIGIT_SIZE, DIGIT_SIZE):
        return x
    return F.interpolate(x, size=(DIGIT_SIZE, DIGIT_SIZE), mode="bilinear", align_corners=False, antialias=True)


def to_digit_gray(x: torch.Tensor) -> torch.Tensor:
    """N x C x H x W images in [0, 1] -> N x 1 x 28 x 28 MNIST-like input for classification.

    The brightest channel carries a coloured digit's shape (a digit is ``intensity * colour`` on black);
    rescaling each image so its brightest pixel is 1 makes dark colours (navy, maroon) look like MNIST too.
    """
    gray = x.amax(dim=1, keepdim=True) if x.shape[1] > 1 else x
    peak = gray.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)
    return resize_digits(gray / peak).clamp(0, 1)


@torch.inference_mode()
def evaluate_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000,
                      device: torch.device | str = "cpu") -> float:
    """Fraction of ``images`` (N x 1 x 28 x 28 in [0, 1]) whose predicted digit equals ``labels``."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = model(images[start:start + batch_size].to(device))
        correct += int((logits.argmax(1).cpu() == labels[start:start + batch_size]).sum())
    return correct / max(1, len(images))


def random_shift(x: torch.Tensor, generator: torch.Generator | None = None, max_shift: int = 2) -> torch.Tensor:
    """Shift every N x 1 x 28 x 28 image by up to ``max_shift`` pixels (zero fill): cheap augmentation that
    buys ~0.2% accuracy. The shifts are drawn on the CPU from ``generator`` (default: torch's global one)."""
    n = x.shape[0]
    pad = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(DIGIT_SIZE)[None, :]).to(x.device)  # n x 28
    cols = (dx[:, None] + torch.arange(DIGIT_SIZE)[None, :]).to(x.device)
    idx_n = torch.arange(n, device=x.device)[:, None, None]
    return pad[idx_n, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def save_classifier(trained: TrainedClassifier, path: str | os.PathLike | None = None) -> Path:
    """Write the classifier as a ganctl safetensors checkpoint (network ``classifier``), atomically."""
    path = Path(path) if path is not None else classifier_path()
    save_checkpoint(path, {"classifier": trained.model}, config=trained.info)
    trained.path = path
    return path


def save_trained_classifier(model: DigitClassifier, path: str | os.PathLike, test_accuracy: float,
                            options: dict[str, Any], *, steps: int, seconds: float, train_images: int,
                            test_images: int) -> Path:
    """Install a classifier trained by ``ganctl train classifier`` at ``path``, in :func:`load_classifier`'s format.

    ``options`` are the run's option values (the usual ones are copied to the top level too).
    """
    info = {
        "kind": "digit-classifier",
        "arch": {"width": model.width, "feature_dim": model.feature_dim},
        **{key: options[key] for key in ("seed", "epochs", "batch_size", "lr", "augment") if key in options},
        "steps": int(steps),
        "train_images": int(train_images),
        "test_images": int(test_images),
        "test_accuracy": float(test_accuracy),
        "train_seconds": round(float(seconds), 1),
        "options": options,
    }
    return save_classifier(TrainedClassifier(model=model, test_accuracy=float(test_accuracy), info=info), path)


def load_classifier(path: str | os.PathLike | None = None, device: torch.device | str = "cpu") -> TrainedClassifier:
    """Load a classifier saved by :func:`save_classifier` (default: the cached one)."""
    path = Path(path) if path is not None else classifier_path()
    ck = load_checkpoint(path, with_state=False)
    if ck.config.get("kind") != "digit-classifier":
        raise CheckpointError(path, "is a ganctl checkpoint but not a digit classifier")
    arch = ck.config.get("arch", {})
    model = DigitClassifier(**arch)
    ck.load_into({"classifier": model})
    model.to(device).eval()
    return TrainedClassifier(model=model, test_accuracy=float(ck.config.get("test_accuracy", float("nan"))),
                             info=ck.config, path=path)


@torch.inference_mode()
def predict_digits(model: DigitClassifier, images: torch.Tensor) -> torch.Tensor:
    """Predicted digit of each image (N x C x H x W in [0, 1], gray or colour, any size)."""
    model.eval()
    device = next(model.parameters()).device
    return model(to_digit_gray(images.float()).to(device)).argmax(1).cpu()


class DigitFeatures(nn.Module):
    """Feature extractor for FID/KID: per-channel classifier embeddings of RGB uint8 images (N x 3 x H x W).

    Output: N x (3 * feature_dim), float32.
    """

    def __init__(self, model: DigitClassifier):
        super().__init__()
        self.model = model.eval()
        self.num_features = 3 * model.feature_dim

    @torch.inference_mode()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        n = x.shape[0]
        channels = resize_digits(x).reshape(n * 3, 1, DIGIT_SIZE, DIGIT_SIZE)
        return self.model.embed(channels).reshape(n, self.num_features)
