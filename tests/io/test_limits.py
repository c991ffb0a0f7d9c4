"""medmodal.io.Limits: the budgets are stated once, checked from the header, overridable."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from medmodal.errors import DataFormatError, InvalidParameterError, RecordTooLargeError
from medmodal.io import DEFAULT_LIMITS, Limits, Record, read_record, write_record


def test_defaults_cover_a_24_hour_12_lead_holter_at_1_khz() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert 24 * 3600 * 1000 * 12 <= DEFAULT_LIMITS.max_values < 10**12
    assert 1_000 <= DEFAULT_LIMITS.max_sampling_rate <= 20_000
    assert DEFAULT_LIMITS.max_leads >= 256  # body-surface potential maps
    assert DEFAULT_LIMITS.max_decompressed_bytes >= 8 * DEFAULT_LIMITS.max_values


@pytest.mark.parametrize(
    "kwargs", [{"max_values": 0}, {"max_sampling_rate": float("nan")}, {"max_leads": -1}]
)
def test_limits_reject_non_positive_budgets(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidParameterError, match=next(iter(kwargs))):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_read_record_checks_the_limits_argument(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros(10))
    with pytest.raises(InvalidParameterError, match=r"limits must be a medmodal\.io\.Limits"):
        read_record(tmp_path / "x.npy", sampling_rate=100, limits={"max_values": 5})  # type: ignore[arg-type]


def test_too_large_error_names_file_field_value_and_limit(tmp_path: Path) -> None:
    np.savez(tmp_path / "big.npz", signal=np.zeros((500, 3)), fs=100)
    with pytest.raises(RecordTooLargeError) as info:
        read_record(tmp_path / "big.npz", limits=Limits(max_values=1000))
    message = str(info.value)
    assert "big.npz" in message and "samples x leads" in message
    assert "1500" in message and "1000" in message and "max_values" in message
    assert isinstance(info.value, DataFormatError)


def test_compressed_npz_beyond_the_value_budget_is_refused_before_decompression(
    tmp_path: Path,
) -> None:
    np.savez_compressed(tmp_path / "z.npz", signal=np.zeros(4_000_000), fs=360)  # 32 MB -> 31 KB
    tracemalloc.start()
    try:
        with pytest.raises(RecordTooLargeError, match="max_values"):
            read_record(tmp_path / "z.npz", limits=Limits(max_values=10**6))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_declared_uncompressed_size_is_checked_from_the_zip_directory(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "z.npz", signal=np.zeros(10_000), fs=360)
    with pytest.raises(RecordTooLargeError, match=r"uncompressed size.*max_decompressed_bytes"):
        read_record(tmp_path / "z.npz", limits=Limits(max_decompressed_bytes=50_000))
    assert read_record(tmp_path / "z.npz", limits=Limits(max_decompressed_bytes=90_000)).n_samples


def test_raised_budgets_read_what_the_defaults_refuse(tmp_path: Path) -> None:
    np.savez(tmp_path / "fast.npz", signal=np.zeros(100), fs=1e6)
    with pytest.raises(RecordTooLargeError):
        read_record(tmp_path / "fast.npz")
    fast = read_record(tmp_path / "fast.npz", limits=Limits(max_sampling_rate=2e6))
    assert fast.sampling_rate == 1e6
    assert (
        read_record(
            tmp_path / "fast.npz", sampling_rate=1e6, limits=Limits(max_sampling_rate=1e6)
        ).sampling_rate
        == 1e6
    )


def test_wide_csv_reads_with_a_raised_column_budget(tmp_path: Path) -> None:
    values = np.round(np.random.default_rng(0).standard_normal((40, 1500)), 6)
    header = ",".join(f"c{i}" for i in range(1500))
    np.savetxt(tmp_path / "w.csv", values, delimiter=",", header=header, comments="", fmt="%.6f")
    with pytest.raises(RecordTooLargeError, match="max_leads"):
        read_record(tmp_path / "w.csv", sampling_rate=100)
    rec = read_record(tmp_path / "w.csv", sampling_rate=100, limits=Limits(max_leads=2000))
    np.testing.assert_array_equal(rec.signal, values)
    assert rec.lead_names[-1] == "c1499"


def test_header_byte_budget_for_csv_and_wfdb(tmp_path: Path) -> None:
    rec = Record(np.zeros((100, 2)), 250, ("a" * 80, "b" * 80), name="h")
    csv = write_record(rec, tmp_path / "h.csv")
    hea = write_record(rec, tmp_path / "h")
    small = Limits(max_header_bytes=100)
    with pytest.raises(RecordTooLargeError, match=r"first line.*max_header_bytes"):
        read_record(csv, limits=small)
    with pytest.raises(RecordTooLargeError, match=r"header size.*max_header_bytes"):
        read_record(hea, limits=small)
    assert read_record(csv).n_leads == read_record(hea).n_leads == 2


def test_lead_budget_applies_to_every_format(tmp_path: Path) -> None:
    rec = Record(np.zeros((50, 4)), 250, ("a", "b", "c", "d"), name="l")
    two = Limits(max_leads=3)
    for suffix in ("npz", "hea", "edf", "csv"):
        path = write_record(rec, tmp_path / f"l.{suffix}")
        with pytest.raises(RecordTooLargeError, match="max_leads"):
            read_record(path, limits=two)


@pytest.mark.data
def test_mitdb_reads_exactly_what_wfdb_reads(mitdb_dir: Path) -> None:
    import wfdb

    rec = read_record(mitdb_dir / "100")
    ref = wfdb.rdrecord(str(mitdb_dir / "100"))
    np.testing.assert_array_equal(rec.signal, ref.p_signal)
    assert rec.sampling_rate == 360.0
    assert rec.annotations is not None and rec.annotations.sampling_rate == 360.0
