"""`ganctl eval`: measure results: FID/KID, SSIM/PSNR, video flicker, every metric of a run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from ganctl import console
from ganctl.cli.helptext import EVAL_MODE_HELP, paragraphs

_PERF = "Performance"

app = typer.Typer(
    help="Measure results: FID/KID, SSIM/PSNR, video flicker, every metric of a run.",
    no_args_is_help=True,
)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.{digits}f}"
    if isinstance(value, list):
        return " ".join(_fmt(v, 2) for v in value)
    return str(value)


def _small(value: float) -> str:
    """A KID-sized number with its digits: 0.01234, or 1.23e-06 where five decimals would show 0.00000."""
    return f"{value:.5f}" if value == 0 or abs(value) >= 1e-4 else f"{value:.2e}"


def fid(
    real: Path = typer.Argument(..., help="Folder of real images (recursive; any sizes, gray or colour).",
                                show_default=False),
    fake: Path = typer.Argument(..., help="Folder of generated images.", show_default=False),
    kid: bool = typer.Option(False, "--kid", help="Also compute KID: mean and std over 100 random subsets "
                             "of min(1000, N) images (seeded)."),
    features: str = typer.Option("inception", "--features", help="inception (standard FID), digits "
                                 "(ganctl's MNIST classifier; offline, for digit tasks) or domain (the --data "
                                 "dataset's domain classifier; offline, for photo tasks)."),
    data: Path = typer.Option(None, "--data", "-d", show_default=False,
                              help="--features domain: the dataset (trainA/ trainB/ folder or named dataset) whose "
                                   "domain classifier gives the features (trained once on first use)."),
    weights: Path = typer.Option(None, "--weights", show_default=False,
                                 help="The FID Inception weights file pt_inception-2015-12-05-6726825d.pth "
                                      "(default: looked up in $GANCTL_HOME/weights/, downloaded once if missing)."),
    resize: str = typer.Option("antialias", "--resize", help="Resize to 299 px for Inception: antialias "
                               "(torchmetrics' default) or tf1 (torch-fidelity / original TensorFlow FID)."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first unreadable image instead of skipping it."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    batch_size: int = typer.Option(64, "--batch-size", "-b", min=1, help="Images per forward pass.",
                                   rich_help_panel=_PERF),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel=_PERF),
) -> None:
    """Fréchet Inception Distance (and KID) between two image folders, computed by torchmetrics.

    Resizing matters: FID changes with the resize filter (Parmar et al., "On Aliased Resizing and Surprising
    Subtleties in GAN Evaluation", 2022). ganctl feeds every image at its own size, as uint8 RGB (gray images
    repeated to 3 channels), to torchmetrics' Inception v3, which resizes it to 299x299 with bilinear
    interpolation and antialiasing (--resize antialias, torchmetrics' default) or with torch-fidelity's
    TensorFlow-compatible bilinear resize without antialiasing (--resize tf1). Scores are only comparable with
    scores computed with the same weights and the same resizing. --features digits resizes to 28x28
    (bilinear, antialiased) and uses ganctl's own digit classifier, so its scores are not Inception FIDs.
    --features domain resizes to 64x64 and uses the pooled features of the --data dataset's domain
    classifier (A vs B): offline, comparable between runs on that dataset only.

    Example: [bold]ganctl eval fid datasets/horse2zebra/testB translated/ --kid[/]
    """
    from ganctl.device import resolve_device
    from ganctl.metrics.fid import compute_fid

    result = compute_fid(real, fake, features=features.lower(), kid=kid, weights=weights, resize=resize.lower(),
                         batch_size=batch_size, device=resolve_device(device), strict=strict, data=data)
    out = result.as_dict()
    if as_json:
        console.emit_json(out)
        return
    line = f"FID {result.fid:.4f}"
    if result.kid_mean is not None:
        line += f"   KID {_small(result.kid_mean)} ± {_small(result.kid_std)}"
        if result.kid_mean < 0:
            line += " (below 0: the unbiased estimate for sets the features cannot tell apart)"
    typer.echo(f"{line}   ({result.features} features; {result.real_count} real, {result.fake_count} fake images"
               + (f", {result.skipped} skipped" if result.skipped else "") + ")")


def ssim(
    ref: Path = typer.Argument(..., help="Folder of reference (ground-truth) images.", show_default=False),
    out: Path = typer.Argument(..., help="Folder of outputs, paired with REF by relative path without extension.",
                               show_default=False),
    psnr: bool = typer.Option(False, "--psnr", help="Also report PSNR (dB)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """SSIM (and PSNR) of paired images, computed by torchmetrics one pair at a time.

    Images pair by relative path without extension (testB/a/x.jpg with out/a/x.png); both are read as RGB in
    [0, 1] and must have the same size. Reports mean, std and count, and lists the unpaired names.

    Example: [bold]ganctl eval ssim datasets/bw/testB colorized/ --psnr[/]
    """
    from ganctl.metrics.ssim import compute_ssim, flat_scores

    result = compute_ssim(ref, out, psnr=psnr)
    if as_json:  # the score keys of every command's JSON (eval run's too): ssim, ssim_std, psnr, psnr_std, pairs
        scores = flat_scores({k: result[k] for k in ("ssim", "psnr") if k in result})
        console.emit_json({**scores, **{k: v for k, v in result.items() if k not in ("ssim", "psnr", "pairs")}})
        return
    for name in ("ssim", "psnr"):
        if name in result:
            s = result[name]
            pairs = console.counted(s["count"], "pair")
            typer.echo(f"{name.upper():4s} {_fmt(s['mean'])} ± {_fmt(s['std'])}  ({pairs})")
    for key, label in (("unpaired_ref", str(ref)), ("unpaired_out", str(out)), ("ambiguous", "ambiguous")):
        names = result[key]
        if names:
            shown = ", ".join(names[:5]) + (f", ... (+{len(names) - 5})" if len(names) > 5 else "")
            console.warn(f"{len(names)} image(s) only in {label}: {shown}" if key != "ambiguous"
                         else f"{len(names)} name(s) with several extensions, left out: {shown}")


def video(
    output: Path = typer.Argument(..., help="The translated video.", show_default=False),
    input: Path = typer.Option(..., "--input", "-i", help="The video it was translated from.", show_default=False),
    reference: Path = typer.Option(None, "--reference", "-r", show_default=False,
                                   help="The true translation (e.g. the colour original of a grayed clip): "
                                        "adds PSNR and SSIM per frame."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout (per-frame values too)."),
) -> None:
    """Flicker of a translated video (warp error) and, with --reference, PSNR/SSIM per frame.

    warp_error: the mean absolute difference between each output frame and the previous output frame moved
    by the input's optical flow, on the pixels where the input itself stays consistent (OpenCV's DIS flow,
    forward-backward checked); scene cuts are left out. Chroma only (Lab a, b) when the input is black and
    white, else RGB 0-255. Lower is steadier; frames pair by order. Needs OpenCV (the video extra).

    Example: [bold]ganctl eval video colour/clip.mp4 --input clip.mp4 --json[/]
    """
    from ganctl.metrics.video import video_consistency

    result = video_consistency(output, input, reference)
    if as_json:
        console.emit_json(result)
        return
    on = "Lab a,b" if result["warp_error_on"] == "ab" else "RGB 0-255"
    cuts = f", {console.counted(result['cuts'], 'scene cut')} left out" if result["cuts"] else ""
    share = result["consistent_fraction"]
    typer.echo(f"warp error {_fmt(result['warp_error'], 3)} ({on}; {console.counted(result['pairs'], 'frame pair')}"
               + (f", {share:.0%} of pixels consistent" if share is not None else "") + f"{cuts})")
    for name in ("psnr", "ssim"):
        if name in result:
            values = result[name]["per_frame"]
            typer.echo(f"{name.upper():4s} {_fmt(result[name]['mean'])}  (min {_fmt(min(values))}, "
                       f"{console.counted(len(values), 'frame')})")


def run(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="A run folder of any recipe (runs/<kind>/<name>).",
                                   show_default=False),
    split: str = typer.Option("test", "--split", help="Which split of the run's data: test or train."),
    data: Path = typer.Option(None, "--data", "-d", show_default=False,
                              help="The dataset folder (gan, classifier: MNIST's IDX folder), when it is no longer "
                                   "where the run's config.json says."),
    features: str = typer.Option("auto", "--features", help="FID/KID features: auto (digits for MNIST sets and gan, "
                                 "else inception), digits, inception or domain (the run's dataset's domain "
                                 "classifier)."),
    weights: Path = typer.Option(None, "--weights", show_default=False, help="FID Inception weights file."),
    limit: int = typer.Option(None, "--limit", min=2, show_default=False,
                              help="Evaluate the first N images only (gan: N samples against N digits)."),
    eval_mode: bool = typer.Option(False, "--eval-mode", help=EVAL_MODE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    batch_size: int = typer.Option(64, "--batch-size", "-b", min=1, help="Images per forward pass.",
                                   rich_help_panel=_PERF),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel=_PERF),
) -> None:
    """Evaluate a training run: what is measured depends on the run's recipe.

    cyclegan: the test split translated both ways; per direction FID/KID, digit-kept and colour accuracy for
    labelled digit sets (mnist-color, mnist-rotate), SSIM/PSNR against the ground truth for paired sets
    (prepare grayscale), colourfulness when the target is colour. Photo sets also get domain_accuracy (the
    share of translations that the dataset's domain classifier, trained once on its train split, takes for
    the target domain) beside its bounds domain_accuracy_input (the untranslated inputs) and
    domain_accuracy_real (real target images), content_ssim (mean SSIM of the luminance of input and
    translation), and domain_classifier_accuracy (the classifier's own, on domain_classifier_accuracy_on).
    cut: the same, A -> B only.

    domain-classifier: test_accuracy (and _A, _B) of the run's own classifier on its dataset's test split.

    colorize: the test photos (testB; a plain photo folder's own photos) made gray and colourised; SSIM/PSNR
    against the true colours, colourfulness of both, FID/KID (Inception).

    gan: seeded samples, as many as MNIST has test digits; FID/KID on digit features against MNIST's test
    digits, digit_share (how often the digit classifier reads each digit 0-9) and digit_coverage_entropy (1.0:
    every digit equally often; low: mode collapse).

    classifier: test_accuracy of the run's own classifier on MNIST's test digits.

    Writes RUN/eval.json and appends a record to RUN/metrics.jsonl.

    Example: [bold]ganctl eval run runs/cyclegan/exp --json[/]
    """
    from ganctl.metrics.run_eval import evaluate_run

    report = evaluate_run(run_dir, split=split.lower(), data=data, features=features.lower(), weights=weights,
                          batch_size=batch_size, device=device, limit=limit, eval_mode=eval_mode)
    if as_json:
        console.emit_json(report)
        return
    from rich.console import Console

    from ganctl.metrics.run_eval import ABOUT, RUN_KEYS

    typer.echo(f"{report['run']}: {report['kind']} at step {report['step']}, {report['split']} split")
    typer.echo("; ".join(f"{key}: {report[key]}" for key in ABOUT if report.get(key) is not None))
    for key, value in report.items():  # words among the scores (domain_classifier_accuracy_on): a line each
        if isinstance(value, str) and key not in (*RUN_KEYS, *ABOUT):
            typer.echo(f"{key}: {value}")
    Console().print(_report_table(report))
    console.info(f"written to {Path(report['run']) / 'eval.json'} and metrics.jsonl ({report['seconds']:.1f} s)")


def _report_table(report: dict[str, Any]) -> Any:
    """The scores of an eval run report as a table: one column per group (cyclegan's directions), else one."""
    from rich.table import Table

    from ganctl.metrics.run_eval import ABOUT, RUN_KEYS

    scores = {k: v for k, v in report.items() if k not in (*RUN_KEYS, *ABOUT, "seconds") and not isinstance(v, str)}
    groups = {k: v for k, v in scores.items() if isinstance(v, dict)}
    single = {k: v for k, v in scores.items() if not isinstance(v, dict)}
    table = Table()
    table.add_column("metric")
    columns = [(name, f"{name} ({values.get('count', '?')})") for name, values in groups.items()] or \
        [(None, f"value ({single['count']})" if "count" in single else "value")]
    for _, header in columns:
        table.add_column(header, justify="right")
    rows = list(dict.fromkeys(k for values in groups.values() for k in values if k != "count"))
    for key in rows:
        table.add_row(key, *(_fmt(groups[name].get(key)) for name, _ in columns))
    for key, value in single.items():
        if key != "count":
            table.add_row(key, _fmt(value), *([""] * (len(columns) - 1)))
    return table


for _name, _command in (("fid", fid), ("ssim", ssim), ("video", video), ("run", run)):
    app.command(_name, help=paragraphs(_command.__doc__))(_command)
