"""`eval run` on tiny real trained runs: cyclegan on colour MNIST (digit metrics) and on a paired grayscale photo
set; colorize, gan and classifier runs, each against a model whose scores are known; runs it cannot evaluate.

(``tests/test_recipes.py`` evaluates the smoke run of every registered recipe through the CLI.)
"""

from __future__ import annotations

import json
import shutil
import urllib.error

import pytest
import torch
from training_data import make_photos, quietly

from ganctl import console
from ganctl.data.grayscale import prepare_grayscale
from ganctl.data.mnist_color import prepare_mnist_color
from ganctl.metrics import digits, fid
from ganctl.metrics.run_eval import evaluate_run
from ganctl.runs import MetricsLog
from ganctl.training import train, train_cyclegan

TINY = dict(max_steps=1, ngf=8, ndf=8, batch_size=4, device="cpu", num_workers=0, samples=2, log_every=1)



def _no_download(url, dst):
    raise urllib.error.URLError("offline")  # no Inception weights: FID/KID are skipped

@pytest.fixture(scope="module")
def mnist(mnist_subset):
    return mnist_subset(640, 100)


@pytest.fixture(scope="module")
def classifier(mnist, quick_classifier):
    """A barely trained classifier: these tests check what eval run does with it, not how good it is."""
    return quick_classifier(mnist, max_steps=5)


@pytest.fixture(scope="module")
def digit_run(mnist, tmp_path_factory):
    """One training step of a small CycleGAN on a 24-image colour-MNIST set (gray A -> mnist1 B)."""
    root = tmp_path_factory.mktemp("evalrun")
    prepare_mnist_color(root / "data", a="gray", b="mnist1", limit=24, mnist=mnist)
    quiet = console.is_quiet()
    console.set_quiet(True)
    try:
        result = train_cyclegan(root / "data", run=root / "run", **TINY)
    finally:
        console.set_quiet(quiet)
    return result.run_dir


def test_eval_run_reports_every_digit_metric(cli, classifier, digit_run):
    digits.save_classifier(classifier)
    before = len(MetricsLog(digit_run / "metrics.jsonl").read())
    result = cli("eval", "run", digit_run, "--json", "--device", "cpu", "--limit", "16")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["features"] == "digits" and report["dataset_kind"] == "mnist-color"
    assert report["step"] == 1
    common = {"count", "fid", "kid_mean", "kid_std", "digit_accuracy", "ssim", "ssim_std", "psnr", "psnr_std",
              "pairs"}
    assert set(report["a2b"]) == common | {"colour_accuracy", "colourfulness_fake", "colourfulness_real"}
    assert set(report["b2a"]) == common  # the gray palette: no colour accuracy, no colourfulness
    for direction in ("a2b", "b2a"):
        res = report[direction]
        assert res["count"] == res["pairs"] == 16
        assert res["fid"] > 0 and 0 <= res["digit_accuracy"] <= 1 and -1 <= res["ssim"] <= 1
    assert 0 <= report["a2b"]["colour_accuracy"] <= 1

    saved = json.loads((digit_run / "eval.json").read_text())
    assert saved["a2b"] == report["a2b"]
    records = MetricsLog(digit_run / "metrics.jsonl").read()
    assert len(records) == before + 1
    last = records[-1]
    assert last["kind"] == "eval" and last["step"] == 1
    assert last["a2b_fid"] == pytest.approx(report["a2b"]["fid"])
    assert last["b2a_digit_accuracy"] == pytest.approx(report["b2a"]["digit_accuracy"])


