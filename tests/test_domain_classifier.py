"""The photo domain classifier: held-out split, cache key, training and cache, and what eval run / eval fid make of it.

Tiny synthetic A/B sets (gray squares vs coloured discs) and a few real horse2zebra images at small sizes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from training_data import make_ab_dataset, quietly

from ganctl.metrics import classifier_cache, domain, fid
from ganctl.metrics.run_eval import evaluate_run
from ganctl.training import train

QUICK = dict(size=16, width=4, feature_dim=8, steps=20, batch_size=6, lr=1e-2, device="cpu", log_every=10, samples=2)


def _no_download(url, dst):
    raise OSError("offline")


@pytest.fixture(scope="module")
def ab(tmp_path_factory) -> Path:
    return make_ab_dataset(tmp_path_factory.mktemp("domain") / "ab", n_train=12, n_test=6)


def make_dark_and_red(root: Path, n_train: int = 12, n_test: int = 6) -> Path:
    """A: dark gray noise; B: bright red noise (32 px): domains any classifier tells apart at once."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        for d in "AB":
            (root / f"{split}{d}").mkdir(parents=True)
            for i in range(n):
                noise = rng.integers(0, 60, (32, 32, 3), dtype=np.uint8)
                if d == "B":
                    noise[:, :, 0] += 180
                Image.fromarray(noise).save(root / f"{split}{d}" / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def dark_red(tmp_path_factory) -> Path:
    return make_dark_and_red(tmp_path_factory.mktemp("dark_red") / "set")


@pytest.fixture
def h2z_small(real_data, tmp_path) -> Path:
    """16 train and 8 test images per domain of the real horse2zebra."""
    root = tmp_path / "h2z"
    for split, n in (("train", 16), ("test", 8)):
        for d in "AB":
            (root / f"{split}{d}").mkdir(parents=True)
            for path in sorted((real_data / "horse2zebra" / f"{split}{d}").iterdir())[:n]:
                shutil.copy(path, root / f"{split}{d}" / path.name)
    return root


def test_the_test_split_measures_and_without_one_a_seeded_share_of_train_is_held_out(tmp_path):
    files = {f"train{d}": [tmp_path / f"train{d}" / f"{i}.png" for i in range(20)] for d in "AB"}
    with_test = {**files, "testA": [tmp_path / "x.png"], "testB": [tmp_path / "y.png"]}
    train_files, test_files, how = domain.split_files(with_test, 0.1, 0)
    assert train_files["A"] == files["trainA"] and test_files["B"] == [tmp_path / "y.png"] and "test split" in how

    train_files, test_files, how = domain.split_files({**files, "testA": [], "testB": []}, 0.1, 0)
    assert "held-out 10%" in how and "no test split" in how
    for d in "AB":
        assert len(test_files[d]) == 2 and len(train_files[d]) == 18
        assert set(test_files[d]).isdisjoint(train_files[d])
        assert set(test_files[d]) | set(train_files[d]) == set(files[f"train{d}"])
    assert domain.split_files({**files, "testA": [], "testB": []}, 0.1, 0)[1] == test_files  # seeded
    assert domain.split_files({**files, "testA": [], "testB": []}, 0.1, 1)[1] != test_files


def test_the_cache_key_follows_the_training_files_content_and_the_settings(tmp_path):
    root = make_ab_dataset(tmp_path / "ab", n_train=3, n_test=1)
    files = {f"train{d}": sorted((root / f"train{d}").iterdir()) for d in "AB"}
    key = domain.cache_key(root, files, {"size": 64})
    assert key == domain.cache_key(root, files, {"size": 64})
    assert key != domain.cache_key(root, files, {"size": 32})
    files["trainA"][0].write_bytes(files["trainA"][1].read_bytes())  # one image's content changes
    assert key != domain.cache_key(root, files, {"size": 64})
    assert domain.cached_path("horse2zebra", key).name == f"domain_classifier-horse2zebra-{key[:16]}.safetensors"


def test_trained_classifier_tells_the_domains_apart_and_keeps_its_accuracy(dark_red, tmp_path):
    out = tmp_path / "judge.safetensors"
    result = quietly(train, "domain-classifier", str(dark_red), run=tmp_path / "run", out=str(out), **QUICK)
    assert result.step == 20 and result.extras["accuracy"] == 1.0  # dark vs red: no classifier may miss
    judge = domain.load_domain_classifier(out)
    assert judge.size == 16 and judge.accuracy == result.extras["accuracy"]
    assert "test split (6 testA + 6 testB" in judge.measured_on
    assert judge.info["settings"]["steps"] == 20 and judge.info["train_images"] == {"A": 12, "B": 12}
    from ganctl.metrics.images import read_uint8

    red = [read_uint8(p) for p in sorted((dark_red / "testB").iterdir())]
    assert domain.share_taken_for(judge.model, red, judge.size, "B") == 1.0
    assert domain.share_taken_for(judge.model, red, judge.size, "A") == 0.0

    again = quietly(train, "domain-classifier", str(dark_red), run=tmp_path / "run2", out=str(out), **QUICK)
    assert again.skipped and "exists already" in again.skipped  # installed: nothing to train


def test_same_seed_same_weights(dark_red, tmp_path):
    weights = []
    for name in ("one", "two"):
        out = tmp_path / f"{name}.safetensors"
        quietly(train, "domain-classifier", str(dark_red), run=tmp_path / name, out=str(out), **{**QUICK, "steps": 3})
        weights.append(domain.load_domain_classifier(out).model.state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_eval_trains_the_classifier_once_into_the_cache(ab, monkeypatch):
    first = quietly(classifier_cache.get_domain_classifier, ab)
    assert first.path.parent.name == "weights" and first.path.name.startswith("domain_classifier-ab-")
    stamp = first.path.stat().st_mtime_ns
    second = classifier_cache.get_domain_classifier(ab)
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp  # found, not trained again


@pytest.fixture(scope="module")
def ab_run(ab, tmp_path_factory):
    """A smoke CycleGAN run on the synthetic A/B set (gray squares -> coloured discs)."""
    root = tmp_path_factory.mktemp("domain_run")
    return quietly(train, "cyclegan", str(ab), run=root / "run", preset="smoke").run_dir


def test_an_identity_translator_scores_the_input_bound_and_full_content(ab_run, monkeypatch):
    """Translations that are the inputs themselves: domain_accuracy equals the input bound, content_ssim is 1."""
    import ganctl.translate

    monkeypatch.setattr(fid, "_download", _no_download)
    monkeypatch.setattr(ganctl.translate, "load_translator", lambda path, direction, **kw: lambda batch: batch)
    report = quietly(evaluate_run, ab_run, device="cpu", write=False)
    for direction in ("a2b", "b2a"):
        scores = report[direction]
        assert scores["domain_accuracy"] == scores["domain_accuracy_input"]
        assert scores["content_ssim"] == pytest.approx(1.0, abs=1e-5)
        assert 0.0 <= scores["domain_accuracy_real"] <= 1.0
    assert 0.0 <= report["domain_classifier_accuracy"] <= 1.0
    assert "test split" in report["domain_classifier_accuracy_on"]


def test_eval_run_json_on_a_smoke_run_of_real_photos(h2z_small, tmp_path, cli, monkeypatch):
    monkeypatch.setattr(fid, "_download", _no_download)
    run = quietly(train, "cyclegan", str(h2z_small), run=tmp_path / "run", preset="smoke").run_dir
    result = cli("eval", "run", run, "--json", "--device", "cpu", "--limit", "4")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for direction in ("a2b", "b2a"):
        assert report[direction]["count"] == 4 and report[direction]["fid"] is None  # no Inception weights here
        for key in ("domain_accuracy", "domain_accuracy_input", "domain_accuracy_real", "content_ssim"):
            assert 0.0 <= report[direction][key] <= 1.0, key
    assert "domain_classifier_accuracy" in report

    by_domain = cli("eval", "run", run, "--json", "--device", "cpu", "--limit", "4", "--features", "domain")
    assert by_domain.exit_code == 0, by_domain.output
    report = json.loads(by_domain.stdout.strip().splitlines()[-1])
    assert report["features"] == "domain" and report["a2b"]["fid"] >= 0


def test_eval_fid_on_domain_features_needs_data_and_scores_a_set_against_itself_zero(h2z_small, cli):
    no_data = cli("eval", "fid", h2z_small / "testA", h2z_small / "testA", "--features", "domain")
    assert no_data.exit_code == 2 and "--data" in no_data.output and "Traceback" not in no_data.output

    same = cli("eval", "fid", h2z_small / "testA", h2z_small / "testA", "--features", "domain", "--data", h2z_small,
               "--kid", "--json")
    assert same.exit_code == 0, same.output
    out = json.loads(same.stdout.strip().splitlines()[-1])
    assert out["features"] == "domain" and out["fid"] == pytest.approx(0.0, abs=1e-3)
    other = cli("eval", "fid", h2z_small / "testA", h2z_small / "testB", "--features", "domain", "--data", h2z_small,
                "--json")
    assert json.loads(other.stdout.strip().splitlines()[-1])["fid"] > out["fid"]


def test_step_batches_cycle_the_source_and_resume_at_any_step():
    """--steps as one epoch: the source's epochs in turn; starting at step k gives what the full pass gives there."""
    from ganctl.training.data import BatchOrder, MemoryBatches, StepBatches

    items = torch.arange(10)
    source = MemoryBatches(BatchOrder([10], 4, seed=3), [(items,)])  # 2 steps per source epoch
    steps = StepBatches(source, 5)
    full = [b.tolist() for b in steps.epoch(0)]
    expected = [b.tolist() for e in range(3) for b in source.epoch(e)][:5]
    assert steps.steps_per_epoch == 5 and full == expected
    assert [b.tolist() for b in steps.epoch(0, start=3)] == full[3:]
    second = [b.tolist() for b in steps.epoch(1)]
    assert second == [b.tolist() for e in range(2, 6) for b in source.epoch(e)][1:6]
