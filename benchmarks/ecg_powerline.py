"""Mains-frequency detection on real records: what ``powerline="auto"`` picks (issue 11).

Runs :func:`medmodal.ecg.powerline.line_strength` and ``detect_powerline`` on every
record of the shared MIT-BIH (48 records, recorded in Boston: 60 Hz mains) and QT
database (53 records at 250 Hz: the European ST-T records ``sele*`` were recorded in
Europe, 50 Hz; the others come from US databases, 60 Hz) folders, all leads, first two
minutes, and writes ``results/ecg_powerline.md`` and ``.json``. The expected frequency
per record is the country of recording, from the databases' documentation; a record
with little mains pickup may rightly give "none". The 6 dB threshold
(``medmodal.ecg.powerline.MIN_LINE_DB``) was chosen by looking at the MIT-BIH numbers of
this script (50 Hz never above 3 dB there), so those are in-sample; the QT database
numbers were looked at afterwards.

Usage::

    python benchmarks/ecg_powerline.py [--out benchmarks/results] [--data-root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
from medmodal.data import mitdb
from medmodal.data.paths import dataset_dir
from medmodal.ecg.powerline import MIN_LINE_DB, MIN_PEAK_DB, detect_powerline, line_strength
from medmodal.ecg.simulate import ecg_simulate
from medmodal.io import read_record

RESULTS = Path(__file__).resolve().parent / "results"


def _expected(database: str, record: str) -> float:
    return 50.0 if database == "qtdb" and record.startswith("sele") else 60.0


def _records() -> list[tuple[str, str, Path]]:
    out = [("mitdb", r, dataset_dir("mitdb") / r) for r in mitdb.RECORDS]
    qt = dataset_dir("qtdb")
    out += [("qtdb", p.stem, p.with_suffix("")) for p in sorted(qt.glob("*.hea"))]
    return out


def run() -> list[dict[str, object]]:
    rows = []
    for database, name, path in _records():
        record = read_record(path.with_suffix(".hea"))
        strength = line_strength(record.signal, record.sampling_rate)
        found = detect_powerline(record.signal, record.sampling_rate)
        expected = _expected(database, name)
        rows.append(
            {
                "database": database,
                "record": name,
                "sampling_rate_hz": record.sampling_rate,
                "db_50": _pair(strength.get(50.0)),
                "db_60": _pair(strength.get(60.0)),
                "detected_hz": found,
                "expected_hz": expected,
                "outcome": "right" if found == expected else "none" if found is None else "WRONG",
            }
        )
    return rows


def _pair(line: object) -> list[float] | None:
    return None if line is None else [float(v) for v in line]  # type: ignore[attr-defined]


#: Heart rates (bpm) whose harmonics fall exactly on 50 or 60 Hz (1, 1.2, 1.25, 2 Hz).
DIVISOR_RATES = (60.0, 72.0, 75.0, 100.0, 120.0)


def simulated(n: int = 200) -> dict[str, object]:
    """Simulated ECGs (``ecg_simulate``, seeds 0..n-1): how often each test alone, and
    both together, report a line that is not there (rates drawn from 45-120 bpm, and
    rates whose harmonics fall on 50/60 Hz), and miss a 0.02 mV line that is."""
    out: dict[str, object] = {"records": n}
    for kind in ("random_rate", "divisor_rate", "with_line"):
        rng = np.random.default_rng(0)
        counts = {"median": 0, "peak": 0, "both": 0, "missed": 0}
        for seed in range(n):
            fs = float(rng.choice([250.0, 360.0, 500.0]))
            noise = {"baseline": float(rng.uniform(0, 0.3)), "emg": float(rng.uniform(0, 0.05))}
            rate = float(rng.uniform(45, 120))
            if kind == "divisor_rate":
                rate = float(rng.choice(DIVISOR_RATES))
            hz = (50.0, 60.0)[seed % 2]
            if kind == "with_line":
                noise |= {"powerline": 0.02, "powerline_hz": hz}
            x = ecg_simulate(float(rng.uniform(8, 40)), fs, heart_rate=rate, noise=noise, seed=seed)
            lines = line_strength(x, fs)
            if kind == "with_line":
                counts["missed"] += detect_powerline(x, fs) != hz
                continue
            counts["median"] += any(v.over_median_db >= MIN_LINE_DB for v in lines.values())
            counts["peak"] += any(v.over_peak_db >= MIN_PEAK_DB for v in lines.values())
            counts["both"] += any(v.stands_out for v in lines.values())
        out[kind] = counts
    return out


def tally(rows: list[dict[str, object]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        key = f"{row['database']} ({row['expected_hz']:g} Hz expected)"
        counts = out.setdefault(key, {"right": 0, "none": 0, "WRONG": 0})
        counts[str(row["outcome"])] += 1
    return out


def _cell(pair: object) -> str:
    return "-" if pair is None else "{:.1f} / {:.1f}".format(*pair)  # type: ignore[misc]


def markdown(result: dict[str, object]) -> str:
    rows = result["records"]
    assert isinstance(rows, list)
    lines = [
        "# Mains-frequency detection on real records",
        "",
        "Written by `benchmarks/ecg_powerline.py`. Line strength = the highest Welch power "
        "within ±0.5 Hz of the candidate over the median power 2-5 Hz away (all leads, "
        f"first 2 min); a line stands out at >= {MIN_LINE_DB:g} dB. The threshold was "
        "chosen on the MIT-BIH numbers below (in-sample); the QT database was looked at "
        "afterwards.",
        "",
        "| database | right | none | wrong |",
        "| --- | --- | --- | --- |",
    ]
    tallies = result["tally"]
    assert isinstance(tallies, dict)
    for key, counts in tallies.items():
        lines.append(f"| {key} | {counts['right']} | {counts['none']} | {counts['WRONG']} |")
    lines += [
        "",
        "| database | record | 50 Hz line dB | 60 Hz line dB | detected | expected |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        detected = row["detected_hz"]
        lines.append(
            f"| {row['database']} | {row['record']} | {_cell(row['db_50'])} | "
            f"{_cell(row['db_60'])} | {'none' if detected is None else f'{detected:g} Hz'} | "
            f"{row['expected_hz']:g} Hz |"
        )
    sim = result["simulated"]
    assert isinstance(sim, dict)
    lines += [
        "",
        f"Simulated ECGs ({sim['records']} records each, `ecg_simulate`, 8-40 s, 250-500 Hz, "
        "random baseline and muscle noise), lines reported where there is none, by the "
        "median test alone / the highest-neighbour test alone / both (the rule):",
        "",
    ]
    for kind, what in (
        ("random_rate", "rate drawn from 45-120 bpm"),
        ("divisor_rate", "rate 60, 72, 75, 100 or 120 bpm (a harmonic on 50 or 60 Hz)"),
    ):
        c = sim[kind]
        lines.append(f"- {what}: {c['median']} / {c['peak']} / {c['both']}")
    lines.append(
        f"- with a 0.02 mV 50 or 60 Hz line (45-120 bpm): {sim['with_line']['missed']} missed"
    )
    machine = result["machine"]
    assert isinstance(machine, dict)
    lines += ["", f"Machine: {machine['cpu']}, {machine['date_utc']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for .md and .json")
    parser.add_argument("--data-root", type=Path, help="folder holding mitdb/ and qtdb/")
    args = parser.parse_args(argv)
    if args.data_root is not None:
        os.environ["MEDMODAL_DATA"] = str(args.data_root)
    start = time.perf_counter()
    rows = run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulated()
    result: dict[str, object] = {
        "machine": _machine.machine_info(("medmodal",)),
        "min_line_db": MIN_LINE_DB,
        "min_peak_db": MIN_PEAK_DB,
        "tally": tally(rows),
        "simulated": sim,
        "records": rows,
        "seconds": time.perf_counter() - start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ecg_powerline.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "ecg_powerline.md").write_text(markdown(result))
    print(json.dumps({"tally": result["tally"], "simulated": sim}, indent=1))
    return result


if __name__ == "__main__":
    main()
