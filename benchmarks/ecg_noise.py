"""Noise stress test of R-peak detection (issue 11, item 3): our noise, the NSTDB protocol.

The held-out MIT-BIH Noise Stress Test Database adds recorded electrode-motion noise to
MIT-BIH records 118 and 119 (both leads, clean for 5 minutes, then 2-minute noisy and
clean segments alternate) at 24 ... -6 dB and is scored from minute 5 on lead 0. We
cannot use it, so this script rebuilds the protocol with noise we can make
(``medmodal.ecg.noise.ecg_add_noise``, SNR as ``nst`` defines it) and runs medmodal and
its peers on exactly the same noisy signals, scored beat by beat (EC57, 150 ms,
``medmodal.metrics.qrs``) from minute 5. It also reports the share of reference beats
that ``ecg_quality`` puts in "unacceptable" windows, in the noisy and the clean
segments, by SNR.

Development split (written here before any change to the detector was tried):

- **dev** (changes were chosen on these): every other MIT-BIH record in sorted order,
  starting with the first, leaving out 105, 118, 119 and the paced records (first 17 minutes each,
  electrode-motion noise, seed 1), and simulated ECG (sinus, PVC, AF; seeds 1-3) with
  electrode-motion, muscle and baseline-wander noise.
- **check** (not looked at while tuning): records 118 and 119 as in the NSTDB (whole
  records, electrode-motion noise, seeds 101-103; and muscle, baseline wander and the
  recorded noise below, seed 101), the other half of the records (first 17 minutes,
  electrode-motion and recorded noise, seed 101), and simulated ECG (seeds 101-103).

**Recorded noise** is real: the residual of MIT-BIH record 105 (both leads, each scaled
to its QRS size) after its beats' running median templates are subtracted
(``noise_from_recording``), keeping only the stretches of at least 4 s where the
residual is large (under 12 dB by the same SNR definition), joined without steps; it is
repeated from a seeded random start to fill the noisy segments. Record 105 is never
scored here.

Peers' detections are cached by a hash of the noisy signal (``--cache``, outside the
repository); medmodal always runs.

Usage::

    python benchmarks/ecg_noise.py --jobs 2                 # everything (about 1 h cold)
    python benchmarks/ecg_noise.py --split dev --no-peers   # quick look at the dev split
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import warnings
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
import _noise_report
from _peers import neurokit, xqrs
from _tuning_log import kept_section
from medmodal.data.mitdb import PACED_RECORDS, RECORDS, load_record
from medmodal.ecg.clean import ecg_clean
from medmodal.ecg.noise import ecg_add_noise, noise_from_recording
from medmodal.ecg.peaks import ecg_peaks
from medmodal.ecg.quality import ecg_quality
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.ecg.snr import qrs_amplitude
from medmodal.metrics.qrs import match_beats, reference_beats

RESULTS = Path(__file__).resolve().parent / "results"
SNRS: tuple[float | None, ...] = (None, 24, 18, 12, 6, 0, -6)  # None: no noise added
SCORE_FROM_S = 300.0
EXCERPT_S = 17 * 60.0  # 5 clean minutes, then noisy/clean/noisy/clean/noisy/clean
NOISE_SOURCE = "105"
NOISE_SOURCE_SNR, NOISE_SOURCE_MIN_S = 12.0, 4.0
PROXY = ("118", "119")
WIDE = tuple(r for r in RECORDS if r not in {*PROXY, NOISE_SOURCE, *PACED_RECORDS})
DEV_RECORDS, CHECK_RECORDS = WIDE[0::2], WIDE[1::2]
NORMAL_SYMBOLS = frozenset("NLRBejn")  # sigamp measures the normal beats (map1 NORMAL)
SIM_RHYTHMS = ("sinus", "pvc", "afib")
Method = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class Scenario:
    """One noisy signal: which record, which noise, and which split it belongs to."""

    split: str  # "dev" or "check"
    group: str  # "nstdb-proxy", "mitdb-wide" or "simulated"
    record: str
    kind: str  # a noise kind, or "recorded"
    snr: float | None
    seed: int
    seconds: float | None  # None: the whole record


def scenarios(split: str) -> list[Scenario]:
    """Every scenario of ``split`` ("dev", "check" or "all")."""
    out: list[Scenario] = []
    if split in ("dev", "all"):
        out += [
            Scenario("dev", "mitdb-wide", r, kind, s, 1, EXCERPT_S)
            for kind in ("electrode_motion", "recorded")
            for r in DEV_RECORDS
            for s in SNRS
            if s is not None or kind == "electrode_motion"
        ]
        out += [
            Scenario("dev", "simulated", f"sim-{rh}-{seed}", kind, s, seed, EXCERPT_S)
            for seed, rh in zip((1, 2, 3), SIM_RHYTHMS, strict=True)
            for kind in ("electrode_motion", "muscle", "baseline_wander")
            for s in SNRS
        ]
    if split in ("check", "all"):
        out += [
            Scenario("check", "nstdb-proxy", r, "electrode_motion", s, seed, None)
            for seed in (101, 102, 103)
            for r in PROXY
            for s in SNRS
        ]
        out += [
            Scenario("check", "nstdb-proxy", r, kind, s, 101, None)
            for kind in ("muscle", "baseline_wander", "recorded")
            for r in PROXY
            for s in SNRS
            if s is not None
        ]
        out += [
            Scenario("check", "mitdb-wide", r, kind, s, 101, EXCERPT_S)
            for kind in ("electrode_motion", "recorded")
            for r in CHECK_RECORDS
            for s in SNRS
            if s is not None or kind == "electrode_motion"
        ]
        out += [
            Scenario("check", "simulated", f"sim-{rh}-{seed}", kind, s, seed, EXCERPT_S)
            for seed, rh in zip((101, 102, 103), SIM_RHYTHMS, strict=True)
            for kind in ("electrode_motion", "muscle", "baseline_wander")
            for s in SNRS
        ]
    return out


OURS: dict[str, Method] = {
    "medmodal clean + default": lambda x, fs: ecg_peaks(ecg_clean(x, fs), fs),
    "medmodal default": lambda x, fs: ecg_peaks(x, fs),
}
PEERS: dict[str, Method] = {
    "wfdb XQRS": xqrs,
    "neurokit2 default": neurokit("neurokit"),
    "neurokit2 pantompkins1985": neurokit("pantompkins1985"),
}


@dataclass(frozen=True)
class Clean:
    """A clean lead with its reference beats."""

    signal: np.ndarray
    fs: float
    beats: np.ndarray
    normal: np.ndarray
    vf: np.ndarray


def load_clean(scenario: Scenario) -> Clean:
    """Lead 0 of the record (or a simulated ECG), cut to the scenario's length."""
    if scenario.group == "simulated":
        _, rhythm, _ = scenario.record.split("-")
        sim = ecg_simulate_annotated(
            scenario.seconds or EXCERPT_S, 360, rhythm=rhythm, seed=scenario.seed
        )
        normal = sim.r_peaks[np.array([lab == "N" for lab in sim.beat_labels], dtype=bool)]
        return Clean(sim.signal, 360.0, sim.r_peaks, normal, np.zeros((0, 2), np.int64))
    rec = load_record(scenario.record)
    ann = rec.annotations
    assert ann is not None
    n = (
        rec.signal.shape[0]
        if scenario.seconds is None
        else round(scenario.seconds * rec.sampling_rate)
    )
    x = np.ascontiguousarray(rec.signal[:n, 0])
    beats, vf = reference_beats(ann.sample, ann.symbol)
    normal = np.asarray(ann.sample)[np.isin(np.asarray(ann.symbol), list(NORMAL_SYMBOLS))]
    return Clean(x, rec.sampling_rate, beats[beats < n], normal[normal < n], vf)


