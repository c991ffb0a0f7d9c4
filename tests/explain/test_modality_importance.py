"""Modality ablation and exact Shapley values over modalities."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from medmodal.errors import InvalidParameterError
from medmodal.explain import modality_ablation, modality_shapley, shapley_values

PLAYERS = ["a", "b", "c", "d"]


def _coalitions(players):
    return [
        frozenset(c) for r in range(len(players) + 1) for c in itertools.combinations(players, r)
    ]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4), st.data())
def test_shapley_efficiency_symmetry_and_null_player(m, data):
    players = PLAYERS[:m]
    payoff = {c: data.draw(st.floats(-10, 10, allow_nan=False)) for c in _coalitions(players[:-1])}
    # the last player is a null player: adding it never changes the payoff
    game = {c: payoff[c - {players[-1]}] for c in _coalitions(players)}
    phi = shapley_values(game.__getitem__, players)
    total = sum(phi.values())
    assert total == pytest.approx(game[frozenset(players)] - game[frozenset()], abs=1e-9)
    assert phi[players[-1]] == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=5))
def test_shapley_of_an_additive_game_is_each_players_own_worth(worths):
    players = [f"p{i}" for i in range(len(worths))]
    own = dict(zip(players, worths, strict=True))
    phi = shapley_values(lambda s: sum(own[p] for p in s), players)
    for p in players:
        assert phi[p] == pytest.approx(own[p], abs=1e-9)


def test_shapley_handles_per_sample_payoffs_and_limits_players():
    phi = shapley_values(lambda s: np.array([len(s), 2 * ("x" in s)], float), ["x", "y"])
    np.testing.assert_allclose(phi["x"], [1.0, 2.0])
    np.testing.assert_allclose(phi["y"], [1.0, 0.0])
    with pytest.raises(InvalidParameterError, match="players"):
        shapley_values(lambda s: 0.0, [f"m{i}" for i in range(7)])
    with pytest.raises(InvalidParameterError, match="players"):
        shapley_values(lambda s: 0.0, ["a", "a"])


def test_modality_shapley_per_sample_is_efficient(tabular, tabular_clf):
    X, _ = tabular
    Xs = {k: v[:30] for k, v in X.items()}
    result = modality_shapley(tabular_clf, Xs)
    assert result.quantity == "probability" and set(result.values) == {"clinical", "image", "labs"}
    total = sum(result.values.values())
    np.testing.assert_allclose(total, result.full - result.empty, atol=1e-9)
    # the uninformative modality matters least
    means = result.mean()
    assert means["labs"] < min(means["clinical"], means["image"])
    frame = result.to_frame()
    assert frame["share"].sum() == pytest.approx(1.0)


def test_modality_shapley_and_ablation_with_a_metric(tabular, tabular_clf):
    X, y = tabular

    def auroc(t, p):
        return roc_auc_score(t, p[:, 1])

    shap = modality_shapley(tabular_clf, X, y, metric=auroc)
    assert shap.quantity == "auroc"
    assert sum(shap.values.values()) == pytest.approx(shap.full - shap.empty, abs=1e-9)
    assert shap.full > 0.8 and abs(shap.empty - 0.5) < 1e-6  # nothing present: no ranking
    abl = modality_ablation(tabular_clf, X, y, metric=auroc)
    assert abl.values["clinical"] > 0.05 and abl.values["image"] > 0.05
    assert abs(abl.values["labs"]) < 0.05
    assert abl.full == pytest.approx(shap.full)


def test_modality_importance_respects_masks_and_validates(tabular, tabular_clf):
    X, y = tabular
    Xs = {k: v[:10] for k, v in X.items()}
    absent = {"image": np.zeros(10, bool)}
    result = modality_shapley(tabular_clf, Xs, masks=absent)
    np.testing.assert_allclose(result.values["image"], 0.0, atol=1e-9)  # never present
    with pytest.raises(InvalidParameterError, match="metric"):
        modality_shapley(tabular_clf, Xs, y[:10])
    with pytest.raises(InvalidParameterError, match="target"):
        modality_ablation(tabular_clf, Xs, target="no such class")
