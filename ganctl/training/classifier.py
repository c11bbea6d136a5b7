"""The MNIST digit classifier behind ganctl's digit metrics, trained and installed where the metrics find it.

A small CNN (:class:`ganctl.models.classifier.DigitClassifier`) learns MNIST with cross-entropy, Adam and a
one-cycle learning rate, on digits shifted by up to 2 pixels. At the end of a run its accuracy on the 10,000
test digits is measured and it is installed as ``$GANCTL_HOME/weights/digit_classifier.safetensors`` (or
``--out``), where ``eval run`` and ``eval fid --features digits`` look for it; those commands train one
through this recipe on first use. The run folder keeps the checkpoints, as every recipe's does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganctl.training.options import DATA, RUN, SCHEDULE, TrainOptions, option, redefault
from ganctl.training.recipe import Recipe, register_recipe

# Without --out, a classifier is installed as the one the digit metrics use only from this test accuracy on.
MIN_INSTALL_ACCURACY = 0.95


def cross_entropy_step(recipe: Recipe, x: Any, labels: Any) -> dict[str, Any]:
    """One supervised step of ``recipe``'s ``classifier`` network on images ``x`` in [0, 1]: cross-entropy in the
    run's precision, gradients averaged over processes; returns the loss and the batch accuracy."""
    import torch.nn.functional as F

    prec, opt = recipe.ctx.precision, recipe.optimizers["classifier"]
    with prec.autocast():
        logits = recipe.run_nets["classifier"](x).float()
        loss = F.cross_entropy(logits, labels)
    opt.zero_grad(set_to_none=True)
    prec.backward(loss)
    recipe.ctx.dist.average_gradients(recipe.networks["classifier"])
    prec.step(opt)
    prec.update()
    return {"loss": loss.detach(), "accuracy": (logits.argmax(1) == labels).float().mean().detach()}


class InstalledModel:
    """For recipes whose result is installed as one file (``install_path(opts)``): nothing to train when that
    file exists already, unless ``--overwrite``."""

    @classmethod
    def already_done(cls, opts: Any) -> str | None:
        """Why there is nothing to train (the installed file exists), or None."""
        target = cls.install_path(opts)
        if target.exists() and not opts.overwrite:
            return f"{target} exists already (use --overwrite to train again)"
        return None


@dataclass
class ClassifierOptions(TrainOptions):
    """Every option of ``ganctl train classifier``."""

    data: str = option("mnist", "The digits to learn.", panel=DATA, choices=("mnist",), short="-d")
    source: str | None = option(None, "Folder with the four MNIST IDX files (else the cache, downloaded once).",
                                panel=DATA, resumable=True)
    augment: bool = option(True, "Shift every training digit by up to 2 pixels.", panel=DATA)
    width: int = option(16, "Filters of the first convolution.", positive=True)
    feature_dim: int = option(128, "Size of the embedding that digit FID uses.", positive=True)
    epochs: int = option(3, "Passes over the 60,000 training digits.", panel=SCHEDULE, not_negative=True,
                         resumable=True)
    batch_size: int = option(128, "Digits per step (per process).", panel=SCHEDULE, short="-b", positive=True)
    lr: float = option(3e-3, "Peak learning rate of the one-cycle schedule.", panel=SCHEDULE, positive=True)
    beta1: float = option(0.9, "Adam beta1.", panel=SCHEDULE, not_negative=True)
    out: str | None = option(None, "Install the trained classifier here.", panel=RUN,
                             derived="$GANCTL_HOME/weights/digit_classifier.safetensors")
    overwrite: bool = option(False, "Train even when --out holds a classifier already (it is replaced).", panel=RUN,
                             alias="--force")
    log_every: int = redefault("log_every", 100)
    samples: int = redefault("samples", 12)


