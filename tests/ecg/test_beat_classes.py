"""ecg_beat_classes: the shipped AAMI beat model on simulated and MIT-BIH beats, at other
rates and leads, its numpy forward against torch, and odd input (hypothesis)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from medmodal.data.bundled import load_bundled
from medmodal.data.mitdb import AAMI_CLASSES
from medmodal.ecg import BEAT_CLASSES, ecg_beat_classes, ecg_beat_features
from medmodal.ecg.beat_classes import (
    BEAT_CLASS_NAMES,
    SelfTraining,
    available_models,
    load_beat_model,
    self_train,
)
from medmodal.ecg.beat_features import MIN_BEATS, N_FEATURES, record_standardise
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError

ALLOWED = (*BEAT_CLASSES, "unknown")


def _record(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MLII + second lead, reference beat samples, their AAMI classes)."""
    rec = load_bundled(name)
    ann = rec.annotations.beats()
    labels = np.array([AAMI_CLASSES.get(s, "Q") for s in ann.symbol])
    return np.asarray(rec.signal), np.asarray(ann.sample, dtype=np.int64), labels


def test_contract_on_a_simulated_sinus_record() -> None:
    sim = ecg_simulate_annotated(120, 250, heart_rate=70, noise=0.02, seed=3)
    res = ecg_beat_classes(sim.signal, 250, sim.r_peaks)
    n = len(sim.r_peaks)
    assert BEAT_CLASSES == ("N", "S", "V", "F", "Q") and set(BEAT_CLASS_NAMES) == set(BEAT_CLASSES)
    assert len(res) == n and res.probability.shape == (n, 5)
    # the last R peak (119.8 s) is 0.19 s before the end: its window runs past it
    assert res.label[-1] == "unknown" and res.reason[-1] == "window outside the signal"
    assert np.isnan(res.probability[-1]).all() and np.isnan(res.confidence[-1])
    assert np.allclose(res.probability[:-1].sum(axis=1), 1.0)
    assert res.counts()["N"] >= n - 3 and res.counts()["unknown"] == 1  # sinus: normal
    assert set(res.counts()) == set(ALLOWED)
    assert np.allclose(res.confidence[:-1], res.probability[:-1].max(axis=1))
    s = res.summary()
    json.dumps(s)  # JSON-safe
    assert s["n_beats"] == n and s["n_classified"] == n - 1
    assert s["label"] == "classified" and s["reason"] == ""
    assert s["pvc_per_hour"] == pytest.approx(res.counts()["V"] / (120 / 3600))
    assert s["model"] == "aami-beats-v2" and res.model == "aami-beats-v2"
    frame = res.to_frame()
    assert list(frame.columns[:3]) == ["sample", "time_s", "label"]
    assert [f"p_{c}" for c in BEAT_CLASSES] == [c for c in frame.columns if c.startswith("p_")]
    assert frame.time_s.iloc[1] == pytest.approx(sim.r_peaks[1] / 250)


def test_finds_the_ventricular_beats_of_mitbih_119() -> None:
    signal, peaks, labels = _record("mitdb-119")  # a DS1 (training) record excerpt
    res = ecg_beat_classes(signal, 360, peaks, lead="MLII", lead_names=["MLII", "V1"])
    pred = np.array(res.label)
    assert res.lead == "MLII"
    assert (pred[labels == "V"] == "V").mean() > 0.9
    assert (pred[labels == "N"] == "N").mean() > 0.9
    s = res.summary()
    assert s["pvc_burden_pct"] == pytest.approx(100 * (pred == "V").sum() / len(pred))


def test_v3_self_training_on_mitbih_119() -> None:
    """v3 = v2's network + per-record self-training: on a record of two tight beat
    families (N, bigeminal V) it keeps every V and N beat the network found."""
    signal, peaks, labels = _record("mitdb-119")
    v2 = np.array(ecg_beat_classes(signal, 360, peaks).label)
    v3 = ecg_beat_classes(signal, 360, peaks, model="aami-beats-v3")
    pred = np.array(v3.label)
    assert v3.model == "aami-beats-v3" and np.allclose(v3.probability.sum(axis=1), 1.0)
    assert (pred[labels == "V"] == "V").mean() >= (v2[labels == "V"] == "V").mean() > 0.9
    assert (pred[labels == "N"] == "N").mean() > 0.9


@pytest.mark.parametrize("rate", [128, 250, 500])
def test_any_sampling_rate_gives_the_same_labels(rate: int) -> None:
    signal, peaks, labels = _record("mitdb-119")
    ref = np.array(ecg_beat_classes(signal, 360, peaks).label)
    resampled = resample_poly(signal[:, 0], rate, 360)
    at = np.round(peaks * rate / 360).astype(np.int64)
    res = ecg_beat_classes(resampled, rate, at)
    assert (np.array(res.label) == ref).mean() > 0.95
    assert (np.array(res.label)[labels == "V"] == "V").mean() > 0.85


