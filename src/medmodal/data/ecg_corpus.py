"""A seeded corpus of simulated ECG records on disk, for batch tests and benchmarks.

:func:`make_ecg_corpus` writes ``n`` WFDB records (10 s, 12 leads, 500 Hz by default) of
:func:`~medmodal.ecg.simulate.ecg_simulate_annotated` with mixed rhythms, heart rates and
noise levels, among them a few corrupt files (a truncated signal file, a header that does
not parse, a missing signal file) and a few pathological ones (a flat line, a saturated
amplifier, noise without an ECG, a record 30 times as long as the others), as real
corpora have.

Example:
    >>> import tempfile
    >>> from medmodal.data.ecg_corpus import make_ecg_corpus
    >>> manifest = make_ecg_corpus(tempfile.mkdtemp(), 6, seed=1, corrupt=1, pathological=1)
    >>> sorted(manifest["kind"].value_counts().items())
    [('corrupt', 1), ('normal', 4), ('pathological', 1)]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError
from medmodal.io import Record, write_record
from medmodal.types import PathLike

__all__ = ["CORRUPTIONS", "PATHOLOGIES", "make_ecg_corpus"]

#: Rhythms of the normal records and how often each is drawn.
RHYTHM_WEIGHTS = {"sinus": 0.5, "afib": 0.15, "pvc": 0.15, "tachycardia": 0.1, "bradycardia": 0.1}
#: Overall noise levels (mV) drawn for the normal records.
NOISE_LEVELS = (0.0, 0.02, 0.05, 0.1, 0.2)
#: Corrupt files, in the order they are assigned.
CORRUPTIONS = ("truncated_signal", "bad_header", "missing_signal")
#: Pathological records, in the order they are assigned.
PATHOLOGIES = ("flat", "saturated", "noise_only", "long")
#: A "long" record lasts this many times ``duration``.
LONG_FACTOR = 30
#: Records written per joblib task.
CHUNK = 200


def make_ecg_corpus(
    folder: PathLike,
    n: int,
    *,
    seed: int = 0,
    duration: float = 10.0,
    sampling_rate: float = 500.0,
    n_leads: int = 12,
    corrupt: int | None = None,
    pathological: int | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Write ``n`` simulated WFDB records ``ecg000000`` ... into ``folder``.

    Args:
        folder: where to write (created).
        n: number of records (>= 1).
        seed: the corpus is a function of the seed and the arguments.
        duration: seconds per record; sampling_rate: Hz; n_leads: 1 to 12.
        corrupt: corrupt files among the ``n`` (default: 2 %, rounded).
        pathological: pathological records among the ``n`` (default: 1 %, rounded).
        workers: processes writing records (joblib); every record has its own seed, so
            the files are the same for any number of workers. A progress bar is shown for
            corpora of 1,000 records or more.

    Returns:
        One row per record: ``record``, ``path`` (the ``.hea``), ``kind`` (normal, corrupt
        or pathological), ``defect`` (the corruption or pathology, "" if normal),
        ``rhythm``, ``heart_rate_bpm`` and ``noise_mv`` of the simulation.

    Raises:
        InvalidParameterError: ``n`` < 1, or more special records than ``n``.
    """
    count = _count(n, "n", 1)
    n_bad = _count(round(0.02 * count) if corrupt is None else corrupt, "corrupt", 0)
    n_odd = _count(round(0.01 * count) if pathological is None else pathological, "pathological", 0)
    if n_bad + n_odd > count:
        raise InvalidParameterError(
            f"make_ecg_corpus: corrupt + pathological ({n_bad} + {n_odd}) exceed n={count}"
        )
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    special = rng.permutation(count)[: n_bad + n_odd]
    defects = {
        int(i): ("corrupt", CORRUPTIONS[k % len(CORRUPTIONS)])
        for k, i in enumerate(special[:n_bad])
    }
    defects |= {
        int(i): ("pathological", PATHOLOGIES[k % len(PATHOLOGIES)])
        for k, i in enumerate(special[n_bad:])
    }
    jobs = _count(workers, "workers", 1)
    plans = [
        (f"ecg{index:06d}", *defects.get(index, ("normal", "")), _draw(rng, index, seed))
        for index in range(count)
    ]  # drawn in order, so the corpus does not depend on ``workers``
    chunks = [plans[i : i + CHUNK] for i in range(0, count, CHUNK)]
    args = (out, duration, sampling_rate, n_leads)
    bar = tqdm(total=count, desc="writing ECG corpus", unit="rec", disable=count < 1000)
    rows: list[dict[str, object]] = []
    with bar:
        if jobs == 1:
            results: Iterable[list[dict[str, object]]] = (_write_chunk(c, *args) for c in chunks)
        else:
            pool = Parallel(n_jobs=jobs, return_as="generator")
            results = pool(delayed(_write_chunk)(c, *args) for c in chunks)
        for done in results:
            rows.extend(done)
            bar.update(len(done))
    return pd.DataFrame(rows)


