"""Losses: adversarial ones by name (``lsgan``, the published CycleGAN default; ``vanilla``, ``hinge``,
``wgan-gp``) and CUT's PatchNCE.

Importable without torch (recipes list :data:`GAN_LOSSES` in their options); the losses import it when
they run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

GAN_LOSSES = ("lsgan", "vanilla", "hinge", "wgan-gp")


class GANLoss:
    """Generator and discriminator objectives on discriminator outputs (logits / scores)."""

    def __init__(self, kind: str = "lsgan", gp_weight: float = 10.0):
        if kind not in GAN_LOSSES:
            raise ValueError(f"unknown GAN loss {kind!r}; use one of {', '.join(GAN_LOSSES)}")
        self.kind = kind
        self.gp_weight = gp_weight

    def generator(self, fake_score: torch.Tensor) -> torch.Tensor:
        """Loss of G for D's scores on fakes (G wants them judged real)."""
        import torch
        import torch.nn.functional as F

        fake_score = fake_score.float()
        if self.kind == "lsgan":
            return F.mse_loss(fake_score, torch.ones_like(fake_score))
        if self.kind == "vanilla":
            return F.binary_cross_entropy_with_logits(fake_score, torch.ones_like(fake_score))
        return -fake_score.mean()

    def discriminator_parts(self, real_score: torch.Tensor,
                            fake_score: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(D's loss, its part on reals, its part on the detached fakes); the loss halves the sum for lsgan/vanilla."""
        import torch
        import torch.nn.functional as F

        real_score, fake_score = real_score.float(), fake_score.float()
        if self.kind == "lsgan":
            real = F.mse_loss(real_score, torch.ones_like(real_score))
            fake = F.mse_loss(fake_score, torch.zeros_like(fake_score))
        elif self.kind == "vanilla":
            real = F.binary_cross_entropy_with_logits(real_score, torch.ones_like(real_score))
            fake = F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score))
        elif self.kind == "hinge":
            real, fake = F.relu(1.0 - real_score).mean(), F.relu(1.0 + fake_score).mean()
            return real + fake, real, fake
        else:
            real, fake = -real_score.mean(), fake_score.mean()
            return real + fake, real, fake
        return 0.5 * (real + fake), real, fake  # halved as published: D learns slower than G

    def discriminator(self, real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
        """Loss of D for its scores on reals and (detached) fakes (see :meth:`discriminator_parts`)."""
        return self.discriminator_parts(real_score, fake_score)[0]

    def gradient_penalty(self, netD: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                         fake: torch.Tensor) -> torch.Tensor | None:
        """WGAN-GP's penalty on D's gradient norm at random interpolates (None for other losses)."""
        import torch

        if self.kind != "wgan-gp":
            return None
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = netD(mixed)
        (grad,) = torch.autograd.grad(score.float().sum(), mixed, create_graph=True)
        norm = grad.float().flatten(1).norm(2, dim=1)
        return self.gp_weight * ((norm - 1.0) ** 2).mean()


def patch_nce_loss(query: torch.Tensor, key: torch.Tensor, batch_size: int, temperature: float) -> torch.Tensor:
    """PatchNCE (CUT, Park et al. 2020): each query patch must pick out its own key patch.

    ``query`` and ``key`` are N*P x D projections (L2-normalised, rows grouped by image, row i of both at the
    same location); the negatives of a patch are the other P - 1 key patches of the same image. Cross-entropy
    over (positive, negatives) / ``temperature``, averaged; the keys get no gradient.
    """
    import torch
    import torch.nn.functional as F

    key = key.detach()
    positive = (query * key).sum(dim=1, keepdim=True)  # N*P x 1
    q = query.view(batch_size, -1, query.shape[1])
    k = key.view(batch_size, -1, key.shape[1])
    patches = q.shape[1]
    negatives = torch.bmm(q, k.transpose(1, 2))  # N x P x P; the diagonal holds the positives
    diagonal = torch.eye(patches, device=query.device, dtype=torch.bool)[None]
    negatives = negatives.masked_fill(diagonal, -10.0).view(-1, patches)
    logits = torch.cat([positive, negatives], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=query.device))
