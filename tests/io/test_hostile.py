"""Hostile files against the readers (issue 13): each case is refused from what the file
declares, with a MedmodalError naming the file, field, value and limit, before anything
large is allocated; wrong rates are never silently replaced.

Every file is crafted here in ``tmp_path``. These tests use only the API that existed
before the budgets (``read_record`` and the error classes), so they can be run against
the old readers too: all but the guards marked "held before" fail there.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from medmodal.errors import DataFormatError, InvalidParameterError, MedmodalError
from medmodal.io import read_record


def _npy_bytes(shape: tuple[int, ...], descr: str = "<f8", data: bytes = b"\0" * 64) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + data


def _wfdb(tmp_path: Path, record_line: str, signal_line: str, dat_bytes: int = 2000) -> Path:
    (tmp_path / "r.hea").write_text(f"{record_line}\n{signal_line}\n")
    (tmp_path / "r.dat").write_bytes(b"\0" * dat_bytes)
    return tmp_path / "r.hea"


def _peak_bytes(func: object, *args: object, **kwargs: object) -> tuple[BaseException, int]:
    """The error ``func`` raises and the peak bytes allocated meanwhile (numpy included)."""
    tracemalloc.start()
    try:
        func(*args, **kwargs)  # type: ignore[operator]
    except BaseException as exc:
        error = exc
    else:
        raise AssertionError("the read was expected to fail")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, peak


# -- sizes declared by headers -------------------------------------------------------------


def test_npy_header_declaring_1e12_values_is_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    path.write_bytes(_npy_bytes((10**12,)))
    error, peak = _peak_bytes(read_record, path, sampling_rate=360)
    assert isinstance(error, DataFormatError), repr(error)
    assert "1000000000000" in str(error) and "limit" in str(error)
    assert peak < 10 * 2**20


def test_npz_member_declaring_more_than_the_budget_is_not_decompressed(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("signal.npy", _npy_bytes((3 * 10**9,)))
        archive.writestr("fs.npy", _npy_bytes((), data=np.float64(360).tobytes()))
    error, peak = _peak_bytes(read_record, path)
    assert isinstance(error, DataFormatError), repr(error)
    assert "signal" in str(error) or "3000000000" in str(error)
    assert "limit" in str(error)
    assert peak < 10 * 2**20


def test_npz_member_shorter_than_its_header_is_a_format_error(tmp_path: Path) -> None:
    """Held before in effect (numpy's EOF ValueError); guards the bounded stream."""
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("signal.npy", _npy_bytes((10**6,)))  # 64 bytes of data, not 8 MB
    with pytest.raises(DataFormatError, match=r"short\.npz\[signal\].*truncated"):
        read_record(path, sampling_rate=100)


def test_wfdb_huge_skew_is_refused_before_wfdb_allocates(tmp_path: Path) -> None:
    path = _wfdb(tmp_path, "r 1 360 1000", "r.dat 16x1:50000000 200 0 0 0 0 0 ECG")
    error, peak = _peak_bytes(read_record, path)
    assert isinstance(error, DataFormatError), repr(error)
    assert "skew" in str(error) and "50000000" in str(error)
    assert peak < 10 * 2**20


def test_wfdb_sample_count_beyond_the_budget_is_refused_from_the_header(tmp_path: Path) -> None:
    """Before, only the .dat size check stopped this (a 9.6 GB file would have been read)."""
    path = _wfdb(tmp_path, "r 12 360 400000000", "r.dat 16 200 0 0 0 0 0 ECG")
    path.write_text(
        "r 12 360 400000000\n" + "".join(f"r.dat 16 200 0 0 0 0 0 L{i}\n" for i in range(12))
    )
    with pytest.raises(DataFormatError, match=r"4800000000.*limit"):
        read_record(path)


def test_wfdb_samples_per_frame_are_checked_against_the_file(tmp_path: Path) -> None:
    """Before, wfdb's own reshape failed after reading; now the header is refused first."""
    path = _wfdb(tmp_path, "r 1 360 1000", "r.dat 16x100000 200 0 0 0 0 0 ECG")
    with pytest.raises(DataFormatError, match=r"truncated|limit"):
        read_record(path)


def test_wfdb_byte_offset_and_signal_count_are_checked_before_reading(tmp_path: Path) -> None:
    """The offset check held before (a guard); a huge signal count gave an empty message."""
    path = _wfdb(tmp_path, "r 1 360 1000", "r.dat 16+999999999 200 0 0 0 0 0 ECG")
    with pytest.raises(DataFormatError, match=r"truncated: 2000 bytes.*1000001999 bytes"):
        read_record(path)
    path = _wfdb(tmp_path, "r 1000000000 360 1000", "r.dat 16 200 0 0 0 0 0 ECG")
    with pytest.raises(DataFormatError, match=r"1000000000.*limit of 1024"):
        read_record(path)
    path = _wfdb(tmp_path, "r 3 360 1000", "r.dat 16 200 0 0 0 0 0 ECG")
    with pytest.raises(DataFormatError, match="declares 3 signals but describes 1"):
        read_record(path)


def test_csv_with_6000_columns_is_refused_from_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        ",".join(f"c{i}" for i in range(6000)) + "\n" + "\n".join([",".join(["1.5"] * 6000)] * 4)
    )
    start = time.perf_counter()
    with pytest.raises(DataFormatError, match=r"6000.*limit of 1024"):
        read_record(path, sampling_rate=100)
    assert time.perf_counter() - start < 2.0


