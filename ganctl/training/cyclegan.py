"""CycleGAN (Zhu et al. 2017) as published, on the shared training loop.

Defaults follow the paper and its reference code for photos: ResNet-9 generators, 70x70 PatchGAN,
LSGAN loss, cycle weight 10, identity 0.5 x cycle, a pool of 50 fakes, Adam(2e-4, 0.5, 0.999) constant
for 100 epochs then linearly to 0 over 100 more, batch 1, resize 286 -> random crop 256 -> flip.
Digit data (<= 32 px) get small nets and a CPU-sized schedule instead (see :data:`DIGIT_DEFAULTS`).

Step order as published: G_A and G_B update with D_A/D_B frozen, then D_A and D_B update on pooled,
detached fakes.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganctl import console
from ganctl.errors import OptionError
from ganctl.models import accepts, create_model, model_spec
from ganctl.training.context import TrainContext
from ganctl.training.data import DatasetInfo, PairLoader, fixed_test_batch, inspect_dataset
from ganctl.training.loop import TrainLoop, TrainResult
from ganctl.training.losses import GAN_LOSSES, GANLoss
from ganctl.training.options import (
    TrainOptions,
    check_load_size,
    check_networks,
    check_not_negative,
    check_positive,
    check_precision,
)
from ganctl.training.pool import ImagePool
from ganctl.training.resuming import resume_options
from ganctl.training.samples import save_sample_grid
from ganctl.training.schedule import linear_decay_scheduler

PHOTO_DEFAULTS = dict(epochs=100, decay_epochs=100, batch_size=1, size=256, generator="resnet_9blocks",
                      discriminator="patchgan", ngf=64, ndf=64, lr=2e-4, lambda_cycle=10.0, cycle_noise=0.0,
                      num_workers=4, log_every=50)
# Sized for 5 minutes on a 2-core CPU; docs/benchmarks.md has the measurements behind each choice:
# - a one-score discriminator (digit_global) learns "this digit in this colour" where a PatchGAN hardly does;
# - a generator with a global branch (digit_resnet_grid) sets one colour for the whole digit, decided from
#   a 4x4 grid of its bottleneck (where the strokes are: which digit it is);
# - noise on the fakes inside the cycle stops G_B from hiding the colour in its gray output for G_A to read
#   back, so G_A has to learn colour from the digit's shape (what it meets on real gray digits);
# - cycle weight 20, lr 1e-3 and a linear-decay second epoch: colour precise enough to tell close hues apart.
DIGIT_DEFAULTS = dict(epochs=1, decay_epochs=1, batch_size=16, generator="digit_resnet_grid",
                      discriminator="digit_global", ngf=8, ndf=32, lr=1e-3, lambda_cycle=20.0, cycle_noise=0.2,
                      num_workers=0, log_every=25)
# Options that may change when a run is resumed (the rest must match the run's config).
RESUMABLE_OVERRIDES = {"max_steps", "epochs", "decay_epochs", "device", "precision", "compile", "num_workers",
                       "log_every"}


@dataclass
class CycleGANOptions(TrainOptions):
    """Every option of ``ganctl train cyclegan``; None means "the default for this data"."""

    data: str | None = None
    epochs: int | None = None
    decay_epochs: int | None = None
    max_steps: int | None = None
    batch_size: int | None = None
    size: int | None = None
    load_size: int | None = None
    generator: str | None = None
    discriminator: str | None = None
    ngf: int | None = None
    ndf: int | None = None
    gan_loss: str = "lsgan"
    lambda_cycle: float | None = None
    lambda_identity: float = 0.5
    pool_size: int = 50
    cycle_noise: float | None = None
    lr: float | None = None
    beta1: float = 0.5
    precision: str = "auto"
    compile: bool = False
    channels_last: bool | None = None
    device: str = "auto"
    seed: int = 0
    num_workers: int | None = None
    log_every: int | None = None
    samples: int = 8

    def resolved(self, info: DatasetInfo) -> CycleGANOptions:
        """A copy with every None filled from the photo or digit defaults, checked."""
        base = DIGIT_DEFAULTS if info.is_digits else PHOTO_DEFAULTS
        values = asdict(self)
        for key, value in base.items():
            if values.get(key) is None:
                values[key] = value
        if values["size"] is None:
            values["size"] = info.native_size
        if values["load_size"] is None:
            values["load_size"] = values["size"] if info.is_digits else round(values["size"] * 286 / 256)
        out = CycleGANOptions(**values)
        out.check()
        return out

    def check(self) -> None:
        """Refuse values that cannot work, naming the option."""
        check_positive({"--batch-size": self.batch_size, "--size": self.size, "--load-size": self.load_size,
                        "--ngf": self.ngf, "--ndf": self.ndf})
        if self.epochs is not None and self.decay_epochs is not None and self.epochs + self.decay_epochs <= 0:
            raise OptionError("--epochs", "--epochs plus --decay-epochs must be at least 1")
        check_not_negative({"--epochs": self.epochs, "--decay-epochs": self.decay_epochs, "--pool-size": self.pool_size,
                            "--cycle-noise": self.cycle_noise,
                            "--lambda-cycle": self.lambda_cycle, "--lambda-identity": self.lambda_identity})
        check_positive({"--max-steps": self.max_steps})
        if self.lr is not None and not self.lr > 0:
            raise OptionError("--lr", f"must be positive, got {self.lr}")
        check_load_size(self.load_size, self.size)
        if self.gan_loss not in GAN_LOSSES:
            raise OptionError("--gan-loss", f"unknown loss {self.gan_loss!r}; use {', '.join(GAN_LOSSES)}")
        check_precision(self.precision)
        check_networks(self.generator, self.discriminator)


class CycleGAN:
    """The CycleGAN recipe: four networks, two optimisers, two pools, one ``train_step``."""

    kind = "cyclegan"

    def __init__(self, opts: CycleGANOptions, ctx: TrainContext, info: DatasetInfo, steps_per_epoch: int):
        self.opts, self.ctx, self.info = opts, ctx, info
        ca, cb = info.channels["A"], info.channels["B"]
        g_extra = {"ngf": opts.ngf} if opts.ngf else {}  # explicit in the spec, so a later default can't change it
        d_extra = {"ndf": opts.ndf} if opts.ndf else {}
        if accepts(opts.discriminator, "image_size"):  # a one-score discriminator is built for the crop size
            d_extra["image_size"] = opts.size
        self.specs = {
            "G_A": model_spec(opts.generator, in_channels=ca, out_channels=cb, **g_extra),
            "G_B": model_spec(opts.generator, in_channels=cb, out_channels=ca, **g_extra),
            "D_A": model_spec(opts.discriminator, in_channels=cb, **d_extra),  # judges domain B (G_A's output)
            "D_B": model_spec(opts.discriminator, in_channels=ca, **d_extra),
        }
        self.networks = {k: ctx.place(create_model(**spec)) for k, spec in self.specs.items()}
        multiple = self.networks["G_A"].size_multiple
        if opts.size % multiple:
            raise OptionError("--size", f"{opts.size} is not a multiple of {multiple}, which {opts.generator} needs")
        self.run_nets = {k: ctx.fast(net) for k, net in self.networks.items()}
        self.use_identity = opts.lambda_identity > 0 and ca == cb
        if opts.lambda_identity > 0 and ca != cb:
            console.info(f"identity loss off: domain A has {ca} channel(s), B has {cb}")
        betas = (opts.beta1, 0.999)
        self.opt_G = ctx.adam(itertools.chain(self.networks["G_A"].parameters(), self.networks["G_B"].parameters()),
                              opts.lr, betas)
        self.opt_D = ctx.adam(itertools.chain(self.networks["D_A"].parameters(), self.networks["D_B"].parameters()),
                              opts.lr, betas)
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.schedulers = {k: linear_decay_scheduler(o, opts.epochs, opts.decay_epochs, steps_per_epoch)
                           for k, o in self.optimizers.items()}
        rank = ctx.dist.rank
        self.pools = {"fake_A": ImagePool(opts.pool_size, seed=opts.seed * 1000 + 2 * rank),
                      "fake_B": ImagePool(opts.pool_size, seed=opts.seed * 1000 + 2 * rank + 1)}
        self.gan = GANLoss(opts.gan_loss)
        self.fixed: dict[str, torch.Tensor] | None = None

    # ----- the step --------------------------------------------------------------------------------
    def _set_d_grad(self, flag: bool) -> None:
        for name in ("D_A", "D_B"):
            for p in self.networks[name].parameters():
                p.requires_grad_(flag)

    def _d_loss(self, netD: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        loss = self.gan.discriminator(netD(real), netD(fake))
        gp = self.gan.gradient_penalty(netD, real, fake)
        return loss if gp is None else loss + gp

    def _noisy(self, fake: torch.Tensor) -> torch.Tensor:
        """``fake`` plus Gaussian noise of std ``--cycle-noise`` on its way back through the cycle."""
        if not self.opts.cycle_noise:
            return fake
        return fake + self.opts.cycle_noise * torch.randn_like(fake)

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One published CycleGAN iteration on a batch of (A, B); returns the detached losses."""
        real_A, real_B = batch
        G_A, G_B, D_A, D_B = (self.run_nets[k] for k in ("G_A", "G_B", "D_A", "D_B"))
        o, prec = self.opts, self.ctx.precision
        self._set_d_grad(False)
        with prec.autocast():
            fake_B = G_A(real_A)
            rec_A = G_B(self._noisy(fake_B))
            fake_A = G_B(real_B)
            rec_B = G_A(self._noisy(fake_A))
            loss_G_A = self.gan.generator(D_A(fake_B))
            loss_G_B = self.gan.generator(D_B(fake_A))
            loss_cycle_A = F.l1_loss(rec_A.float(), real_A.float()) * o.lambda_cycle
            loss_cycle_B = F.l1_loss(rec_B.float(), real_B.float()) * o.lambda_cycle
            if self.use_identity:
                loss_idt_A = F.l1_loss(G_A(real_B).float(), real_B.float()) * o.lambda_cycle * o.lambda_identity
                loss_idt_B = F.l1_loss(G_B(real_A).float(), real_A.float()) * o.lambda_cycle * o.lambda_identity
            else:
                loss_idt_A = loss_idt_B = torch.zeros((), device=real_A.device)
            loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        self.opt_G.zero_grad(set_to_none=True)
        prec.backward(loss_G)
        self.ctx.dist.average_gradients(self.networks["G_A"], self.networks["G_B"])
        prec.step(self.opt_G)

        self._set_d_grad(True)
        self.opt_D.zero_grad(set_to_none=True)
        with prec.autocast():
            loss_D_A = self._d_loss(D_A, real_B, self.pools["fake_B"].query(fake_B))
            loss_D_B = self._d_loss(D_B, real_A, self.pools["fake_A"].query(fake_A))
        prec.backward(loss_D_A + loss_D_B)
        self.ctx.dist.average_gradients(self.networks["D_A"], self.networks["D_B"])
        prec.step(self.opt_D)
        prec.update()
        losses = {"loss_G": loss_G, "loss_D_A": loss_D_A, "loss_D_B": loss_D_B, "loss_cycle_A": loss_cycle_A,
                  "loss_cycle_B": loss_cycle_B, "loss_idt_A": loss_idt_A, "loss_idt_B": loss_idt_B,
                  "loss_G_A": loss_G_A, "loss_G_B": loss_G_B}
        return {k: v.detach() for k, v in losses.items()}

    # ----- what the loop saves -------------------------------------------------------------------------
    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``translate`` rebuilds the generators from."""
        return {"kind": self.kind, "networks": self.specs, "channels": dict(self.info.channels),
                "image_size": self.opts.size, "dataset": self.info.name, "gan_loss": self.opts.gan_loss}

    def extra_state(self) -> dict[str, Any]:
        """The two image pools."""
        return {"pools": {k: p.state_dict() for k, p in self.pools.items()}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the image pools onto the training device."""
        for k, pool_state in (state.get("pools") or {}).items():
            self.pools[k].load_state_dict(pool_state, device=self.ctx.device)

    @torch.no_grad()
    def write_samples(self, path: Path) -> None:
        """Rows real A | fake B | rec A | real B | fake A | rec B for fixed test images."""
        if self.fixed is None:
            n = self.opts.samples
            self.fixed = {d: fixed_test_batch(self.info, d, n, self.opts.size) for d in ("A", "B")}
            k = min(len(self.fixed["A"]), len(self.fixed["B"]))
            self.fixed = {d: t[:k] for d, t in self.fixed.items()}
        G_A, G_B = self.networks["G_A"], self.networks["G_B"]
        modes = {k: n.training for k, n in self.networks.items()}
        G_A.eval()
        G_B.eval()
        try:
            a, b = (self.ctx.to_device(self.fixed[d]) for d in ("A", "B"))
            with self.ctx.precision.autocast():
                fake_b, fake_a = G_A(a), G_B(b)
                rec_a, rec_b = G_B(fake_b), G_A(fake_a)
        finally:
            for k, n in self.networks.items():
                n.train(modes[k])
        save_sample_grid([a, fake_b, rec_a, b, fake_a, rec_b], path)


