"""The small CNNs ganctl trains as judges: the digit classifier (digit metrics, ``--features digits``) and the
photo domain classifier (``domain_accuracy``, ``--features domain``)."""

from __future__ import annotations

import torch
from torch import nn

from ganctl.models.registry import register_model


class DigitClassifier(nn.Module):
    """Two conv blocks (16 and 32 filters, batch norm, max-pool) -> ``feature_dim`` embedding -> 10 logits.

    Input: N x 1 x 28 x 28 in [0, 1] (white digit on black, as MNIST).
    """

    def __init__(self, width: int = 16, feature_dim: int = 128):
        super().__init__()
        self.width = width
        self.feature_dim = feature_dim

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(1, width), *block(width, width), nn.MaxPool2d(2),
            *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(2 * width * 7 * 7, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(feature_dim, 10))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The ``feature_dim`` features of N x 1 x 28 x 28 images in [0, 1]."""
        return self.body((x - 0.5) / 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


@register_model("digit_classifier", kind="classifier")
def digit_classifier(width: int = 16, feature_dim: int = 128) -> DigitClassifier:
    """The MNIST digit classifier (28 x 28 gray digits in [0, 1] -> 10 logits)."""
    return DigitClassifier(width=width, feature_dim=feature_dim)


class DomainClassifier(nn.Module):
    """Which domain (A: 0, B: 1) a photo is from: four blocks (a stride-2 convolution, then one at that size)
    -> global average pool -> 2 logits.

    Input: N x 3 x S x S in [0, 1] (S a multiple of 16; ganctl uses 64). The pooled ``feature_dim`` vector is the
    feature space of ``--features domain``.
    """

    def __init__(self, width: int = 16, feature_dim: int = 128):
        super().__init__()
        self.width = width
        self.feature_dim = feature_dim

        def block(cin: int, cout: int) -> list[nn.Module]:
            # group norm, not batch norm: each image is judged on its own (a batch of one domain's images,
            # or a short training run's lagging running statistics, must not change the verdict)
            return [nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.GroupNorm(max(1, cout // 8), cout),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(max(1, cout // 8), cout),
                    nn.ReLU(inplace=True)]

        widths = [3, width, 2 * width, 4 * width, feature_dim]
        self.body = nn.Sequential(*(layer for cin, cout in zip(widths, widths[1:]) for layer in block(cin, cout)),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feature_dim, 2))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The ``feature_dim`` features of N x 3 x S x S images in [0, 1]."""
        return self.body((x - 0.5) / 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


@register_model("domain_classifier", kind="classifier")
def domain_classifier(width: int = 16, feature_dim: int = 128) -> DomainClassifier:
    """The A-vs-B photo domain classifier (RGB in [0, 1] -> 2 logits)."""
    return DomainClassifier(width=width, feature_dim=feature_dim)