# -- sampling rates ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["nan", "-360", "inf", "0", "1e9", "abc"])
def test_wfdb_invalid_rate_field_is_an_error_not_250_hz(tmp_path: Path, rate: str) -> None:
    path = _wfdb(tmp_path, f"r 1 {rate} 1000", "r.dat 16 200 0 0 0 0 0 ECG")
    with pytest.raises(DataFormatError, match=rf"sampling rate field '{rate}'"):
        read_record(path)


@pytest.mark.parametrize("rate", ["nan", "-360", "1e9"])
def test_wfdb_invalid_rate_field_gives_way_to_the_callers(tmp_path: Path, rate: str) -> None:
    path = _wfdb(tmp_path, f"r 1 {rate} 1000", "r.dat 16 200 0 0 0 0 0 ECG")
    with pytest.warns(UserWarning, match=rf"'{rate}'.*sampling_rate=360"):
        record = read_record(path, sampling_rate=360)
    assert record.sampling_rate == 360.0 and record.n_samples == 1000


def test_wfdb_missing_rate_field_needs_the_callers_rate(tmp_path: Path) -> None:
    path = _wfdb(tmp_path, "r 1", "r.dat 16 200 0 0 0 0 0 ECG")
    with pytest.raises(InvalidParameterError, match="pass sampling_rate"):
        read_record(path)
    assert read_record(path, sampling_rate=500).sampling_rate == 500.0


def test_npz_rate_above_the_bound_or_invalid(tmp_path: Path) -> None:
    np.savez(tmp_path / "fast.npz", signal=np.zeros(100), fs=1e6)
    with pytest.raises(DataFormatError, match=r"'fs' is 1e\+06 Hz.*limit of 20000 Hz"):
        read_record(tmp_path / "fast.npz")
    np.savez(tmp_path / "nan.npz", signal=np.zeros(100), fs=np.nan)
    with pytest.warns(UserWarning, match="nan"):
        assert read_record(tmp_path / "nan.npz", sampling_rate=360).sampling_rate == 360.0


def test_callers_rate_above_the_bound_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros(100))
    with pytest.raises(InvalidParameterError, match=r"sampling_rate=1000000.*limit of 20000"):
        read_record(tmp_path / "x.npy", sampling_rate=1e6)


def test_csv_time_column_above_the_bound(tmp_path: Path) -> None:
    lines = ["time,a"] + [f"{i * 1e-6:.6f},{i}" for i in range(50)]  # 1 MHz
    (tmp_path / "fast.csv").write_text("\n".join(lines))
    with pytest.raises(DataFormatError, match=r"time column 'time'.*limit of 20000 Hz"):
        read_record(tmp_path / "fast.csv")


