"""ImagePool: fills first, then mixes old and new fakes; its state restores exactly."""

from __future__ import annotations

import torch

from ganctl.training.pool import ImagePool


def test_pool_returns_new_images_while_filling():
    pool = ImagePool(4, seed=0)
    x = torch.randn(3, 1, 2, 2)
    assert torch.equal(pool.query(x), x)
    assert pool.count == 3


def test_pool_mixes_in_older_images_once_full():
    pool = ImagePool(4, seed=0)
    first = torch.zeros(4, 1, 2, 2)
    pool.query(first)
    seen_old = 0
    for i in range(1, 20):
        out = pool.query(torch.full((4, 1, 2, 2), float(i)))
        assert out.shape == (4, 1, 2, 2)
        seen_old += int((out != i).any(dim=(1, 2, 3)).sum())
    assert 10 < seen_old < 70  # about half of 76 draws come from the pool


def test_pool_size_zero_passes_through():
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(ImagePool(0).query(x), x)


def test_pool_state_round_trip_continues_identically():
    a = ImagePool(5, seed=3)
    for i in range(4):
        a.query(torch.randn(2, 1, 2, 2))
    b = ImagePool(5, seed=99)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 1, 2, 2)
    for _ in range(5):
        assert torch.equal(a.query(x), b.query(x))
