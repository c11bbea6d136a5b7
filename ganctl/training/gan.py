"""An unconditional GAN for MNIST digits (the simple-GAN seed).

``--arch mlp``: the seed's fully connected pair; ``--arch dcgan``: the DCGAN convolutional pair (see
:mod:`ganctl.models.gan_nets`). Both train with binary cross-entropy on logits and Adam(2e-4, 0.5, 0.999);
per step D learns on a real and a fake batch, then G on that fake batch as judged by the updated D.
Each epoch's sample grid shows the same fixed noise batch, so the grids over a run show the same
digits taking shape. ``ganctl generate RUN`` draws new samples from the trained generator.

This file is the worked example of docs/architecture.md ("Adding a training recipe").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ganctl.errors import OptionError
from ganctl.training.options import DATA, SCHEDULE, TrainOptions, option, redefault
from ganctl.training.recipe import Recipe, register_recipe

ARCHS = ("mlp", "dcgan")


@dataclass
class GANOptions(TrainOptions):
    """Every option of ``ganctl train gan``."""

    data: str = option("mnist", "The digits to learn.", panel=DATA, choices=("mnist",), short="-d")
    source: str | None = option(None, "Folder with MNIST's four IDX files (else downloaded once).", panel=DATA,
                                resumable=True)
    arch: str = option("mlp", "mlp (fully connected) or dcgan.", choices=ARCHS)
    latent_dim: int = option(64, "Noise vector size.", positive=True)
    size: int = option(28, "Image side (dcgan: 28, 32 or 64).", positive=True)
    ngf: int = option(64, "DCGAN generator width.", positive=True)
    ndf: int = option(64, "DCGAN discriminator width.", positive=True)
    epochs: int = option(20, "Passes over the 60,000 digits.", panel=SCHEDULE, not_negative=True, resumable=True)
    batch_size: int = option(64, "Digits per step (per process).", panel=SCHEDULE, short="-b", positive=True)
    lr: float = option(2e-4, "Adam learning rate.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.5, "Adam beta1.", panel=SCHEDULE, not_negative=True)
    log_every: int = redefault("log_every", 100)
    samples: int = redefault("samples", 64)

    def check_more(self) -> None:
        """Images of at least 8 pixels; dcgan's transposed convolutions build only some sizes."""
        from ganctl.models.gan_nets import dcgan_levels

        if self.size < 8:
            raise OptionError("--size", f"must be at least 8 pixels (MNIST digits are 28), got {self.size}")
        if self.arch == "dcgan":
            try:
                dcgan_levels(self.size)
            except ValueError:
                raise OptionError("--size", f"{self.size} does not suit dcgan; use 28, 32 or 64") from None


@register_recipe
class GAN(Recipe):
    """The GAN recipe: G maps noise to digits, D tells them from MNIST; BCE on logits."""

    name = "gan"
    summary = "An unconditional GAN for MNIST digits (fully connected or DCGAN)."
    help = """Train an unconditional GAN on MNIST digits; a sample grid from fixed noise is saved every epoch.

    Example: [bold]ganctl train gan --data mnist --arch dcgan --epochs 5[/]  then  [bold]ganctl generate RUN[/]
    """
    options = GANOptions
    presets = {"digits": {}, "smoke": dict(max_steps=2, batch_size=16, ngf=8, ndf=8, log_every=1, samples=4)}
    data_kind = "mnist"
    data_help = "mnist"

    def batches(self) -> Any:
        """MNIST's training digits in memory, in the seeded order."""
        from ganctl.training.data import BatchOrder, MemoryBatches, load_digits

        o, dist = self.opts, self.ctx.dist
        self.digits = load_digits(o.source, o.size)
        return MemoryBatches(BatchOrder([len(self.digits)], o.batch_size, o.seed, dist.world_size, dist.rank),
                             [(self.digits,)])

    def build(self, steps_per_epoch: int) -> None:
        """G and D of the chosen architecture, one Adam each, and the fixed noise of the sample grids."""
        import torch

        from ganctl.models import model_spec
        from ganctl.training.losses import GANLoss

        o = self.opts
        g_extra = {"ngf": o.ngf} if o.arch == "dcgan" else {}
        d_extra = {"ndf": o.ndf} if o.arch == "dcgan" else {}
        self.build_networks({
            "G": model_spec(f"{o.arch}_generator", latent_dim=o.latent_dim, out_channels=1, image_size=o.size,
                            **g_extra),
            "D": model_spec(f"{o.arch}_discriminator", in_channels=1, image_size=o.size, **d_extra),
        })
        self.optimizers = {"G": self.adam("G"), "D": self.adam("D")}
        self.gan = GANLoss("vanilla")
        # The fixed noise comes from its own generator, so it is the same for every run with this seed.
        self.fixed_noise = torch.randn(o.samples, o.latent_dim, generator=torch.Generator().manual_seed(o.seed))

    def train_step(self, real: Any) -> dict[str, Any]:
        """One D step on a real and a fake batch, then one G step; returns the losses and D's mean scores."""
        import torch

        G, D = self.run_nets["G"], self.run_nets["D"]
        prec, opt_G, opt_D = self.ctx.precision, self.optimizers["G"], self.optimizers["D"]
        opt_D.zero_grad(set_to_none=True)
        with prec.autocast():
            fake = G(torch.randn(real.shape[0], self.opts.latent_dim, device=real.device))
            score_real = D(real).float()
            score_fake = D(fake.detach()).float()
            loss_D = self.gan.discriminator(score_real, score_fake)
        prec.backward(loss_D)
        self.ctx.dist.average_gradients(self.networks["D"])
        prec.step(opt_D)

        with self.frozen("D"):
            opt_G.zero_grad(set_to_none=True)
            with prec.autocast():
                loss_G = self.gan.generator(D(fake))
            prec.backward(loss_G)
            self.ctx.dist.average_gradients(self.networks["G"])
            prec.step(opt_G)
            prec.update()
        d_real, d_fake = torch.sigmoid(score_real.detach()).mean(), torch.sigmoid(score_fake.detach()).mean()
        return {"loss_G": loss_G.detach(), "loss_D": loss_D.detach(), "D_real": d_real, "D_fake": d_fake}

    def sample_rows(self) -> list[Any]:
        """A square-ish grid of G's digits for the fixed noise batch."""
        with self.ctx.precision.autocast():
            images = self.networks["G"](self.fixed_noise.to(self.ctx.device)).float()
        per_row = math.ceil(math.sqrt(len(images)))
        return [images[i: i + per_row] for i in range(0, len(images), per_row)]

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``generate`` rebuilds the generator from."""
        o = self.opts
        return {"kind": self.name, "networks": self.specs, "latent_dim": o.latent_dim, "image_size": o.size,
                "channels": 1, "arch": o.arch, "dataset": o.data}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        o = self.opts
        return (f"gan ({o.arch}) on MNIST ({len(self.digits)} digits, {o.size}px)",
                f"batch {o.batch_size}, latent {o.latent_dim}")

    def run_record(self) -> dict[str, Any]:
        """How many digits the run learns from."""
        return {"train_images": len(self.digits)}

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: FID/KID on digit features and the share of each digit among seeded samples."""
        from ganctl.metrics.eval_gan import evaluate_gan

        return evaluate_gan(run)
