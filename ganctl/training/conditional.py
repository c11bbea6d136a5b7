"""The conditional-GAN step of pix2pix (Isola et al. 2017), shared by the ``pix2pix`` and ``colorize`` recipes.

A generator ``G`` maps a condition (the input image) to an output; a discriminator ``D`` judges (condition,
image) pairs concatenated on channels. One step, as the reference runs it: ``G`` translates the batch once;
``D`` learns on (condition, fake) then (condition, real), the fake detached; then ``G`` learns with ``D``
frozen: the adversarial loss on (condition, fake) plus ``lambda_l1`` x L1 to the target. Which images the
condition and target are, and how they are made, is the recipe's part (colorize: Lab lightness and ab).

Imports no torch at the top (recipes import it to build the command line); the step imports it when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ganctl.training.recipe import Recipe

# The generator for a training size: the largest U-Net whose size multiple divides it.
UNET_BY_MULTIPLE = ((256, "unet_256"), (128, "unet_128"), (64, "unet_64"), (32, "unet_32"))

# How translate and eval run use the U-Nets of these recipes (ganctl.translate.test_mode), as runs record it.
TEST_MODE = "reference"
TEST_MODE_NOTE = ("reference: dropout on, batch norm on each image's own statistics, as the papers test "
                  "(translate --eval-mode: running statistics, no dropout)")

# The loss records of a conditional-GAN step, main one first (colorize's pre-training steps use the same keys).
LOSS_KEYS = ("loss_G", "loss_G_GAN", "loss_G_L1", "loss_D", "loss_D_real", "loss_D_fake")


def conditional_gan_step(recipe: Recipe, condition: torch.Tensor, target: torch.Tensor,
                         lambda_l1: float) -> dict[str, torch.Tensor]:
    """One pix2pix step of ``recipe``'s networks ``G`` and ``D`` (optimisers of the same names, ``recipe.gan``).

    Returns the detached losses named by :data:`LOSS_KEYS`.
    """
    import torch
    import torch.nn.functional as F

    G, D = recipe.run_nets["G"], recipe.run_nets["D"]
    ctx, gan = recipe.ctx, recipe.gan
    prec, opt_G, opt_D = ctx.precision, recipe.optimizers["G"], recipe.optimizers["D"]
    with prec.autocast():
        fake = G(condition)
    opt_D.zero_grad(set_to_none=True)
    with prec.autocast():
        # Fakes before reals, as the reference (and every colorize run) does: D's batch-norm statistics follow it.
        fake_pair = torch.cat([condition, fake.detach()], 1)
        real_pair = torch.cat([condition, target], 1)
        pred_fake = D(fake_pair)
        pred_real = D(real_pair)
        loss_D, loss_D_real, loss_D_fake = gan.discriminator_parts(pred_real, pred_fake)
        penalty = gan.gradient_penalty(D, real_pair, fake_pair)
        if penalty is not None:
            loss_D = loss_D + penalty
    prec.backward(loss_D)
    ctx.dist.average_gradients(recipe.networks["D"])
    prec.step(opt_D)

    with recipe.frozen("D"):
        opt_G.zero_grad(set_to_none=True)
        with prec.autocast():
            loss_G_GAN = gan.generator(D(torch.cat([condition, fake], 1)))
            loss_l1 = F.l1_loss(fake.float(), target.float())
            loss_G = loss_G_GAN + lambda_l1 * loss_l1
        prec.backward(loss_G)
        ctx.dist.average_gradients(recipe.networks["G"])
        prec.step(opt_G)
        prec.update()
    losses = (loss_G, loss_G_GAN, loss_l1, loss_D, loss_D_real, loss_D_fake)
    return {k: v.detach() for k, v in zip(LOSS_KEYS, losses)}


def unet_for_size(size: int) -> str | None:
    """The largest U-Net whose size multiple divides ``size`` (None: ``size`` is not a multiple of 32)."""
    return next((name for multiple, name in UNET_BY_MULTIPLE if size % multiple == 0), None)


def conditional_discriminator(name: str, channels: int, ndf: int, n_layers: int) -> dict[str, Any]:
    """The spec of pix2pix's D: ``name`` (a PatchGAN) on condition and image concatenated, with batch norm."""
    from ganctl.models import model_spec

    return model_spec(name, in_channels=channels, ndf=ndf, n_layers=n_layers, norm="batch")
