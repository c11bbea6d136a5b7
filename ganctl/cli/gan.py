"""`ganctl train gan`: an unconditional GAN for MNIST digits (fully connected or DCGAN)."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl.cli import options as opts
from ganctl.cli.colorize import given_options, report_training
from ganctl.cli.options import MODEL_PANEL, RUN_PANEL


def gan(
    data: str = typer.Option(None, "--data", show_default="mnist", help="The digits to learn: mnist."),
    source: Path = typer.Option(None, "--source", help="Folder with MNIST's four IDX files (else downloaded once).",
                                show_default=False),
    arch: str = typer.Option(None, "--arch", show_default="mlp", help="mlp (fully connected) or dcgan.",
                             rich_help_panel=MODEL_PANEL),
    latent_dim: int = typer.Option(None, "--latent-dim", min=1, show_default="64", help="Noise vector size.",
                                   rich_help_panel=MODEL_PANEL),
    size: int = typer.Option(None, "--size", min=4, show_default="28", help="Image side: 28, 32 or 64.",
                             rich_help_panel=MODEL_PANEL),
    ngf: int = typer.Option(None, "--ngf", min=1, show_default="64", help="DCGAN generator width.",
                            rich_help_panel=MODEL_PANEL),
    ndf: int = typer.Option(None, "--ndf", min=1, show_default="64", help="DCGAN discriminator width.",
                            rich_help_panel=MODEL_PANEL),
    lr: opts.LearningRate = None,
    epochs: int = typer.Option(None, "--epochs", min=0, show_default="20", help="Passes over the 60,000 digits."),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="Stop after this many steps."),
    batch_size: int = typer.Option(None, "--batch-size", "-b", min=1, show_default="64", help="Digits per step."),
    samples: int = typer.Option(None, "--samples", min=1, show_default="64",
                                help="Images in each epoch's grid (fixed noise).", rich_help_panel=RUN_PANEL),
    seed: opts.Seed = None,
    run: Path = typer.Option(None, "--run", help="Run folder (default runs/gan/expN).", rich_help_panel=RUN_PANEL),
    resume: opts.Resume = None,
    config: opts.Config = None,
    log_every: int = typer.Option(None, "--log-every", min=1, show_default="100", help="Steps per metrics record.",
                                  rich_help_panel=RUN_PANEL),
    as_json: opts.Json = False,
    device: opts.Device = None,
    precision: opts.Precision = None,
    compile: opts.Compile = None,
) -> None:
    """Train an unconditional GAN on MNIST digits; a sample grid from fixed noise is saved every epoch.

    Example: [bold]ganctl train gan --data mnist --arch dcgan --epochs 5[/]  then  [bold]ganctl generate RUN[/]
    """
    from ganctl.training.gan import GANOptions, train_gan

    options = given_options(
        config, GANOptions.names(), data=data, source=None if source is None else str(source), arch=arch,
        latent_dim=latent_dim, size=size, ngf=ngf, ndf=ndf, lr=lr, epochs=epochs, max_steps=max_steps,
        batch_size=batch_size, samples=samples, seed=seed, log_every=log_every, device=device,
        precision=precision, compile=compile)
    data_value = options.pop("data", None)
    result = train_gan(data_value, run=run, resume=resume, **options)
    report_training(result, as_json)
