"""`ganctl train classifier`: train the MNIST digit classifier that digit metrics use, and cache it."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl import console


def classifier(
    source: Path = typer.Option(None, "--source", show_default=False,
                                help="Folder with the four MNIST IDX files (default: the cache, downloaded once)."),
    epochs: int = typer.Option(3, "--epochs", min=1, help="Passes over the 60,000 training digits."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same classifier)."),
    max_steps: int = typer.Option(None, "--max-steps", min=1, show_default=False,
                                  help="Stop after this many steps (a quick, less accurate classifier)."),
    out: Path = typer.Option(None, "--out", show_default=False,
                             help="Write here instead of $GANCTL_HOME/weights/digit_classifier.safetensors."),
    force: bool = typer.Option(False, "--force", help="Train again even if the cached classifier exists."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Train the small CNN digit classifier used by [bold]eval fid --features digits[/] and [bold]eval run[/].

    Trained on MNIST (seeded), its test accuracy is printed (about 99%); it is cached and reused, and
    trained automatically on first use when missing.

    Example: [bold]ganctl train classifier --source data/mnist[/]
    """
    from ganctl.device import resolve_device
    from ganctl.metrics.digits import classifier_path, load_classifier, train_and_cache_classifier

    target = out if out is not None else classifier_path()
    if target.exists() and not force:
        trained = load_classifier(target)
        console.info(f"{target} exists already (use --force to train again)")
    else:
        trained = train_and_cache_classifier(source, epochs=epochs, seed=seed, device=resolve_device(device),
                                             out=target, max_steps=max_steps)
    result = {"path": str(target), "test_accuracy": trained.test_accuracy,
              "train_seconds": trained.info.get("train_seconds"), "seed": trained.info.get("seed"),
              "epochs": trained.info.get("epochs")}
    if as_json:
        console.emit_json(result)
    else:
        typer.echo(f"digit classifier: test accuracy {trained.test_accuracy:.2%} ({target})")
