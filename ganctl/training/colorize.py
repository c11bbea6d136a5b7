"""Colorization in Lab (the U-Net + PatchGAN seed) on the shared training loop.

The generator sees the lightness L and predicts the colour channels a and b (both scaled to [-1, 1],
see :mod:`ganctl.color`); the output image is the input's L with the predicted ab. Two stages:

1. ``--pretrain-epochs N`` / ``--pretrain-steps N``: the U-Net alone, L1 loss on ab (it learns plausible
   but washed-out colours fast);
2. ``--epochs N``: pix2pix's conditional GAN: a PatchGAN judges (L, ab) pairs, vanilla GAN loss, and the
   generator's loss is GAN + ``lambda_l1`` (100) x L1. Per step D updates first, then G with D frozen.

Metrics records carry the same keys in both stages (``loss_G_GAN`` and the ``loss_D*`` are 0 during
pre-training, where ``loss_G`` is the L1 alone). Both stages are one run: the recipe counts its own
steps (saved in every checkpoint), so ``--resume`` continues in whichever stage it stopped. The U-Net
at the end of stage 1 is kept as ``checkpoints/pretrained.safetensors``.

Data: any folder of colour photos (grayscale is made on the fly; gray photos in it are skipped), a
``prepare grayscale`` / ``cifar10`` dataset (its colour ``trainB/``, samples from ``testB/``), or a named set.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from ganctl import console
from ganctl.color import AB_SCALE, lab_normalized_to_rgb, rgb_to_lab_normalized
from ganctl.data.imageio import list_images, open_image
from ganctl.errors import ImageReadError, InputError, OptionError
from ganctl.models import create_model, model_spec
from ganctl.training.context import TrainContext
from ganctl.training.data import Preprocess, load_tensor, resolve_data
from ganctl.training.loop import TrainLoop, TrainResult
from ganctl.training.losses import GANLoss
from ganctl.training.options import (
    TrainOptions,
    check_load_size,
    check_networks,
    check_not_negative,
    check_positive,
    check_precision,
)
from ganctl.training.resuming import resume_options
from ganctl.training.samples import save_sample_grid

KIND = "colorize"
# Options that may change when a run is resumed (the rest must match the run's config).
RESUMABLE_OVERRIDES = {"max_steps", "epochs", "device", "precision", "compile", "num_workers", "log_every"}
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
# Generator per image size: the largest U-Net whose size_multiple divides --size.
_UNET_BY_MULTIPLE = ((256, "unet_256"), (128, "unet_128"), (64, "unet_64"), (32, "unet_32"))


@dataclass
class ColorizeOptions(TrainOptions):
    """Every option of ``ganctl train colorize``; None means "the default for this data"."""

    data: str | None = None
    epochs: int = 20
    pretrain_epochs: int | None = None
    pretrain_steps: int | None = None
    max_steps: int | None = None
    batch_size: int = 16
    size: int | None = None
    load_size: int | None = None
    generator: str | None = None
    discriminator: str = "patchgan"
    ngf: int = 64
    ndf: int = 64
    n_layers: int = 3
    lambda_l1: float = 100.0
    lr: float = 2e-4
    beta1: float = 0.5
    precision: str = "auto"
    compile: bool = False
    channels_last: bool | None = None
    device: str = "auto"
    seed: int = 0
    num_workers: int = 2
    log_every: int = 50
    samples: int = 8

    def resolved(self, native_size: int) -> ColorizeOptions:
        """A copy with size, load size, generator and pre-training length filled in, checked."""
        values = asdict(self)
        if values["size"] is None:
            values["size"] = native_size if native_size % 32 == 0 else 256
        if values["load_size"] is None:
            values["load_size"] = values["size"]
        if values["generator"] is None:
            size = values["size"]
            values["generator"] = next((name for m, name in _UNET_BY_MULTIPLE if size % m == 0), None)
            if values["generator"] is None:
                raise OptionError("--size", f"{size} is not a multiple of 32, which the U-Nets need")
        if values["pretrain_epochs"] is None and values["pretrain_steps"] is None:
            values["pretrain_epochs"] = 5
        out = ColorizeOptions(**values)
        out.check()
        return out

    def check(self) -> None:
        """Refuse values that cannot work, naming the option."""
        check_not_negative({"--epochs": self.epochs, "--pretrain-epochs": self.pretrain_epochs,
                            "--pretrain-steps": self.pretrain_steps, "--lambda-l1": self.lambda_l1,
                            "--num-workers": self.num_workers})
        check_positive({"--batch-size": self.batch_size, "--size": self.size, "--load-size": self.load_size,
                        "--max-steps": self.max_steps, "--ngf": self.ngf, "--ndf": self.ndf,
                        "--n-layers": self.n_layers, "--log-every": self.log_every})
        if not self.lr > 0:
            raise OptionError("--lr", f"must be positive, got {self.lr}")
        if self.pretrain_epochs is not None and self.pretrain_steps is not None:
            raise OptionError("--pretrain-steps", "give either --pretrain-epochs or --pretrain-steps, not both")
        check_load_size(self.load_size, self.size)
        check_precision(self.precision)
        check_networks(self.generator, self.discriminator)


# ----------------------------------------------------------------------------------------- data


@dataclass
class ColorData:
    """The colour photos of a colorize run: training files and the fixed sample files."""

    root: Path
    name: str
    train: list[Path]
    test: list[Path]
    skipped_gray: int = 0


def _is_gray_file(path: Path) -> bool:
    """True when the file's header says it is a grayscale image (cheap: pixels are not decoded)."""
    try:
        with Image.open(path) as img:
            return img.mode in _GRAY_MODES
    except OSError:
        return False  # unreadable files are reported when they are loaded


