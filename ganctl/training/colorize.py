"""Colorization in Lab: a U-Net predicts colour from lightness, judged by a PatchGAN (the colorization seed).

The generator sees the lightness L and predicts the colour channels a and b (both scaled to [-1, 1], see
:mod:`ganctl.color`); the output image is the input's L with the predicted ab. Two stages in one run:

1. ``--pretrain-epochs N`` / ``--pretrain-steps N``: the U-Net alone, L1 loss on ab (it learns plausible
   but washed-out colours fast);
2. ``--epochs N``: pix2pix's conditional GAN: a PatchGAN judges (L, ab) pairs, vanilla GAN loss, and the
   generator's loss is GAN + ``lambda_l1`` (100) x L1. Per step D updates first, then G with D frozen.

Metrics records carry the same keys in both stages (``loss_G_GAN`` and the ``loss_D*`` are 0 during
pre-training, where ``loss_G`` is the L1 alone). The recipe counts its own steps (saved in every
checkpoint), so ``--resume`` continues in whichever stage it stopped. The U-Net at the end of stage 1 is
kept as ``checkpoints/pretrained.safetensors``.

Data: any folder of colour photos (grayscale is made on the fly; gray photos in it are skipped), a
``prepare grayscale`` / ``cifar10`` dataset (its colour ``trainB/``, samples from ``testB/``), or a named set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganctl.errors import OptionError
from ganctl.training.conditional import (
    LOSS_KEYS,
    TEST_MODE,
    TEST_MODE_NOTE,
    conditional_discriminator,
    conditional_gan_step,
    unet_for_size,
)
from ganctl.training.options import DATA, SCHEDULE, TrainOptions, option
from ganctl.training.recipe import Recipe, register_recipe


@dataclass
class ColorizeOptions(TrainOptions):
    """Every option of ``ganctl train colorize``."""

    exclusive = (("pretrain_epochs", "pretrain_steps"),)

    data: str | None = option(None, "A folder of colour photos, a 'prepare grayscale' dataset, or a named set "
                              "(cifar10, flowers).", panel=DATA, short="-d")
    size: int | None = option(None, "Training size in pixels (a multiple of 32).", panel=DATA, positive=True,
                              derived="the images' size when a multiple of 32, else 256")
    load_size: int | None = option(None, "Resize to this, then random-crop --size.", panel=DATA, positive=True,
                                   derived="--size")
    num_workers: int = option(2, "Image decoding processes (at most the CPUs available).", panel=DATA,
                              not_negative=True, resumable=True)
    generator: str | None = option(None, "U-Net generator: unet_32, unet_64, unet_128 or unet_256.",
                                   network="generator", derived="the largest U-Net --size suits")
    discriminator: str = option("patchgan", "Discriminator network.", network="discriminator")
    ngf: int = option(64, "Generator width.", positive=True)
    ndf: int = option(64, "Discriminator width.", positive=True)
    n_layers: int = option(3, "Discriminator depth (3: 70x70 patches).", positive=True)
    lambda_l1: float = option(100.0, "Weight of the L1 loss in the GAN stage.", not_negative=True)
    pretrain_epochs: int | None = option(None, "Epochs of L1-only U-Net pre-training before the GAN stage.",
                                         panel=SCHEDULE, not_negative=True, derived="5 (none with --pretrain-steps)")
    pretrain_steps: int | None = option(None, "Pre-training length in steps instead of epochs.", panel=SCHEDULE,
                                        not_negative=True)
    epochs: int = option(20, "Epochs of the GAN stage.", panel=SCHEDULE, not_negative=True, resumable=True)
    batch_size: int = option(16, "Images per step (per process).", panel=SCHEDULE, short="-b", positive=True)
    lr: float = option(2e-4, "Adam learning rate.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.5, "Adam beta1.", panel=SCHEDULE, not_negative=True)

    def check_more(self) -> None:
        """One pre-training length at most; --load-size not below --size."""
        if self.pretrain_epochs is not None and self.pretrain_steps is not None:
            raise OptionError("--pretrain-steps", "give either --pretrain-epochs or --pretrain-steps, not both")
        if self.load_size is not None and self.size is not None and self.load_size < self.size:
            raise OptionError("--load-size", f"{self.load_size} is smaller than --size {self.size}")


@register_recipe
class Colorize(Recipe):
    """The colorize recipe: U-Net G (L -> ab) and PatchGAN D on (L, ab); L1 pre-training, then GAN + L1."""

    name = "colorize"
    summary = "Colorization: a U-Net in Lab (L -> ab) with a PatchGAN; L1 pre-training, then GAN + L1."
    help = """Train a colorization model: a U-Net predicts colour (Lab ab) from lightness, judged by a PatchGAN.

    Stage 1 pre-trains the U-Net with L1 only; stage 2 adds the adversarial loss (pix2pix). Gray copies are
    made on the fly. Use the model with [bold]ganctl translate[/].

    Example: [bold]ganctl train colorize --data photos/ --size 128 --pretrain-epochs 5 --epochs 20[/]
    """
    options = ColorizeOptions
    presets = {
        "photo": {},
        "smoke": dict(max_steps=2, size=32, ngf=8, ndf=8, n_layers=2, batch_size=2, pretrain_steps=1, epochs=1,
                      num_workers=0, log_every=1, samples=2),
    }
    data_kind = "photos"
    data_help = "a folder of colour photos or a dataset such as cifar10"

    @classmethod
    def find_data(cls, data: str) -> Any:
        """The colour photos (:class:`ganctl.data.domains.ColourPhotos`)."""
        from ganctl.data.domains import find_colour_photos

        return find_colour_photos(data)

    def resolve(self) -> None:
        """Size from the photos, load size from the size, the U-Net from the size, pre-training 5 epochs."""
        from ganctl import console

        if self.data.skipped_gray and self.ctx.dist.is_main:
            console.info(f"skipped {self.data.skipped_gray} grayscale photo(s) in {self.data.root}")
        o = self.opts
        native = self.data.image_size if o.size is None else None
        size = o.size or (native if native % 32 == 0 else 256)
        generator = o.generator or unet_for_size(size)
        if generator is None:
            raise OptionError("--size", f"{size} is not a multiple of 32, which the U-Nets need")
        pretrain_epochs = 5 if o.pretrain_epochs is None and o.pretrain_steps is None else o.pretrain_epochs
        self.resolve_options(size=size, load_size=o.load_size or size, generator=generator,
                             pretrain_epochs=pretrain_epochs)

    def batches(self) -> Any:
        """Colour photos, resized, randomly cropped and flipped, read per batch."""
        from ganctl.training.data import BatchOrder, FileBatches, ImageFiles, Preprocess, SingleImages

        o, dist = self.opts, self.ctx.dist
        order = BatchOrder([len(self.data.train)], o.batch_size, o.seed, dist.world_size, dist.rank)
        photos = ImageFiles(self.data.train, 3, Preprocess(size=o.size, load_size=o.load_size))
        return FileBatches(order, SingleImages(photos), o.num_workers, pin_memory=self.ctx.device.type == "cuda")

    def pretrain_steps(self, steps_per_epoch: int) -> int:
        """Steps of stage 1."""
        o = self.opts
        return o.pretrain_steps if o.pretrain_steps is not None else o.pretrain_epochs * steps_per_epoch

    def total_steps(self, steps_per_epoch: int) -> int:
        """Pre-training then the GAN epochs."""
        return self.pretrain_steps(steps_per_epoch) + self.opts.epochs * steps_per_epoch

    def build(self, steps_per_epoch: int) -> None:
        """The U-Net G and the batch-norm PatchGAN D, one Adam each."""
        from ganctl.models import model_spec
        from ganctl.training.losses import GANLoss

        o = self.opts
        self.pretrain = self.pretrain_steps(steps_per_epoch)
        self.build_networks({
            "G": model_spec(o.generator, in_channels=1, out_channels=2, ngf=o.ngf),
            "D": conditional_discriminator(o.discriminator, 3, o.ndf, o.n_layers),
        })
        multiple = self.networks["G"].size_multiple
        if o.size % multiple:
            raise OptionError("--size", f"{o.size} is not a multiple of {multiple}, which {o.generator} needs")
        self.optimizers = {"G": self.adam("G"), "D": self.adam("D")}
        self.gan = GANLoss("vanilla")
        self.steps_done = 0
        self.fixed: Any = None

    @property
    def in_pretraining(self) -> bool:
        """True while the next step is an L1-only pre-training step."""
        return self.steps_done < self.pretrain

    @property
    def stage(self) -> str | None:
        """The L1 pre-training stage, then the GAN stage (None without pre-training: one kind of step)."""
        if not self.pretrain:
            return None
        return "L1 pre-training" if self.in_pretraining else "GAN"

    def train_step(self, batch: Any) -> dict[str, Any]:
        """One step of the current stage on a batch of colour images in [-1, 1]; returns detached losses.

        The GAN stage is pix2pix's step (:func:`ganctl.training.conditional.conditional_gan_step`) on (L, ab).
        """
        import torch
        import torch.nn.functional as F

        from ganctl.color import rgb_to_lab_normalized

        with torch.no_grad():  # the gray input is made here, on the device, in fp32
            light, ab = rgb_to_lab_normalized((batch.float() + 1) / 2)
        self.steps_done += 1
        if self.steps_done > self.pretrain:
            return conditional_gan_step(self, light, ab, self.opts.lambda_l1)
        prec, opt_G = self.ctx.precision, self.optimizers["G"]
        with prec.autocast():
            loss_l1 = F.l1_loss(self.run_nets["G"](light).float(), ab)
        opt_G.zero_grad(set_to_none=True)
        prec.backward(loss_l1)
        self.ctx.dist.average_gradients(self.networks["G"])
        prec.step(opt_G)
        prec.update()
        zero = torch.zeros((), device=batch.device)
        values = (loss_l1.detach(), zero, loss_l1.detach(), zero, zero, zero)
        return dict(zip(LOSS_KEYS, values))

    def sample_rows(self) -> list[Any]:
        """Rows gray input | colorized | true colours for fixed images (test images where there are some)."""
        from ganctl.color import lab_normalized_to_rgb, rgb_to_lab_normalized
        from ganctl.training.data import fixed_images

        if self.fixed is None:
            self.fixed = fixed_images(self.data.test or self.data.train, 3, self.opts.size, self.opts.samples)
        real = self.ctx.to_device(self.fixed)
        light, _ = rgb_to_lab_normalized((real.float() + 1) / 2)
        with self.ctx.precision.autocast():
            fake_ab = self.networks["G"](light)
        fake = lab_normalized_to_rgb(light, fake_ab.float().clamp(-1, 1)) * 2 - 1
        return [light.expand(-1, 3, -1, -1), fake, real]

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``translate`` rebuilds the generator from."""
        from ganctl.color import AB_SCALE

        return {"kind": self.name, "networks": self.specs, "image_size": self.opts.size, "color_space": "lab",
                "ab_scale": AB_SCALE, "channels": {"A": 1, "B": 3}, "dataset": self.data.name,
                "pretrain_steps": self.pretrain, "lambda_l1": self.opts.lambda_l1, "test_mode": TEST_MODE}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        from ganctl import console

        o = self.opts
        return (f"colorize on {self.data.root} ({len(self.data.train)} colour images, {o.size}px)",
                f"{o.generator} + {o.discriminator}, batch {o.batch_size}, " + (
                    f"the first {console.counted(self.pretrain, 'step')} L1 only"
                    if o.max_steps is None or o.max_steps > self.pretrain else "L1 pre-training only (--max-steps)"))

    def run_record(self) -> dict[str, Any]:
        """The dataset folder, its size, the pre-training length and how translate runs the U-Net."""
        return {"dataset": str(self.data.root), "train_images": len(self.data.train),
                "pretrain_steps": self.pretrain, "test_mode": TEST_MODE_NOTE}

    def extra_state(self) -> dict[str, Any]:
        """The recipe's own step counter (it decides the stage)."""
        return {"steps_done": self.steps_done}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`."""
        self.steps_done = int(state.get("steps_done", 0))

    def on_step_end(self, loop: Any) -> None:
        """At the end of pre-training: keep the U-Net as ``pretrained.safetensors`` and say the GAN stage starts."""
        from ganctl import console

        if self.pretrain > 0 and self.steps_done == self.pretrain:
            loop.save("pretrained", with_state=False)
            if loop.step < loop.total_steps and self.ctx.dist.is_main:
                console.info(f"L1 pre-training done after {self.pretrain} steps; adversarial stage from here")

    def on_resume(self, loop: Any) -> None:
        """Say which stage the run continues in; keep the U-Net if the run stopped right at the end of stage 1."""
        from ganctl import console

        if self.ctx.dist.is_main:
            console.info(f"continuing in the {'pre-training' if self.in_pretraining else 'adversarial'} stage")
        if self.pretrain > 0 and self.steps_done == self.pretrain and \
                not (loop.ckpt_dir / "pretrained.safetensors").exists():
            loop.save("pretrained", with_state=False)

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: test photos made gray and colourised: SSIM/PSNR, colourfulness, FID/KID."""
        from ganctl.metrics.eval_colorize import evaluate_colorize

        return evaluate_colorize(run)