def _write_chunk(
    plans: list[tuple[str, str, str, dict[str, object]]],
    out: Path,
    duration: float,
    rate: float,
    n_leads: int,
) -> list[dict[str, object]]:
    return [_write_one(out, *plan, duration, rate, n_leads) for plan in plans]


def _count(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InvalidParameterError(
            f"make_ecg_corpus: {name} must be an int >= {low}, got {value!r}"
        )
    return int(value)


def _draw(rng: np.random.Generator, index: int, seed: int) -> dict[str, object]:
    rhythm = str(rng.choice(list(RHYTHM_WEIGHTS), p=list(RHYTHM_WEIGHTS.values())))
    return {
        "rhythm": rhythm,
        "heart_rate": float(rng.uniform(55, 95)),
        "noise": float(rng.choice(NOISE_LEVELS)),
        "seed": [seed, index],
    }


def _write_one(
    out: Path,
    name: str,
    kind: str,
    defect: str,
    settings: dict[str, object],
    duration: float,
    rate: float,
    n_leads: int,
) -> dict[str, object]:
    rhythm, noise = str(settings["rhythm"]), float(settings["noise"])  # type: ignore[arg-type]
    hr = settings["heart_rate"] if rhythm in ("sinus", "afib", "pvc") else None
    seconds = duration * (LONG_FACTOR if defect == "long" else 1)
    options = {} if hr is None else {"heart_rate": hr}
    sim = ecg_simulate_annotated(
        seconds, rate, rhythm=rhythm, n_leads=n_leads, noise=noise,
        seed=np.random.default_rng(settings["seed"]), **options,  # type: ignore[arg-type]
    )  # fmt: skip
    signal = _pathology(sim.signal.reshape(len(sim.signal), -1), defect, sim.r_peaks.size)
    record = Record(signal, rate, sim.lead_names, ("mV",) * len(sim.lead_names), name=name)
    header = write_record(record, out / f"{name}.hea")
    _corrupt(header, defect)
    return {
        "record": name,
        "path": str(header),
        "kind": kind,
        "defect": defect,
        "rhythm": rhythm,
        "heart_rate_bpm": float(sim.heart_rate),
        "noise_mv": noise,
    }


def _pathology(signal: np.ndarray, defect: str, seed: int) -> np.ndarray:
    if defect == "flat":
        return np.zeros_like(signal)
    if defect == "saturated":  # a gain 20 times too high on an amplifier clipping at +-5 mV
        return np.clip(signal * 20.0, -5.0, 5.0)
    if defect == "noise_only":
        return np.random.default_rng(seed).normal(0.0, 0.5, signal.shape)
    return signal


def _corrupt(header: Path, defect: str) -> None:
    dat = header.with_suffix(".dat")
    if defect == "truncated_signal":
        dat.write_bytes(dat.read_bytes()[:101])
    elif defect == "bad_header":
        header.write_text("this is not a WFDB header\n\x00\x01\n")
    elif defect == "missing_signal":
        dat.unlink()