def find_color_data(data: str | Path) -> ColorData:
    """Colour training photos from ``--data``: a plain folder, an A/B dataset folder (``trainB``) or a name."""
    path = Path(data).expanduser()
    if path.is_dir() and not (path / "trainB").is_dir():
        files = list_images(path)
        colour = [p for p in files if not _is_gray_file(p)]
        if not colour:
            problem = "contains no images" if not files else "contains only grayscale images (nothing to learn from)"
            raise InputError(path, problem)
        return ColorData(root=path, name=path.name, train=colour, test=[], skipped_gray=len(files) - len(colour))
    # A folder with trainB/ is used as it is (trainA/ may be absent); anything else is a dataset name.
    root = path if path.is_dir() else resolve_data(data)
    train = list_images(root / "trainB") if (root / "trainB").is_dir() else []
    if not train:
        raise InputError(root, "has no colour images in trainB/ (a colorize dataset keeps its colour photos there)")
    test = list_images(root / "testB") if (root / "testB").is_dir() else []
    return ColorData(root=root, name=root.name if path.is_dir() else str(data), train=train, test=test)


def native_size(files: list[Path]) -> int:
    """The larger side of the first readable image."""
    for path in files[:16]:
        try:
            return max(open_image(path).size)
        except ImageReadError:
            continue
    raise InputError(files[0].parent, "none of the first images can be read")


class ColorPhotoDataset(Dataset):
    """Reads colour image ``index`` (resize, random crop, flip seeded by the item) as 3 x S x S in [-1, 1].

    An unreadable image is reported once and replaced by the next readable one, so a bad file in a
    folder of photos does not stop a long run.
    """

    def __init__(self, files: list[Path], pre: Preprocess):
        self.files, self.pre = files, pre
        self._reported: set[int] = set()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        index, seed = item
        for k in range(len(self.files)):
            i = (index + k) % len(self.files)
            try:
                return load_tensor(self.files[i], 3, self.pre, random.Random(seed))
            except ImageReadError as exc:
                if i not in self._reported:
                    self._reported.add(i)
                    console.warn(f"{exc} (skipped)")
        raise InputError(self.files[0].parent, "no image in this dataset can be read")