def recorded_noise(split: str) -> np.ndarray:
    """Real noise: the loud residual stretches of record 105 (both leads), joined smoothly.

    The dev split takes them from the first 15 minutes, the check split from the last 15.
    Each lead's residual is divided by that lead's QRS size first, so every stretch keeps
    its level relative to the ECG it was recorded with.
    """
    rec = load_record(NOISE_SOURCE)
    ann = rec.annotations
    assert ann is not None
    fs, width = rec.sampling_rate, int(rec.sampling_rate)
    beats, _ = reference_beats(ann.sample, ann.symbol)
    normal = np.asarray(ann.sample)[np.isin(np.asarray(ann.symbol), list(NORMAL_SYMBOLS))]
    pieces, level = [], 0.0
    for lead in range(rec.signal.shape[1]):
        x = np.ascontiguousarray(rec.signal[:, lead])
        residual = noise_from_recording(x, fs, beats) / qrs_amplitude(x, fs, normal)
        blocks = residual[: residual.size // width * width].reshape(-1, width)
        rms = np.sqrt(np.mean((blocks - blocks.mean(axis=1, keepdims=True)) ** 2, axis=1))
        snr = 20 * np.log10(1.0 / (np.sqrt(8) * np.maximum(rms, 1e-12)))
        edges = np.diff(np.concatenate([[0], (snr < NOISE_SOURCE_SNR).astype(int), [0]]))
        half = blocks.shape[0] // 2
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            if b - a >= NOISE_SOURCE_MIN_S and (a < half) == (split == "dev"):
                piece = residual[a * width : b * width]
                pieces.append(piece - piece[0] + level)
                level = float(pieces[-1][-1])
    return np.concatenate(pieces)


def noisy_signal(
    scenario: Scenario, clean: Clean, recorded: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The noisy lead and the noisy-segment mask (all False without noise).

    The noise depends on the seed and the record, not on the SNR: as in the NSTDB, the
    SNRs of one record differ only in the noise's gain.
    """
    n = clean.signal.size
    if scenario.snr is None:
        return clean.signal, np.zeros(n, dtype=bool)
    rng = np.random.default_rng([scenario.seed, zlib.crc32(scenario.record.encode())])
    noise, kind = None, scenario.kind
    if kind == "recorded":
        assert recorded is not None
        noise, kind = np.roll(recorded, -int(rng.integers(recorded.size))), "electrode_motion"
    out = ecg_add_noise(
        clean.signal,
        clean.fs,
        snr_db=scenario.snr,
        kind=kind,
        peaks=clean.normal,
        protocol="nstdb",
        noise=noise,
        seed=rng,
    )
    return out.signal, out.noisy


def _cached(cache: Path | None, name: str, x: np.ndarray, fs: float, run: Method) -> np.ndarray:
    if cache is None:
        return run(x, fs)
    key = hashlib.sha1(x.tobytes() + str(fs).encode()).hexdigest()[:24]
    path = cache / f"{name.replace(' ', '_')}-{key}.npy"
    if path.is_file():
        return np.load(path)
    peaks = run(x, fs)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, peaks)
    return peaks


def _counts(
    ref: np.ndarray,
    det: np.ndarray,
    fs: float,
    vf: np.ndarray,
    keep_ref: np.ndarray,
    keep_det: np.ndarray,
) -> dict[str, int]:
    score = match_beats(ref[keep_ref], det[keep_det], fs, exclude=vf)
    return {"tp": score.tp, "fn": score.fn, "fp": score.fp}


def quality_shares(
    x: np.ndarray, fs: float, peaks: np.ndarray, ref: np.ndarray, noisy: np.ndarray
) -> dict[str, float | int]:
    """Share of scored reference beats in unacceptable windows, noisy vs clean segments."""
    q = ecg_quality(x, fs, peaks=peaks)
    bad = np.asarray(q.label) == "unacceptable"
    window = np.clip(np.searchsorted(q.end_s * fs, ref, side="right"), 0, bad.size - 1)
    scored = ref >= SCORE_FROM_S * fs
    in_noise = noisy[ref] & scored
    in_clean = ~noisy[ref] & scored
    return {
        "beats_noisy": int(in_noise.sum()),
        "unacceptable_noisy": int((bad[window] & in_noise).sum()),
        "beats_clean": int(in_clean.sum()),
        "unacceptable_clean": int((bad[window] & in_clean).sum()),
    }


def run_scenario(
    scenario: Scenario,
    methods: dict[str, Method],
    cache: Path | None,
    recorded: dict[str, np.ndarray],
) -> dict:
    """Detections of every method on one noisy signal, scored; plus quality shares."""
    clean = load_clean(scenario)
    x, noisy = noisy_signal(scenario, clean, recorded.get(scenario.split))
    fs, ref = clean.fs, clean.beats
    ref_from = ref >= SCORE_FROM_S * fs
    rows: dict[str, dict] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, run in methods.items():
            peaks = run(x, fs) if name in OURS else _cached(cache, name, x, fs, run)
            peaks = peaks[(peaks >= 0) & (peaks < x.size)]
            det_from = peaks >= SCORE_FROM_S * fs
            rows[name] = {
                "all": _counts(ref, peaks, fs, clean.vf, ref_from, det_from),
                "noisy": _counts(
                    ref, peaks, fs, clean.vf, ref_from & noisy[ref], det_from & noisy[peaks]
                ),
            }
            if name == "medmodal clean + default":
                rows[name]["quality"] = quality_shares(x, fs, peaks, ref, noisy)
    return {"scenario": asdict(scenario), "methods": rows}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="all", choices=("all", "dev", "check"))
    parser.add_argument("--jobs", type=int, default=1, help="parallel jobs (scenarios)")
    parser.add_argument("--no-peers", action="store_true", help="only medmodal's detectors")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "medmodal-bench" / "ecg_noise",
        help="folder for the peers' cached detections ('' for none)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for .md and .json")
    parser.add_argument("--name", default="ecg_noise", help="file stem of the results")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=RESULTS / "ecg_noise_baseline.json",
        help="an earlier results .json to compare medmodal against",
    )
    parser.add_argument("--data-root", type=Path, help="folder holding mitdb/ (or MEDMODAL_DATA)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = _parse(argv)
    if args.data_root is not None:
        os.environ["MEDMODAL_DATA"] = str(args.data_root)
    cache = args.cache if str(args.cache) else None
    todo = scenarios(args.split)
    methods = dict(OURS) | ({} if args.no_peers else dict(PEERS))
    info = _machine.machine_info(("neurokit2", "wfdb", "joblib", "medmodal"))
    recorded = {
        split: recorded_noise(split)
        for split in ("dev", "check")
        if any(s.kind == "recorded" and s.split == split for s in todo)
    }
    print(f"{len(todo)} scenarios, {len(methods)} methods, jobs={args.jobs}", flush=True)
    runs = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(run_scenario)(s, methods, cache, recorded) for s in todo
    )
    info["load_average_at_end"] = _machine.load_average()
    baseline = json.loads(args.baseline.read_text()) if args.baseline.is_file() else None
    result = _noise_report.assemble(info, vars(args), runs, recorded, baseline)
    args.out.mkdir(parents=True, exist_ok=True)
    runs_path = args.out / f"{args.name}_runs.json"  # every scenario's counts, compact
    tables = _noise_report.tabulate(result.pop("runs"))
    runs_path.write_text(json.dumps(tables, separators=(",", ":")) + "\n")
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    md_path = args.out / f"{args.name}.md"
    md_path.write_text(_noise_report.markdown(result, kept_section(md_path)))
    print(_noise_report.summary(result))
    return result


if __name__ == "__main__":
    main()
