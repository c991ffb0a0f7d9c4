"""Explanation figures: relevance over the ECG, modality importance, attention heatmaps."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage

from medmodal.ecg import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError
from medmodal.explain import ModalityImportance, shapley_values
from medmodal.viz.explain import (
    plot_attention_heatmap,
    plot_ecg_relevance,
    plot_modality_importance,
    plot_record_explanation,
    plot_relevance_panels,
)

FS = 100.0


@pytest.fixture(scope="module")
def ecg():
    sim = ecg_simulate_annotated(8.0, FS, rhythm="pvc", ectopic_rate=0.25, heart_rate=70, seed=3)
    pvc = sim.r_peaks[np.asarray(sim.beat_labels) == "V"]
    t = np.arange(len(sim.signal))
    relevance = sum(np.exp(-0.5 * ((t - p) / 8.0) ** 2) for p in pvc)
    return sim.signal, np.asarray(relevance, float), pvc


@pytest.mark.parametrize("style", ["background", "line"])
def test_ecg_relevance_overlay(ecg, style, tmp_path):
    x, rel, pvc = ecg
    fig = plot_ecg_relevance(x, rel, FS, style=style, events=pvc, title="IG on a PVC record")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "mV"
    assert ax.get_title(loc="left") == "IG on a PVC record"
    kind = AxesImage if style == "background" else LineCollection
    drawn = ax.images if style == "background" else ax.collections
    assert any(isinstance(a, kind) for a in drawn)
    assert len(fig.axes) == 2  # the trace and its colour bar
    legend = ax.get_legend()
    assert legend is not None and legend.get_texts()[0].get_text() == "PVC"
    if style == "background":  # the map is drawn scaled to [0, 1], peaking on a PVC
        data = np.asarray(ax.images[0].get_array())[0]
        assert data.max() == pytest.approx(1.0) and abs(int(data.argmax()) - pvc).min() <= 1
    fig.savefig(tmp_path / f"relevance_{style}.png", dpi=60)
    assert (tmp_path / f"relevance_{style}.png").stat().st_size > 5000


def test_relevance_panels_one_row_per_method(ecg, tmp_path):
    x, rel, pvc = ecg
    maps = {"attention": rel, "Grad-CAM": rel**2, "Integrated Gradients": -rel}
    fig = plot_relevance_panels(x, maps, FS, events=pvc, smooth={"Integrated Gradients": 0.1})
    titles = [a.get_title(loc="left") for a in fig.axes[:3]]
    assert titles == list(maps)
    assert fig.axes[2].get_xlabel() == "time (s)"
    smoothed = np.asarray(fig.axes[2].images[0].get_array())[0]
    assert smoothed.max() == pytest.approx(1.0) and smoothed.min() >= 0  # |.| then scaled
    fig.savefig(tmp_path / "panels.png", dpi=60)


def test_modality_importance_bars_state_efficiency():
    payoff = {"ecg": 0.3, "clinical": 0.1, "image": -0.05}
    phi = shapley_values(lambda s: 0.5 + sum(payoff[m] for m in s), list(payoff))
    result = ModalityImportance("shapley", "auroc", phi, 0.85, 0.5)
    fig = plot_modality_importance(result)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["image", "clinical", "ecg"]  # ordered by magnitude
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([-0.05, 0.1, 0.3])
    assert "sum to +0.350" in ax.get_xlabel() and "Shapley value (auroc)" in ax.get_xlabel()
    plain = plot_modality_importance({"a": 0.2, "b": -0.1}, title="drop")
    assert plain.axes[0].get_title(loc="left") == "drop"


def test_attention_heatmap_aligns_tokens_with_time(ecg):
    x, _, pvc = ecg
    tokens = int(np.ceil(len(x) / 16))
    heads = np.random.default_rng(0).dirichlet(np.ones(tokens), size=3)
    fig = plot_attention_heatmap(heads, signal=x, sampling_rate=FS, stride=16, events=pvc)
    hm = fig.axes[1]
    image = hm.images[0]
    assert image.get_array().shape == (3, tokens)
    left, right, *_ = image.get_extent()
    assert left == 0 and right == pytest.approx(len(x) / FS)
    assert [t.get_text() for t in hm.get_yticklabels()] == ["head 1", "head 2", "head 3"]
    assert hm.get_xlabel() == "time (s)"


def test_figures_validate_inputs(ecg):
    x, rel, _ = ecg
    with pytest.raises(InvalidParameterError, match="same length"):
        plot_ecg_relevance(x, rel[:-1], FS)
    with pytest.raises(InvalidParameterError, match="style"):
        plot_ecg_relevance(x, rel, FS, style="dots")
    with pytest.raises(InvalidParameterError, match="NaN"):
        plot_ecg_relevance(x, np.full_like(rel, np.nan), FS)
    with pytest.raises(InvalidParameterError, match="at least one"):
        plot_relevance_panels(x, {}, FS)
    with pytest.raises(InvalidParameterError, match="heads"):
        plot_attention_heatmap(np.zeros(5))
    with pytest.raises(InvalidParameterError, match="head_labels"):
        plot_attention_heatmap(np.zeros((2, 5)), head_labels=["a"])


def test_record_explanation_puts_trace_maps_beside_modality_values(ecg, tmp_path):
    x, rel, pvc = ecg
    fig = plot_record_explanation(
        x,
        {"attention": rel, "Grad-CAM": rel},
        FS,
        {"ecg": 0.4, "clinical": -0.02},
        events=pvc,
        call="P(PVCs) = 0.97",
    )
    assert fig.get_suptitle() == "Why the model made this call: P(PVCs) = 0.97"
    bars = fig.axes[-1]
    assert [t.get_text() for t in bars.get_yticklabels()] == ["clinical", "ecg"]
    assert [p.get_width() for p in bars.patches] == pytest.approx([-0.02, 0.4])
    assert fig.axes[1].get_xlabel() == "time (s)"
    fig.savefig(tmp_path / "record.png", dpi=60)
    with pytest.raises(InvalidParameterError, match="at least one"):
        plot_record_explanation(x, {"a": rel}, FS, {})
