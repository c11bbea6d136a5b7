"""The photo domain classifier behind ``domain_accuracy`` and ``--features domain``: A vs B of one dataset.

A small CNN (:class:`ganctl.models.classifier.DomainClassifier`) learns to tell the dataset's trainA/ from its
trainB/ images at 64 px, with cross-entropy, Adam and a one-cycle learning rate over a fixed number of steps;
every step sees as many A as B images (one stream per domain), each augmented on the fly (random resized crop,
horizontal flip, brightness/contrast/saturation jitter; kornia, drawing from the seeded and checkpointed torch
RNG). At the end its accuracy is measured on the test split (or a held-out share of train, see
:func:`ganctl.metrics.domain.split_files`) and it is installed in ``$GANCTL_HOME/weights/`` under the dataset's
content key (or ``--out``), where ``eval run`` and ``eval fid --features domain`` look for it; they train one
through this recipe on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganctl.training.classifier import InstalledModel, cross_entropy_step
from ganctl.training.options import DATA, RUN, SCHEDULE, TrainOptions, option, redefault
from ganctl.training.recipe import Recipe, register_recipe

# The options that decide the trained weights: with the training files, they make the cache key.
SETTINGS = ("size", "width", "feature_dim", "steps", "batch_size", "lr", "beta1", "augment", "holdout", "seed")


@dataclass
class DomainClassifierOptions(TrainOptions):
    """Every option of ``ganctl train domain-classifier``."""

    data: str | None = option(None, "Dataset folder (trainA/ trainB/ [testA/ testB/]) or a named dataset.",
                              panel=DATA, short="-d")
    size: int = option(64, "Images are resized to this square size (a multiple of 16).", panel=DATA, positive=True)
    augment: bool = option(True, "Random resized crop (50-100% of the image), horizontal flip, brightness, "
                           "contrast and saturation jitter.", panel=DATA)
    holdout: float = option(0.1, "Without a test split: the share of each training domain held out to measure "
                            "the accuracy.", panel=DATA, positive=True)
    width: int = option(16, "Filters of the first convolution (doubling twice).", positive=True)
    feature_dim: int = option(128, "Size of the pooled features that --features domain uses.", positive=True)
    steps: int = option(600, "Training steps.", panel=SCHEDULE, positive=True)
    batch_size: int = option(16, "Images of each domain per step (per process).", panel=SCHEDULE, short="-b",
                             positive=True)
    lr: float = option(2e-3, "Peak learning rate of the one-cycle schedule.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.9, "Adam beta1.", panel=SCHEDULE, not_negative=True)
    out: str | None = option(None, "Install the trained classifier here.", panel=RUN,
                             derived="$GANCTL_HOME/weights/domain_classifier-<dataset>-<content key>.safetensors")
    overwrite: bool = option(False, "Train even when --out holds a classifier already (it is replaced).", panel=RUN)
    log_every: int = redefault("log_every", 50)

    def check_more(self) -> None:
        """--size a multiple of 16 (four stride-2 blocks); --holdout below 1."""
        from ganctl.errors import OptionError

        if self.size % 16:
            raise OptionError("--size", f"must be a multiple of 16, got {self.size}")
        if self.holdout >= 1:
            raise OptionError("--holdout", f"must be below 1, got {self.holdout}")


@register_recipe
class DomainClassifier(InstalledModel, Recipe):
    """The domain classifier recipe: one CNN, cross-entropy on balanced A/B batches, Adam, one-cycle."""

    name = "domain-classifier"
    summary = "The A-vs-B photo classifier behind eval run's domain_accuracy and --features domain."
    help = """Train the small CNN that tells a dataset's domain A from its domain B (the judge of photo translations).

    [bold]eval run[/] reports the share of translated test images it takes for the target domain
    (domain_accuracy) and [bold]eval fid --features domain[/] uses its features; both train one on first use
    (about two minutes of a 2-core CPU) and keep it in $GANCTL_HOME/weights/, keyed by the training images'
    content and these settings. Its accuracy on the test split (or a held-out share of train) is printed and
    kept with it.

    Example: [bold]ganctl train domain-classifier --data horse2zebra[/]
    """
    options = DomainClassifierOptions
    presets = {"default": {}, "smoke": dict(max_steps=2, steps=2, size=32, width=4, feature_dim=8, batch_size=2,
                                            log_every=1, samples=2)}
    data_kind = "unpaired"
    data_help = "a dataset folder (trainA/ trainB/) or a named dataset"

    @classmethod
    def find_data(cls, data: str) -> Any:
        """The dataset's A/B folders (:class:`ganctl.data.domains.DomainFolders`)."""
        from ganctl.data.domains import inspect_domain_folders

        return inspect_domain_folders(data)

    @staticmethod
    def settings(opts: Any) -> dict[str, Any]:
        """The option values that, with the training files, decide the weights (the cache key's settings)."""
        return {key: getattr(opts, key) for key in SETTINGS}

    @classmethod
    def install_path(cls, opts: Any, folders: Any = None) -> Any:
        """Where the trained classifier goes: ``--out``, or the weights cache under the dataset's content key."""
        from pathlib import Path

        from ganctl.metrics.domain import cache_key, cached_path

        if opts.out:
            return Path(opts.out)
        folders = folders if folders is not None else cls.find_data(str(opts.data))
        return cached_path(folders.name, cache_key(folders.root, folders.files, cls.settings(opts)))

    def resolve(self) -> None:
        """A batch no larger than the larger domain's training images (tiny datasets)."""
        from ganctl.metrics.domain import split_files

        self.train_files, self.test_files, self.measured_on = split_files(self.data.files, self.opts.holdout,
                                                                          self.opts.seed)
        largest = max(len(v) for v in self.train_files.values())
        if self.opts.batch_size * self.ctx.dist.world_size > largest:
            self.resolve_options(batch_size=max(1, largest // self.ctx.dist.world_size))

    def _load(self, files: dict[str, list[Any]], split: str) -> dict[str, Any]:
        """Every image of ``files`` per domain as uint8 N x 3 x size x size (unreadable ones skipped, reported)."""
        import torch

        from ganctl.metrics.domain import to_input
        from ganctl.metrics.evaluation import read_images

        out = {}
        for d, paths in files.items():
            loaded = read_images(paths, "RGB", self.data.root, f"{self.data.root / (split + d)}") if paths else None
            images = loaded.images if loaded else []
            out[d] = to_input(images, self.opts.size).mul_(255).round_().to(torch.uint8)
        return out

    def batches(self) -> Any:
        """(A, B) batches of the training images, decoded once at --size into memory, in the seeded order; the
        ``--steps`` steps are one epoch, however small the dataset."""
        from ganctl.training.data import BatchOrder, MemoryBatches, StepBatches

        o, dist = self.opts, self.ctx.dist
        self.train_set = self._load(self.train_files, "train")
        self.test_set = self._load(self.test_files, "test")
        order = BatchOrder([len(self.train_set["A"]), len(self.train_set["B"])], o.batch_size, o.seed,
                           dist.world_size, dist.rank)
        return StepBatches(MemoryBatches(order, [(self.train_set["A"],), (self.train_set["B"],)]), o.steps)

    def total_steps(self, steps_per_epoch: int) -> int:
        """``--steps`` (one epoch of them)."""
        return self.opts.steps

    def build(self, steps_per_epoch: int) -> None:
        """The CNN, Adam, a one-cycle schedule over the whole run, and the augmentation."""
        import kornia.augmentation as K
        import torch

        from ganctl.models import model_spec

        o = self.opts
        self.build_networks({"classifier": model_spec("domain_classifier", width=o.width,
                                                      feature_dim=o.feature_dim)})
        self.optimizers = {"classifier": self.adam("classifier")}
        total = o.steps if o.max_steps is None else min(o.max_steps, o.steps)
        self.schedulers = {"classifier": torch.optim.lr_scheduler.OneCycleLR(
            self.optimizers["classifier"], max_lr=o.lr, total_steps=max(1, total))}
        self.augmentation = K.AugmentationSequential(
            K.RandomResizedCrop((o.size, o.size), scale=(0.5, 1.0)),
            K.RandomHorizontalFlip(),
            # brightness, contrast, saturation: kornia's hue jitter costs 5x the training step on a CPU
            K.RandomBrightness((0.8, 1.2), p=0.8),
            K.RandomContrast((0.8, 1.2), p=0.8),
            K.RandomSaturation((0.8, 1.2), p=0.8),
        )

    def train_step(self, batch: tuple[Any, Any]) -> dict[str, Any]:
        """Cross-entropy on (A images, B images) in [-1, 1], labelled 0 and 1; returns the loss and batch accuracy."""
        import torch

        real_a, real_b = batch
        x = (torch.cat([real_a, real_b]) + 1) / 2  # the classifier reads [0, 1]
        labels = torch.cat([torch.zeros(len(real_a)), torch.ones(len(real_b))]).long().to(x.device)
        if self.opts.augment:
            with torch.no_grad():
                x = self.augmentation(x).clamp(0, 1)
        return cross_entropy_step(self, x, labels)

    def sample_rows(self) -> list[Any]:
        """Rows: test A images taken for A, taken for B; test B images taken for B, taken for A (gray: none)."""
        import torch

        rows, n, size = [], self.opts.samples, self.opts.size
        for d in ("A", "B"):
            images = self.test_set[d][:256]
            x = images.float().div(255).to(self.ctx.device)
            is_b = (self.networks["classifier"](x).argmax(1) == 1).cpu() if len(x) else torch.zeros(0, dtype=torch.bool)
            for taken_b in ((False, True) if d == "A" else (True, False)):
                chosen = images[is_b == taken_b][:n].float().div(127.5).sub(1)
                row = torch.zeros(n, 3, size, size)
                row[: len(chosen)] = chosen
                rows.append(row)
        return rows

    def accuracy(self) -> dict[str, float]:
        """Accuracy on the test images (both domains together, and per domain)."""
        from ganctl.metrics.domain import accuracy

        images = {d: list(self.test_set[d]) for d in ("A", "B")}
        return accuracy(self.networks["classifier"], images, self.opts.size)

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config (the network spec rebuilds the classifier)."""
        return {"kind": self.name, "networks": self.specs, "image_size": self.opts.size, "size": self.opts.size,
                "channels": 3, "dataset": str(self.data.root)}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        counts = {d: len(self.train_set[d]) for d in ("A", "B")}
        return (f"domain classifier on {self.data.root} ({counts['A']} A / {counts['B']} B images)",
                f"{self.opts.size} px, width {self.opts.width}, batch {self.opts.batch_size} + {self.opts.batch_size}")

    def run_record(self) -> dict[str, Any]:
        """The dataset folder, how the accuracy is measured, and where the classifier is installed."""
        return {"dataset": str(self.data.root), "accuracy_on": self.measured_on,
                "out": str(self.install_path(self.opts, self.data))}

    def on_finish(self, result: Any) -> None:
        """Measure the accuracy and install the classifier with it (not after an interrupted run)."""
        from ganctl import console
        from ganctl.metrics.domain import save_domain_classifier

        if result.interrupted:
            return
        target = self.install_path(self.opts, self.data)
        scores = self.accuracy()
        info = {"size": self.opts.size, "dataset": str(self.data.root), "dataset_name": self.data.name,
                **{k: round(v, 4) for k, v in scores.items()}, "accuracy_on": self.measured_on,
                "settings": self.settings(self.opts), "steps_done": int(result.step),
                "train_images": {d: len(self.train_set[d]) for d in ("A", "B")},
                "train_seconds": round(float(result.seconds), 1)}
        save_domain_classifier(self.networks["classifier"], target, info)
        console.info(f"domain classifier: accuracy {scores['accuracy']:.2%} on {self.measured_on} "
                     f"(A {scores['accuracy_A']:.2%}, B {scores['accuracy_B']:.2%}); installed as {target}")
        result.extras.update(accuracy=round(scores["accuracy"], 4), path=str(target))

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: this run's classifier on its dataset's test split (or held-out share)."""
        from ganctl.metrics.eval_domain_classifier import evaluate_domain_classifier

        return evaluate_domain_classifier(run)
