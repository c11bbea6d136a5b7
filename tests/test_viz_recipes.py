"""``ganctl viz grid`` and ``ganctl viz latent`` for every registered recipe, through the real ``ganctl`` app.

Each recipe's ``smoke`` preset trains on tiny data made here, sized so that its two steps are one epoch (the
run then has an epoch checkpoint to draw). A model that translates gets translation panels (one per direction
its adapter translates) and a latent plot; a gan model gets noise panels; anything else (the classifier) the
training's samples, and ``viz latent`` refuses it in one line. The adapters' answers to "what does a direction
translate, and is there a truth" (``ModelAdapter.examples``) are checked on their own below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from training_data import make_ab_dataset, make_recipe_data, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.errors import InputError
from ganctl.fsutil import atomic_write_json
from ganctl.training import get_recipe, list_recipes
from ganctl.training.runner import train
from ganctl.translate.adapters import adapter_directions, adapter_for

RECIPES = list_recipes()


def _one_epoch_data(recipe, root: Path) -> dict:
    """``--data`` (and ``--source``) of the recipe's data kind with two smoke batches of training images."""
    batch = {**recipe.options.defaults(), **recipe.presets["smoke"]}["batch_size"]
    return make_recipe_data(recipe.data_kind, root, train_images=2 * batch)


def _one_line_error(result, needle: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.output


@pytest.mark.parametrize("name", RECIPES)
def test_viz_grid_and_latent_of_every_recipe(name, tmp_path, cli):
    recipe = get_recipe(name)
    options = {"out": str(tmp_path / "clf.safetensors")} if "out" in recipe.options.names() else {}
    run = train(name, run=tmp_path / "run", preset="smoke", **_one_epoch_data(recipe, tmp_path), **options).run_dir
    assert (run / "checkpoints" / "epoch_0001.safetensors").is_file(), "two smoke steps should be one epoch"
    config = load_checkpoint(run / "checkpoints" / "latest.safetensors", with_state=False).config
    directions = adapter_directions(config)

    grid = cli("viz", "grid", run, "--n", "3")
    assert grid.exit_code == 0, grid.output
    with Image.open(run / "grid.png") as img:
        assert np.asarray(img.convert("L")).std() > 5
    if directions:  # one translation panel per direction, titled by its adapter's examples
        assert "translated by the generators of epoch 1" in grid.output
        assert grid.output.count("→") == len(directions), grid.output
    elif name == "gan":
        assert "fixed noise vectors" in grid.output
    else:
        assert "training samples at epoch 1" in grid.output

    latent = cli("viz", "latent", "--model", run, "--n", "8", "--device", "cpu")
    if directions:
        assert latent.exit_code == 0, latent.output
        assert (run / "latent_pca.png").is_file()
    else:
        _one_line_error(latent, f"viz latent plots the generators of a model that translates images (colorize, "
                                f"cut, cyclegan, pix2pix); this one is a {name} model")


# ---------------------------------------------------------------- what each kind translates

def _side_by_side(root: Path, split: str, n: int) -> None:
    for i in range(n):
        image = np.zeros((8, 16, 3), np.uint8)
        image[:, :8] = 40 * i  # A: gray levels on the left
        image[:, 8:] = (200, 30 * i, 10)  # B: colours on the right
        (root / split).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / split / f"{i}.png")


def test_examples_say_what_each_direction_translates_and_its_truth(tmp_path):
    ab = make_ab_dataset(tmp_path / "ab", n_train=2, n_test=3)
    channels = {"A": 1, "B": 3}

    for direction, src, dst in (("a2b", "A", "B"), ("b2a", "B", "A")):
        examples = adapter_for({"kind": "cyclegan", "channels": channels}, direction).examples(ab, "test")
        assert [e.name for e in examples.items] == [f"test{src}/{i:03d}.png" for i in range(3)]
        assert examples.title == f"{src} → {dst}  (test{src})" and examples.truth_label is None
        assert examples.items[0].open()[1] is None
    cut = adapter_for({"kind": "cut", "channels": channels}, "a2b").examples(ab, "train")
    assert [e.name for e in cut.items] == ["trainA/000.png", "trainA/001.png"]

    for trained, src, dst in (("AtoB", "A", "B"), ("BtoA", "B", "A")):
        examples = adapter_for({"kind": "pix2pix", "channels": channels, "direction": trained}, "a2b").examples(ab,
                                                                                                             "test")
        assert examples.input_label == f"input {src}" and examples.truth_label == f"true {dst}"
        source, truth = examples.items[0].open()
        assert (source.mode, truth.mode) == (("L", "RGB") if src == "A" else ("RGB", "L"))

    colorize = adapter_for({"kind": "colorize"}, "a2b").examples(ab, "test")
    assert [e.name for e in colorize.items] == [f"testB/{i:03d}.png" for i in range(3)]
    gray, photo = colorize.items[0].open()
    g, p = np.asarray(gray, np.int16), np.asarray(photo, np.int16)
    assert g.shape == p.shape and np.abs(g - g[:, :, :1]).max() <= 1, "the input is the photo made gray"
    assert colorize.truth_label == "true colours" and np.abs(p - p[:, :, :1]).max() > 20

    atomic_write_json(ab / "dataset.json", {"paired_test": True})  # mnist-color: the test split is paired
    paired_test = adapter_for({"kind": "cyclegan", "channels": channels}, "a2b").examples(ab, "test")
    source, truth = paired_test.items[1].open()
    assert paired_test.truth_label == "true B" and source.mode == "L" and truth.mode == "RGB"
    assert adapter_for({"kind": "cyclegan"}, "a2b").examples(ab, "train").truth_label is None


def test_pix2pix_examples_of_side_by_side_pairs_and_without_a_test_split(tmp_path):
    root = tmp_path / "facades"
    _side_by_side(root, "train", 2)
    _side_by_side(root, "val", 3)
    examples = adapter_for({"kind": "pix2pix", "direction": "BtoA"}, "a2b").examples(root, "test")
    assert examples.title == "B → A  (test pairs, val/)" and len(examples.items) == 3
    source, truth = examples.items[2].open()
    assert source.size == truth.size == (8, 8)
    assert np.asarray(source)[0, 0].tolist() == [200, 60, 10] and np.asarray(truth.convert("L"))[0, 0] == 80

    bare = tmp_path / "bare"
    _side_by_side(bare, "train", 2)
    with pytest.raises(InputError, match="no test pairs.*--split train"):
        adapter_for({"kind": "pix2pix"}, "a2b").examples(bare, "test")
    assert len(adapter_for({"kind": "pix2pix"}, "a2b").examples(bare, "train").items) == 2


def test_grid_of_a_pix2pix_run_shows_its_true_targets_from_where_the_data_are_now(tmp_path, cli):
    data = make_ab_dataset(tmp_path / "ab", n_train=4, n_test=2)
    run = train("pix2pix", data=str(data), run=tmp_path / "run", preset="smoke").run_dir
    moved = data.rename(tmp_path / "moved")
    result = cli("viz", "grid", run, "--data", moved, "--out", tmp_path / "grid.png")
    assert result.exit_code == 0, result.output
    assert "A → B  (test pairs, testA/ testB/): input A | epoch 1 | true B" in result.output