class ColorLoader:
    """Batches of colour images in [-1, 1], in an order fixed by (seed, epoch), resumable at any batch."""

    def __init__(self, files: list[Path], size: int, load_size: int, batch_size: int, seed: int,
                 num_workers: int = 0, world_size: int = 1, rank: int = 0, pin_memory: bool = False):
        self.n, self.batch_size, self.seed = len(files), batch_size, seed
        self.world_size, self.rank = world_size, rank
        self.steps_per_epoch = self.n // (batch_size * world_size)
        if self.steps_per_epoch == 0:
            raise OptionError("--batch-size", f"{batch_size} x {world_size} process(es) is more than the "
                              f"{self.n} training images")
        self.dataset = ColorPhotoDataset(files, Preprocess(size=size, load_size=load_size))
        self.num_workers, self.pin_memory = num_workers, pin_memory

    def _batches(self, epoch: int, start: int) -> list[list[tuple[int, int]]]:
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % (2**63))
        perm = torch.randperm(self.n, generator=g).tolist()
        per_step = self.batch_size * self.world_size
        out = []
        for k in range(start, self.steps_per_epoch):
            first = k * per_step + self.rank * self.batch_size
            salt = (self.seed * 7919 + epoch) * self.n
            out.append([(perm[i], salt + i) for i in range(first, first + self.batch_size)])
        return out

    def epoch(self, epoch: int, start: int = 0) -> Iterator[torch.Tensor]:
        """Batches ``start``, ``start + 1``, ... of ``epoch`` on this rank."""
        loader = DataLoader(self.dataset, batch_sampler=self._batches(epoch, start), num_workers=self.num_workers,
                            pin_memory=self.pin_memory, prefetch_factor=4 if self.num_workers > 0 else None)
        yield from loader


# ----------------------------------------------------------------------------------------- the recipe


