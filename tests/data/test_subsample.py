"""Row subsampling: every minority row plus a seeded share; at most cap per group and side."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.data.subsample import cap_per_group, keep_minority
from medmodal.errors import InvalidParameterError


def test_keep_minority_keeps_every_minority_row_and_a_share_of_the_majority() -> None:
    labels = np.array(["N"] * 900 + ["S"] * 50 + ["V"] * 40 + ["F"] * 10)
    rows = keep_minority(labels, fraction=0.2, seed=3)
    assert np.all(np.diff(rows) > 0) and rows.dtype == np.int64
    kept = labels[rows]
    assert (kept != "N").sum() == 100  # every S, V and F row
    assert 0.15 < (kept == "N").sum() / 900 < 0.25
    np.testing.assert_array_equal(rows, keep_minority(labels, fraction=0.2, seed=3))
    assert not np.array_equal(rows, keep_minority(labels, fraction=0.2, seed=4))


def test_keep_minority_is_one_uniform_draw_per_row() -> None:
    """The rule the MIT-BIH benchmark and data set used before it moved here."""
    labels = np.random.default_rng(0).choice(["N", "S", "V"], 500, p=[0.8, 0.1, 0.1])
    old = (labels != "N") | (np.random.default_rng(7).random(500) < 0.1)
    np.testing.assert_array_equal(keep_minority(labels, fraction=0.1, seed=7), np.flatnonzero(old))


def test_keep_minority_edges_and_errors() -> None:
    labels = np.array([0, 0, 1, 0])
    assert keep_minority(labels, fraction=1.0, majority=0).tolist() == [0, 1, 2, 3]
    assert keep_minority(labels, fraction=0.0, majority=0).tolist() == [2]
    with pytest.raises(InvalidParameterError, match="fraction"):
        keep_minority(labels, fraction=1.5)
    with pytest.raises(InvalidParameterError, match="1-D"):
        keep_minority(labels.reshape(2, 2), fraction=0.5)


def test_cap_per_group_keeps_at_most_cap_per_patient_and_class() -> None:
    groups = np.array(["a"] * 10 + ["b"] * 4)
    positive = np.array([True] * 7 + [False] * 3 + [True, False, False, False])
    keep = cap_per_group(groups, positive, 2, seed=0)
    pairs = list(zip(groups[keep], positive[keep], strict=True))
    assert pairs.count(("a", True)) == 2 and pairs.count(("a", False)) == 2
    assert pairs.count(("b", True)) == 1 and pairs.count(("b", False)) == 2
    # visited group by group, positives first, each side sorted
    assert pairs == [("a", True)] * 2 + [("a", False)] * 2 + [("b", True)] + [("b", False)] * 2
    np.testing.assert_array_equal(keep, cap_per_group(groups, positive, 2, seed=0))


def test_cap_per_group_order_picks_and_orders_the_groups() -> None:
    groups = np.repeat(["x", "y", "z"], 6)
    positive = np.tile([True, False], 9)
    keep = cap_per_group(groups, positive, 2, seed=1, order=["z", "x"])
    assert set(groups[keep]) == {"z", "x"}
    assert groups[keep].tolist() == ["z"] * 4 + ["x"] * 4


def test_cap_per_group_matches_one_generator_over_local_pools() -> None:
    """The same draws as a per-record loop over local indices (the cohort's old code)."""
    rng = np.random.default_rng(0)
    sizes = {"119": 9, "100": 7}
    flags = {rid: rng.random(n) < 0.4 for rid, n in sizes.items()}
    old_rng, old, offset = np.random.default_rng(5), [], 0
    for rid, n in sizes.items():
        for want in (True, False):
            pool = np.flatnonzero(flags[rid] == want)
            old += (offset + np.sort(old_rng.permutation(pool)[:3])).tolist()
        offset += n
    groups = np.concatenate([np.full(n, rid) for rid, n in sizes.items()])
    positive = np.concatenate(list(flags.values()))
    new = cap_per_group(groups, positive, 3, seed=5, order=list(sizes))
    assert new.tolist() == old


def test_cap_per_group_errors() -> None:
    with pytest.raises(InvalidParameterError, match="cap must be >= 1"):
        cap_per_group(np.zeros(3), np.zeros(3, dtype=bool), 0)
    with pytest.raises(InvalidParameterError, match="equal 1-D shapes"):
        cap_per_group(np.zeros(3), np.zeros(4, dtype=bool), 1)
