"""A small CNN digit classifier that ganctl trains itself on MNIST, for digit metrics and digit features.

It is the judge of the digit tasks: ``eval run`` asks it which digit a translated image shows (digit-kept
accuracy) and ``eval fid --features digits`` uses its penultimate layer as the feature space of the Fréchet
distance, which is meaningful for 28 px digits and needs no downloaded weights. It is trained once, seeded,
and cached as ``$GANCTL_HOME/weights/digit_classifier.safetensors`` (a ganctl checkpoint: no pickle).

Colour images: MNIST is white on black, so a colour digit is classified from its brightest channel, rescaled
so its brightest pixel is white (:func:`to_digit_gray`). For features, each RGB channel goes through the
network on its own and the three embeddings are concatenated, so a red digit and a white digit of the same
shape get different features (FID between a gray and a coloured set is large).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganctl import console
from ganctl.checkpoint import load_checkpoint, save_checkpoint
from ganctl.device import seed_everything
from ganctl.errors import CheckpointError
from ganctl.models.classifier import DigitClassifier
from ganctl.paths import weights_dir

CLASSIFIER_FILE = "digit_classifier.safetensors"
DIGIT_SIZE = 28
DEFAULT_EPOCHS = 3
DEFAULT_SEED = 0
DEFAULT_MAX_STEPS: int | None = None  # no cap; tests lower it to train the automatic classifier quickly


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


def _batches(n: int, batch_size: int, generator: torch.Generator | None) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return list(order.split(batch_size))


@torch.inference_mode()
def evaluate_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000,
                      device: torch.device | str = "cpu") -> float:
    """Fraction of ``images`` (N x 1 x 28 x 28 in [0, 1]) whose predicted digit equals ``labels``."""
    model.eval()
    correct = 0
    for idx in _batches(len(images), batch_size, None):
        logits = model(images[idx].to(device))
        correct += int((logits.argmax(1).cpu() == labels[idx]).sum())
    return correct / max(1, len(images))


def _as_float_images(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.array(images))
    if t.ndim == 3:
        t = t.unsqueeze(1)
    return t.float().div_(255.0) if t.dtype == torch.uint8 or t.max() > 1.5 else t.float()


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


def train_digit_classifier(
    train_images: np.ndarray | torch.Tensor,
    train_labels: np.ndarray | torch.Tensor,
    test_images: np.ndarray | torch.Tensor,
    test_labels: np.ndarray | torch.Tensor,
    *,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = 128,
    lr: float = 3e-3,
    seed: int = DEFAULT_SEED,
    max_steps: int | None = None,
    device: torch.device | str = "cpu",
    augment: bool = True,
) -> TrainedClassifier:
    """Train a :class:`DigitClassifier` (seeded, Adam + one-cycle LR) and measure its test accuracy.

    Images are uint8 N x 28 x 28 (MNIST) or float in [0, 1]; ``max_steps`` caps the total optimiser steps
    (for quick tests).
    """
    seed_everything(seed)
    device = torch.device(device)
    x_train = _as_float_images(train_images)
    y_train = torch.as_tensor(train_labels).long()
    x_test = _as_float_images(test_images)
    y_test = torch.as_tensor(test_labels).long()
    model = DigitClassifier().to(device)
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = (len(x_train) + batch_size - 1) // batch_size
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=max(1, total))
    start = time.perf_counter()
    step = 0
    with console.progress("training digit classifier", total, unit="step") as advance:
        for _ in range(epochs):
            model.train()
            for idx in _batches(len(x_train), batch_size, generator):
                if step >= total:
                    break
                xb = x_train[idx]
                if augment:
                    xb = random_shift(xb, generator)
                loss = F.cross_entropy(model(xb.to(device)), y_train[idx].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                advance()
    train_seconds = time.perf_counter() - start
    accuracy = evaluate_accuracy(model, x_test, y_test, device=device)
    model.eval()
    info = {
        "kind": "digit-classifier",
        "arch": {"width": model.width, "feature_dim": model.feature_dim},
        "seed": seed,
        "epochs": epochs,
        "steps": step,
        "batch_size": batch_size,
        "lr": lr,
        "augment": augment,
        "train_images": len(x_train),
        "test_images": len(x_test),
        "test_accuracy": accuracy,
        "train_seconds": round(train_seconds, 1),
    }
    return TrainedClassifier(model=model.cpu(), test_accuracy=accuracy, info=info)


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

    ``options`` are the run's option values; the ones :func:`train_digit_classifier` records are copied too.
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


def train_and_cache_classifier(source: str | os.PathLike | None = None, *, epochs: int | None = None,
                               seed: int = DEFAULT_SEED, device: torch.device | str = "cpu",
                               out: str | os.PathLike | None = None, max_steps: int | None = None) -> TrainedClassifier:
    """Train on MNIST (``load_mnist(source)``: the cache, downloaded when missing) and save it (default: the cache)."""
    from ganctl.data.mnist import load_mnist

    data = load_mnist(source)
    trained = train_digit_classifier(data.train_images, data.train_labels, data.test_images, data.test_labels,
                                     epochs=epochs or DEFAULT_EPOCHS, seed=seed, device=device,
                                     max_steps=max_steps if max_steps is not None else DEFAULT_MAX_STEPS)
    save_classifier(trained, out)
    console.info(f"digit classifier: test accuracy {trained.test_accuracy:.2%} on {len(data.test_images)} "
                 f"MNIST test images ({trained.info['train_seconds']:.0f} s); saved to {trained.path}")
    return trained


def get_classifier(device: torch.device | str = "cpu", source: str | os.PathLike | None = None) -> TrainedClassifier:
    """The cached classifier, trained (once, with defaults) when the cache has none."""
    path = classifier_path()
    if path.exists():
        return load_classifier(path, device)
    console.info(f"no digit classifier in {path.parent}: training one on MNIST (once; cached for later runs)")
    trained = train_and_cache_classifier(source)
    trained.model.to(device).eval()
    return trained


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