def test_a_perfect_translator_gets_perfect_scores(classifier, digit_run, monkeypatch):
    """Generators replaced by a lookup of the ground truth: SSIM 1, FID 0, every digit in its palette colour."""
    import ganctl.translate
    from ganctl.data.imageio import list_images
    from ganctl.metrics.images import read_uint8

    digits.save_classifier(classifier)
    data = json.loads((digit_run / "config.json").read_text())["dataset"]

    def arrays(split, mode):
        out = [read_uint8(p, mode).permute(1, 2, 0).numpy() for p in list_images(f"{data}/{split}")]
        return [a[:, :, 0] if a.shape[2] == 1 else a for a in out]

    gray, colour = arrays("testA", "L"), arrays("testB", "RGB")
    truth = {"a2b": {a.tobytes(): b for a, b in zip(gray, colour)},
             "b2a": {b.tobytes(): a for a, b in zip(gray, colour)}}

    class Perfect:
        def __init__(self, direction):
            self.table = truth[direction]

        def __call__(self, batch):
            return [self.table[a.tobytes()] for a in batch]

    monkeypatch.setattr(ganctl.translate, "load_translator", lambda path, direction, **kw: Perfect(direction))
    report = evaluate_run(digit_run, device="cpu", limit=20, write=False)
    a2b, b2a = report["a2b"], report["b2a"]
    assert a2b["ssim"] == pytest.approx(1.0, abs=1e-5) and a2b["psnr"] == float("inf")
    assert abs(a2b["fid"]) < 1e-2 and abs(b2a["fid"]) < 1e-2
    assert a2b["colour_accuracy"] >= 0.95
    assert a2b["colourfulness_fake"] == pytest.approx(a2b["colourfulness_real"])
    labels = json.loads((digit_run.parent / "data" / "dataset.json").read_text())["labels"]
    x = torch.stack([torch.from_numpy(a).permute(2, 0, 1) for a in colour[:20]]).float() / 255
    wanted = torch.tensor([labels[f"testA/{i:05d}.png"] for i in range(1, 21)])
    direct = float((digits.predict_digits(classifier.model, x) == wanted).float().mean())
    assert a2b["digit_accuracy"] == pytest.approx(direct)