@register_recipe
class Classifier(InstalledModel, Recipe):
    """The classifier recipe: one CNN, cross-entropy, Adam with a one-cycle learning rate."""

    name = "classifier"
    summary = "The MNIST digit classifier behind --features digits and eval run's digit metrics."
    help = """Train the small CNN digit classifier used by [bold]eval fid --features digits[/] and [bold]eval run[/].

    Trained on MNIST (seeded), its accuracy on the 10,000 test digits is printed (about 99%) and it is
    installed where those commands look for it; they train one on first use when it is missing.

    Example: [bold]ganctl train classifier --source data/mnist[/]
    """
    options = ClassifierOptions
    presets = {"digits": {}, "smoke": dict(max_steps=2, width=4, feature_dim=16, batch_size=32, log_every=1, samples=2)}
    data_kind = "mnist"
    data_help = "mnist"

    def batches(self) -> Any:
        """MNIST's training digits and labels in memory, in the seeded order; the test digits for later."""
        from ganctl.training.data import BatchOrder, MemoryBatches, load_digits

        o, dist = self.opts, self.ctx.dist
        self.train_set = load_digits(o.source, 28, "train", labels=True)
        self.test_set = load_digits(o.source, 28, "test", labels=True)
        order = BatchOrder([len(self.train_set[0])], o.batch_size, o.seed, dist.world_size, dist.rank)
        return MemoryBatches(order, [self.train_set])

    def build(self, steps_per_epoch: int) -> None:
        """The CNN, Adam, and a one-cycle schedule over the whole run."""
        import torch

        from ganctl.models import model_spec

        o = self.opts
        self.build_networks({"classifier": model_spec("digit_classifier", width=o.width, feature_dim=o.feature_dim)})
        self.optimizers = {"classifier": self.adam("classifier")}
        total = self.total_steps(steps_per_epoch) if o.max_steps is None else \
            min(o.max_steps, self.total_steps(steps_per_epoch))
        self.schedulers = {"classifier": torch.optim.lr_scheduler.OneCycleLR(
            self.optimizers["classifier"], max_lr=o.lr, total_steps=max(1, total))}

    def train_step(self, batch: tuple[Any, Any]) -> dict[str, Any]:
        """Cross-entropy on a batch of (digits in [-1, 1], labels); returns the loss and the batch accuracy."""

        from ganctl.metrics.digits import random_shift

        images, labels = batch
        x = (images + 1) / 2  # the classifier reads digits in [0, 1]
        if self.opts.augment:
            x = random_shift(x)
        return cross_entropy_step(self, x, labels)

    def sample_rows(self) -> list[Any]:
        """Row d: the first test digits the classifier reads as d (black where it reads fewer)."""
        import torch

        images = self.test_set[0][:2000]
        x = images.float().div(255).to(self.ctx.device)
        predicted = self.networks["classifier"](x).argmax(1).cpu()
        n = self.opts.samples
        rows = []
        for digit in range(10):
            row = torch.zeros(n, 1, 28, 28)
            chosen = images[predicted == digit][:n].float().div(127.5).sub(1)
            row[:] = -1
            row[: len(chosen)] = chosen
            rows.append(row)
        return rows

    def test_accuracy(self) -> float:
        """Share of MNIST's test digits read right."""
        from ganctl.metrics.digits import evaluate_accuracy

        images, labels = self.test_set
        return evaluate_accuracy(self.networks["classifier"], images.float().div(255), labels,
                                 device=self.ctx.device)

    def model_config(self) -> dict[str, Any]:
        """The checkpoint config (the network spec rebuilds the classifier)."""
        return {"kind": self.name, "networks": self.specs, "image_size": 28, "channels": 1, "dataset": "mnist"}

    def describe(self) -> tuple[str, str]:
        """What is trained on what, and the plan."""
        return (f"classifier on MNIST ({len(self.train_set[0])} digits)",
                f"width {self.opts.width}, batch {self.opts.batch_size}")

    def run_record(self) -> dict[str, Any]:
        """How many digits the run learns from, and where the classifier is installed."""
        return {"train_images": len(self.train_set[0]), "out": str(self.install_path(self.opts))}

    @staticmethod
    def install_path(opts: Any) -> Any:
        """Where the trained classifier goes: ``--out`` or the weights cache."""
        from pathlib import Path

        from ganctl.metrics.digits import classifier_path

        return Path(opts.out) if opts.out else classifier_path()

    def on_finish(self, result: Any) -> None:
        """Measure the test accuracy and install the classifier (not after an interrupted run).

        Without ``--out`` only a classifier good enough to judge digits replaces the metrics' one.
        """
        from ganctl import console
        from ganctl.metrics.digits import save_trained_classifier

        if result.interrupted:
            return
        target = self.install_path(self.opts)
        accuracy = self.test_accuracy()
        result.extras.update(test_accuracy=round(accuracy, 4))
        if self.opts.out is None and accuracy < MIN_INSTALL_ACCURACY:
            console.warn(f"test accuracy {accuracy:.2%} is below {MIN_INSTALL_ACCURACY:.0%}: not installed as the "
                         f"digit metrics' classifier (the run keeps it; --out FILE installs it anywhere)")
            return
        save_trained_classifier(self.networks["classifier"], target, accuracy, self.opts.values(),
                                steps=result.step, seconds=result.seconds, train_images=len(self.train_set[0]),
                                test_images=len(self.test_set[0]))
        console.info(f"digit classifier: test accuracy {accuracy:.2%} on {len(self.test_set[0])} MNIST test "
                     f"digits; installed as {target}")
        result.extras["path"] = str(target)

    @classmethod
    def evaluate(cls, run: Any) -> Any:
        """What eval run measures: this run's classifier's accuracy on MNIST's test digits."""
        from ganctl.metrics.eval_classifier import evaluate_classifier

        return evaluate_classifier(run)
