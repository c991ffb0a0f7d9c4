"""The plain-WFDB fast path gives exactly what the ``wfdb`` path gives, only faster.

Every check reads a record twice through :func:`medmodal.io.read_record`: as it does
(plain records parsed and decoded by ``_wfdb_plain``) and with the fast path switched
off (``wfdb.rdheader`` + ``wfdb.rdrecord``), then compares every field: the samples
bitwise (NaN included), rate, lead names, units, name, metadata (values and Python
types), annotations, or the error class and message. It also checks which path read
the samples, so a fast path that silently fell back everywhere would fail.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medmodal.data.ecg_corpus import make_ecg_corpus
from medmodal.errors import DataFormatError, DataNotFoundError, MedmodalError
from medmodal.io import Record, read_record, write_record
from medmodal.io._formats import _wfdb_plain
from medmodal.io._formats import wfdb as wfdb_format

Result = Record | MedmodalError


def _read(path: Path, *, fast: bool, **options: Any) -> tuple[Result, bool]:
    """The record (or the error) and whether ``wfdb.rdrecord`` read its samples."""
    calls: list[Path] = []
    real = wfdb_format._wfdb_parts

    def spy(base: Path) -> Any:
        calls.append(base)
        return real(base)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wfdb_format, "_wfdb_parts", spy)
        if not fast:
            mp.setattr(wfdb_format, "parse_plain", lambda text: None)
        try:
            result: Result = read_record(path, **options)
        except MedmodalError as exc:
            result = exc
    return result, bool(calls)


def _assert_same(got: Result, want: Result) -> None:
    if isinstance(want, MedmodalError) or isinstance(got, MedmodalError):
        assert type(got) is type(want), (got, want)
        assert str(got) == str(want)
        return
    assert got.signal.dtype == want.signal.dtype == np.float64
    assert got.signal.shape == want.signal.shape
    assert got.signal.tobytes() == want.signal.tobytes()  # bitwise, NaN included
    assert got.sampling_rate == want.sampling_rate
    assert got.lead_names == want.lead_names
    assert got.units == want.units
    assert got.name == want.name
    assert list(got.meta) == list(want.meta)
    for key, value in want.meta.items():
        assert got.meta[key] == value, key
        assert type(got.meta[key]) is type(value), key
        if isinstance(value, list):
            assert [type(v) for v in got.meta[key]] == [type(v) for v in value], key
    if want.annotations is None:
        assert got.annotations is None
    else:
        assert got.annotations is not None
        np.testing.assert_array_equal(got.annotations.sample, want.annotations.sample)
        assert list(got.annotations.symbol) == list(want.annotations.symbol)
        assert list(got.annotations.aux_note) == list(want.annotations.aux_note)
        assert got.annotations.sampling_rate == want.annotations.sampling_rate


def check(path: Path, *, plain: bool | None, **options: Any) -> Result:
    """Read ``path`` both ways and compare; ``plain``: whether the fast path must read
    the samples (``None``: not asked, e.g. an error before any sample is read)."""
    got, wfdb_read_fast = _read(path, fast=True, **options)
    want, wfdb_read_ref = _read(path, fast=False, **options)
    _assert_same(got, want)
    if plain is not None:
        assert wfdb_read_fast is not plain, "the fast path was not taken" if plain else ""
        assert wfdb_read_ref or isinstance(want, MedmodalError)
    return got


def test_patterns_are_wfdbs() -> None:
    """The copied record and signal line patterns are those of the installed wfdb."""
    from wfdb.io import header

    assert _wfdb_plain.RECORD_LINE.pattern == header.rx_record.pattern
    assert _wfdb_plain.SIGNAL_LINE.pattern == header.rx_signal.pattern
    assert _wfdb_plain.RECORD_LINE.flags == header.rx_record.flags


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("corpus")
    return make_ecg_corpus(folder, 7, seed=5, duration=3.0, corrupt=3, pathological=3)


def test_generated_corpus(corpus: Any) -> None:
    kinds = []
    for row in corpus.itertuples():
        got = check(Path(row.path), plain=None if row.kind == "corrupt" else True)
        kinds.append((row.defect or row.kind, type(got).__name__))
    assert sorted(kinds) == sorted(
        [("normal", "Record")] * 1
        + [("flat", "Record"), ("saturated", "Record"), ("noise_only", "Record")]
        + [("truncated_signal", "DataFormatError"), ("bad_header", "DataFormatError")]
        + [("missing_signal", "DataNotFoundError")]
    )


@pytest.mark.data
def test_ptbxl_records(ptbxl_dir: Path) -> None:
    for hea in sorted((ptbxl_dir / "records100").rglob("*.hea"))[:25]:
        rec = check(hea, plain=True)
        assert isinstance(rec, Record) and rec.signal.shape == (1000, 12)


@pytest.mark.data
@pytest.mark.parametrize("name", ["100", "102", "203", "232"])
def test_mitbih_records_format_212(mitdb_dir: Path, name: str) -> None:
    rec = check(mitdb_dir / f"{name}.hea", plain=True, annotation=name == "100")
    assert isinstance(rec, Record) and rec.signal.shape == (650000, 2)
    assert rec.meta["fmt"] == ["212", "212"] and rec.meta["comments"]


@pytest.mark.data
def test_qt_database_records_with_a_counter_frequency(qtdb_dir: Path) -> None:
    """``sel100 2 250/360 225000``: the counter field is parsed past, the rate kept."""
    for hea in sorted(qtdb_dir.glob("sel1*.hea"))[:2]:
        rec = check(hea, plain=True, annotation=False)
        assert isinstance(rec, Record) and rec.sampling_rate == 250.0


def test_write_record_output(tmp_path: Path, rng: np.random.Generator) -> None:
    signal = rng.standard_normal((700, 3)) * [1.0, 0.01, 50.0]
    rec = Record(signal, 360.0, ("I", "lead two", "V1"), ("mV", "uV", ""), name="w",
                 meta={"comments": ["age: 61", "sex: F"]})  # fmt: skip
    back = check(write_record(rec, tmp_path / "w.hea"), plain=True)
    assert isinstance(back, Record) and back.meta["comments"] == ["age: 61", "sex: F"]
    np.testing.assert_allclose(back.signal, signal, atol=np.ptp(signal, axis=0).max() / 1e4)


def _write_plain(
    folder: Path, record_line: str, signal_lines: list[str], digital: np.ndarray, extra: str = ""
) -> Path:
    """``r.hea`` with these lines (``{f}`` is the .dat name) and ``r.dat`` (int16)."""
    hea = folder / "r.hea"
    lines = [record_line, *(line.format(f="r.dat") for line in signal_lines)]
    hea.write_text("\n".join(lines) + "\n" + extra)
    np.asarray(digital, dtype="<i2").tofile(folder / "r.dat")
    return hea


_DIGITAL = np.array([[0, 100, -32768], [5, -7, 3], [-32768, 32767, 1], [12, 0, -1]])

#: (record line, signal lines, comment lines, whether the fast path reads it)
HEADERS = {
    "gain_baseline_units": ("r 3 250 4", ["{f} 16 200(0)/mV 16 0 0 0 0 I",
        "{f} 16 1000.0(-5)/uV 16 0 0 0 0 II", "{f} 16 2e3(1)/mV 16 0 0 0 0 V1"], "", True),
    "zero_gain_is_200": ("r 3 250 4", ["{f} 16 0(3)/mV 16 0 0 0 0 a",
        "{f} 16 0/mV 16 0 0 0 0 b", "{f} 16 0 16 0 0 0 0 c"], "", True),
    "no_units_no_baseline": ("r 3 250 4", ["{f} 16 200 16 0 0 0 0 a",
        "{f} 16 -100 16 0 0 0 0 b", "{f} 16 17.5 16 0 0 0 0 c"], "", True),
    "baseline_is_adc_zero": ("r 3 250 4", ["{f} 16 200/mV 12 7 0 0 0 a",
        "{f} 16 200 12 -9 0 0 0 b", "{f} 16 200(2)/mV 12 7 0 0 0 c"], "", True),
    "no_description": ("r 3 250 4", ["{f} 16 200/mV 16 0", "{f} 16 200/mV",
        "{f} 16"], "", True),
    "comments_date_time": ("r 3 500 4 10:11:12.5 05/06/2020", ["{f} 16 200/mV 16 0 0 0 0 I",
        "{f} 16 200/mV 16 0 0 0 0 II", "{f} 16 200/mV 16 0 0 0 0 III"],
        "# age: 61\n#sex: F\n  #  Rx: none \n", True),
    "time_only": ("r 3 500 4 1:02", ["{f} 16 200 16 0 0 0 0 I", "{f} 16 200 16 0 0 0 0 II",
        "{f} 16 200 16 0 0 0 0 III"], "", True),
    "explicit_defaults": ("r 3 250 4", ["{f} 16x1:0+0 200(0)/mV 16 0 0 0 0 I",
        "{f} 16x1 200(0)/mV 16 0 0 0 0 II", "{f} 16:0 200(0)/mV 16 0 0 0 0 III"], "", True),
    "units_with_symbols": ("r 3 250 4", ["{f} 16 200(0)/mmHg 16 0 0 0 0 I",
        "{f} 16 200(0)/% 16 0 0 0 0 II", "{f} 16 200(0)/degC 16 0 0 0 0 III"], "", True),
    "two_samples_per_frame": ("r 3 250 2", ["{f} 16x2 200 16 0 0 0 0 I",
        "{f} 16 200 16 0 0 0 0 II", "{f} 16 200 16 0 0 0 0 III"], "", False),
    "skew": ("r 3 250 3", ["{f} 16:1 200 16 0 0 0 0 I", "{f} 16 200 16 0 0 0 0 II",
        "{f} 16 200 16 0 0 0 0 III"], "", False),
    "byte_offset": ("r 3 250 3", ["{f} 16+6 200 16 0 0 0 0 I", "{f} 16+6 200 16 0 0 0 0 II",
        "{f} 16+6 200 16 0 0 0 0 III"], "", False),
    "format_32_is_wfdbs": ("r 1 250 6", ["{f} 32 200 16 0 0 0 0 I"], "", False),
    "no_length": ("r 3 250", ["{f} 16 200 16 0 0 0 0 I", "{f} 16 200 16 0 0 0 0 II",
        "{f} 16 200 16 0 0 0 0 III"], "", False),
    "too_few_signal_lines": ("r 4 250 3", ["{f} 16 200 16 0 0 0 0 I",
        "{f} 16 200 16 0 0 0 0 II", "{f} 16 200 16 0 0 0 0 III"], "", None),
    "zero_length": ("r 3 250 0", ["{f} 16 200 16 0 0 0 0 I", "{f} 16 200 16 0 0 0 0 II",
        "{f} 16 200 16 0 0 0 0 III"], "", None),
    "bad_time": ("r 3 250 4 25:00:00", ["{f} 16 200 16 0 0 0 0 I",
        "{f} 16 200 16 0 0 0 0 II", "{f} 16 200 16 0 0 0 0 III"], "", None),
    "bad_gain": ("r 3 250 4", ["{f} 16 e/mV 16 0 0 0 0 I", "{f} 16 200 16 0 0 0 0 II",
        "{f} 16 200 16 0 0 0 0 III"], "", None),
    "multi_segment": ("r/2 3 250 4", ["a 2", "b 2"], "", None),
    "null_signal_file": ("r 3 250 4", ["~ 16 200 16 0 0 0 0 I", "~ 16 200 16 0 0 0 0 II",
        "~ 16 200 16 0 0 0 0 III"], "", None),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_handwritten_headers(tmp_path: Path, case: str) -> None:
    record_line, signal_lines, comments, plain = HEADERS[case]
    hea = _write_plain(tmp_path, record_line, signal_lines, _DIGITAL, comments)
    got = check(hea, plain=plain)
    if plain:
        assert isinstance(got, Record)
        assert np.isnan(got.signal[0, 2]) and np.isnan(got.signal[2, 0])  # -32768
        assert not np.isnan(got.signal[2, 1])


def test_defaults_as_wfdb_gives_them(tmp_path: Path) -> None:
    """The answers themselves, beyond fast == wfdb: what the spec and wfdb say."""
    lines = ["{f} 16 0/uV 12 7 0 0 0", "{f} 16 200", "{f} 16 100(4)/mV 12 7 0 0 0 V1"]
    hea = _write_plain(tmp_path, "r 3 250 4 08:00:00 01/02/2003", lines, _DIGITAL, "# hi\n")
    rec = check(hea, plain=True)
    assert isinstance(rec, Record)
    assert rec.meta["adc_gain"] == [200.0, 200.0, 100.0]
    assert rec.meta["baseline"] == [7, 0, 4]
    assert rec.units == ("uV", "mV", "mV")
    assert rec.lead_names == ("None", "None", "V1")  # wfdb leaves missing names None
    assert rec.meta["comments"] == ["hi"]
    assert str(rec.meta["base_time"]) == "08:00:00" and str(rec.meta["base_date"]) == "2003-02-01"
    assert rec.signal[1, 0] == (5 - 7) / 200.0


@pytest.mark.parametrize("n_samples", [1, 7, 8])  # odd totals pad the last 212 block
def test_format_212_odd_and_even_lengths(tmp_path: Path, n_samples: int) -> None:
    digital = np.random.default_rng(n_samples).integers(-2048, 2048, (n_samples, 1))
    digital[0, 0] = -2048  # the missing-sample value of format 212
    wfdb.wrsamp(
        "r", fs=360, units=["mV"], sig_name=["MLII"], d_signal=digital.astype(np.int16),
        fmt=["212"], adc_gain=[200.0], baseline=[1024], write_dir=str(tmp_path),
    )  # fmt: skip
    rec = check(tmp_path / "r.hea", plain=True)
    assert isinstance(rec, Record) and np.isnan(rec.signal[0, 0])
    np.testing.assert_array_equal(rec.signal[1:, 0], (digital[1:, 0] - 1024) / 200.0)


@pytest.mark.parametrize("fmt", ["16", "212"])
def test_truncated_and_missing_signal_files(tmp_path: Path, fmt: str) -> None:
    digital = np.arange(60, dtype=np.int16).reshape(20, 3)
    wfdb.wrsamp(
        "r", fs=100, units=["mV"] * 3, sig_name=["a", "b", "c"], d_signal=digital,
        fmt=[fmt] * 3, adc_gain=[200.0] * 3, baseline=[0] * 3, write_dir=str(tmp_path),
    )  # fmt: skip
    dat = tmp_path / "r.dat"
    dat.write_bytes(dat.read_bytes()[:-1])
    assert isinstance(check(tmp_path / "r.hea", plain=None), DataFormatError)
    dat.unlink()
    assert isinstance(check(tmp_path / "r.hea", plain=None), DataNotFoundError)


def test_a_longer_signal_file_reads_the_declared_samples(tmp_path: Path) -> None:
    lines = ["{f} 16 200 16 0 0 0 0 I", "{f} 16 200 16 0 0 0 0 II", "{f} 16 200 16 0 0 0 0 III"]
    hea = _write_plain(tmp_path, "r 3 250 3", lines, _DIGITAL)  # 4 frames on disk
    rec = check(hea, plain=True)
    assert isinstance(rec, Record) and rec.n_samples == 3


_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(
    fmt=st.sampled_from(["16", "212"]),
    n_leads=st.integers(1, 12),
    n_samples=st.integers(1, 200),
    seed=st.integers(0, 2**32 - 1),
    gains=st.lists(st.floats(1e-3, 1e6, allow_nan=False), min_size=12, max_size=12),
    baselines=st.lists(st.integers(-(2**15), 2**15), min_size=12, max_size=12),
)
def test_property_wrsamp_records(
    fmt: str, n_leads: int, n_samples: int, seed: int, gains: list[float], baselines: list[int]
) -> None:
    """Random digital signals, gains, baselines and lead counts written by ``wfdb.wrsamp``."""
    low, high = (-(2**15), 2**15) if fmt == "16" else (-(2**11), 2**11)
    digital = np.random.default_rng(seed).integers(low, high, (n_samples, n_leads))
    with tempfile.TemporaryDirectory() as tmp:
        wfdb.wrsamp(
            "r", fs=500, units=["mV"] * n_leads, sig_name=[f"L{i}" for i in range(n_leads)],
            d_signal=digital.astype(np.int16), fmt=[fmt] * n_leads,
            adc_gain=gains[:n_leads], baseline=baselines[:n_leads], write_dir=tmp,
        )  # fmt: skip
        check(Path(tmp) / "r.hea", plain=True)


_GAIN_FORMS = ("{g}", "{g}({b})", "{g}({b})/{u}", "{g}/{u}", "0({b})/{u}", "0", "")


@_SETTINGS
@given(
    n_leads=st.integers(1, 6),
    n_samples=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
    forms=st.lists(st.sampled_from(_GAIN_FORMS), min_size=6, max_size=6),
    gain=st.sampled_from(["200", "1000.0", "-35.5", "2e3", "1E2", ".5", "7."]),
    baseline=st.integers(-(2**16), 2**16),
    units=st.sampled_from(["mV", "uV", "mmHg", "%", "deg^2", "a-b?"]),
    tail=st.sampled_from(["", " 16", " 16 5", " 16 -5 0", " 12 0 0 0 V1", " 12 0 0 0 V 1 x"]),
)
def test_property_handwritten_gain_fields(
    n_leads: int,
    n_samples: int,
    seed: int,
    forms: list[str],
    gain: str,
    baseline: int,
    units: str,
    tail: str,
) -> None:
    """Every form of the gain field, with and without the fields after it."""
    digital = np.random.default_rng(seed).integers(-(2**15), 2**15, (n_samples, n_leads))
    lines = [
        "{f} 16 " + forms[i].format(g=gain, b=baseline, u=units) + (tail if forms[i] else "")
        for i in range(n_leads)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        hea = _write_plain(Path(tmp), f"r {n_leads} 360 {n_samples}", lines, digital)
        check(hea, plain=True)


_VALID = (
    "r 3 250/500(2) 4 10:11:12 05/06/2020\n"
    "r.dat 16 200(3)/mV 16 7 -1 123 0 I\n"
    "r.dat 16 1e3/uV 12 0 5 0 0 lead 2\n"
    "r.dat 16x1:0+0 0 16 0 0 0 0 V1\n"
    "# a comment\n"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_VALID)),
            st.integers(0, 3),
            st.text("0123456789 ./()-+x:e#\n\t~aV", max_size=3),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_property_mutated_headers(edits: list[tuple[int, int, str]]) -> None:
    """Random edits of a valid header (digits, separators, newlines, comment marks):
    whatever the fast path accepts, wfdb reads the same; whatever it refuses, wfdb
    still reads or rejects exactly as before."""
    text = _VALID
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    with tempfile.TemporaryDirectory() as tmp:
        hea = Path(tmp) / "r.hea"
        hea.write_text(text)
        np.asarray(_DIGITAL, dtype="<i2").tofile(Path(tmp) / "r.dat")
        check(hea, plain=None)
