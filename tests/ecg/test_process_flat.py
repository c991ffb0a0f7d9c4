"""ecg_process on a flat record (issue 14: "unknown" with the reason, never an exception):
no R peaks, heart rate n/a, rhythm undetermined, AF and beat classes unknown, a
MedmodalWarning; and a property test over short, constant and tiny-amplitude input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from medmodal.ecg.process import FLAT_SIGNAL, ecg_process
from medmodal.ecg.rhythm import LABELS as RHYTHM_LABELS
from medmodal.ecg.simulate import ecg_simulate
from medmodal.errors import (
    InvalidParameterError,
    InvalidSignalError,
    MedmodalError,
    MedmodalWarning,
)
from medmodal.jsonsafe import json_safe


def _assert_flat_result(result, n_samples: int) -> None:  # type: ignore[no-untyped-def]
    """What a flat record's result says, on every part."""
    s = result.summary()
    assert result.peaks.size == 0 and s["n_beats"] == 0
    assert np.isnan(result.rate_bpm).all() and result.rate_bpm.size == n_samples
    assert s["heart_rate"]["mean_bpm"] != s["heart_rate"]["mean_bpm"]  # NaN: n/a
    assert result.hrv is None and "hrv" not in s
    assert result.delineation is None and "intervals" not in s
    assert s["rhythm"] == s["rhythm_name"] == "undetermined"
    assert set(result.rhythm.reason) == {FLAT_SIGNAL}
    assert s["rhythm_reason"] == FLAT_SIGNAL
    assert s["heart_rate"]["note"] == f"no beats found: {FLAT_SIGNAL}"
    af = s["atrial_fibrillation"]
    assert af["label"] == "unknown" and af["reason"] == FLAT_SIGNAL
    beats = s["beat_classes"]
    assert beats["label"] == "unknown" and beats["reason"] == FLAT_SIGNAL
    assert beats["n_beats"] == beats["n_classified"] == 0 and beats["pvc_burden_pct"] is None
    assert s["quality"] == "unacceptable"
    assert FLAT_SIGNAL in s["peak_lead_reason"] and FLAT_SIGNAL in s["notes"][0]
    json.dumps(json_safe(s), allow_nan=False)
    assert len(result.beats_frame()) == 0 and len(result.to_frame()) == n_samples


@pytest.mark.parametrize(
    ("signal", "rate"),
    [
        (np.zeros(2500), 250),
        (np.full((3000, 2), 3.0), 300),  # two constant leads
        (np.full(6000, -1e300), 250),  # huge constant
        (np.zeros(20_000, dtype=np.int16), 4000),  # above 1 kHz (no resampled analysis)
    ],
)
def test_flat_record_is_unknown_with_the_reason(signal: np.ndarray, rate: int) -> None:
    with pytest.warns(MedmodalWarning, match=r"ecg_process: the signal is flat .* unknown"):
        result = ecg_process(signal, rate)
    _assert_flat_result(result, signal.shape[0])
    assert result.sampling_rate == result.analysis_rate == rate
    assert result.lead_names == tuple(f"lead{i}" for i in range(np.atleast_2d(signal.T).shape[0]))


def test_flat_record_with_a_short_gap_and_without_beat_classes() -> None:
    x = np.full(2500, 0.5)
    x[100:110] = np.nan  # interpolated (a warning of its own), still flat
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MedmodalWarning)
        result = ecg_process(x, 250, beat_model=None)
    messages = " | ".join(str(w.message) for w in caught)
    assert "interpolated 10 NaN/inf" in messages and "the signal is flat" in messages
    assert result.beat_classes is None and result.peaks.size == 0
    assert result.summary()["atrial_fibrillation"]["reason"] == FLAT_SIGNAL


def test_flat_record_still_checks_the_options() -> None:
    """A bad option is an error on a flat record as on any other."""
    flat = np.zeros(2500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        for kwargs in (
            {"method": "pantompkin"},
            {"clean_method": "nope"},
            {"powerline": "europe"},
            {"window": 0.5},
            {"beat_model": "aami-beats-v9"},
            {"lead_names": ["a", "b"]},
        ):
            with pytest.raises(InvalidParameterError):
                ecg_process(flat, 250, **kwargs)


def test_one_flat_lead_of_two_is_not_a_flat_record() -> None:
    x = np.column_stack([ecg_simulate(10, 250, heart_rate=70, seed=0), np.zeros(2500)])
    with pytest.warns(MedmodalWarning, match=r"lead\(s\) \[1\] are flat"):
        result = ecg_process(x, 250)
    assert result.peaks.size > 8 and not result.notes


def _short_constant_or_tiny(draw: st.DrawFn) -> tuple[np.ndarray, float, str]:
    """A signal and what it is: "flat" (every lead constant), "invalid" (empty, a lead of
    NaN only, under 2 s) or "other" (tiny amplitude, maybe a scaled ECG)."""
    rate = draw(st.sampled_from([50.0, 128.0, 250.0, 360.0]))
    seconds = draw(st.floats(0.0, 6.0))
    n = int(seconds * rate)
    leads = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["constant", "tiny", "tiny ecg", "nan"]))
    offset = draw(st.sampled_from([0.0, 1.0, -7.5, 1e6, 1e-300, 1e300]))
    if kind == "constant":
        x = np.full((n, leads), offset)
    elif kind == "nan":
        x = np.full((n, leads), np.nan)
    else:
        amplitude = draw(st.sampled_from([1e-300, 1e-15, 1e-11, 1e-8, 1e-5]))
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        ecg = ecg_simulate(max(seconds, 1.0), rate, heart_rate=70, seed=1)[:n, None]
        base = np.tile(ecg, (1, leads)) if kind == "tiny ecg" else rng.normal(size=(n, leads))
        x = offset + amplitude * base
    x = x[:, 0] if leads == 1 and draw(st.booleans()) else x
    if n == 0 or n / rate < 2.0 or kind == "nan":
        what = "invalid"
    elif all(np.ptp(x.reshape(n, -1), axis=0) == 0):
        what = "flat"
    else:
        what = "other"
    return x, rate, what


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.composite(_short_constant_or_tiny)())
def test_short_constant_or_tiny_input_is_an_answer_or_a_medmodal_error(
    case: tuple[np.ndarray, float, str],
) -> None:
    """Never anything but a MedmodalError, and that only for input that is no recording
    (empty, NaN only, under 2 s); a constant signal gives the flat result."""
    x, rate, what = case
    event(what)
    error: MedmodalError | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = ecg_process(x, rate)
        except MedmodalError as exc:
            error = exc
    if error is not None:
        assert what == "invalid", f"{what} input raised {error!r}"
        assert isinstance(error, InvalidSignalError)
        return
    assert what != "invalid", "invalid input was analysed"
    s = result.summary()
    json.dumps(json_safe(s), allow_nan=False)
    assert s["rhythm"] in RHYTHM_LABELS
    assert s["atrial_fibrillation"]["label"] in {"atrial fibrillation", "none", "unknown"}
    assert s["beat_classes"]["label"] in {"classified", "unknown"}
    if what == "flat":
        _assert_flat_result(result, x.shape[0])
