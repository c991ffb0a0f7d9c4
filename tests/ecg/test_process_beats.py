"""Beat classes in ecg_process: ECGResult.beat_classes, the summary's beat_classes block
and the beats frame's beat_class columns (issue 14 item 2)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.data.bundled import load_bundled
from medmodal.data.mitdb import aami_classes
from medmodal.ecg import ecg_simulate, ecg_simulate_annotated
from medmodal.ecg.beat_classes import BEAT_CLASSES, ecg_beat_classes
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.errors import InvalidParameterError, MedmodalWarning


@pytest.fixture(scope="module")
def mitdb_119() -> tuple[ECGResult, np.ndarray, np.ndarray]:
    """MIT-BIH 119 (bundled excerpt, ventricular bigeminy): result, reference beats, classes."""
    record = load_bundled("mitdb-119")
    assert record.annotations is not None
    result = ecg_process(record.signal, record.sampling_rate, lead_names=record.lead_names)
    reference = record.annotations.beats().sample
    return result, reference, aami_classes(record.annotations)


def test_every_peak_of_mitdb_119_has_a_class(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    result, _, _ = mitdb_119
    classes = result.beat_classes
    assert classes is not None
    assert np.array_equal(classes.peaks, result.peaks)
    assert len(classes.label) == result.peaks.size > 300
    assert set(classes.label) <= set(BEAT_CLASSES)
    assert classes.probability.shape == (result.peaks.size, 5)
    assert classes.lead == "MLII"  # lead II preferred over the peak lead when present
    assert classes.sampling_rate == result.sampling_rate


def test_most_reference_v_beats_of_mitdb_119_are_labelled_v(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    result, reference, truth = mitdb_119
    assert result.beat_classes is not None
    labels = np.array(result.beat_classes.label)
    gap = np.abs(reference[:, None] - result.peaks[None, :])
    matched = gap.min(axis=1) <= 0.15 * result.sampling_rate
    found = labels[gap.argmin(axis=1)]
    v = (truth == "V") & matched
    assert v.sum() >= 60  # bigeminy: many V beats in the excerpt
    assert np.mean(found[v] == "V") >= 0.9
    n = (truth == "N") & matched
    assert np.mean(found[n] == "N") >= 0.9


def test_summary_block_is_the_beat_classes_summary(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    result, _, _ = mitdb_119
    assert result.beat_classes is not None
    block = result.summary()["beat_classes"]
    assert block == result.beat_classes.summary()
    assert block["label"] == "classified"
    assert block["lead"] == "MLII"
    minutes = result.duration_s / 60
    assert block["pvc_per_hour"] == pytest.approx(block["counts"]["V"] / minutes * 60)
    assert block["pvc_burden_pct"] == pytest.approx(
        100 * block["counts"]["V"] / block["n_classified"]
    )
    assert 15 < block["pvc_burden_pct"] < 40  # 119's excerpt: about a quarter V beats


def test_beats_frame_has_class_and_probability(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    result, _, _ = mitdb_119
    frame = result.beats_frame()
    assert result.beat_classes is not None
    assert frame["beat_class"].tolist() == list(result.beat_classes.label)
    p = frame["beat_class_p"].to_numpy()
    assert np.all((p > 0.2) & (p <= 1.0))
    assert np.allclose(p, result.beat_classes.probability.max(axis=1))


def test_classes_equal_the_library_call_on_the_cleaned_lead_ii(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    result, _, _ = mitdb_119
    lead = result.lead_names.index("MLII")
    direct = ecg_beat_classes(
        result.cleaned[:, lead], result.sampling_rate, result.peaks, clean=False
    )
    assert result.beat_classes is not None
    assert direct.label == result.beat_classes.label


def test_short_record_says_unknown_with_the_reason() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        result = ecg_process(ecg_simulate(3, 250, heart_rate=70, seed=1), 250)
    block = result.summary()["beat_classes"]
    assert block["label"] == "unknown"
    assert "at least" in block["reason"]
    assert block["pvc_burden_pct"] is None and block["pvc_per_hour"] is None
    assert result.beats_frame()["beat_class"].eq("unknown").all()
    assert result.beats_frame()["beat_class_p"].isna().all()


def test_resampled_record_classifies_the_final_peaks_at_the_callers_rate() -> None:
    sim = ecg_simulate_annotated(20, 2000, heart_rate=70, rhythm="pvc", seed=3)
    result = ecg_process(sim.signal, 2000)
    assert result.analysis_rate != 2000  # analysed on a resampled copy
    classes = result.beat_classes
    assert classes is not None and classes.sampling_rate == 2000
    assert np.array_equal(classes.peaks, result.peaks)


def test_beat_model_none_skips_and_unknown_model_fails_first() -> None:
    sim = ecg_simulate_annotated(15, 250, heart_rate=70, seed=0)
    result = ecg_process(sim.signal, 250, beat_model=None)
    assert result.beat_classes is None and result.summary()["beat_classes"] is None
    assert result.beats_frame()["beat_class"].isna().all()
    with pytest.raises(InvalidParameterError, match="beat model 'nope'"):
        ecg_process(sim.signal, 250, beat_model="nope")


@settings(max_examples=12, deadline=None)
@given(
    seconds=st.floats(2.5, 12.0),
    rate=st.sampled_from([128, 250, 360]),
    noise=st.floats(0.0, 0.5),
    gap=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_any_short_or_noisy_record_gets_a_label_per_peak(
    seconds: float, rate: int, noise: float, gap: bool, seed: int
) -> None:
    """Odd input: every R peak gets a class or "unknown" with its reason; never an error."""
    x = ecg_simulate(seconds, rate, heart_rate=75, noise=noise, seed=seed)
    if gap:
        x[len(x) // 3 : len(x) // 3 + rate // 4] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        result = ecg_process(x, rate)
    classes = result.beat_classes
    assert classes is not None and len(classes.label) == result.peaks.size
    for label, reason in zip(classes.label, classes.reason, strict=True):
        assert (label in BEAT_CLASSES) != bool(reason)
    block = result.summary()["beat_classes"]
    assert block["label"] in {"classified", "unknown"}
    assert (block["label"] == "unknown") == (block["n_classified"] == 0)


def test_classes_of_other_peaks_are_dropped(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    """A result rebuilt with other peaks does not show classes that label other beats."""
    result, _, _ = mitdb_119
    fewer = replace(result, peaks=result.peaks[1:], rr=None, hrv=None, intervals=None)
    assert fewer.beat_classes is None and fewer.summary()["beat_classes"] is None
    same = replace(result, notes=("kept",))
    assert same.beat_classes is result.beat_classes


def test_beats_fall_back_to_the_peak_lead_without_lead_ii(
    mitdb_119: tuple[ECGResult, np.ndarray, np.ndarray],
) -> None:
    record = load_bundled("mitdb-119")
    result = ecg_process(record.signal, record.sampling_rate, lead_names=["V1", "V5"])
    assert result.beat_classes is not None
    assert result.beat_classes.lead == result.lead_names[result.peak_lead]