def train_cyclegan(data: str | Path | None = None, *, run: str | Path | None = None,
                   resume: str | Path | None = None, runs_root: str | Path = "runs",
                   on_step_end: Any = None, **options: Any) -> TrainResult:
    """Train (or resume) a CycleGAN on an A/B dataset folder or named dataset; returns the result.

    ``options`` are :class:`CycleGANOptions` fields (None = default for the data). With ``resume`` (a
    run folder or its ``latest.safetensors``) the run's saved options are used, and only
    :data:`RESUMABLE_OVERRIDES` may differ. ``on_step_end(step)`` is called after every step (tests).
    """
    CycleGANOptions.refuse_unknown(options, "cyclegan")
    if resume is not None:
        given = {"data": None if data is None else str(data), **options}
        run_dir, ckpt, values = resume_options(resume, "cyclegan", given, RESUMABLE_OVERRIDES)
        opts = CycleGANOptions.from_values(values)
    else:
        if data is None:
            raise OptionError("--data", "is required (a dataset folder or a named dataset such as mnist-color)")
        run_dir, ckpt, opts = None, None, CycleGANOptions(data=str(data), **options)
        if run is not None and (Path(run) / "config.json").exists():
            raise OptionError("--run", f"{run} already holds a run; continue it with --resume {run} "
                              "or choose another folder")
    opts.check()
    ctx = TrainContext.create(opts.device, opts.precision, opts.compile, opts.channels_last)
    try:
        info = inspect_dataset(opts.data)
        opts = opts.resolved(info)
        if run_dir is None:
            run_dir = ctx.create_run_dir("cyclegan", run, runs_root)
        torch.manual_seed(opts.seed)
        loader = PairLoader(info, opts.size, opts.load_size, opts.batch_size, opts.seed,
                            num_workers=opts.num_workers, world_size=ctx.dist.world_size, rank=ctx.dist.rank,
                            pin_memory=ctx.device.type == "cuda")
        recipe = CycleGAN(opts, ctx, info, loader.steps_per_epoch)
        spe = loader.steps_per_epoch
        total = (opts.epochs + opts.decay_epochs) * spe
        if opts.max_steps is not None:
            total = min(total, opts.max_steps)
        loop = TrainLoop(recipe, loader, ctx, run_dir, total, opts.log_every, on_step_end)
        # Per-rank randomness (pools, dropout) differs between ranks; the weights were broadcast already.
        torch.manual_seed(opts.seed + 1 + ctx.dist.rank)
        if ckpt is not None:
            loop.resume(ckpt)
            console.info(f"resuming {run_dir} at step {loop.step} (epoch {loop.epoch + 1})")
        loop.record_start(
            {"kind": "cyclegan", "options": asdict(opts), "dataset": str(info.root), "channels": info.channels,
             "digits": info.is_digits, "steps_per_epoch": spe, "total_steps": total},
            f"cyclegan on {info.root} ({len(info.files['trainA'])} A / {len(info.files['trainB'])} B images, "
            f"{info.channels['A']}->{info.channels['B']} channels)",
            f"{opts.generator} + {opts.discriminator}, batch {opts.batch_size}, {total} steps")
        return loop.run()
    finally:
        ctx.dist.close()
