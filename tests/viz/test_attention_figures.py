"""Attention figures: traces with shaded events over their token attention."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import AxesImage

from medmodal.errors import InvalidParameterError
from medmodal.viz.attention import plot_attention_heads, plot_attention_overlay


def test_overlay_draws_a_trace_and_a_bar_chart_per_record() -> None:
    ecg = np.random.default_rng(0).normal(size=(3, 1000))
    weights = np.full((3, 25), 1 / 25)
    events = [np.array([200, 600]), np.array([50]), np.array([], dtype=int)]
    fig = plot_attention_overlay(ecg, weights, events, np.array([0.9, 0.8, 0.1]), sampling_rate=100)
    axes = fig.axes
    assert len(axes) == 6
    assert len(axes[1].patches) == 25  # one bar per token
    assert len(axes[0].patches) == 2 and not axes[4].patches  # shaded PVC beats
    assert axes[4].get_title(loc="left").startswith("record 3: sinus rhythm")
    with pytest.raises(InvalidParameterError, match="same non-zero length"):
        plot_attention_overlay(ecg, weights[:2], events, np.ones(3), sampling_rate=100)


def test_heads_heat_map_has_a_row_per_head_and_query() -> None:
    heads = np.random.default_rng(1).dirichlet(np.ones(25), size=(4, 2))  # (H, Q, T')
    fig = plot_attention_heads(np.zeros(1000), heads, np.array([500]), sampling_rate=100)
    image = next(a for a in fig.axes[1].get_children() if isinstance(a, AxesImage))
    assert image.get_array().shape == (8, 25)
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels[:2] == ["head 1 / age", "head 1 / sex"]
    with pytest.raises(InvalidParameterError, match="heads must be"):
        plot_attention_heads(np.zeros(1000), heads[0], np.array([500]), sampling_rate=100)
