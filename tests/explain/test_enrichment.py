"""attention_enrichment: attention on annotated events against their share of the signal."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.errors import InvalidParameterError
from medmodal.explain.enrichment import attention_enrichment

FS = 100.0


def test_enrichment_is_one_for_uniform_attention() -> None:
    weights = np.full(50, 1 / 50)
    value = attention_enrichment(weights, np.array([300, 700]), 1000, sampling_rate=FS)
    assert value == pytest.approx(1.0)


def test_enrichment_of_attention_on_the_event_tokens_only() -> None:
    weights = np.zeros(10)  # 10 tokens of 100 samples (1 s) each
    weights[3] = 1.0
    peak = int(3.5 * FS)  # event in the middle of token 3; +-150 ms stays inside it
    assert attention_enrichment(weights, [peak], 1000, sampling_rate=FS) == pytest.approx(10.0)
    assert attention_enrichment(weights, [int(7.5 * FS)], 1000, sampling_rate=FS) == 0.0


def test_a_wider_window_spreads_over_neighbouring_tokens() -> None:
    weights = np.zeros(10)
    weights[3] = 1.0
    # +-0.6 s around 3.5 s covers tokens 2, 3 and 4: 30 % of the signal holds all attention
    value = attention_enrichment(weights, [350], 1000, sampling_rate=FS, half_width=0.6)
    assert value == pytest.approx(1 / 0.3)


def test_events_at_the_edges_stay_inside_the_signal() -> None:
    weights = np.full(10, 0.1)
    assert attention_enrichment(weights, [0, 999], 1000, sampling_rate=FS) == pytest.approx(1.0)


def test_float32_weights_are_summed_in_float32() -> None:
    weights = np.random.default_rng(0).dirichlet(np.ones(25)).astype(np.float32)
    value = attention_enrichment(weights, [420], 1000, sampling_rate=FS)
    on = np.zeros(25, dtype=bool)
    on[(420 - 15) // 40 : (420 + 15) // 40 + 1] = True
    assert value == float(weights[on].sum() / on.mean())


def test_nan_without_events_and_errors_on_bad_input() -> None:
    assert np.isnan(attention_enrichment(np.full(4, 0.25), [], 1000, sampling_rate=FS))
    with pytest.raises(InvalidParameterError, match="attention_enrichment: weights"):
        attention_enrichment(np.ones((2, 2)), [1], 1000, sampling_rate=FS)
    with pytest.raises(InvalidParameterError, match="sampling_rate > 0"):
        attention_enrichment(np.ones(4), [1], 1000, sampling_rate=0)
