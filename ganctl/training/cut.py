"""CUT and FastCUT (Park, Efros, Zhang, Zhu, ECCV 2020): one-sided unpaired A -> B translation.

One generator and one discriminator; the content of the input is kept by PatchNCE instead of a second
generator and a cycle: features of the translation, read by the generator's own encoder at five layers (the
input, the two downsampling convolutions, the first and the fifth residual block), go through a 2-layer MLP
head per layer (``F``, L2-normalised) at 256 sampled locations, and each must match the input's feature at
the same location against the other 255 locations of the same image (temperature 0.07).

* ``--mode cut``: lambda_NCE 1, plus the identity PatchNCE on B images (G(B) should keep B);
* ``--mode fastcut``: lambda_NCE 10, no identity term, flip-equivariance (half the batches are flipped
  before G and the translation's features flipped back).

Presets: ``photo`` = the published setting (ResNet-9, 70x70 PatchGAN, LSGAN, Adam 2e-4 (0.5, 0.999), batch 1,
crop 256 from 286, 200 + 200 epochs); ``digits`` = sized for a CPU, like cyclegan's; ``smoke``. Per step D
updates first, then G and F with D frozen. The generator maps like to like: when the domains' channels
differ (gray A, colour B) both are read with the larger count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganctl.errors import OptionError
from ganctl.training.losses import GAN_LOSSES
from ganctl.training.options import DATA, SCHEDULE, TrainOptions, option
from ganctl.training.recipe import LinearDecayRecipe, register_recipe

MODES = ("cut", "fastcut")


@dataclass
class CUTOptions(TrainOptions):
    """Every option of ``ganctl train cut``; field defaults are the published CUT (``photo``)."""

    data: str | None = option(None, "Dataset folder (trainA/ trainB/ [testA/ testB/]) or a named dataset such as "
                              "horse2zebra or mnist-color (prepared on first use).", panel=DATA, short="-d")
    size: int | None = option(256, "Training crop size.", panel=DATA, positive=True, derived="the images' size")
    load_size: int | None = option(None, "Resize to this before the random crop.", panel=DATA, positive=True,
                                   derived="size x 286/256 with --augment, else --size")
    augment: bool = option(True, "Random crop (from --load-size) and horizontal flip of every training image; "
                           "without it, images are resized to --size (and held in memory when they fit).",
                           panel=DATA)
    num_workers: int = option(4, "Image decoding processes (at most the CPUs available).", panel=DATA,
                              not_negative=True, resumable=True)
    mode: str = option("cut", "cut (PatchNCE 1 + identity PatchNCE) or fastcut (PatchNCE 10, flip "
                       "equivariance, no identity term).", choices=MODES)
    generator: str = option("resnet_9blocks", "Generator network (a registered ResNet generator, e.g. "
                            "resnet_9blocks, resnet_6blocks, digit_resnet_grid).", network="generator")
    discriminator: str = option("patchgan", "Discriminator network (e.g. patchgan: 70x70, digit_global).",
                                network="discriminator")
    ngf: int = option(64, "Generator width (filters of the first layer).", positive=True)
    ndf: int = option(64, "Discriminator width.", positive=True)
    gan_loss: str = option("lsgan", "Adversarial loss.", choices=GAN_LOSSES)
    lambda_gan: float = option(1.0, "Weight of the adversarial loss.", not_negative=True)
    pool_size: int = option(0, "Earlier fakes kept for the discriminator (published CUT: none).", not_negative=True)
    lambda_nce: float | None = option(None, "Weight of the PatchNCE loss.", not_negative=True,
                                      derived="1 for cut, 10 for fastcut")
    nce_idt: bool | None = option(None, "Identity PatchNCE on B images.", derived="on for cut, off for fastcut")
    flip_equivariance: bool | None = option(None, "Flip half the batches before G and the translation's features "
                                            "back.", derived="off for cut, on for fastcut")
    num_patches: int = option(256, "Patch locations sampled per layer and image for PatchNCE.", positive=True)
    nce_temperature: float = option(0.07, "Temperature of PatchNCE.", positive=True)
    head_units: int = option(256, "Width of the MLP heads that project patch features.", positive=True)
    epochs: int = option(200, "Epochs at constant learning rate.", panel=SCHEDULE, not_negative=True,
                         resumable=True)
    decay_epochs: int = option(200, "Then epochs of linear decay to 0.", panel=SCHEDULE, not_negative=True,
                               resumable=True)
    batch_size: int = option(1, "Pairs per step (per process).", panel=SCHEDULE, short="-b", positive=True)
    lr: float = option(2e-4, "Adam learning rate.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.5, "Adam beta1.", panel=SCHEDULE, not_negative=True)

    def check_more(self) -> None:
        """--epochs plus --decay-epochs at least 1; --load-size not below --size."""
        if self.epochs + self.decay_epochs <= 0:
            raise OptionError("--epochs", "--epochs plus --decay-epochs must be at least 1")
        if self.load_size is not None and self.size is not None and self.load_size < self.size:
            raise OptionError("--load-size", f"{self.load_size} is smaller than --size {self.size}")


# The digits preset: batch 32 (measured over three seeds against batch 16 in docs/benchmarks.md: the colour of
# the worst seed 84.5 % -> 89.6 %, no seed losing digits, and half the steps: 5.2 min on 2 cores).
PRESETS: dict[str, dict[str, Any]] = {
    "photo": {},
    "digits": dict(epochs=1, decay_epochs=2, batch_size=32, size=None, augment=False, generator="digit_resnet_grid",
                   discriminator="digit_global", ngf=8, ndf=32, lr=1e-3, num_patches=32, head_units=64,
                   nce_idt=False, pool_size=50, num_workers=0, log_every=25),
    "smoke": dict(max_steps=2, epochs=1, decay_epochs=0, batch_size=2, size=32, augment=False,
                  generator="digit_resnet_grid", discriminator="digit_global", ngf=4, ndf=4, num_patches=16,
                  head_units=16, num_workers=0, log_every=1, samples=2),
}


@register_recipe
class CUT(LinearDecayRecipe):
    """The CUT recipe: G (A -> B), D (judges B), F (PatchNCE heads); D step, then G and F with D frozen."""

    name = "cut"
    summary = "CUT / FastCUT: one-sided unpaired A -> B translation with a patch-wise contrastive loss."
    help = """Train CUT or FastCUT (contrastive unpaired translation, A -> B) with the published setting.

    One generator and one discriminator; PatchNCE keeps the input's content. --mode fastcut trades some quality
    for speed. Presets: photo (published, the default) and digits (sized for a laptop CPU; chosen for
    mnist-color and mnist-rotate). Translate with [bold]ganctl translate --model RUN[/] (A -> B only).

    Example: [bold]ganctl train cut --data mnist-color[/]
    """
    options = CUTOptions
    presets = PRESETS
    presets_by_kind = {"mnist-color": "digits", "mnist-rotate": "digits"}
    data_kind = "unpaired"
    data_help = "a dataset folder or a named dataset such as horse2zebra"

    @classmethod
    def find_data(cls, data: str) -> Any:
        """The dataset's A/B folders (:class:`ganctl.data.domains.DomainFolders`)."""
        from ganctl.data.domains import inspect_domain_folders

        return inspect_domain_folders(data)

    def resolve(self) -> None:
        """Size, load size and the --mode defaults; the channels both domains are read with."""
        from ganctl import console

        o, d = self.opts, self.data
        channels = max(d.channels["A"], d.channels["B"])
        self.channels = {"A": channels, "B": channels}
        if d.channels["A"] != d.channels["B"] and self.ctx.dist.is_main:
            console.info(f"domain A has {d.channels['A']} channel(s), B has {d.channels['B']}: CUT's generator "
                         f"maps like to like, so both are read with {channels}")
        size = o.size or d.image_size
        fast = o.mode == "fastcut"
        self.resolve_options(
            size=size, load_size=o.load_size or (round(size * 286 / 256) if o.augment else size),
            lambda_nce=o.lambda_nce if o.lambda_nce is not None else (10.0 if fast else 1.0),
            nce_idt=o.nce_idt if o.nce_idt is not None else not fast,
            flip_equivariance=o.flip_equivariance if o.flip_equivariance is not None else fast)

    def batches(self) -> Any:
        """(A, B) batches, as cyclegan's."""
        from ganctl.training.data import unpaired_batches

        dist = self.ctx.dist
        return unpaired_batches(self.data, self.channels, self.opts, dist.world_size, dist.rank,
                                pin_memory=self.ctx.device.type == "cuda")

    def build(self, steps_per_epoch: int) -> None:
        """G and D, then F sized from G's encoder features; Adam for each; linear decay."""
        import torch

        from ganctl.models import accepts, create_model, model_spec
        from ganctl.training.losses import GANLoss
        from ganctl.training.pool import ImagePool

        o, c = self.opts, self.channels["A"]
        d_extra = {"image_size": o.size} if accepts(o.discriminator, "image_size") else {}
        specs = {"G": model_spec(o.generator, in_channels=c, out_channels=c, ngf=o.ngf),
                 "D": model_spec(o.discriminator, in_channels=c, ndf=o.ndf, **d_extra)}
        generator = create_model(**specs["G"])
        if not hasattr(generator, "encode_features"):
            raise OptionError("--generator", f"{o.generator} has no encoder features for PatchNCE; use a ResNet "
                                             "generator (resnet_9blocks, resnet_6blocks, digit_resnet, ...)")
        with torch.no_grad():  # the heads' input widths: one feature map per tapped layer
            widths = [f.shape[1] for f in generator.encode_features(torch.zeros(1, c, o.size, o.size))]
        specs["F"] = model_spec("patch_mlp", channels=widths, units=o.head_units)
        self.build_networks(specs)
        multiple = self.networks["G"].size_multiple
        if o.size % multiple:
            raise OptionError("--size", f"{o.size} is not a multiple of {multiple}, which {o.generator} needs")
        self.check_input_size("D", c, o.size, "--discriminator")
        self.optimizers = {"G": self.adam("G"), "D": self.adam("D"), "F": self.adam("F")}
        self.schedulers = self.decaying(steps_per_epoch)
        self.gan = GANLoss(o.gan_loss)
        self.pool = ImagePool(o.pool_size, seed=o.seed * 1000 + self.ctx.dist.rank)
        self.fixed: dict[str, Any] | None = None

    def _nce(self, source: Any, translation: Any, flipped: bool) -> Any:
        """PatchNCE between ``source`` and its ``translation``, averaged over the tapped layers."""
        import torch

        from ganctl.training.losses import patch_nce_loss

        encoder, F, o = self.networks["G"].encode_features, self.run_nets["F"], self.opts
        query = encoder(translation)
        if flipped:
            query = [q.flip(3) for q in query]
        with torch.no_grad():  # the keys get no gradient (PatchNCE detaches them): no graph to keep
            key = encoder(source)
        key_proj, ids = F(key, o.num_patches)
        query_proj, _ = F(query, o.num_patches, ids)
        losses = [patch_nce_loss(q, k, source.shape[0], o.nce_temperature) for q, k in zip(query_proj, key_proj)]
        return torch.stack(losses).mean()

    def train_step(self, batch: tuple[Any, Any]) -> dict[str, Any]:
        """One CUT iteration on a batch of (A, B); returns the detached losses."""
        import torch

        real_A, real_B = batch
        G, D = self.run_nets["G"], self.run_nets["D"]
        o, prec = self.opts, self.ctx.precision
        opt_G, opt_D, opt_F = self.optimizers["G"], self.optimizers["D"], self.optimizers["F"]
        flipped = bool(o.flip_equivariance) and bool(torch.rand(()) < 0.5)
        if flipped:
            real_A = real_A.flip(3)
        n = real_A.shape[0]
        with prec.autocast():
            out = G(torch.cat([real_A, real_B]) if o.nce_idt else real_A)
        fake_B, idt_B = out[:n], out[n:]

        opt_D.zero_grad(set_to_none=True)
        with prec.autocast():
            judged = self.pool.query(fake_B)  # the new fakes themselves without a pool (detached)
            loss_D, loss_D_real, loss_D_fake = self.gan.discriminator_parts(D(real_B), D(judged))
            penalty = self.gan.gradient_penalty(D, real_B, judged)
            if penalty is not None:
                loss_D = loss_D + penalty
        prec.backward(loss_D)
        self.ctx.dist.average_gradients(self.networks["D"])
        prec.step(opt_D)

        with self.frozen("D"):
            opt_G.zero_grad(set_to_none=True)
            opt_F.zero_grad(set_to_none=True)
            with prec.autocast():
                loss_G_GAN = self.gan.generator(D(fake_B)) * o.lambda_gan
                loss_NCE = self._nce(real_A, fake_B, flipped) * o.lambda_nce
                if o.nce_idt:
                    loss_NCE_Y = self._nce(real_B, idt_B, False) * o.lambda_nce
                    loss_NCE_both = (loss_NCE + loss_NCE_Y) * 0.5
                else:
                    loss_NCE_Y = torch.zeros((), device=real_A.device)
                    loss_NCE_both = loss_NCE
                loss_G = loss_G_GAN + loss_NCE_both
            prec.backward(loss_G)
            self.ctx.dist.average_gradients(self.networks["G"], self.networks["F"])
            prec.step(opt_G)
            prec.step(opt_F)
            prec.update()
        losses = {"loss_G": loss_G, "loss_G_GAN": loss_G_GAN, "loss_NCE": loss_NCE, "loss_NCE_Y": loss_NCE_Y,
                  "loss_D": loss_D, "loss_D_real": loss_D_real, "loss_D_fake": loss_D_fake}
        return {k: v.detach() for k, v in losses.items()}

    def sample_rows(self) -> list[Any]:
        """Rows real A | fake B, then real B | G(B) (the identity the NCE identity term asks for)."""
        from ganctl.training.data import fixed_test_images

        if self.fixed is None:
            self.fixed = fixed_test_images(self.data, self.channels, self.opts.size, self.opts.samples)
        a, b = (self.ctx.to_device(self.fixed[k]) for k in ("A", "B"))
        with self.ctx.precision.autocast():
            return [a, self.networks["G"](a), b, self.networks["G"](b)]

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config that ``translate`` rebuilds G from (A -> B only)."""
        return {"kind": self.name, "networks": self.specs, "channels": dict(self.channels),
                "image_size": self.opts.size, "dataset": self.data.name, "mode": self.opts.mode,
                "gan_loss": self.opts.gan_loss}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        o = self.opts
        return (f"{o.mode} on {self.data.describe()}",
                f"{o.generator} + {o.discriminator}, lambda_NCE {o.lambda_nce:g}, batch {o.batch_size}")

    def run_record(self) -> dict[str, Any]:
        """The dataset folder and the channels the domains are read with."""
        return {"dataset": str(self.data.root), "channels": dict(self.channels)}

    def extra_state(self) -> dict[str, Any]:
        """The image pool (empty unless --pool-size)."""
        return {"pool": self.pool.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the image pool onto the training device."""
        if "pool" in state:
            self.pool.load_state_dict(state["pool"], device=self.ctx.device)

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: A -> B on the test split, as for cyclegan (FID/KID, digit/colour accuracy, ...)."""
        from ganctl.metrics.eval_cyclegan import evaluate_cyclegan

        return evaluate_cyclegan(run, directions=("a2b",))