class Colorize:
    """The colorize recipe: U-Net G (L -> ab) and PatchGAN D on (L, ab); L1 pre-training, then GAN + L1."""

    kind = KIND

    def __init__(self, opts: ColorizeOptions, ctx: TrainContext, data: ColorData, pretrain_steps: int):
        self.opts, self.ctx, self.data = opts, ctx, data
        self.pretrain_steps = int(pretrain_steps)
        self.specs = {
            "G": model_spec(opts.generator, in_channels=1, out_channels=2, ngf=opts.ngf),
            "D": model_spec(opts.discriminator, in_channels=3, ndf=opts.ndf, n_layers=opts.n_layers, norm="batch"),
        }
        self.networks = {k: ctx.place(create_model(**spec)) for k, spec in self.specs.items()}
        multiple = self.networks["G"].size_multiple
        if opts.size % multiple:
            raise OptionError("--size", f"{opts.size} is not a multiple of {multiple}, which {opts.generator} needs")
        self.run_nets = {k: ctx.fast(net) for k, net in self.networks.items()}
        betas = (opts.beta1, 0.999)
        self.optimizers = {k: ctx.adam(self.networks[k].parameters(), opts.lr, betas) for k in ("G", "D")}
        self.schedulers: dict[str, Any] = {}
        self.gan = GANLoss("vanilla")
        self.steps_done = 0
        self.fixed: torch.Tensor | None = None

    @property
    def in_pretraining(self) -> bool:
        """True while the next step is an L1-only pre-training step."""
        return self.steps_done < self.pretrain_steps

    def _set_d_grad(self, flag: bool) -> None:
        for p in self.networks["D"].parameters():
            p.requires_grad_(flag)

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One step of the current stage on a batch of colour images in [-1, 1]; returns detached losses."""
        G, D = self.run_nets["G"], self.run_nets["D"]
        prec, opt_G, opt_D = self.ctx.precision, self.optimizers["G"], self.optimizers["D"]
        with torch.no_grad():  # the gray input is made here, on the device, in fp32
            light, ab = rgb_to_lab_normalized((batch.float() + 1) / 2)
        zero = torch.zeros((), device=batch.device)
        if self.in_pretraining:
            with prec.autocast():
                loss_l1 = F.l1_loss(G(light).float(), ab)
            opt_G.zero_grad(set_to_none=True)
            prec.backward(loss_l1)
            self.ctx.dist.average_gradients(self.networks["G"])
            prec.step(opt_G)
            prec.update()
            self.steps_done += 1
            return {"loss_G": loss_l1.detach(), "loss_G_GAN": zero, "loss_G_L1": loss_l1.detach(), "loss_D": zero,
                    "loss_D_real": zero, "loss_D_fake": zero}

        with prec.autocast():
            fake_ab = G(light)
        self._set_d_grad(True)
        opt_D.zero_grad(set_to_none=True)
        with prec.autocast():
            pred_fake = D(torch.cat([light, fake_ab.detach()], 1)).float()
            pred_real = D(torch.cat([light, ab], 1)).float()
            loss_D_fake = F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake))
            loss_D_real = F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
            loss_D = 0.5 * (loss_D_fake + loss_D_real)  # halved as in pix2pix: D learns slower than G
        prec.backward(loss_D)
        self.ctx.dist.average_gradients(self.networks["D"])
        prec.step(opt_D)

        self._set_d_grad(False)
        opt_G.zero_grad(set_to_none=True)
        with prec.autocast():
            loss_G_GAN = self.gan.generator(D(torch.cat([light, fake_ab], 1)))
            loss_l1 = F.l1_loss(fake_ab.float(), ab)
            loss_G = loss_G_GAN + self.opts.lambda_l1 * loss_l1
        prec.backward(loss_G)
        self.ctx.dist.average_gradients(self.networks["G"])
        prec.step(opt_G)
        prec.update()
        self._set_d_grad(True)
        self.steps_done += 1
        losses = {"loss_G": loss_G, "loss_G_GAN": loss_G_GAN, "loss_G_L1": loss_l1, "loss_D": loss_D,
                  "loss_D_real": loss_D_real, "loss_D_fake": loss_D_fake}
        return {k: v.detach() for k, v in losses.items()}

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``translate`` rebuilds the generator from."""
        return {"kind": self.kind, "networks": self.specs, "image_size": self.opts.size, "color_space": "lab",
                "ab_scale": AB_SCALE, "channels": {"A": 1, "B": 3}, "dataset": self.data.name,
                "pretrain_steps": self.pretrain_steps, "lambda_l1": self.opts.lambda_l1}

    def extra_state(self) -> dict[str, Any]:
        """The recipe's own step counter (it decides the stage)."""
        return {"steps_done": self.steps_done}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`."""
        self.steps_done = int(state.get("steps_done", 0))

    @torch.no_grad()
    def colorize(self, rgb: torch.Tensor) -> torch.Tensor:
        """Colour images in [-1, 1] -> (gray, colorized) in [-1, 1], with G in eval mode."""
        G = self.networks["G"]
        was_training = G.training
        G.eval()
        try:
            light, _ = rgb_to_lab_normalized((rgb.float() + 1) / 2)
            with self.ctx.precision.autocast():
                fake_ab = G(light)
            fake = lab_normalized_to_rgb(light, fake_ab.float().clamp(-1, 1)) * 2 - 1
        finally:
            G.train(was_training)
        return light.expand(-1, 3, -1, -1), fake

    def write_samples(self, path: Path) -> None:
        """Rows gray input | colorized | true colours for fixed images (test images where there are some)."""
        if self.fixed is None:
            files = (self.data.test or self.data.train)[: self.opts.samples]
            pre = Preprocess(size=self.opts.size, load_size=self.opts.size, crop=False, flip=False)
            self.fixed = torch.stack([load_tensor(p, 3, pre, None) for p in files])
        real = self.ctx.to_device(self.fixed)
        gray, fake = self.colorize(real)
        save_sample_grid([gray, fake, real], path)


# ----------------------------------------------------------------------------------------- entry point


def train_colorize(data: str | Path | None = None, *, run: str | Path | None = None,
                   resume: str | Path | None = None, runs_root: str | Path = "runs",
                   on_step_end: Callable[[int], None] | None = None, **options: Any) -> TrainResult:
    """Train (or resume) a colorization U-Net + PatchGAN on colour photos; returns the result.

    ``options`` are :class:`ColorizeOptions` fields. With ``resume`` (a run folder or its
    ``latest.safetensors``) the run's saved options are used and only :data:`RESUMABLE_OVERRIDES` may
    differ. ``on_step_end(step)`` is called after every step (tests).
    """
    ColorizeOptions.refuse_unknown(options, KIND)
    ckpt = None
    if resume is not None:
        given = {"data": None if data is None else str(data), **options}
        run_dir, ckpt, values = resume_options(resume, KIND, given, RESUMABLE_OVERRIDES)
        opts = ColorizeOptions.from_values(values)
    else:
        if data is None:
            raise OptionError("--data", "is required (a folder of colour photos or a dataset such as cifar10)")
        run_dir, opts = None, ColorizeOptions(data=str(data), **options)
    opts.check()
    ctx = TrainContext.create(opts.device, opts.precision, opts.compile, opts.channels_last)
    try:
        color_data = find_color_data(opts.data)
        if color_data.skipped_gray and ctx.dist.is_main:
            console.info(f"skipped {color_data.skipped_gray} grayscale photo(s) in {color_data.root}")
        opts = opts.resolved(native_size(color_data.train))
        loader = ColorLoader(color_data.train, opts.size, opts.load_size, opts.batch_size, opts.seed,
                             num_workers=opts.num_workers, world_size=ctx.dist.world_size, rank=ctx.dist.rank,
                             pin_memory=ctx.device.type == "cuda")
        spe = loader.steps_per_epoch
        pretrain = opts.pretrain_steps if opts.pretrain_steps is not None else opts.pretrain_epochs * spe
        total = pretrain + opts.epochs * spe
        if opts.max_steps is not None:
            total = min(total, opts.max_steps)
        if total <= 0:
            raise OptionError("--epochs", "nothing to train: no pre-training and no GAN epochs")
        if run_dir is None:
            run_dir = ctx.create_run_dir(KIND, run, runs_root)
        torch.manual_seed(opts.seed)
        recipe = Colorize(opts, ctx, color_data, pretrain)
        loop_ref: list[TrainLoop] = []

        def keep_pretrained() -> None:
            """Save the U-Net as it is at the end of pre-training (once; also when a run stopped right there)."""
            if pretrain > 0 and recipe.steps_done == pretrain:
                loop_ref[0].save("pretrained", with_state=False)

        def step_end(step: int) -> None:
            if pretrain > 0 and recipe.steps_done == pretrain:
                keep_pretrained()
                if step < total and ctx.dist.is_main:
                    console.info(f"L1 pre-training done after {pretrain} steps; adversarial stage from here")
            if on_step_end is not None:
                on_step_end(step)

        loop = TrainLoop(recipe, loader, ctx, run_dir, total, opts.log_every, step_end)
        loop_ref.append(loop)
        torch.manual_seed(opts.seed + 1 + ctx.dist.rank)  # per-rank dropout noise
        if ckpt is not None:
            loop.resume(ckpt)
            stage = "pre-training" if recipe.in_pretraining else "adversarial stage"
            if ctx.dist.is_main:
                console.info(f"resuming {run_dir} at step {loop.step} (epoch {loop.epoch + 1}, {stage})")
            # A Ctrl-C on the last pre-training step stops before the step hook: keep the U-Net now.
            if not (run_dir / "checkpoints" / "pretrained.safetensors").exists():
                keep_pretrained()
        loop.record_start(
            {"kind": KIND, "options": asdict(opts), "dataset": str(color_data.root),
             "train_images": len(color_data.train), "steps_per_epoch": spe, "pretrain_steps": pretrain,
             "total_steps": total},
            f"colorize on {color_data.root} ({len(color_data.train)} colour images, {opts.size}px)",
            f"{opts.generator} + {opts.discriminator}, batch {opts.batch_size}, {pretrain} L1 pre-training + "
            f"{max(0, total - pretrain)} GAN steps")
        return loop.run()
    finally:
        ctx.dist.close()
