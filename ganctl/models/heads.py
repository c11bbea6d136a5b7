"""CUT's projection heads: per encoder layer, a 2-layer MLP over sampled patch locations, L2-normalised.

``patch_mlp`` takes the feature maps a generator's :meth:`encode_features` returns (one per tapped layer),
picks ``num_patches`` locations per layer (the same locations for the query and the key features of one
step, which is what makes a positive pair) and maps each location's feature vector through
Linear -> ReLU -> Linear (``units`` wide) to the unit sphere, where PatchNCE compares them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganctl.models.init import init_weights
from ganctl.models.registry import register_model


class PatchSampleMLP(nn.Module):
    """One MLP head per tapped layer; ``channels[i]`` is layer i's channel count."""

    def __init__(self, channels: list[int], units: int = 256):
        super().__init__()
        self.channels, self.units = list(channels), units
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(c, units), nn.ReLU(True), nn.Linear(units, units)) for c in self.channels)
        init_weights(self)

    def forward(self, features: list[torch.Tensor], num_patches: int,
                patch_ids: list[torch.Tensor] | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(per layer N*P x units projections, per layer the P locations used); ``patch_ids`` reuses locations."""
        out, ids = [], []
        for k, (feat, head) in enumerate(zip(features, self.heads)):
            flat = feat.flatten(2).transpose(1, 2)  # N x HW x C
            if patch_ids is None:
                chosen = torch.randperm(flat.shape[1], device=feat.device)[:min(num_patches, flat.shape[1])]
            else:
                chosen = patch_ids[k]
            picked = flat[:, chosen, :].flatten(0, 1)  # N*P x C
            out.append(F.normalize(head(picked), dim=1))
            ids.append(chosen)
        return out, ids


@register_model("patch_mlp", kind="head")
def patch_mlp(channels: list[int], units: int = 256) -> PatchSampleMLP:
    """CUT's projection heads for PatchNCE (one 2-layer MLP per tapped generator layer)."""
    return PatchSampleMLP(channels, units)
