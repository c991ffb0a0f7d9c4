"""ecg_delineate(leads=...): one lead, several leads combined beat by beat, bad choices."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.ecg._delineators._multilead import LeadMarks, combine
from medmodal.ecg.delineate import LEAD_CHOICES, ecg_delineate
from medmodal.ecg.simulate import SimulatedECG, ecg_simulate_annotated
from medmodal.errors import InvalidParameterError, MedmodalWarning

RATE = 360


@pytest.fixture(scope="module")
def two_leads() -> SimulatedECG:
    return ecg_simulate_annotated(30, RATE, n_leads=2, seed=21, noise=0.05)


def _median_abs_error_ms(true: np.ndarray, found: np.ndarray) -> float:
    ok = (true >= 0) & (found >= 0)
    return float(np.median(np.abs(found[ok] - true[ok]))) * 1000 / RATE


def test_all_leads_are_combined_and_match_the_simulator(two_leads: SimulatedECG) -> None:
    sim = two_leads
    d = ecg_delineate(sim.signal, RATE, peaks=sim.r_peaks, leads="all")
    assert d.leads == (0, 1) and d.lead == -1
    for name in ("qrs_onset", "qrs_offset", "p_peak", "t_peak", "t_offset"):
        true = sim.fiducials[name]
        assert _median_abs_error_ms(true, getattr(d, name)) <= 25, name
    assert (d.p_peak >= 0).mean() > 0.9 and (d.t_offset >= 0).mean() > 0.9


def test_one_index_is_that_lead_alone(two_leads: SimulatedECG) -> None:
    sim = two_leads
    d = ecg_delineate(sim.signal, RATE, peaks=sim.r_peaks, leads=1)
    alone = ecg_delineate(sim.signal[:, 1], RATE, peaks=sim.r_peaks)
    assert d.lead == 1 and d.leads == (1,)
    assert d.to_frame().equals(alone.to_frame())
    repeated = ecg_delineate(sim.signal, RATE, peaks=sim.r_peaks, leads=[1, 0, 1])
    assert repeated.leads == (1, 0)


def test_largest_is_the_default_and_names_its_lead(two_leads: SimulatedECG) -> None:
    sim = two_leads
    d = ecg_delineate(sim.signal, RATE, peaks=sim.r_peaks)
    assert d.leads == (d.lead,) and d.lead in (0, 1)
    assert "largest" in LEAD_CHOICES and "all" in LEAD_CHOICES


def test_flat_leads_are_left_out_of_all(two_leads: SimulatedECG) -> None:
    sim = two_leads
    signal = np.column_stack([sim.signal, np.zeros(len(sim.signal))])
    with pytest.warns(MedmodalWarning, match="flat"):
        d = ecg_delineate(signal, RATE, peaks=sim.r_peaks, leads="all")
    assert d.leads == (0, 1)
    with pytest.warns(MedmodalWarning), pytest.raises(InvalidParameterError, match="flat"):
        ecg_delineate(signal, RATE, peaks=sim.r_peaks, leads=2)


@pytest.mark.parametrize("leads", ["bogus", 5, -1, [], [0, 7], True, [0.5], None, {"a": 1}])
def test_bad_lead_choices_raise(two_leads: SimulatedECG, leads: object) -> None:
    sim = two_leads
    with pytest.raises(InvalidParameterError, match="lead"):
        ecg_delineate(sim.signal, RATE, peaks=sim.r_peaks, leads=leads)  # type: ignore[arg-type]


def _marks(points: dict[str, list[int]], p: list[float], t: list[float]) -> LeadMarks:
    arrays = {k: np.array(v, dtype=np.int64) for k, v in points.items()}
    n = len(points["r_peak"])
    sizes = {"p": np.array(p), "t": np.array(t), "qrs": np.ones(n)}
    return LeadMarks(points=arrays, sizes=sizes)


def test_combine_rules_per_beat() -> None:
    base = {
        "r_peak": [100, 400],
        "p_onset": [60, 360],
        "p_peak": [70, 370],
        "p_offset": [80, 380],
        "qrs_onset": [90, 390],
        "qrs_offset": [110, 410],
        "t_peak": [150, 450],
        "t_offset": [180, 480],
    }
    other = {k: [v[0] + 2, v[1] + 4] for k, v in base.items()}
    other["r_peak"] = base["r_peak"]
    other["t_peak"], other["t_offset"] = [-1, 452], [-1, 490]  # no T in beat 0
    a = _marks(base, p=[1.0, 0.5], t=[1.0, 1.0])
    b = _marks(other, p=[0.5, 2.0], t=[0.0, 3.0])
    out = combine([a, b])
    assert out["qrs_onset"].tolist() == [91, 392]  # the median (mean of two), rounded
    assert out["qrs_offset"].tolist() == [111, 412]
    # P: beat 0 from lead a (larger), beat 1 from lead b; all three points together.
    assert out["p_onset"].tolist() == [60, 364] and out["p_offset"].tolist() == [80, 384]
    # T: beat 0 only lead a has one; beat 1 lead b is larger.
    assert out["t_peak"].tolist() == [150, 452] and out["t_offset"].tolist() == [180, 490]
    assert list(out) == list(base)
    assert combine([a])["t_peak"].tolist() == [150, 450]


def test_t_wave_comes_from_one_lead_for_the_whole_record() -> None:
    beats = {
        "r_peak": [100, 400, 700],
        "p_onset": [60, 360, 660],
        "p_peak": [70, 370, 670],
        "p_offset": [80, 380, 680],
        "qrs_onset": [90, 390, 690],
        "qrs_offset": [110, 410, 710],
        "t_peak": [150, 450, 750],
        "t_offset": [180, 480, 780],
    }
    later = {k: [x + 10 for x in v] for k, v in beats.items()}
    later["r_peak"] = beats["r_peak"]
    # Lead a's T wave is the larger one over the record; in beat 1 lead b's is larger.
    a = _marks(beats, p=[1.0, 1.0, 1.0], t=[2.0, 1.0, 2.0])
    b = _marks(later, p=[0.5, 2.0, 0.5], t=[1.0, 1.5, 1.0])
    out = combine([a, b])
    assert out["t_offset"].tolist() == [180, 480, 780]  # lead a throughout
    assert out["t_peak"].tolist() == [150, 450, 750]
    assert out["p_onset"].tolist() == [60, 370, 660]  # P still beat by beat
