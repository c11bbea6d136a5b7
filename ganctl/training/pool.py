"""The image pool of Shrivastava et al.: D sees a mix of current fakes and fakes from earlier steps."""

from __future__ import annotations

from typing import Any

import torch


class ImagePool:
    """A buffer of up to ``size`` earlier fakes.

    :meth:`query` returns a batch the size of its input: while the pool fills, the new images; then for
    each image, with probability 1/2 a stored one (replaced by the new image), else the new image.
    Its random draws come from its own CPU generator, so they cause no device sync, and the whole pool
    (images and generator) is part of the training state that ``--resume`` restores.
    """

    def __init__(self, size: int = 50, seed: int = 0):
        self.size = int(size)
        self.images: torch.Tensor | None = None
        self.count = 0
        self.generator = torch.Generator().manual_seed(int(seed))

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Images to show the discriminator in place of ``images`` (detached)."""
        images = images.detach()
        if self.size <= 0:
            return images
        if self.images is None:
            self.images = torch.empty((self.size, *images.shape[1:]), dtype=images.dtype, device=images.device)
        n = images.shape[0]
        coins = torch.rand(n, generator=self.generator).tolist()
        slots = torch.randint(0, self.size, (n,), generator=self.generator).tolist()
        out = images.clone()
        for i in range(n):
            if self.count < self.size:
                self.images[self.count] = images[i]
                self.count += 1
            elif coins[i] > 0.5:
                j = slots[i]
                out[i] = self.images[j]
                self.images[j] = images[i]
        return out

    def state_dict(self) -> dict[str, Any]:
        """Images, fill count and generator state (tensors and ints only)."""
        state: dict[str, Any] = {"count": self.count, "rng": self.generator.get_state()}
        if self.images is not None and self.count > 0:
            state["images"] = self.images[: self.count]
        return state

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str | None = None) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.count = int(state["count"])
        self.generator.set_state(state["rng"].to(torch.uint8).cpu())
        self.images = None
        if self.count > 0:
            stored = state["images"]
            if device is not None:
                stored = stored.to(device)
            self.images = torch.empty((self.size, *stored.shape[1:]), dtype=stored.dtype, device=stored.device)
            self.images[: self.count] = stored
