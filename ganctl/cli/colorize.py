"""`ganctl train colorize`: U-Net + PatchGAN colorization in Lab (L -> ab), L1 pre-training then GAN + L1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ganctl import console
from ganctl.cli import options as opts
from ganctl.cli.options import MODEL_PANEL, PERF_PANEL, RUN_PANEL


def given_options(config: Path | None, allowed: set[str], **flags: Any) -> dict[str, Any]:
    """Options from ``--config FILE.toml`` overridden by the flags given on the command line (non-None)."""
    values: dict[str, Any] = {}
    if config is not None:
        from ganctl.training.options import read_toml_options

        values.update(read_toml_options(config, allowed))
    values.update({k: v for k, v in flags.items() if v is not None})
    return values


def report_training(result: Any, as_json: bool) -> None:
    """The one-line summary of a training run (or its JSON on stdout)."""
    if as_json:
        console.emit_json({"run": str(result.run_dir), "step": result.step, "epoch": result.epoch,
                           "interrupted": result.interrupted, "checkpoint": str(result.checkpoint),
                           "losses": result.losses, "seconds": round(result.seconds, 3),
                           "seconds_per_step": round(result.seconds_per_step, 5)})
        return
    how = "stopped (resume with --resume)" if result.interrupted else "done"
    losses = " ".join(f"{k.removeprefix('loss_')}={v:.3f}" for k, v in result.losses.items())
    console.info(f"{how}: step {result.step} (epoch {result.epoch}) in {result.seconds:.1f}s, {losses}; "
                 f"checkpoint {result.checkpoint}")


def colorize(
    data: str = typer.Option(None, "--data", help="A folder of colour photos, a 'prepare grayscale' dataset, or a "
                             "named set (cifar10).", show_default=False),
    pretrain_epochs: int = typer.Option(None, "--pretrain-epochs", min=0, show_default="5",
                                        help="Epochs of L1-only U-Net pre-training before the GAN stage."),
    pretrain_steps: int = typer.Option(None, "--pretrain-steps", min=0,
                                       help="Pre-training length in steps instead of epochs."),
    epochs: int = typer.Option(None, "--epochs", min=0, show_default="20", help="Epochs of the GAN stage."),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="Stop after this many steps in all."),
    batch_size: int = typer.Option(None, "--batch-size", "-b", min=1, show_default="16", help="Images per step."),
    size: int = typer.Option(None, "--size", min=32, show_default="the images' size",
                             help="Training size in pixels (a multiple of 32)."),
    load_size: int = typer.Option(None, "--load-size", min=32, show_default="--size",
                                  help="Resize to this, then random-crop --size."),
    lambda_l1: float = typer.Option(None, "--lambda-l1", min=0.0, show_default="100",
                                    help="Weight of the L1 loss in the GAN stage.", rich_help_panel=MODEL_PANEL),
    generator: str = typer.Option(None, "--generator", show_default="unet_<size>",
                                  help="U-Net: unet_32, unet_64, unet_128 or unet_256.", rich_help_panel=MODEL_PANEL),
    discriminator: str = typer.Option(None, "--discriminator", show_default="patchgan", rich_help_panel=MODEL_PANEL,
                                      help="Discriminator network."),
    ngf: int = typer.Option(None, "--ngf", min=1, show_default="64", help="Generator width.",
                            rich_help_panel=MODEL_PANEL),
    ndf: int = typer.Option(None, "--ndf", min=1, show_default="64", help="Discriminator width.",
                            rich_help_panel=MODEL_PANEL),
    lr: opts.LearningRate = None,
    seed: opts.Seed = None,
    run: Path = typer.Option(None, "--run", help="Run folder (default runs/colorize/expN).",
                             rich_help_panel=RUN_PANEL),
    resume: opts.Resume = None,
    config: opts.Config = None,
    log_every: int = typer.Option(None, "--log-every", min=1, show_default="50", help="Steps per metrics record.",
                                  rich_help_panel=RUN_PANEL),
    as_json: opts.Json = False,
    device: opts.Device = None,
    precision: opts.Precision = None,
    compile: opts.Compile = None,
    num_workers: int = typer.Option(None, "--num-workers", min=0, show_default="2",
                                    help="Image decoding processes.", rich_help_panel=PERF_PANEL),
) -> None:
    """Train a colorization model: a U-Net predicts colour (Lab ab) from lightness, judged by a PatchGAN.

    Stage 1 pre-trains the U-Net with L1 only; stage 2 adds the adversarial loss (pix2pix). Gray copies are
    made on the fly. Use the model with [bold]ganctl translate[/].

    Example: [bold]ganctl train colorize --data photos/ --size 128 --pretrain-epochs 5 --epochs 20[/]
    """
    from ganctl.training.colorize import ColorizeOptions, train_colorize

    options = given_options(
        config, ColorizeOptions.names(), data=data, pretrain_epochs=pretrain_epochs,
        pretrain_steps=pretrain_steps, epochs=epochs, max_steps=max_steps, batch_size=batch_size, size=size,
        load_size=load_size, lambda_l1=lambda_l1, generator=generator, discriminator=discriminator, ngf=ngf,
        ndf=ndf, lr=lr, seed=seed, log_every=log_every, device=device, precision=precision, compile=compile,
        num_workers=num_workers)
    data_value = options.pop("data", None)
    result = train_colorize(data_value, run=run, resume=resume, **options)
    report_training(result, as_json)