def test_eval_run_paired_photos_without_inception_weights(cli, real_data, tmp_path, monkeypatch):
    monkeypatch.setattr(fid, "_download", _no_download)
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((real_data / "flowers_128").rglob("*.jpg"))[:10]:
        shutil.copy(path, photos / path.name)
    prepare_grayscale(photos, tmp_path / "bw", test_fraction=0.3)
    console.set_quiet(True)
    run = train_cyclegan(tmp_path / "bw", run=tmp_path / "run", generator="digit_resnet",
                         discriminator="digit_patchgan", size=32, load_size=32, **TINY).run_dir
    console.set_quiet(False)
    result = cli("eval", "run", run, "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["features"] is None and "FID/KID skipped" in " ".join(result.stderr.split())
    a2b, b2a = report["a2b"], report["b2a"]
    assert a2b["fid"] is None and "digit_accuracy" not in a2b
    assert a2b["pairs"] == a2b["count"] >= 2 and b2a["pairs"] == b2a["count"]
    assert {"ssim", "psnr", "colourfulness_fake", "colourfulness_real"} <= set(a2b)
    assert "colourfulness_fake" not in b2a  # the target A is gray
    assert a2b["colourfulness_real"] > 5  # real colour flowers

    explicit = cli("eval", "run", run, "--features", "inception")
    assert explicit.exit_code == 2 and fid.INCEPTION_FILE in explicit.output


def test_a_perfect_colorizer_gets_perfect_scores(tmp_path, monkeypatch):
    """The colorizer replaced by one that returns the true colours: SSIM 1, PSNR inf, same colourfulness."""
    import ganctl.translate

    monkeypatch.setattr(fid, "_download", _no_download)
    photos = make_photos(tmp_path / "photos", 6)
    run = quietly(train, "colorize", data=str(photos), run=tmp_path / "run", preset="smoke").run_dir
    monkeypatch.setattr(ganctl.translate, "load_translator", lambda path, direction, **kw: lambda batch: batch)
    report = evaluate_run(run, device="cpu", write=False)
    assert report["kind"] == "colorize" and report["count"] == 6 and "no test split" in report["images"]
    # SSIM's variances are E[x^2] - E[x]^2 in float32: on flat colour areas that leaves ~1e-5 of 1
    assert report["ssim"] == pytest.approx(1.0, abs=1e-4) and report["psnr"] == float("inf")
    assert report["colourfulness_fake"] == pytest.approx(report["colourfulness_real"])
    assert report["fid"] is None and report["features"] is None  # no Inception weights: skipped, not failed


def test_colorize_reads_a_datasets_test_photos(tmp_path, monkeypatch):
    monkeypatch.setattr(fid, "_download", _no_download)
    make_photos(tmp_path / "set" / "trainB", 4)
    make_photos(tmp_path / "set" / "testB", 3, seed=1)
    run = quietly(train, "colorize", data=str(tmp_path / "set"), run=tmp_path / "run", preset="smoke").run_dir
    report = evaluate_run(run, device="cpu", write=False)
    assert report["images"] == "testB" and report["count"] == 3 and 0 < report["psnr"] < float("inf")
    assert evaluate_run(run, device="cpu", split="train", write=False)["count"] == 4
    # the U-Net has batch norm and dropout: the reference test mode by default, eval mode when asked
    in_eval_mode = evaluate_run(run, device="cpu", eval_mode=True, write=False)
    assert report["eval_mode"] is False and in_eval_mode["eval_mode"] is True
    assert in_eval_mode["psnr"] != report["psnr"]


def test_gan_samples_that_are_mnist_digits_score_like_mnist(classifier, mnist_source, tmp_path, monkeypatch):
    """Samples replaced by MNIST's own test digits: FID ~0, and the digit shares are the classifier's on MNIST."""
    import ganctl.generate
    from ganctl.data.mnist import load_mnist
    from ganctl.metrics.eval_gan import digit_coverage_entropy

    digits.save_classifier(classifier)
    run = quietly(train, "gan", source=str(mnist_source), run=tmp_path / "run", preset="smoke").run_dir
    real = load_mnist(mnist_source).test_images[:40].unsqueeze(1).float() / 255
    monkeypatch.setattr(ganctl.generate, "sample_images", lambda net, latent, n, seed, batch: real[:n])
    report = evaluate_run(run, device="cpu", limit=40, write=False)
    assert report["count"] == 40 and report["features"] == "digits" and abs(report["fid"]) < 1e-2
    wanted = torch.bincount(digits.predict_digits(classifier.model, real), minlength=10).double() / 40
    assert report["digit_share"] == pytest.approx(wanted.tolist())
    assert report["digit_coverage_entropy"] == pytest.approx(digit_coverage_entropy(wanted.tolist()))
    assert digit_coverage_entropy([0.1] * 10) == pytest.approx(1.0)
    assert digit_coverage_entropy([1.0] + [0.0] * 9) == 0.0


def test_a_classifier_run_scores_what_training_measured(mnist_source, tmp_path):
    run = quietly(train, "classifier", source=str(mnist_source), run=tmp_path / "run", preset="smoke",
                   out=str(tmp_path / "clf.safetensors")).run_dir
    report = evaluate_run(run, device="cpu", write=False)
    assert report["count"] == 10000
    assert report["test_accuracy"] == digits.load_classifier(tmp_path / "clf.safetensors").test_accuracy


def test_runs_eval_run_cannot_evaluate_are_one_line_exit_2(cli, tmp_path, monkeypatch):
    from ganctl.checkpoint import save_checkpoint
    from ganctl.training import Recipe, recipe

    class Bare(Recipe):
        name = "bare"

    monkeypatch.setitem(recipe._RECIPES, "bare", Bare)
    for kind, problem in (("vid2vid", "eval run evaluates runs of"), ("bare", "cannot evaluate bare runs")):
        run = tmp_path / kind
        (run / "checkpoints").mkdir(parents=True)
        (run / "config.json").write_text("{}")
        save_checkpoint(run / "checkpoints" / "latest.safetensors", {"net": torch.nn.Linear(1, 1)},
                        config={"kind": kind})
        result = cli("eval", "run", run)
        assert result.exit_code == 2 and problem in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_eval_run_refuses_data_of_other_channels_and_warns_on_another_kind(cli, mnist, classifier, digit_run,
                                                                              tmp_path):
    """--data for a gray -> colour run: gray -> gray rotated digits are refused before eval.json is touched;
    data with the run's channels but another kind is evaluated with a warning."""
    from ganctl.data.dataset_meta import read_dataset_meta, write_dataset_meta
    from ganctl.data.mnist_rotate import prepare_mnist_rotate

    prepare_mnist_rotate(tmp_path / "rot", limit=8, mnist=mnist)
    eval_json = digit_run / "eval.json"
    before = eval_json.read_bytes() if eval_json.exists() else None
    result = cli("eval", "run", digit_run, "--data", tmp_path / "rot", "--device", "cpu")
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "holds gray -> gray data" in said and "the run translates gray -> colour" in said
    assert (eval_json.read_bytes() if eval_json.exists() else None) == before

    other = tmp_path / "other"
    shutil.copytree(digit_run.parent / "data", other)
    digits.save_classifier(classifier)
    meta = read_dataset_meta(other)
    write_dataset_meta(other, {**meta, "kind": "grayscale"})
    result = cli("eval", "run", digit_run, "--data", other, "--device", "cpu", "--limit", "4",
                 "--features", "digits", "--json")
    assert result.exit_code == 0, result.output
    assert "is a grayscale dataset, but the run trained on mnist-color data" in " ".join(result.output.split())
