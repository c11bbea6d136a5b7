"""An unconditional GAN for MNIST digits (the simple-GAN seed) on the shared training loop.

``--arch mlp``: the seed's fully connected pair; ``--arch dcgan``: the DCGAN convolutional pair (see
:mod:`ganctl.models.gan_nets`). Both train with binary cross-entropy on logits and Adam(2e-4, 0.5, 0.999);
per step D learns on a real and a fake batch, then G on that fake batch as judged by the updated D.
Each epoch's sample grid shows the same fixed noise batch, so the grids over a run show the same
digits taking shape. Resume is step-exact (the loop stores every RNG, so the noise continues too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ganctl import console
from ganctl.data.mnist import load_mnist
from ganctl.errors import OptionError
from ganctl.models import create_model, model_spec
from ganctl.models.gan_nets import dcgan_levels  # importing it registers the GAN networks
from ganctl.training.context import TrainContext
from ganctl.training.loop import TrainLoop, TrainResult
from ganctl.training.losses import GANLoss
from ganctl.training.options import TrainOptions, check_positive, check_precision
from ganctl.training.resuming import resume_options
from ganctl.training.samples import save_sample_grid

KIND = "gan"
ARCHS = ("mlp", "dcgan")
DATASETS = ("mnist",)
RESUMABLE_OVERRIDES = {"max_steps", "epochs", "device", "precision", "compile", "log_every", "source"}


@dataclass
class GANOptions(TrainOptions):
    """Every option of ``ganctl train gan``."""

    data: str = "mnist"
    source: str | None = None
    arch: str = "mlp"
    latent_dim: int = 64
    epochs: int = 20
    max_steps: int | None = None
    batch_size: int = 64
    size: int = 28
    ngf: int = 64
    ndf: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    precision: str = "auto"
    compile: bool = False
    channels_last: bool | None = None
    device: str = "auto"
    seed: int = 0
    log_every: int = 100
    samples: int = 64

    def check(self) -> None:
        """Refuse values that cannot work, naming the option."""
        if self.data not in DATASETS:
            raise OptionError("--data", f"unknown data {self.data!r}; train gan knows: {', '.join(DATASETS)}")
        if self.arch not in ARCHS:
            raise OptionError("--arch", f"unknown architecture {self.arch!r}; use {' or '.join(ARCHS)}")
        check_positive({"--latent-dim": self.latent_dim, "--batch-size": self.batch_size, "--size": self.size,
                        "--max-steps": self.max_steps, "--ngf": self.ngf, "--ndf": self.ndf,
                        "--log-every": self.log_every, "--samples": self.samples})
        if self.epochs < 0:
            raise OptionError("--epochs", f"must not be negative, got {self.epochs}")
        if not self.lr > 0:
            raise OptionError("--lr", f"must be positive, got {self.lr}")
        check_precision(self.precision)
        if self.arch == "dcgan":
            try:
                dcgan_levels(self.size)
            except ValueError:
                raise OptionError("--size", f"{self.size} does not suit dcgan; use 28, 32 or 64") from None


def load_digits(source: str | None, size: int) -> torch.Tensor:
    """MNIST's 60,000 training digits as uint8 N x 1 x size x size (resized when size is not 28)."""
    images = load_mnist(source).train_images.unsqueeze(1)
    if size == images.shape[-1]:
        return images.contiguous()
    chunks = [F.interpolate(c.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
              for c in images.split(4096)]
    return torch.cat(chunks).round().clamp(0, 255).to(torch.uint8)


class DigitLoader:
    """Batches of digits in [-1, 1] in an order fixed by (seed, epoch), resumable at any batch."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int, world_size: int = 1, rank: int = 0):
        self.images, self.batch_size, self.seed = images, batch_size, seed
        self.world_size, self.rank = world_size, rank
        self.steps_per_epoch = len(images) // (batch_size * world_size)
        if self.steps_per_epoch == 0:
            raise OptionError("--batch-size", f"{batch_size} x {world_size} process(es) is more than the "
                              f"{len(images)} training images")

    def epoch(self, epoch: int, start: int = 0) -> Iterator[torch.Tensor]:
        """Batches ``start``, ``start + 1``, ... of ``epoch`` on this rank."""
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % (2**63))
        perm = torch.randperm(len(self.images), generator=g)
        per_step = self.batch_size * self.world_size
        for k in range(start, self.steps_per_epoch):
            first = k * per_step + self.rank * self.batch_size
            yield self.images[perm[first: first + self.batch_size]].float().div_(127.5).sub_(1)


class GAN:
    """The GAN recipe: G maps noise to digits, D tells them from MNIST; BCE on logits."""

    kind = KIND

    def __init__(self, opts: GANOptions, ctx: TrainContext):
        self.opts, self.ctx = opts, ctx
        g_extra = {"ngf": opts.ngf} if opts.arch == "dcgan" else {}
        d_extra = {"ndf": opts.ndf} if opts.arch == "dcgan" else {}
        self.specs = {
            "G": model_spec(f"{opts.arch}_generator", latent_dim=opts.latent_dim, out_channels=1,
                            image_size=opts.size, **g_extra),
            "D": model_spec(f"{opts.arch}_discriminator", in_channels=1, image_size=opts.size, **d_extra),
        }
        self.networks = {k: ctx.place(create_model(**spec)) for k, spec in self.specs.items()}
        self.run_nets = {k: ctx.fast(net) for k, net in self.networks.items()}
        betas = (opts.beta1, 0.999)
        self.optimizers = {k: ctx.adam(self.networks[k].parameters(), opts.lr, betas) for k in ("G", "D")}
        self.schedulers: dict[str, Any] = {}
        self.gan = GANLoss("vanilla")
        # The fixed noise comes from its own generator, so it is the same for every run with this seed.
        g = torch.Generator().manual_seed(opts.seed)
        self.fixed_noise = torch.randn(opts.samples, opts.latent_dim, generator=g)

    def _noise(self, n: int, device: torch.device) -> torch.Tensor:
        return torch.randn(n, self.opts.latent_dim, device=device)

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """One D step on a real and a fake batch, then one G step; returns detached losses and D's scores."""
        G, D = self.run_nets["G"], self.run_nets["D"]
        prec, opt_G, opt_D = self.ctx.precision, self.optimizers["G"], self.optimizers["D"]
        n = real.shape[0]
        opt_D.zero_grad(set_to_none=True)
        with prec.autocast():
            fake = G(self._noise(n, real.device))
            score_real = D(real).float()
            score_fake = D(fake.detach()).float()
            loss_D = self.gan.discriminator(score_real, score_fake)
        prec.backward(loss_D)
        self.ctx.dist.average_gradients(self.networks["D"])
        prec.step(opt_D)

        for p in self.networks["D"].parameters():
            p.requires_grad_(False)
        opt_G.zero_grad(set_to_none=True)
        with prec.autocast():
            loss_G = self.gan.generator(D(fake))
        prec.backward(loss_G)
        self.ctx.dist.average_gradients(self.networks["G"])
        prec.step(opt_G)
        prec.update()
        for p in self.networks["D"].parameters():
            p.requires_grad_(True)
        d_real, d_fake = torch.sigmoid(score_real.detach()).mean(), torch.sigmoid(score_fake.detach()).mean()
        return {"loss_G": loss_G.detach(), "loss_D": loss_D.detach(), "D_real": d_real, "D_fake": d_fake}

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``generate`` rebuilds the generator from."""
        return {"kind": self.kind, "networks": self.specs, "latent_dim": self.opts.latent_dim,
                "image_size": self.opts.size, "channels": 1, "arch": self.opts.arch, "dataset": self.opts.data}

    def extra_state(self) -> dict[str, Any]:
        """Nothing beyond networks, optimisers and RNGs (which the loop stores)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Nothing to restore (see :meth:`extra_state`)."""

    @torch.no_grad()
    def write_samples(self, path: Path) -> None:
        """A square-ish grid of G's digits for the fixed noise batch (G in eval mode)."""
        G = self.networks["G"]
        was_training = G.training
        G.eval()
        try:
            with self.ctx.precision.autocast():
                images = G(self.fixed_noise.to(self.ctx.device)).float()
        finally:
            G.train(was_training)
        per_row = math.ceil(math.sqrt(len(images)))
        save_sample_grid([images[i: i + per_row] for i in range(0, len(images), per_row)], path)


def train_gan(data: str | None = None, *, run: str | Path | None = None, resume: str | Path | None = None,
              runs_root: str | Path = "runs", on_step_end: Callable[[int], None] | None = None,
              **options: Any) -> TrainResult:
    """Train (or resume) an unconditional digit GAN; returns the result.

    ``options`` are :class:`GANOptions` fields. With ``resume`` (a run folder or its ``latest.safetensors``)
    the run's saved options are used and only :data:`RESUMABLE_OVERRIDES` may differ.
    """
    GANOptions.refuse_unknown(options, KIND)
    ckpt = None
    if resume is not None:
        run_dir, ckpt, values = resume_options(resume, KIND, {"data": data, **options}, RESUMABLE_OVERRIDES)
        opts = GANOptions.from_values(values)
    else:
        run_dir, opts = None, GANOptions(data=data or "mnist", **options)
    opts.check()
    ctx = TrainContext.create(opts.device, opts.precision, opts.compile, opts.channels_last)
    try:
        loader = DigitLoader(load_digits(opts.source, opts.size), opts.batch_size, opts.seed,
                             ctx.dist.world_size, ctx.dist.rank)
        spe = loader.steps_per_epoch
        total = opts.epochs * spe if opts.max_steps is None else min(opts.epochs * spe, opts.max_steps)
        if total <= 0:
            raise OptionError("--epochs", "nothing to train (0 epochs)")
        if run_dir is None:
            run_dir = ctx.create_run_dir(KIND, run, runs_root)
        torch.manual_seed(opts.seed)
        recipe = GAN(opts, ctx)
        loop = TrainLoop(recipe, loader, ctx, run_dir, total, opts.log_every, on_step_end)
        torch.manual_seed(opts.seed + 1 + ctx.dist.rank)  # per-rank noise
        if ckpt is not None:
            loop.resume(ckpt)
            if ctx.dist.is_main:
                console.info(f"resuming {run_dir} at step {loop.step} (epoch {loop.epoch + 1})")
        loop.record_start(
            {"kind": KIND, "options": asdict(opts), "train_images": len(loader.images), "steps_per_epoch": spe,
             "total_steps": total},
            f"gan ({opts.arch}) on MNIST ({len(loader.images)} digits, {opts.size}px)",
            f"batch {opts.batch_size}, latent {opts.latent_dim}, {total} steps")
        return loop.run()
    finally:
        ctx.dist.close()