def test_second_lead_and_a_ds2_record() -> None:
    signal, peaks, labels = _record("mitdb-119")
    other = np.array(ecg_beat_classes(signal, 360, peaks, lead=1).label)
    assert (other[labels == "V"] == "V").mean() > 0.8
    signal, peaks, labels = _record("mitdb-100")  # DS2: 367 N, 4 A beats
    pred = np.array(ecg_beat_classes(signal, 360, peaks).label)
    assert (pred[labels == "N"] == "N").mean() > 0.95


def test_numpy_forward_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    net = load_beat_model()
    x = np.random.default_rng(0).normal(size=(64, net.config["n_features"])).astype(np.float32)
    t = net.tensors
    layers = []
    for k in range(net.n_layers):
        lin = torch.nn.Linear(*t[f"w{k}"].shape[::-1])
        lin.weight.data = torch.from_numpy(t[f"w{k}"])
        lin.bias.data = torch.from_numpy(t[f"b{k}"])
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).eval()
    with torch.no_grad():
        z = model((torch.from_numpy(x) - torch.from_numpy(t["mean"])) / torch.from_numpy(t["std"]))
    np.testing.assert_allclose(net.logits(x), z.numpy(), atol=1e-5, rtol=1e-5)


def test_model_registry() -> None:
    assert available_models() == ("aami-beats-v2", "aami-beats-v3", "aami-beats-v1")
    with pytest.raises(InvalidParameterError, match="Did you mean"):
        ecg_beat_classes(np.zeros(1000), 250, [10], model="aami-beats-v4")
    config = load_beat_model("default").config
    assert config["name"] == "aami-beats-v2" and config["record_standardise"]
    assert config["classes"] == list(BEAT_CLASSES) and config["n_features"] == 2 * N_FEATURES
    assert not config.get("self_training")
    v3 = load_beat_model("aami-beats-v3")
    SelfTraining.from_config(v3.config["self_training"])  # all settings present
    assert v3.config["n_features"] == 2 * N_FEATURES
    # the same network as v2 (same recipe, seed and epochs); only the config differs
    assert all(np.array_equal(v3.tensors[k], load_beat_model().tensors[k]) for k in v3.tensors)
    v1 = load_beat_model("aami-beats-v1").config
    assert v1["n_features"] == N_FEATURES and not v1.get("record_standardise", False)


def test_record_standardise_is_per_record_and_shift_invariant() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 6))
    z = record_standardise(x)
    assert z.shape == x.shape and np.all(np.isfinite(z))
    np.testing.assert_allclose(np.median(z, axis=0), 0.0, atol=1e-6)
    # a patient whose every beat is shifted reads the same; scaled, nearly the same
    np.testing.assert_allclose(record_standardise(x + 7.0), z, atol=1e-5)
    np.testing.assert_allclose(record_standardise(3.0 * x), z, rtol=0.05, atol=1e-6)
    assert record_standardise(np.zeros((0, 6))).shape == (0, 6)
    with pytest.raises(InvalidParameterError, match="2-D"):
        record_standardise(np.zeros(5))


@pytest.mark.parametrize("model", ["aami-beats-v1", "aami-beats-v3"])
def test_other_models_classify(model: str) -> None:
    sim = ecg_simulate_annotated(30, 250, heart_rate=70, seed=0)
    res = ecg_beat_classes(sim.signal, 250, sim.r_peaks, model=model)
    assert res.model == model and res.counts()["N"] >= 0.9 * len(res)