def test_csv_unusable_time_column_gives_way_to_the_callers_rate(tmp_path: Path) -> None:
    (tmp_path / "flat.csv").write_text("time,a\n0,1\n0,2\n0,3\n")
    with pytest.raises(DataFormatError, match="time column"):
        read_record(tmp_path / "flat.csv")
    with pytest.warns(UserWarning, match="time column"):
        assert read_record(tmp_path / "flat.csv", sampling_rate=100).sampling_rate == 100.0


def test_edf_rate_above_the_bound(tmp_path: Path) -> None:
    from pyedflib import highlevel

    headers = [highlevel.make_signal_header("ECG", dimension="mV", sample_frequency=50_000)]
    highlevel.write_edf(str(tmp_path / "fast.edf"), [np.sin(np.arange(50_000) / 50)], headers)
    with pytest.raises(DataFormatError, match=r"50000 Hz.*limit of 20000 Hz"):
        read_record(tmp_path / "fast.edf")


# -- clear errors instead of tracebacks ----------------------------------------------------


def test_npz_ann_fs_with_two_values(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "a.npz", signal=np.zeros(100), fs=360, ann_sample=np.array([1, 2]),
        ann_symbol=np.array(["N", "N"]), ann_fs=np.array([1, 2]),
    )  # fmt: skip
    with pytest.raises(DataFormatError, match="'ann_fs' must be one number"):
        read_record(tmp_path / "a.npz")


def test_zip_renamed_npz(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(DataFormatError, match=r"z\.npz.*without \.npy members"):
        read_record(tmp_path / "z.npz")


def test_csv_empty_delimiter(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidParameterError, match=r"delimiter must be one character.*''"):
        read_record(tmp_path / "a.csv", sampling_rate=100, delimiter="")


@pytest.mark.parametrize("suffix", ["npy", "npz"])
def test_complex_samples_are_refused_not_cut_to_their_real_part(
    tmp_path: Path, suffix: str
) -> None:
    samples = np.ones(100) + 1j
    path = tmp_path / f"c.{suffix}"
    if suffix == "npy":
        np.save(path, samples)
    else:
        np.savez(path, signal=samples, fs=100)
    with pytest.raises(DataFormatError, match="complex"):
        read_record(path, sampling_rate=100)


def test_npz_signal_that_is_not_a_number(tmp_path: Path) -> None:
    np.savez(tmp_path / "t.npz", signal=np.array([1, 2, 3], dtype="timedelta64[s]"), fs=100)
    with pytest.raises(DataFormatError, match="must be numeric"):
        read_record(tmp_path / "t.npz")
    np.savez(tmp_path / "s.npz", signal=np.array(["a", "b"]), fs=100)  # held before
    with pytest.raises(DataFormatError, match="numeric"):
        read_record(tmp_path / "s.npz")


def test_object_arrays_are_never_unpickled(tmp_path: Path) -> None:
    """Held before (np.load with allow_pickle=False); kept as a guard for the new reader."""
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "o.npz", signal=np.zeros(10), fs=100, lead_names=np.array([None]))
    for name in ("o.npy", "o.npz"):
        with pytest.raises(DataFormatError, match="object"):
            read_record(tmp_path / name, sampling_rate=100)


def test_csv_boolean_text_is_not_a_number(tmp_path: Path) -> None:
    """Held before; guards the fast float parser (pandas reads True as 1.0 in a float column)."""
    (tmp_path / "b.csv").write_text("a,b\n1,2\nTrue,4\n")
    with pytest.raises(DataFormatError, match=r"column 'a' holds 'True' on line 3"):
        read_record(tmp_path / "b.csv", sampling_rate=100)


def test_every_hostile_file_raises_a_medmodal_error(tmp_path: Path) -> None:
    """One sweep (held before; a guard): only MedmodalError leaves read_record here."""
    cases = {
        "a.npy": _npy_bytes((2, 3), descr="<c16"),
        "b.npy": _npy_bytes((10**10, 10**10)),
        "c.npy": _npy_bytes((5,), descr="|V8"),
        "d.npy": b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100,
        "e.npz": b"PK\x03\x04" + b"\0" * 100,
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(MedmodalError):
            read_record(tmp_path / name, sampling_rate=100)
