"""`ganctl datasets`: the table of named datasets and whether each is local."""

from __future__ import annotations

import json

from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.paths import datasets_dir


def test_table_lists_every_named_dataset(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = cli("datasets")
    assert result.exit_code == 0, result.output
    for name in ("mnist-color", "mnist-rotate", "mnist", "cifar10", "horse2zebra", "monet2photo",
                 "summer2winter_yosemite", "iphone2dslr_flower", "facades"):
        assert name in result.output
    assert "efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip" in result.output
    assert " yes " not in result.output


def test_local_datasets_show_their_size(cli):
    folder = datasets_dir() / "horse2zebra"
    for split in ("trainA", "trainB", "testA", "testB"):
        (folder / split).mkdir(parents=True)
    for i in range(3):
        (folder / "trainA" / f"{i}.jpg").write_bytes(b"x")
    mnist_color = datasets_dir() / "mnist-color"
    mnist_color.mkdir()
    write_dataset_meta(mnist_color, {"counts": {"trainA": 10, "trainB": 10, "testA": 5, "testB": 5}})
    result = cli("datasets", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["datasets"]}
    assert rows["horse2zebra"]["local"] and rows["horse2zebra"]["images"] == 3
    assert rows["mnist-color"]["images"] == 30 and rows["mnist-color"]["path"] == str(mnist_color)
    assert not rows["cifar10"]["local"] and rows["cifar10"]["images"] is None
    assert rows["horse2zebra"]["kind"] == "cyclegan"
    table = cli("datasets")
    assert "3 images" in table.output and "30 images" in table.output
