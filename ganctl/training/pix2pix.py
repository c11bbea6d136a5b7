"""pix2pix (Isola et al. 2017): paired A -> B translation, a U-Net judged by a PatchGAN conditioned on its input.

Presets:

* ``photo`` (the default): the published recipe: U-Net-256 with dropout 0.5 and batch norm, a 70x70
  PatchGAN with batch norm on input and output concatenated, vanilla GAN loss + 100 x L1, Adam(2e-4, 0.5,
  0.999), batch 1, resize 286 -> random crop 256 -> flip (the same for both images of a pair), 100 epochs
  at a constant learning rate, then 100 of linear decay to 0.
* ``small``: images at their own size (a multiple of 32: CIFAR-10's 32 px, 64 or 128 px sets) with the U-Net
  that size suits, batch 16, 10 + 10 epochs: the published losses and networks, scaled for small images.
* ``smoke``: two steps of tiny networks at 32 px, to check data and setup end to end in seconds.

The data are pairs (:mod:`ganctl.data.pairs`): ``trainA/`` and ``trainB/`` with the same file names, or
``train/`` of side-by-side A|B images; ``--direction BtoA`` makes B the input. One step is the conditional-GAN
step colorize shares (:mod:`ganctl.training.conditional`). ``ganctl translate`` runs the generator the way
the paper tests it: dropout on and batch norm on each image's own statistics (:mod:`ganctl.translate.test_mode`;
``--eval-mode`` for running statistics); the run records it as ``test_mode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganctl.errors import OptionError
from ganctl.training.conditional import (
    TEST_MODE,
    TEST_MODE_NOTE,
    conditional_discriminator,
    conditional_gan_step,
    unet_for_size,
)
from ganctl.training.losses import GAN_LOSSES
from ganctl.training.options import DATA, SCHEDULE, TrainOptions, option
from ganctl.training.recipe import LinearDecayRecipe, register_recipe

DIRECTIONS = ("AtoB", "BtoA")


@dataclass
class Pix2PixOptions(TrainOptions):
    """Every option of ``ganctl train pix2pix``; field defaults are the published recipe (``photo``)."""

    data: str | None = option(None, "Paired data: a dataset folder whose trainA/ and trainB/ hold the same file "
                              "names, a folder of side-by-side A|B images in train/ [val/ test/], or a named "
                              "dataset such as facades.", panel=DATA, short="-d")
    direction: str = option("AtoB", "AtoB learns A -> B; BtoA learns B -> A (for side-by-side images: the right "
                            "half is the input).", panel=DATA, choices=DIRECTIONS)
    size: int | None = option(256, "Training crop size.", panel=DATA, positive=True, derived="the images' size")
    load_size: int | None = option(None, "Resize both images of a pair to this, then take the same random --size "
                                   "crop of each.", panel=DATA, positive=True,
                                   derived="size x 286/256 with --augment, else --size")
    augment: bool = option(True, "Random crop (from --load-size) and horizontal flip, the same for both images of a "
                           "pair; without it, images are resized to --size.", panel=DATA)
    num_workers: int = option(4, "Image decoding processes (at most the CPUs available).", panel=DATA,
                              not_negative=True, resumable=True)
    generator: str | None = option("unet_256", "Generator network (a U-Net: unet_32, unet_64, unet_128, unet_256; "
                                   "or another registered generator).", network="generator",
                                   derived="the largest U-Net --size suits")
    discriminator: str = option("patchgan", "Discriminator on input and output concatenated (patchgan with "
                                "--n-layers 3: 70x70 patches).", network="discriminator")
    ngf: int = option(64, "Generator width (filters of the first layer).", positive=True)
    ndf: int = option(64, "Discriminator width.", positive=True)
    n_layers: int = option(3, "Discriminator depth (3: 70x70 patches).", positive=True)
    dropout: float = option(0.5, "Dropout in the U-Net's three innermost up-levels (pix2pix's only noise).",
                            not_negative=True)
    gan_loss: str = option("vanilla", "Adversarial loss.", choices=GAN_LOSSES)
    lambda_l1: float = option(100.0, "Weight of the L1 loss between output and target.", not_negative=True)
    epochs: int = option(100, "Epochs at constant learning rate.", panel=SCHEDULE, not_negative=True,
                         resumable=True)
    decay_epochs: int = option(100, "Then epochs of linear decay to 0.", panel=SCHEDULE, not_negative=True,
                               resumable=True)
    batch_size: int = option(1, "Pairs per step (per process).", panel=SCHEDULE, short="-b", positive=True)
    lr: float = option(2e-4, "Adam learning rate.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.5, "Adam beta1.", panel=SCHEDULE, not_negative=True)

    def check_more(self) -> None:
        """Dropout below 1; --epochs plus --decay-epochs at least 1; --load-size not below --size."""
        if self.dropout >= 1:
            raise OptionError("--dropout", f"must be below 1, got {self.dropout}")
        if self.epochs + self.decay_epochs <= 0:
            raise OptionError("--epochs", "--epochs plus --decay-epochs must be at least 1")
        if self.load_size is not None and self.size is not None and self.load_size < self.size:
            raise OptionError("--load-size", f"{self.load_size} is smaller than --size {self.size}")


PRESETS: dict[str, dict[str, Any]] = {
    "photo": {},
    "small": dict(size=None, generator=None, batch_size=16, epochs=10, decay_epochs=10, num_workers=2, log_every=100),
    "smoke": dict(max_steps=2, size=32, generator="unet_32", augment=False, ngf=8, ndf=8, n_layers=2, batch_size=2,
                  epochs=1, decay_epochs=0, num_workers=0, log_every=1, samples=2),
}


@register_recipe
class Pix2Pix(LinearDecayRecipe):
    """The pix2pix recipe: U-Net G (input -> output), conditional PatchGAN D, one Adam each, linear decay."""

    name = "pix2pix"
    summary = "pix2pix: paired A -> B translation (U-Net + conditional PatchGAN, GAN + L1; the published recipe)."
    help = """Train pix2pix: paired A -> B translation (U-Net, conditional PatchGAN, GAN + L1; the published recipe).

    --data holds pairs: trainA/ and trainB/ with the same file names (what ganctl prepare writes), or train/,
    val/ and test/ of side-by-side A|B images as the reference publishes them. Presets: photo (the published
    recipe, the default) and small (images at their own size, for 32 to 128 px sets such as cifar10).
    [bold]ganctl translate[/] runs the model as the paper tests it: dropout on and batch norm on each image's
    own statistics ([bold]--eval-mode[/]: running statistics, no dropout).

    Example: [bold]ganctl train pix2pix --data facades --direction BtoA[/]
    """
    options = Pix2PixOptions
    presets = PRESETS
    presets_by_kind = {"cifar10": "small"}
    data_kind = "paired"
    data_help = "paired images: a dataset folder (trainA/ trainB/ with the same names) or side-by-side images"

    @classmethod
    def find_data(cls, data: str) -> Any:
        """The training and test pairs (:class:`ganctl.data.pairs.PairedImages`)."""
        from ganctl.data.pairs import find_pairs

        return find_pairs(data)

    @property
    def sides(self) -> tuple[str, str]:
        """(input, target) domains: ("A", "B") for AtoB."""
        return ("A", "B") if self.opts.direction == "AtoB" else ("B", "A")

    def resolve(self) -> None:
        """Size from the images when the preset leaves it open, the load size from the size, the U-Net from the size."""
        from ganctl import console

        note = self.data.unpaired_note()
        if note and self.ctx.dist.is_main:
            console.warn(note)
        o = self.opts
        size = o.size or self.data.image_size
        generator = o.generator or unet_for_size(size)
        if generator is None:
            raise OptionError("--size", f"{size} is not a multiple of 32, which the U-Nets need")
        load_size = o.load_size or (round(size * 286 / 256) if o.augment else size)
        self.resolve_options(size=size, load_size=load_size, generator=generator)

    def batches(self) -> Any:
        """(input, target) batches read per batch, the same crop and flip on both images of a pair."""
        from ganctl.training.data import AlignedPairs, BatchOrder, FileBatches, Preprocess

        o, dist, (src, dst) = self.opts, self.ctx.dist, self.sides
        order = BatchOrder([len(self.data.train)], o.batch_size, o.seed, dist.world_size, dist.rank)
        pairs = AlignedPairs(self.data.train, (self.data.channels[src], self.data.channels[dst]),
                             Preprocess(size=o.size, load_size=o.load_size, augment=o.augment), swap=src == "B")
        return FileBatches(order, pairs, o.num_workers, pin_memory=self.ctx.device.type == "cuda")

    def build(self, steps_per_epoch: int) -> None:
        """G and D (on input and output concatenated), one Adam each, linear decay, the adversarial loss."""
        from ganctl.models import accepts, model_spec
        from ganctl.training.losses import GANLoss

        o, (src, dst) = self.opts, self.sides
        c_in, c_out = self.data.channels[src], self.data.channels[dst]
        g_extra = {"dropout": o.dropout} if accepts(o.generator, "dropout") else {}
        self.build_networks({
            "G": model_spec(o.generator, in_channels=c_in, out_channels=c_out, ngf=o.ngf, **g_extra),
            "D": conditional_discriminator(o.discriminator, c_in + c_out, o.ndf, o.n_layers),
        })
        multiple = self.networks["G"].size_multiple
        if o.size % multiple:
            raise OptionError("--size", f"{o.size} is not a multiple of {multiple}, which {o.generator} needs")
        self.check_input_size("D", c_in + c_out, o.size, "--discriminator")
        self.optimizers = {"G": self.adam("G"), "D": self.adam("D")}
        self.schedulers = self.decaying(steps_per_epoch)
        self.gan = GANLoss(o.gan_loss)
        self.fixed: tuple[Any, Any] | None = None

    def train_step(self, batch: tuple[Any, Any]) -> dict[str, Any]:
        """One pix2pix step on a batch of (input, target); returns the detached losses."""
        condition, target = batch
        return conditional_gan_step(self, condition, target, self.opts.lambda_l1)

    def sample_rows(self) -> list[Any]:
        """Rows input | output | target for fixed test pairs, the output as ``translate`` makes it (test mode)."""
        import copy

        from ganctl.training.data import fixed_pairs
        from ganctl.translate.test_mode import use_reference_test_mode

        d, (src, dst) = self.data, self.sides
        if self.fixed is None:
            self.fixed = fixed_pairs(d.test or d.train, (d.channels[src], d.channels[dst]), self.opts.size,
                                     self.opts.samples, swap=src == "B")
        condition, target = (self.ctx.to_device(t) for t in self.fixed)
        G = use_reference_test_mode(copy.deepcopy(self.networks["G"]))
        with self.ctx.precision.autocast():
            fake = G(condition)
        return [condition, fake, target]

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``translate`` rebuilds the generator from."""
        return {"kind": self.name, "networks": self.specs, "channels": dict(self.data.channels),
                "direction": self.opts.direction, "image_size": self.opts.size, "dataset": self.data.name,
                "gan_loss": self.opts.gan_loss, "lambda_l1": self.opts.lambda_l1, "test_mode": TEST_MODE}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        o = self.opts
        return (f"pix2pix {o.direction} on {self.data.describe()}",
                f"{o.generator} + {o.discriminator}, batch {o.batch_size}, {o.size}px")

    def run_record(self) -> dict[str, Any]:
        """The dataset folder, its layout and pairs, and how translate runs the model."""
        return {"dataset": str(self.data.root), "layout": self.data.layout, "train_pairs": len(self.data.train),
                "test_pairs": len(self.data.test), "channels": dict(self.data.channels), "test_mode": TEST_MODE_NOTE}

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: the test inputs translated, against their true targets: PSNR, SSIM, L1, FID/KID."""
        from ganctl.metrics.eval_pix2pix import evaluate_pix2pix

        return evaluate_pix2pix(run)