def _two_shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Beats of two tight shapes (first ``n // 4`` of shape B) in 20 features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=0.1, size=(n, 20))
    x[: n // 4, :5] += 3.0
    is_b = np.arange(n) < n // 4
    return x, is_b


def test_self_training_pulls_unsure_beats_to_their_sure_lookalikes() -> None:
    x, is_b = _two_shapes(200, 0)
    p = np.tile([0.95, 0.02, 0.01, 0.01, 0.01], (200, 1))
    p[is_b] = [0.02, 0.95, 0.01, 0.01, 0.01]  # the network is sure of most B beats ...
    unsure = np.flatnonzero(is_b)[:10]
    p[unsure] = [0.6, 0.35, 0.03, 0.01, 0.01]  # ... but calls ten of them N, unsure
    st = SelfTraining(confidence=0.9, neighbours=10, weight=0.8, components=5)
    q = self_train(x, p, st)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    assert (q[unsure].argmax(axis=1) == 1).all()  # now S, like their sure lookalikes
    assert (q[~is_b].argmax(axis=1) == 0).all() and (q[is_b].argmax(axis=1) == 1).all()
    np.testing.assert_allclose(q[unsure, 1], 0.2 * 0.35 + 0.8 * 1.0)


def test_self_training_leaves_records_with_few_sure_beats_alone() -> None:
    x, _ = _two_shapes(40, 1)
    p = np.full((40, 5), 0.2)
    p[:5] = [0.96, 0.01, 0.01, 0.01, 0.01]  # 5 sure beats < neighbours + 1
    st = SelfTraining(confidence=0.9, neighbours=10, weight=0.8, components=5)
    np.testing.assert_array_equal(self_train(x, p, st), p)
    np.testing.assert_array_equal(self_train(x, p, SelfTraining(weight=0.0)), p)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 80), d=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_self_training_returns_probabilities(n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[:, 0] = 1.0  # a constant column
    z = 4.0 * rng.normal(size=(n, 5))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    q = self_train(x, p, SelfTraining(confidence=0.5, neighbours=3, weight=0.8, components=10))
    assert q.shape == p.shape and np.all(np.isfinite(q)) and np.all(q >= 0)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("signal", "rate", "peaks", "reason"),
    [
        (np.zeros(2000), 250, [100, 300, 500, 700, 900], "the lead is flat"),
        (np.ones(300), 250, [100], "1.2 s long"),
        (np.sin(np.arange(5000) / 9.0), 250, [100, 300, 500], "3 beat(s)"),
        (np.full(5000, np.nan), 250, [100, 300], "no finite samples"),
        (np.sin(np.arange(5000) / 9.0), 30, [100, 300, 500], "below 50 Hz"),
    ],
)
def test_whole_record_unknown_with_reason(signal, rate, peaks, reason) -> None:
    res = ecg_beat_classes(signal, rate, peaks)
    assert set(res.label) == {"unknown"} and np.isnan(res.probability).all()
    assert all(reason in r for r in res.reason)
    assert res.summary()["label"] == "unknown" and reason in res.summary()["reason"]
    assert np.isnan(res.confidence).all()


def test_beat_level_unknowns() -> None:
    sim = ecg_simulate_annotated(60, 250, heart_rate=70, seed=1)
    x = sim.signal.copy()
    peaks = np.append(sim.r_peaks, x.size + 50)  # one peak beyond the end
    x[sim.r_peaks[10] - 5 : sim.r_peaks[10] + 5] = np.nan
    res = ecg_beat_classes(x, 250, peaks)
    assert res.label[-1] == "unknown" and res.reason[-1] == "the R peak is outside the signal"
    assert res.label[10] == "unknown" and "NaN" in str(res.reason[10])
    assert res.reason[20] is None and res.label[20] in BEAT_CLASSES
    # and the simulation's last beat (59.86 s): its window runs past the end
    assert res.label[-2] == "unknown" and res.reason[-2] == "window outside the signal"
    assert res.counts()["unknown"] == 3


def test_edge_beats_are_unknown_not_classified_from_padding() -> None:
    """A beat whose 0.7 s window (0.25 s before the R peak, 0.45 s after) needs samples
    before the start or after the end is unknown, counted apart; one sample further in,
    it is classified."""
    sim = ecg_simulate_annotated(60, 250, heart_rate=70, seed=0)
    x, peaks = sim.signal, sim.r_peaks
    assert peaks[0] < 0.25 * 250  # the simulation's first R peak is at 0.148 s
    res = ecg_beat_classes(x, 250, peaks)
    assert res.label[0] == "unknown" and res.reason[0] == "window outside the signal"
    assert res.counts()["unknown"] == 1 and res.summary()["n_classified"] == len(peaks) - 1
    # the same beats with the record cut just before / just after the last window fits
    k = len(peaks) // 2
    first, last = -0.25 * 250, (89 / 128 - 0.25) * 250  # the window's first and last point
    fits = ecg_beat_classes(x[: int(np.ceil(peaks[k] + last)) + 1], 250, peaks[: k + 1])
    short = ecg_beat_classes(x[: int(np.ceil(peaks[k] + last))], 250, peaks[: k + 1])
    assert fits.label[k] in BEAT_CLASSES and fits.reason[k] is None
    assert short.label[k] == "unknown" and short.reason[k] == "window outside the signal"
    start = int(np.floor(peaks[1] + first))  # the record starting where beat 1's window does
    assert ecg_beat_classes(x[start:], 250, peaks[1:] - start).label[0] in BEAT_CLASSES
    assert ecg_beat_classes(x[start + 1 :], 250, peaks[1:] - start - 1).label[0] == "unknown"
    # all beats at the edges: unknown for that reason, and the summary says so
    edges = ecg_beat_classes(x[:2000], 250, [10, 20, 30, 1980, 1990])
    assert edges.summary()["label"] == "unknown"
    assert edges.summary()["reason"] == "window outside the signal"


def test_no_beats() -> None:
    res = ecg_beat_classes(np.random.default_rng(0).normal(size=1000), 250, [])
    assert res.label == () and res.probability.shape == (0, 5)
    assert res.summary()["n_beats"] == 0 and res.summary()["label"] == "unknown"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 3000),
    rate=st.sampled_from([40.0, 100.0, 128.0, 360.0, 1000.0]),
    n_peaks=st.integers(0, 40),
    nan_at=st.integers(-1, 2999),
    amplitude=st.sampled_from([0.0, 1e-6, 1.0, 1e5]),
    seed=st.integers(0, 2**16),
)
def test_odd_input_never_raises(n, rate, n_peaks, nan_at, amplitude, seed) -> None:
    rng = np.random.default_rng(seed)
    x = amplitude * rng.normal(size=n)
    if 0 <= nan_at < n:
        x[nan_at : nan_at + 50] = np.nan
    peaks = np.unique(rng.integers(0, n + 100, n_peaks))
    res = ecg_beat_classes(x, rate, peaks)
    assert len(res.label) == peaks.size and set(res.label) <= set(ALLOWED)
    for lab, why, p in zip(res.label, res.reason, res.probability, strict=True):
        assert (lab == "unknown") == (why is not None) == bool(np.isnan(p).all())
    json.dumps(res.summary())


