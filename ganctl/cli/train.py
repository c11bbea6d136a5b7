"""`ganctl train`: train models. ``cyclegan`` here; ``colorize`` and ``gan`` are added beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ganctl import console

app = typer.Typer(help="Train models: cyclegan, colorize, gan, classifier.", no_args_is_help=True)

_DATA = "Data"
_MODEL = "Model and losses"
_SCHED = "Schedule"
_RUN = "Run and hardware"


def _given(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """Only the options the user typed (so config files and resume keep their values for the rest)."""
    from typer._click.core import ParameterSource

    out = {}
    for name, value in values.items():
        source = ctx.get_parameter_source(name)
        if source not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None):
            out[name] = value
    return out


@app.command("cyclegan")
def cyclegan(
    ctx: typer.Context,
    data: str = typer.Option(None, "--data", "-d", help="Dataset folder (trainA/ trainB/ \\[testA/ testB/]) or a "
                             "named dataset such as mnist-color (prepared on first use).", rich_help_panel=_DATA,
                             show_default=False),
    size: int = typer.Option(None, "--size", help="Training crop size \\[default: 256 photos, native for digits].",
                             rich_help_panel=_DATA, show_default=False),
    load_size: int = typer.Option(None, "--load-size", help="Resize before the random crop \\[default: "
                                  "size*286/256 photos; none for digits].", rich_help_panel=_DATA,
                                  show_default=False),
    num_workers: int = typer.Option(None, "--num-workers", help="Data-loading processes \\[default: 4 photos, "
                                    "0 digits (held in memory)].", rich_help_panel=_DATA, show_default=False),
    generator: str = typer.Option(None, "--generator", help="resnet_9blocks, resnet_6blocks, unet_128, unet_256, "
                                  "digit_resnet, digit_resnet_global, digit_resnet_grid \\[default: "
                                  "resnet_9blocks; digit_resnet_grid for digits].",
                                  rich_help_panel=_MODEL, show_default=False),
    discriminator: str = typer.Option(None, "--discriminator", help="patchgan (70x70), digit_patchgan, "
                                      "digit_global \\[default: patchgan; digit_global for digits].",
                                      rich_help_panel=_MODEL, show_default=False),
    ngf: int = typer.Option(None, "--ngf", help="Generator width (filters of the first layer) \\[default: 64; 8 for "
                            "digits].", rich_help_panel=_MODEL, show_default=False),
    ndf: int = typer.Option(None, "--ndf", help="Discriminator width \\[default: 64; 32 for digits].",
                            rich_help_panel=_MODEL, show_default=False),
    gan_loss: str = typer.Option("lsgan", "--gan-loss", help="lsgan, vanilla, hinge or wgan-gp.",
                                 rich_help_panel=_MODEL),
    lambda_cycle: float = typer.Option(None, "--lambda-cycle", help="Weight of the cycle-consistency loss "
                                       "\\[default: 10; digits 20].", rich_help_panel=_MODEL, show_default=False),
    lambda_identity: float = typer.Option(0.5, "--lambda-identity", help="Identity loss weight, times "
                                          "--lambda-cycle (off when the domains' channels differ).",
                                          rich_help_panel=_MODEL),
    pool_size: int = typer.Option(50, "--pool-size", help="Earlier fakes kept for the discriminators.",
                                  rich_help_panel=_MODEL),
    cycle_noise: float = typer.Option(None, "--cycle-noise", help="Std of Gaussian noise added to each fake before "
                                      "it is translated back in the cycle, so a generator cannot hide the "
                                      "original in invisible detail \\[default: 0; digits 0.2].",
                                      rich_help_panel=_MODEL, show_default=False),
    epochs: int = typer.Option(None, "--epochs", help="Epochs at constant lr \\[default: 100; digits 1].",
                               rich_help_panel=_SCHED, show_default=False),
    decay_epochs: int = typer.Option(None, "--decay-epochs", help="Then epochs of linear decay to 0 "
                                     "\\[default: 100; digits 1].", rich_help_panel=_SCHED, show_default=False),
    max_steps: int = typer.Option(None, "--max-steps", help="Stop after this many steps in total.",
                                  rich_help_panel=_SCHED, show_default=False),
    batch_size: int = typer.Option(None, "--batch-size", "-b", help="Pairs per step (per process) "
                                   "\\[default: 1 photos; 16 digits].", rich_help_panel=_SCHED, show_default=False),
    lr: float = typer.Option(None, "--lr", help="Adam learning rate \\[default: 2e-4; digits 1e-3].",
                             rich_help_panel=_SCHED, show_default=False),
    precision: str = typer.Option("auto", "--precision", help="auto (bf16 on capable GPUs, fp32 on CPU), fp32, "
                                  "bf16 or fp16.", rich_help_panel=_RUN),
    compile: bool = typer.Option(False, "--compile/--no-compile", help="torch.compile the networks (GPU).",
                                 rich_help_panel=_RUN),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel=_RUN),
    seed: int = typer.Option(0, "--seed", help="Random seed (weights, data order, augmentation).",
                             rich_help_panel=_RUN),
    run: Path = typer.Option(None, "--run", help="Run folder \\[default: runs/cyclegan/expN].", rich_help_panel=_RUN,
                             show_default=False),
    resume: Path = typer.Option(None, "--resume", help="Continue a run (folder or its latest.safetensors) "
                                "exactly where it stopped.", rich_help_panel=_RUN, show_default=False),
    config: Path = typer.Option(None, "--config", help="TOML file of option values (flags override it).",
                                rich_help_panel=_RUN, show_default=False),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout.", rich_help_panel=_RUN),
) -> None:
    """Train a CycleGAN (unpaired A <-> B translation) with the published recipe.

    Digit data (<= 32 px, e.g. mnist-color) get small networks and a schedule sized for a laptop CPU.
    Ctrl-C saves a checkpoint; [bold]--resume RUN[/] continues at the same step. Multi-GPU:
    [bold]torchrun --nproc-per-node N -m ganctl train cyclegan ...[/]

    Example: [bold]ganctl train cyclegan --data mnist-color[/]
    """
    from ganctl.training import CycleGANOptions, train_cyclegan
    from ganctl.training.options import read_toml_options

    values = dict(data=data, size=size, load_size=load_size, num_workers=num_workers, generator=generator,
                  discriminator=discriminator, ngf=ngf, ndf=ndf, gan_loss=gan_loss, lambda_cycle=lambda_cycle,
                  lambda_identity=lambda_identity, pool_size=pool_size, cycle_noise=cycle_noise, epochs=epochs,
                  decay_epochs=decay_epochs,
                  max_steps=max_steps, batch_size=batch_size, lr=lr, precision=precision, compile=compile,
                  device=device, seed=seed)
    options = read_toml_options(config, CycleGANOptions.names() | {"run"}) if config else {}
    options.update(_given(ctx, values))
    run_dir = options.pop("run", None) if run is None else run
    data_arg = options.pop("data", None)
    result = train_cyclegan(data_arg, run=run_dir, resume=resume, **options)
    summary = {"run": str(result.run_dir), "step": result.step, "epoch": result.epoch,
               "checkpoint": str(result.checkpoint), "samples": str(result.run_dir / "samples"),
               "interrupted": result.interrupted, "seconds": round(result.seconds, 1),
               "seconds_per_step": round(result.seconds_per_step, 4), "losses": result.losses}
    if json_out:
        console.emit_json(summary)
    if result.interrupted:
        console.warn(f"interrupted at step {result.step}; checkpoint saved. Continue with: "
                     f"ganctl train cyclegan --resume {result.run_dir}")
        raise typer.Exit(130)
    if not json_out:
        typer.echo(f"run:        {result.run_dir}\nsamples:    {result.run_dir / 'samples'}\n"
                   f"checkpoint: {result.checkpoint}\n"
                   f"trained {result.steps_run} steps in {result.seconds:.0f} s "
                   f"({result.seconds_per_step:.3f} s/step), now at step {result.step}")


def _register_other_trainers() -> None:
    from ganctl.cli.classifier import classifier
    from ganctl.cli.colorize import colorize
    from ganctl.cli.gan import gan

    app.command("colorize")(colorize)
    app.command("gan")(gan)
    app.command("classifier")(classifier)


_register_other_trainers()
