"""medmodal.io: Record/Annotations, round trips through every writable format, error paths."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medmodal.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidParameterError,
    MedmodalError,
    MedmodalWarning,
)
from medmodal.io import (
    Annotations,
    Record,
    available_formats,
    infer_format,
    read_annotations,
    read_record,
    write_record,
)

# Quantisation of each writer (physical units): exact text/NumPy, 16-bit WFDB and EDF.
TOLERANCE = {"csv": 0.0, "tsv": 0.0, "npz": 0.0, "hea": 1e-4, "edf": 1e-4}


@pytest.fixture
def record(rng: np.random.Generator) -> Record:
    """Two leads, 4 s at 250 Hz, with beat and rhythm annotations."""
    t = np.arange(1000) / 250
    signal = np.column_stack([np.sin(2 * np.pi * 1.2 * t), 0.3 * rng.standard_normal(1000)])
    ann = Annotations([10, 200, 450, 700], ["+", "N", "V", "N"], ["(N", "", "", ""], 250)
    return Record(
        signal,
        250.0,
        ("MLII", "V1"),
        ("mV", "uV"),
        name="syn",
        meta={"comments": ["synthetic"]},
        annotations=ann,
    )


# -- the containers ------------------------------------------------------------------------


def test_record_is_frozen_and_read_only(record: Record) -> None:
    with pytest.raises(ValueError, match="read-only"):
        record.signal[0, 0] = 1.0
    with pytest.raises(AttributeError):
        record.sampling_rate = 1.0  # type: ignore[misc]
    assert record.signal.dtype == np.float64
    assert record.duration == 4.0


def test_record_lead_access_by_name_index_and_case(record: Record) -> None:
    np.testing.assert_array_equal(record.lead("V1"), record.signal[:, 1])
    np.testing.assert_array_equal(record.lead(-1), record.signal[:, 1])
    np.testing.assert_array_equal(record.lead("mlii"), record.signal[:, 0])
    picked = record.select(["V1", "MLII"])
    assert picked.lead_names == ("V1", "MLII")
    assert picked.units == ("uV", "mV")
    assert picked.annotations is record.annotations


def test_unknown_lead_lists_the_available_ones(record: Record) -> None:
    with pytest.raises(InvalidParameterError, match=r"no lead 'V5'.*Available leads: MLII, V1"):
        record.lead("V5")
    with pytest.raises(InvalidParameterError, match="out of range"):
        record.lead(2)


def test_record_rejects_inconsistent_fields() -> None:
    with pytest.raises(InvalidParameterError, match="lead_names has 1 entries for 2 leads"):
        Record(np.zeros((10, 2)), 100, ("a",))
    with pytest.raises(InvalidParameterError, match="sampling_rate"):
        Record(np.zeros(10), 0, ("a",))
    one = Record(np.zeros(10), 100, ("a",))
    assert one.signal.shape == (10, 1)
    assert one.units == ("",)


def test_crop_cuts_and_rebases_annotations(record: Record) -> None:
    part = record.crop(1.0, 3.0)
    assert part.n_samples == 500
    np.testing.assert_array_equal(part.signal, record.signal[250:750])
    assert part.annotations is not None
    assert part.annotations.sample.tolist() == [200, 450]
    assert part.annotations.symbol.tolist() == ["V", "N"]
    with pytest.raises(InvalidParameterError, match="crop"):
        record.crop(3.0, 1.0)


def test_annotations_beats_and_frame(record: Record) -> None:
    ann = record.annotations
    assert ann is not None
    assert ann.beats().symbol.tolist() == ["N", "V", "N"]
    frame = ann.to_frame()
    assert list(frame.columns) == ["sample", "time", "symbol", "aux_note"]
    assert frame["time"].tolist() == [0.04, 0.8, 1.8, 2.8]
    with pytest.raises(InvalidParameterError, match="integers"):
        Annotations([1.5], ["N"], sampling_rate=100)
    with pytest.raises(InvalidParameterError, match="one entry per annotation"):
        Annotations([1, 2], ["N"], sampling_rate=100)


def test_to_frame_has_time_index(record: Record) -> None:
    frame = record.to_frame()
    assert list(frame.columns) == ["MLII", "V1"]
    assert frame.index[1] == pytest.approx(1 / 250)
    assert frame.shape == (1000, 2)


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "tsv", "npz", "hea", "edf"])
def test_round_trip_keeps_rate_names_units_and_samples(
    record: Record, tmp_path: Path, suffix: str
) -> None:
    path = write_record(record, tmp_path / f"syn.{suffix}")
    back = read_record(path)
    assert back.sampling_rate == 250.0
    assert back.lead_names == ("MLII", "V1")
    assert back.units == ("mV", "uV")
    assert back.signal.shape == (1000, 2)
    scale = np.abs(record.signal).max()
    np.testing.assert_allclose(back.signal, record.signal, atol=TOLERANCE[suffix] * scale)


@pytest.mark.parametrize("suffix", ["hea", "npz"])
def test_round_trip_keeps_annotations(record: Record, tmp_path: Path, suffix: str) -> None:
    back = read_record(write_record(record, tmp_path / f"syn.{suffix}"))
    assert back.annotations is not None and record.annotations is not None
    np.testing.assert_array_equal(back.annotations.sample, record.annotations.sample)
    assert back.annotations.symbol.tolist() == ["+", "N", "V", "N"]
    assert back.annotations.aux_note.tolist() == ["(N", "", "", ""]


def test_wfdb_keeps_comments_and_reads_by_any_name(record: Record, tmp_path: Path) -> None:
    write_record(record, tmp_path / "syn")
    for name in ("syn", "syn.hea", "syn.dat"):
        back = read_record(tmp_path / name)
        assert back.name == "syn"
        assert back.meta["comments"] == ["synthetic"]
    assert read_record(tmp_path / "syn", annotation=False).annotations is None
    assert len(read_annotations(tmp_path / "syn.atr")) == 4
    assert infer_format(tmp_path / "syn") == "wfdb"


def test_npy_needs_a_rate_and_takes_names(record: Record, tmp_path: Path) -> None:
    path = write_record(record, tmp_path / "syn.npy")
    with pytest.raises(InvalidParameterError, match="pass sampling_rate"):
        read_record(path)
    back = read_record(path, sampling_rate=250, lead_names=["a", "b"], units=["mV", "mV"])
    assert back.lead_names == ("a", "b")
    np.testing.assert_array_equal(back.signal, record.signal)


def test_npy_transposed_array_is_fixed_with_a_warning(tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", np.zeros((3, 500)))
    with pytest.warns(MedmodalWarning, match="transposed"):
        rec = read_record(tmp_path / "t.npy", sampling_rate=100)
    assert rec.signal.shape == (500, 3)


def test_csv_time_column_gives_the_rate(tmp_path: Path) -> None:
    t = np.round(np.arange(2000) / 360, 4)  # time stamps rounded to 0.1 ms
    lines = ["t,MLII (mV),V5"] + [f"{x:.4f},{np.sin(x):.5f},{np.cos(x):.5f}" for x in t]
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n")
    rec = read_record(tmp_path / "a.csv")
    assert rec.sampling_rate == 360.0
    assert rec.lead_names == ("MLII", "V5")
    assert rec.units == ("mV", "")
    assert read_record(tmp_path / "a.csv", sampling_rate=360).sampling_rate == 360.0
    ms = ["time_ms;x"] + [f"{4 * i};{i}" for i in range(100)]
    (tmp_path / "b.csv").write_text("\n".join(ms))
    assert read_record(tmp_path / "b.csv").sampling_rate == 250.0


def test_csv_without_header_or_time_needs_a_rate(tmp_path: Path) -> None:
    (tmp_path / "n.csv").write_text("1,2\n3,4\n5,6\n")
    with pytest.raises(InvalidParameterError, match="sampling_rate"):
        read_record(tmp_path / "n.csv")
    rec = read_record(tmp_path / "n.csv", sampling_rate=100)
    assert rec.lead_names == ("lead0", "lead1")
    assert rec.signal[:, 1].tolist() == [2, 4, 6]


def test_csv_empty_cells_become_nan(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text("a,b\n1,2\n,4\nNaN,6\n")
    rec = read_record(tmp_path / "g.csv", sampling_rate=100)
    assert np.isnan(rec.signal[1:, 0]).all()
    assert rec.signal[:, 1].tolist() == [2, 4, 6]


def test_edf_with_mixed_rates_needs_a_lead_choice(tmp_path: Path) -> None:
    from pyedflib import highlevel

    headers = [
        highlevel.make_signal_header("ECG", dimension="mV", sample_frequency=256),
        highlevel.make_signal_header("Resp", dimension="a.u.", sample_frequency=32),
    ]
    signals = [np.sin(np.arange(2560) / 20), np.cos(np.arange(320) / 5)]
    highlevel.write_edf(str(tmp_path / "m.edf"), signals, headers)
    with pytest.raises(InvalidParameterError, match=r"ECG 256 Hz, Resp 32 Hz.*leads="):
        read_record(tmp_path / "m.edf")
    ecg = read_record(tmp_path / "m.edf", leads="ECG")
    assert (ecg.sampling_rate, ecg.n_samples, ecg.units) == (256.0, 2560, ("mV",))
    resp = read_record(tmp_path / "m.edf", leads=["Resp"])
    assert resp.sampling_rate == 32.0


def test_edf_plus_annotations_and_header(tmp_path: Path) -> None:
    from pyedflib import highlevel

    header = highlevel.make_header(patientname="anon", sex="Female")
    header["annotations"] = [[1.0, 0, "N"], [2.5, 0.5, "V"]]
    signal_headers = highlevel.make_signal_headers(["ECG"], dimension="mV", sample_frequency=200)
    signals = [np.sin(np.arange(1000) / 10)]
    highlevel.write_edf(str(tmp_path / "a.edf"), signals, signal_headers, header)
    rec = read_record(tmp_path / "a.edf")
    assert rec.annotations is not None
    assert rec.annotations.sample.tolist() == [200, 500]
    assert rec.annotations.symbol.tolist() == ["N", "V"]
    assert rec.annotations.aux_note.tolist() == ["", "duration=0.5s"]
    assert rec.meta["sex"] == "Female"


@pytest.mark.parametrize(
    ("prefilter", "hz"),
    [
        ("HP:0.5Hz LP:100Hz N:50Hz", 50.0),
        ("HP:0.05Hz LP:150Hz N:60Hz", 60.0),
        ("HP:0.5Hz LP:40Hz", None),
        ("", None),
    ],
)
def test_edf_prefilter_names_the_mains_frequency(
    tmp_path: Path, prefilter: str, hz: float | None
) -> None:
    from pyedflib import highlevel

    headers = [
        highlevel.make_signal_header(name, dimension="mV", sample_frequency=250, prefiler=prefilter)
        for name in ("I", "II")
    ]
    signals = [np.sin(np.arange(2500) / 20), np.cos(np.arange(2500) / 20)]
    highlevel.write_edf(str(tmp_path / "p.edf"), signals, headers)
    rec = read_record(tmp_path / "p.edf")
    assert rec.meta.get("powerline_hz") == hz
    if hz is not None:
        assert prefilter in rec.meta["powerline_source"]
    written = write_record(rec, tmp_path / "back.edf")  # the field survives a round trip
    assert read_record(written).meta.get("powerline_hz") == hz


def test_edf_leads_that_disagree_on_the_notch_name_none(tmp_path: Path) -> None:
    from pyedflib import highlevel

    headers = [
        highlevel.make_signal_header("I", sample_frequency=250, prefiler="N:50Hz"),
        highlevel.make_signal_header("II", sample_frequency=250, prefiler="N:60Hz"),
    ]
    highlevel.write_edf(str(tmp_path / "d.edf"), [np.zeros(2500), np.ones(2500)], headers)
    rec = read_record(tmp_path / "d.edf")
    assert "powerline_hz" not in rec.meta and rec.meta["prefilter"] == ["N:50Hz", "N:60Hz"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.lists(
        st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False), min_size=4, max_size=60
    ),
    rate=st.sampled_from([1.0, 100.0, 128.0, 360.0, 500.0, 1000.0]),
    suffix=st.sampled_from(["csv", "npz"]),
)
def test_exact_formats_round_trip_any_samples(
    tmp_path: Path, data: list[float], rate: float, suffix: str
) -> None:
    signal = np.asarray(data).reshape(-1, 2) if len(data) % 2 == 0 else np.asarray(data)
    rec = Record(signal, rate, tuple(f"l{i}" for i in range(signal.size // len(signal))))
    back = read_record(write_record(rec, tmp_path / f"h.{suffix}"))
    assert back.sampling_rate == rate
    np.testing.assert_array_equal(back.signal, rec.signal)


# -- errors --------------------------------------------------------------------------------


def test_missing_files_say_what_was_looked_for(tmp_path: Path) -> None:
    for name in ("nothing.csv", "nothing.edf", "nothing.npz", "nothing.hea", "nothing"):
        with pytest.raises(DataNotFoundError, match="nothing"):
            read_record(tmp_path / name, sampling_rate=100)
    with pytest.raises(DataNotFoundError, match=r"nothing\.atr"):
        read_annotations(tmp_path / "nothing")


def test_wfdb_missing_dat_and_annotation(record: Record, tmp_path: Path) -> None:
    write_record(record, tmp_path / "syn.hea")
    with pytest.raises(DataNotFoundError, match=r"syn\.qrs"):
        read_record(tmp_path / "syn", annotation="qrs")
    (tmp_path / "syn.dat").unlink()
    with pytest.raises(DataNotFoundError, match=r"syn\.dat"):
        read_record(tmp_path / "syn")


def test_truncated_dat_is_a_format_error(record: Record, tmp_path: Path) -> None:
    write_record(record, tmp_path / "syn.hea")
    dat = tmp_path / "syn.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    with pytest.raises(DataFormatError, match=r"truncated: 1000 bytes.*1000 samples x 2 leads"):
        read_record(tmp_path / "syn")


def test_corrupt_header_and_annotations(record: Record, tmp_path: Path) -> None:
    write_record(record, tmp_path / "syn.hea")
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(DataFormatError, match="bad") as info:
        read_record(tmp_path / "bad.hea")
    assert info.value.__cause__ is not None  # the wfdb error is chained, not swallowed
    (tmp_path / "syn.atr").write_bytes(b"\x01\x02junk" * 5)
    with pytest.raises(DataFormatError, match=r"syn\.atr"):
        read_annotations(tmp_path / "syn")


def test_csv_with_text_in_a_numeric_column(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("time,MLII\n0.0,1.0\n0.01,oops\n")
    with pytest.raises(DataFormatError, match=r"column 'MLII' holds 'oops' on line 3"):
        read_record(tmp_path / "bad.csv")


def test_csv_uneven_time_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "gap.csv").write_text("time,a\n0,1\n0.01,2\n0.02,3\n0.5,4\n")
    with pytest.raises(DataFormatError, match="not evenly spaced"):
        read_record(tmp_path / "gap.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFormatError):
        read_record(tmp_path / "empty.csv", sampling_rate=100)
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataFormatError):
        read_record(tmp_path / "bin.csv", sampling_rate=100)


@pytest.mark.parametrize("suffix", ["edf", "npy", "npz"])
def test_garbage_binary_files_are_format_errors(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"junk.{suffix}"
    path.write_bytes(b"definitely not a signal file " * 50)
    with pytest.raises(DataFormatError, match="junk"):
        read_record(path, sampling_rate=100)


def test_npy_refuses_pickles_and_text(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFormatError, match="obj"):
        read_record(tmp_path / "obj.npy", sampling_rate=100)
    np.save(tmp_path / "txt.npy", np.array(["a", "b"]))
    with pytest.raises(DataFormatError, match="numeric"):
        read_record(tmp_path / "txt.npy", sampling_rate=100)


@pytest.mark.parametrize("suffix", ["csv", "npz", "hea", "edf"])
def test_rate_contradicting_the_file_names_both(
    record: Record, tmp_path: Path, suffix: str
) -> None:
    path = write_record(record, tmp_path / f"syn.{suffix}")
    with pytest.raises(InvalidParameterError, match=r"sampling_rate=500 Hz.*250 Hz"):
        read_record(path, sampling_rate=500)


def test_unknown_format_and_extension(record: Record, tmp_path: Path) -> None:
    path = write_record(record, tmp_path / "syn.csv")
    with pytest.raises(InvalidParameterError, match="Did you mean 'csv'"):
        read_record(path, format="cvs")
    other = tmp_path / "syn.dat2"
    shutil.copy(path, other)
    with pytest.raises(InvalidParameterError, match="format="):
        read_record(other)
    assert read_record(other, format="csv").lead_names == ("MLII", "V1")
    with pytest.raises(InvalidParameterError, match=r"annotation not understood.*delimiter"):
        read_record(path, annotation="atr")
    with pytest.raises(InvalidParameterError, match="fmt not understood"):
        write_record(read_record(path), tmp_path / "x.csv", fmt="16")
    with pytest.raises(InvalidParameterError, match=r"str or os\.PathLike"):
        read_record(123)  # type: ignore[arg-type]
    with pytest.raises(DataNotFoundError, match="a folder"):
        read_record(tmp_path, format="csv")
    with pytest.raises(InvalidParameterError, match="sampling_rate"):
        read_record(path, sampling_rate=-5)
    assert set(available_formats()) == {"wfdb", "csv", "edf", "npy"}


def test_unknown_lead_on_read(record: Record, tmp_path: Path) -> None:
    path = write_record(record, tmp_path / "syn.csv")
    for fmt_path in (path, write_record(record, tmp_path / "syn.edf")):
        with pytest.raises(InvalidParameterError, match="Available leads: MLII, V1"):
            read_record(fmt_path, leads=["II"])


def test_no_raw_exception_escapes_on_random_bytes(tmp_path: Path, rng: np.random.Generator) -> None:
    for i, suffix in enumerate(["csv", "edf", "npy", "npz", "hea", "dat"]):
        path = tmp_path / f"r{i}.{suffix}"
        path.write_bytes(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(MedmodalError):
                read_record(path, sampling_rate=100)


@pytest.mark.data
def test_mitdb_file_through_read_record(mitdb_dir: Path) -> None:
    rec = read_record(mitdb_dir / "100.dat", leads="V5")
    assert rec.lead_names == ("V5",)
    assert rec.annotations is not None and len(rec.annotations.beats()) == 2273
    with pytest.raises(InvalidParameterError, match=r"sampling_rate=250 Hz.*360 Hz"):
        read_record(mitdb_dir / "100", sampling_rate=250)