def test_features_are_rate_free() -> None:
    sim = ecg_simulate_annotated(30, 500, heart_rate=60, seed=2)
    a = ecg_beat_features(sim.signal, 500, sim.r_peaks)
    b = ecg_beat_features(resample_poly(sim.signal, 1, 2), 250, sim.r_peaks // 2)
    np.testing.assert_allclose(a.rhythm, b.rhythm, atol=0.02)
    assert np.corrcoef(a.morphology[5], b.morphology[5])[0, 1] > 0.99
    assert len(sim.r_peaks) >= MIN_BEATS


def _training_script():  # the committed script that trains the shipped weights
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "train_beat_model.py"
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("train_beat_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_training_is_deterministic_and_matches_the_numpy_forward() -> None:
    pytest.importorskip("torch")
    script = _training_script()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, N_FEATURES)).astype(np.float32)
    y = rng.integers(0, 4, 300)
    x[y == 1, :5] += 2.0  # something to learn
    recipe = script.Recipe(epochs=2, batch_size=64)
    a = script.train(x, y, recipe, seed=7)
    b = script.train(x, y, recipe, seed=7)
    c = script.train(x, y, recipe, seed=8)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["w0"], c["w0"])
    from medmodal.ecg._beats.network import Network

    net = Network({"layers": len(recipe.hidden) + 1}, a)
    np.testing.assert_allclose(net.logits(x), script.logits(a, x), atol=1e-5)


def test_ptbxl_lead_ii_at_100_hz(ptbxl_dir) -> None:
    """Another database, rate (100 Hz) and lead (II): sinus records stay N, and records
    whose report names PVCs get V beats."""
    import warnings

    from medmodal.data import ptbxl
    from medmodal.ecg import ecg_clean, ecg_peaks

    meta = ptbxl.load_metadata(root=ptbxl_dir)
    codes = dict(zip(meta.index, meta["scp_codes"], strict=True))
    norm = [i for i, c in codes.items() if c.get("NORM", 0) >= 100 and len(c) == 1]
    pvc = [i for i, c in codes.items() if "PVC" in c][:16]
    found = {}
    for ecg_id in norm + pvc:
        rec = ptbxl.load_record(ecg_id, root=ptbxl_dir)
        lead = list(rec.lead_names).index("II")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peaks = ecg_peaks(ecg_clean(rec.signal[:, lead], 100), 100)
        res = ecg_beat_classes(rec.signal, 100, peaks, lead="II", lead_names=rec.lead_names)
        found[ecg_id] = res.counts()
    # every classified beat of a sinus record is N (beats whose window runs past the 10 s
    # record's start or end are unknown)
    classified = {i: sum(found[i].values()) - found[i]["unknown"] for i in found}
    assert len(norm) >= 5 and all(found[i]["N"] == classified[i] > 0 for i in norm)
    assert sum(found[i]["V"] > 0 for i in pvc) >= 0.75 * len(pvc)
