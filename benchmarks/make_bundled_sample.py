"""Cut the MIT-BIH excerpts that ship inside medmodal (``medmodal/data/_bundled/mitdb``).

Reproducible: run from the project root with the shared data available::

    python benchmarks/make_bundled_sample.py [--data-root ../shared/data]

Each excerpt keeps the original 212-format samples bit for bit (same gain and
baseline), both leads, the header comments (age, sex, medications) plus a line naming
the excerpt, and the reference annotations inside the window re-based to its start. The
rhythm in effect at the window start is repeated as a ``+`` annotation at sample 0 so the
excerpt's rhythm labels are complete.

Source: Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med
Biol 20(3):45-50 (2001); PhysioNet (Goldberger et al. 2000). Licence: ODC-By 1.0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import wfdb

from medmodal.data import mitdb
from medmodal.data.paths import dataset_dir

OUT = Path(__file__).resolve().parents[1] / "src" / "medmodal" / "data" / "_bundled" / "mitdb"

#: name -> (record, start s, stop s, what the excerpt shows); chosen from the annotations.
EXCERPTS = {
    "mitdb-100": ("100", 0, 300, "normal sinus rhythm with a few atrial premature beats"),
    "mitdb-119": (
        "119",
        0,
        300,
        "sinus rhythm alternating with ventricular bigeminy and a trigeminy run (uniform PVCs)",
    ),
    "mitdb-201": (
        "201",
        300,
        600,
        "atrial fibrillation ending in nodal and sinus rhythm, a second AF episode, "
        "then ventricular trigeminy",
    ),
}


def _rhythm_at(ann: wfdb.Annotation, sample: int) -> str | None:
    """The rhythm (aux note such as ``"(AFIB"``) in effect at ``sample``."""
    current = None
    for s, sym, note in zip(ann.sample, ann.symbol, ann.aux_note, strict=True):
        if s > sample:
            break
        if sym == "+" and note.strip("\x00").startswith("("):
            current = note.strip("\x00")
    return current


def cut(source: Path, record: str, start_s: float, stop_s: float, note: str) -> dict[str, object]:
    """Write one excerpt of ``record`` to :data:`OUT`; return its manifest entry."""
    fs = mitdb.SAMPLING_RATE
    a, b = round(start_s * fs), round(stop_s * fs)
    rec = wfdb.rdrecord(str(source / record), sampfrom=a, sampto=b, physical=False)
    rec.checksum = rec.calc_checksum()
    rec.init_value = [int(v) for v in rec.d_signal[0]]
    rec.comments = [*rec.comments, f"medmodal excerpt: record {record}, {start_s:g}-{stop_s:g} s"]
    rec.wrsamp(write_dir=str(OUT))

    full = wfdb.rdann(str(source / record), "atr")
    keep = (full.sample >= a) & (full.sample < b)
    sample = full.sample[keep] - a
    symbol = [s for s, k in zip(full.symbol, keep, strict=True) if k]
    aux = [n.strip("\x00") for n, k in zip(full.aux_note, keep, strict=True) if k]
    subtype, chan, num = full.subtype[keep], full.chan[keep], full.num[keep]
    rhythm = _rhythm_at(full, a)
    if rhythm and not (len(sample) and sample[0] == 0 and symbol[0] == "+"):
        sample = np.concatenate([[0], sample])
        symbol, aux = ["+", *symbol], [rhythm, *aux]
        subtype, chan, num = (np.concatenate([[0], x]) for x in (subtype, chan, num))
    wfdb.wrann(
        record, "atr", sample, symbol, subtype=subtype, chan=chan, num=num,
        aux_note=aux, fs=fs, write_dir=str(OUT),
    )  # fmt: skip
    beats = sum(s in mitdb.BEAT_SYMBOLS for s in symbol)
    return {
        "path": f"mitdb/{record}",
        "record": record,
        "start_s": start_s,
        "stop_s": stop_s,
        "beats": beats,
        "description": note,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder holding mitdb/")
    args = parser.parse_args()
    source = dataset_dir("mitdb", args.data_root)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {name: cut(source, *spec) for name, spec in EXCERPTS.items()}
    (OUT.parent / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in OUT.parent.rglob("*") if p.is_file())
    for name, entry in manifest.items():
        print(f"{name}: {entry['beats']} beats, {entry['description']}")
    print(f"wrote {OUT.parent} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
