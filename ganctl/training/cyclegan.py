"""CycleGAN (Zhu et al. 2017): unpaired A <-> B translation with two generators and a cycle.

Presets:

* ``photo`` (the default): the published recipe: ResNet-9 generators, 70x70 PatchGAN, LSGAN loss, cycle
  weight 10, identity 0.5 x cycle, a pool of 50 fakes, Adam(2e-4, 0.5, 0.999) constant for 100 epochs then
  linearly to 0 over 100 more, batch 1, resize 286 -> random crop 256 -> flip.
* ``quick``: a photo translation in about 15 minutes on a 2-core CPU: 128 px, ResNet-6 and PatchGAN at half
  width, a schedule of 1,200 steps (half constant, half decaying) whatever the dataset's size at a learning
  rate of 3e-4, in bf16 where the CPU runs it natively (``--precision fast``: 0.6x the time of a step).
* ``digits`` (datasets of kind mnist-color / mnist-rotate): sized for 5 minutes on a 2-core CPU; see the
  comment at :data:`PRESETS` and docs/benchmarks.md for the measurements behind each choice.
* ``smoke``: two steps of tiny networks at 32 px, to check data and setup end to end in seconds.

Step order as published: G_A and G_B update with D_A/D_B frozen, then D_A and D_B update on pooled,
detached fakes. ``G_A`` maps A -> B (``--direction a2b``), ``G_B`` maps B -> A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganctl.errors import OptionError
from ganctl.training.losses import GAN_LOSSES
from ganctl.training.options import DATA, SCHEDULE, TrainOptions, option, schedule_steps_option
from ganctl.training.recipe import LinearDecayRecipe, register_recipe

NORMS = ("instance", "batch", "none")


@dataclass
class CycleGANOptions(TrainOptions):
    """Every option of ``ganctl train cyclegan``; field defaults are the published recipe (``photo``)."""

    exclusive = (("steps", "epochs", "decay_epochs"),)

    data: str | None = option(None, "Dataset folder (trainA/ trainB/ [testA/ testB/]) or a named dataset such as "
                              "mnist-color (prepared on first use).", panel=DATA, short="-d")
    size: int | None = option(256, "Training crop size.", panel=DATA, positive=True, derived="the images' size")
    load_size: int | None = option(None, "Resize to this before the random crop.", panel=DATA, positive=True,
                                   derived="size x 286/256 with --augment, else --size")
    augment: bool = option(True, "Random crop (from --load-size) and horizontal flip of every training image; "
                           "without it, images are resized to --size (and held in memory when they fit).",
                           panel=DATA)
    num_workers: int = option(4, "Image decoding processes (at most the CPUs available).", panel=DATA,
                              not_negative=True, resumable=True)
    generator: str = option("resnet_9blocks", "Generator network (a registered generator, e.g. resnet_9blocks, "
                            "resnet_6blocks, unet_256, digit_resnet_grid).", network="generator")
    discriminator: str = option("patchgan", "Discriminator network (e.g. patchgan: 70x70, digit_patchgan, "
                                "digit_global).", network="discriminator")
    ngf: int = option(64, "Generator width (filters of the first layer).", positive=True)
    ndf: int = option(64, "Discriminator width.", positive=True)
    norm: str = option("instance", "The generator's normalisation (as published for every generator, U-Nets "
                       "included).", choices=NORMS)
    dropout: float = option(0.0, "The generator's dropout rate, where it has dropout layers (published: none).",
                            not_negative=True)
    gan_loss: str = option("lsgan", "Adversarial loss.", choices=GAN_LOSSES)
    lambda_cycle: float = option(10.0, "Weight of the cycle-consistency loss.", not_negative=True)
    lambda_identity: float = option(0.5, "Identity loss weight, times --lambda-cycle (off when the domains' "
                                    "channels differ).", not_negative=True)
    pool_size: int = option(50, "Earlier fakes kept for the discriminators.", not_negative=True)
    cycle_noise: float = option(0.0, "Std of Gaussian noise added to each fake before it is translated back in "
                                "the cycle, so a generator cannot hide the original in invisible detail.",
                                not_negative=True)
    epochs: int | None = option(100, "Epochs at constant learning rate.", panel=SCHEDULE, not_negative=True,
                                resumable=True)
    decay_epochs: int | None = option(100, "Then epochs of linear decay to 0.", panel=SCHEDULE, not_negative=True,
                                      resumable=True)
    steps: int | None = schedule_steps_option()
    batch_size: int = option(1, "Pairs per step (per process).", panel=SCHEDULE, short="-b", positive=True)
    lr: float = option(2e-4, "Adam learning rate.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.5, "Adam beta1.", panel=SCHEDULE, not_negative=True)

    def check_more(self) -> None:
        """--steps, or --epochs plus --decay-epochs, at least 1; --load-size not below --size."""
        if not self.steps and (self.epochs or 0) + (self.decay_epochs or 0) <= 0:
            raise OptionError("--epochs", "--epochs plus --decay-epochs must be at least 1")
        if self.load_size is not None and self.size is not None and self.load_size < self.size:
            raise OptionError("--load-size", f"{self.load_size} is smaller than --size {self.size}")


# The digits preset is sized for 5 minutes on a 2-core CPU; docs/benchmarks.md has the measurements:
# - a one-score discriminator (digit_global) learns "this digit in this colour" where a PatchGAN hardly does;
# - a generator with a global branch (digit_resnet_grid) sets one colour for the whole digit, decided from
#   a 4x4 grid of its bottleneck (where the strokes are: which digit it is);
# - noise on the fakes inside the cycle stops G_B from hiding the colour in its gray output for G_A to read
#   back, so G_A has to learn colour from the digit's shape (what it meets on real gray digits);
# - cycle weight 20, lr 1e-3 and a linear-decay second epoch: colour precise enough to tell close hues apart;
# - no augmentation: the digits are centred and small; they are held in memory.
# The quick preset shows a real photo translation after about 15 minutes on a 2-core CPU, whatever the
# dataset's size (a schedule in steps): the published losses and schedule shape at 128 px with ResNet-6 and
# half-width networks, bf16 on CPUs that run it natively, and a learning rate of 3e-4 instead of 2e-4 (in 1,200
# steps photo -> Monet was still learning; identity loss off instead, to afford more steps, lost the content).
# docs/benchmarks.md has its domain accuracy and content SSIM on horse2zebra and monet2photo (and why the crops
# are taken from images resized to 143, not 286 px).
PRESETS: dict[str, dict[str, Any]] = {
    "photo": {},
    "quick": dict(size=128, generator="resnet_6blocks", ngf=32, ndf=32, steps=1200, lr=3e-4, precision="fast",
                  num_workers=2, log_every=25),
    "digits": dict(epochs=1, decay_epochs=1, batch_size=16, size=None, augment=False, generator="digit_resnet_grid",
                   discriminator="digit_global", ngf=8, ndf=32, lr=1e-3, lambda_cycle=20.0, cycle_noise=0.2,
                   num_workers=0, log_every=25),
    "smoke": dict(max_steps=2, epochs=1, decay_epochs=0, batch_size=2, size=32, augment=False,
                  generator="digit_resnet_grid", discriminator="digit_global", ngf=4, ndf=4, num_workers=0,
                  log_every=1, samples=2),
}


@register_recipe
class CycleGAN(LinearDecayRecipe):
    """The CycleGAN recipe: four networks, two optimisers, two image pools, one ``train_step``."""

    name = "cyclegan"
    summary = "CycleGAN: unpaired A <-> B translation (the published recipe; a CPU-sized digits preset)."
    help = """Train a CycleGAN (unpaired A <-> B translation) with the published recipe.

    Presets: photo (the published recipe, the default), quick (a photo translation in about 15 minutes on a
    laptop CPU: 128 px, smaller networks, 1,200 steps, bf16 where the CPU runs it natively) and digits (small
    networks and a schedule sized for a laptop CPU; chosen automatically for mnist-color and mnist-rotate).
    Ctrl-C saves a checkpoint; [bold]--resume RUN[/] continues at the same step. Multi-GPU:
    [bold]torchrun --nproc-per-node N -m ganctl train cyclegan ...[/]

    Example: [bold]ganctl train cyclegan --data mnist-color[/]
    """
    options = CycleGANOptions
    presets = PRESETS
    presets_by_kind = {"mnist-color": "digits", "mnist-rotate": "digits"}
    data_kind = "unpaired"
    data_help = "a dataset folder or a named dataset such as mnist-color"

    @classmethod
    def find_data(cls, data: str) -> Any:
        """The dataset's A/B folders (:class:`ganctl.data.domains.DomainFolders`)."""
        from ganctl.data.domains import inspect_domain_folders

        return inspect_domain_folders(data)

    def resolve(self) -> None:
        """Size from the images when the preset leaves it open; the load size from the size."""
        from ganctl import console

        size = self.opts.size or self.data.image_size
        load_size = self.opts.load_size or (round(size * 286 / 256) if self.opts.augment else size)
        if size > 2 * self.data.image_size and self.ctx.dist.is_main:
            console.info(f"the images are {self.data.image_size} px but training runs at {size} px (upscaled); "
                         f"--size {self.data.image_size} trains at their own size")
        self.resolve_options(size=size, load_size=load_size)

    def batches(self) -> Any:
        """(A, B) batches: decoded once into memory without augmentation (when they fit), else read per batch."""
        from ganctl.training.data import unpaired_batches

        dist = self.ctx.dist
        return unpaired_batches(self.data, self.data.channels, self.opts, dist.world_size, dist.rank,
                                pin_memory=self.ctx.device.type == "cuda")

    def build(self, steps_per_epoch: int) -> None:
        """G_A, G_B, D_A, D_B; Adam for both generators and for both discriminators; linear decay; pools."""
        from ganctl import console
        from ganctl.models import accepts, model_spec
        from ganctl.training.losses import GANLoss
        from ganctl.training.pool import ImagePool

        o, ca, cb = self.opts, self.data.channels["A"], self.data.channels["B"]
        d_extra = {"image_size": o.size} if accepts(o.discriminator, "image_size") else {}  # one-score Ds
        # Said explicitly where the generator takes them: U-Nets default to pix2pix's batch norm and dropout.
        g_extra = {k: v for k, v in (("norm", o.norm), ("dropout", o.dropout)) if accepts(o.generator, k)}
        if o.dropout and "dropout" not in g_extra:
            raise OptionError("--dropout", f"{o.generator} has no dropout layers")
        self.build_networks({
            "G_A": model_spec(o.generator, in_channels=ca, out_channels=cb, ngf=o.ngf, **g_extra),
            "G_B": model_spec(o.generator, in_channels=cb, out_channels=ca, ngf=o.ngf, **g_extra),
            "D_A": model_spec(o.discriminator, in_channels=cb, ndf=o.ndf, **d_extra),  # judges domain B (G_A's output)
            "D_B": model_spec(o.discriminator, in_channels=ca, ndf=o.ndf, **d_extra),
        })
        multiple = self.networks["G_A"].size_multiple
        if o.size % multiple:
            raise OptionError("--size", f"{o.size} is not a multiple of {multiple}, which {o.generator} needs")
        self.check_input_size("D_A", cb, o.size, "--discriminator")
        self.use_identity = o.lambda_identity > 0 and ca == cb
        if o.lambda_identity > 0 and ca != cb and self.ctx.dist.is_main:
            console.info(f"identity loss off: domain A has {ca} channel(s), B has {cb}")
        self.optimizers = {"G": self.adam("G_A", "G_B"), "D": self.adam("D_A", "D_B")}
        self.schedulers = self.decaying(steps_per_epoch)
        seed = o.seed * 1000 + 2 * self.ctx.dist.rank
        self.pools = {"fake_A": ImagePool(o.pool_size, seed=seed), "fake_B": ImagePool(o.pool_size, seed=seed + 1)}
        self.gan = GANLoss(o.gan_loss)
        self.fixed: dict[str, Any] | None = None

    def _noisy(self, fake: Any) -> Any:
        """``fake`` plus Gaussian noise of std ``--cycle-noise`` on its way back through the cycle."""
        import torch

        return fake + self.opts.cycle_noise * torch.randn_like(fake) if self.opts.cycle_noise else fake

    def _d_loss(self, netD: Any, real: Any, fake: Any) -> Any:
        loss = self.gan.discriminator(netD(real), netD(fake))
        penalty = self.gan.gradient_penalty(netD, real, fake)
        return loss if penalty is None else loss + penalty

    def train_step(self, batch: tuple[Any, Any]) -> dict[str, Any]:
        """One published CycleGAN iteration on a batch of (A, B); returns the detached losses."""
        import torch
        import torch.nn.functional as F

        real_A, real_B = batch
        G_A, G_B, D_A, D_B = (self.run_nets[k] for k in ("G_A", "G_B", "D_A", "D_B"))
        o, prec, opt_G, opt_D = self.opts, self.ctx.precision, self.optimizers["G"], self.optimizers["D"]
        with self.frozen("D_A", "D_B"):
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
                    weight = o.lambda_cycle * o.lambda_identity
                    loss_idt_A = F.l1_loss(G_A(real_B).float(), real_B.float()) * weight
                    loss_idt_B = F.l1_loss(G_B(real_A).float(), real_A.float()) * weight
                else:
                    loss_idt_A = loss_idt_B = torch.zeros((), device=real_A.device)
                loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
            opt_G.zero_grad(set_to_none=True)
            prec.backward(loss_G)
            self.ctx.dist.average_gradients(self.networks["G_A"], self.networks["G_B"])
            prec.step(opt_G)

        opt_D.zero_grad(set_to_none=True)
        with prec.autocast():
            loss_D_A = self._d_loss(D_A, real_B, self.pools["fake_B"].query(fake_B))
            loss_D_B = self._d_loss(D_B, real_A, self.pools["fake_A"].query(fake_A))
        prec.backward(loss_D_A + loss_D_B)
        self.ctx.dist.average_gradients(self.networks["D_A"], self.networks["D_B"])
        prec.step(opt_D)
        prec.update()
        losses = {"loss_G": loss_G, "loss_D_A": loss_D_A, "loss_D_B": loss_D_B, "loss_cycle_A": loss_cycle_A,
                  "loss_cycle_B": loss_cycle_B, "loss_idt_A": loss_idt_A, "loss_idt_B": loss_idt_B,
                  "loss_G_A": loss_G_A, "loss_G_B": loss_G_B}
        return {k: v.detach() for k, v in losses.items()}

    def sample_rows(self) -> list[Any]:
        """Rows real A | fake B | rec A | real B | fake A | rec B for fixed test images."""
        from ganctl.training.data import fixed_test_images

        if self.fixed is None:
            self.fixed = fixed_test_images(self.data, self.data.channels, self.opts.size, self.opts.samples)
        G_A, G_B = self.networks["G_A"], self.networks["G_B"]
        a, b = (self.ctx.to_device(self.fixed[k]) for k in ("A", "B"))
        with self.ctx.precision.autocast():
            fake_b, fake_a = G_A(a), G_B(b)
            rec_a, rec_b = G_B(fake_b), G_A(fake_a)
        return [a, fake_b, rec_a, b, fake_a, rec_b]

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``translate`` rebuilds the generators from."""
        return {"kind": self.name, "networks": self.specs, "channels": dict(self.data.channels),
                "image_size": self.opts.size, "dataset": self.data.name, "gan_loss": self.opts.gan_loss}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        o = self.opts
        return f"cyclegan on {self.data.describe()}", f"{o.generator} + {o.discriminator}, batch {o.batch_size}"

    def run_record(self) -> dict[str, Any]:
        """The dataset folder and the domains' channels."""
        return {"dataset": str(self.data.root), "channels": dict(self.data.channels)}

    def extra_state(self) -> dict[str, Any]:
        """The two image pools."""
        return {"pools": {k: p.state_dict() for k, p in self.pools.items()}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the image pools onto the training device."""
        for k, pool_state in (state.get("pools") or {}).items():
            self.pools[k].load_state_dict(pool_state, device=self.ctx.device)

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: both directions on the test split: FID/KID, digit/colour accuracy, SSIM/PSNR."""
        from ganctl.metrics.eval_cyclegan import evaluate_cyclegan

        return evaluate_cyclegan(run)
