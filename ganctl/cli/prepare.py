"""`ganctl prepare`: make datasets: colour MNIST, rotated MNIST, grayscale pairs, video frames, downloads."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl.data.formats import VIDEO_FILE_EXTENSIONS, extension_names

app = typer.Typer(
    help="Make datasets: colour MNIST, rotated MNIST, grayscale pairs, video frames, downloads.",
    no_args_is_help=True,
)

_OUT_HELP = "Output dataset folder (default: the named dataset in the cache, $GANCTL_HOME/datasets/NAME)."
_SOURCE_HELP = "Folder with the four MNIST IDX files (.gz or not); default: download once into the cache."
_OVERWRITE_HELP = "Replace --out if it is a ganctl dataset already."
_JSON_HELP = "Print the folder written and its images per split as JSON on stdout."


def _report(result, as_json: bool) -> None:
    """Under --json, what was prepared as one JSON object on stdout (the summary line went to stderr)."""
    if as_json:
        from ganctl import console

        console.emit_json(result.as_json())


@app.command("mnist-color")
def mnist_color(
    out: Path | None = typer.Option(None, "--out", "-o", help=_OUT_HELP, show_default=False),
    source: Path | None = typer.Option(None, "--source", help=_SOURCE_HELP, show_default=False),
    a: str = typer.Option("gray", "--a", help="Palette of domain A: gray, mnist1, mnist2 or a .json file."),
    b: str = typer.Option("mnist1", "--b", help="Palette of domain B: gray, mnist1, mnist2 or a .json file."),
    size: int = typer.Option(32, "--size", help="Image size: 28, or 32 (digit padded with 2 black pixels)."),
    limit: int | None = typer.Option(None, "--limit", help="At most N images per split.", show_default=False),
    seed: int = typer.Option(0, "--seed", help="Seed of the split of MNIST train into domains A and B."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Colour MNIST: digits coloured per class, A and B from disjoint halves of MNIST train.

    Example: [bold]ganctl prepare mnist-color --b mnist2 --limit 2000 --out data/gray2color[/]
    """
    from ganctl.data.mnist import SOURCE_HINT, MnistOffline
    from ganctl.data.mnist_color import prepare_mnist_color

    try:
        result = prepare_mnist_color(out=out, source=source, a=a, b=b, size=size, limit=limit, seed=seed,
                                     overwrite=overwrite)
    except MnistOffline as exc:
        raise exc.with_hint(SOURCE_HINT) from None
    _report(result, as_json)


@app.command("mnist-rotate")
def mnist_rotate(
    out: Path | None = typer.Option(None, "--out", "-o", help=_OUT_HELP, show_default=False),
    source: Path | None = typer.Option(None, "--source", help=_SOURCE_HELP, show_default=False),
    angle: float | None = typer.Option(None, "--angle", help="Rotate every B digit by this many degrees "
                                       "(counter-clockwise) [default: 90].", show_default=False),
    angle_range: str | None = typer.Option(None, "--angle-range", help="Random angle per digit in LO:HI degrees, "
                                           "e.g. -45:45.", show_default=False),
    size: int = typer.Option(32, "--size", help="Image size: 28 or 32 (padded)."),
    limit: int | None = typer.Option(None, "--limit", help="At most N images per split.", show_default=False),
    seed: int = typer.Option(0, "--seed", help="Seed of the A/B split and of the random angles."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Rotated MNIST: A upright digits, B rotated digits.

    Example: [bold]ganctl prepare mnist-rotate --angle-range -45:45 --out data/rot45[/]
    """
    from ganctl.data.mnist import SOURCE_HINT, MnistOffline
    from ganctl.data.mnist_rotate import prepare_mnist_rotate

    try:
        result = prepare_mnist_rotate(out=out, source=source, angle=angle, angle_range=angle_range, size=size,
                                      limit=limit, seed=seed, overwrite=overwrite)
    except MnistOffline as exc:
        raise exc.with_hint(SOURCE_HINT) from None
    _report(result, as_json)


@app.command("grayscale")
def grayscale(
    src: Path = typer.Argument(..., help="Folder of colour photos (searched recursively).", show_default=False),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset folder.", show_default=False),
    test_fraction: float = typer.Option(0.1, "--test-fraction", help="Share of images for testA/testB."),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/test split."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first unreadable image instead of skipping."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Paired colorization data: A = grayscale copy, B = the colour original, same relative names.

    Example: [bold]ganctl prepare grayscale photos/ --out data/photos_gray[/]
    """
    from ganctl.data.grayscale import prepare_grayscale

    _report(prepare_grayscale(src, out, test_fraction=test_fraction, seed=seed, strict=strict, overwrite=overwrite),
            as_json)


@app.command("frames")
def frames(
    videos: list[Path] = typer.Argument(..., help=f"Video files ({extension_names(VIDEO_FILE_EXTENSIONS)}).",
                                        show_default=False),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset folder.", show_default=False),
    fps: float | None = typer.Option(None, "--fps", help="Frames per second to keep.", show_default=False),
    every: int | None = typer.Option(None, "--every", help="Keep every N-th frame.", show_default=False),
    size: int | None = typer.Option(None, "--size", help="Resize so the shorter side is S pixels.",
                                    show_default=False),
    start: float | None = typer.Option(None, "--start", help="Start time in seconds.", show_default=False),
    end: float | None = typer.Option(None, "--end", help="End time in seconds.", show_default=False),
    domain: str = typer.Option("A", "--domain", help="Write into trainA (A) or trainB (B)."),
    color: str = typer.Option("auto", "--color", help="auto (gray if the video is black-and-white), rgb or gray."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Frames from videos into a dataset folder; names carry the video name and the time.

    Example: [bold]ganctl prepare frames film.mp4 --out data/film --fps 2 --size 256[/]
    """
    from ganctl.data.frames import prepare_frames

    _report(prepare_frames(videos, out, fps=fps, every=every, size=size, start=start, end=end, domain=domain,
                           color=color, overwrite=overwrite), as_json)


@app.command("download")
def download(
    name: str = typer.Argument(..., help="Dataset name (see 'ganctl datasets').", show_default=False),
    out: Path | None = typer.Option(None, "--out", "-o", help=_OUT_HELP, show_default=False),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Download a public dataset: the CycleGAN and pix2pix sets, mnist, cifar10 (resumable, checksummed, safe unzip).

    Example: [bold]ganctl prepare download horse2zebra[/]
    """
    from ganctl.data.registry import prepare_named

    _report(prepare_named(name, out=out, overwrite=overwrite), as_json)
