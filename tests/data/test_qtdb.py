"""QT database loader: wave-code parsing on written annotation files and the real records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.data import qtdb
from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.io import Annotations

wfdb = pytest.importorskip("wfdb")

# Two beats: the first fully marked; the second without a P wave (as in atrial
# fibrillation), with a biphasic T wave (two peaks, as ecgpuwave marks it) and a U wave.
SAMPLES = [10, 20, 30, 40, 50, 58, 75, 90, 110, 240, 250, 262, 300, 320, 340, 360, 380]
SYMBOLS = ["(", "p", ")", "(", "N", ")", "(", "t", ")", "(", "V", ")", "t", "t", ")", "u", ")"]


def _write_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "qtdb"
    folder.mkdir()
    (folder / "RECORDS").write_text("rec1\n")
    signal = np.zeros((500, 2))
    wfdb.wrsamp(
        "rec1",
        fs=250,
        units=["mV", "mV"],
        sig_name=["MLII", "V5"],
        p_signal=signal,
        fmt=["16", "16"],
        write_dir=str(folder),
    )
    # wfdb writes only letter extensions: write "qc", then name it as the database does.
    wfdb.wrann("rec1", "qc", np.array(SAMPLES), symbol=SYMBOLS, fs=250, write_dir=str(folder))
    (folder / "rec1.qc").rename(folder / "rec1.q1c")
    return folder


def test_written_annotation_file_gives_one_row_per_beat(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path)
    f = qtdb.load_fiducials("rec1", "q1c", root=folder)
    assert f.n_beats == 2 and f.record == "rec1" and f.annotator == "q1c"
    assert f.sampling_rate == 250.0
    frame = f.to_frame()
    assert frame.loc[0, ["p_onset", "p_peak", "p_offset"]].tolist() == [10, 20, 30]
    assert frame.loc[0, ["qrs_onset", "r_peak", "qrs_offset"]].tolist() == [40, 50, 58]
    assert frame.loc[0, ["t_peak", "t_offset"]].tolist() == [90, 110]
    # Second beat: no P; the biphasic T's first peak, its offset after the second peak.
    assert frame.loc[1, ["p_onset", "p_peak", "p_offset"]].tolist() == [-1, -1, -1]
    assert frame.loc[1, ["qrs_onset", "r_peak", "qrs_offset"]].tolist() == [240, 250, 262]
    assert frame.loc[1, ["t_peak", "t_offset"]].tolist() == [300, 340]
    assert frame["beat_symbol"].tolist() == ["N", "V"]


def test_record_loads_with_lead_names(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path)
    assert qtdb.list_records(root=folder) == ("rec1",)
    rec = qtdb.load_record("rec1", root=folder)
    assert rec.sampling_rate == 250.0 and rec.lead_names == ("MLII", "V5")
    assert qtdb.load_record("rec1", root=folder, leads="V5").signal.shape == (500, 1)


def test_unmarked_onsets_stay_missing() -> None:
    ann = Annotations([50, 58, 90, 110], ["N", ")", "t", ")"], sampling_rate=250)
    f = qtdb.wave_fiducials(ann)
    assert f.qrs_onset.tolist() == [-1] and f.qrs_offset.tolist() == [58]
    assert f.t_offset.tolist() == [110]
    # A stray offset with no open wave is ignored.
    g = qtdb.wave_fiducials(Annotations([5, 50], [")", "N"], sampling_rate=250))
    assert g.qrs_offset.tolist() == [-1]


def test_p_wave_belongs_to_the_next_qrs_only() -> None:
    # The P wave lies between the two QRS marks: it is the second beat's, not the first's.
    ann = Annotations([50, 180, 250], ["N", "p", "N"], sampling_rate=250)
    f = qtdb.wave_fiducials(ann)
    assert f.p_peak.tolist() == [-1, 180]
    assert f.t_peak.tolist() == [-1, -1]


def test_empty_annotations() -> None:
    f = qtdb.wave_fiducials(Annotations([], [], sampling_rate=250))
    assert f.n_beats == 0 and f.to_frame().empty


def test_missing_data_and_unknown_records(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="qtdb"):
        qtdb.list_records(root=tmp_path)
    folder = _write_folder(tmp_path)
    with pytest.raises(InvalidParameterError, match="rec1"):
        qtdb.load_record("rec2", root=folder)
    with pytest.raises(DataNotFoundError, match="q2c"):
        qtdb.load_fiducials("rec1", "q2c", root=folder)


@pytest.mark.data
def test_real_record_and_cardiologist_marks(qtdb_dir: Path) -> None:
    records = qtdb.list_records(root=qtdb_dir)
    assert len(records) == 53 and records[0] == "sel100"
    rec = qtdb.load_record("sel100", root=qtdb_dir)
    assert rec.sampling_rate == qtdb.SAMPLING_RATE
    assert rec.signal.shape == (225000, 2) and rec.lead_names == ("MLII", "V5")
    f = qtdb.load_fiducials("sel100", root=qtdb_dir)
    assert f.n_beats == 30
    ms = 1000.0 / f.sampling_rate
    qrs = (f.qrs_offset - f.qrs_onset) * ms
    qt = (f.t_offset - f.qrs_onset) * ms
    pr = (f.qrs_onset - f.p_onset) * ms
    assert 60 <= np.median(qrs) <= 120  # a normal record (MIT-BIH 100)
    assert 300 <= np.median(qt) <= 450
    assert 100 <= np.median(pr) <= 220
    ordered = np.stack([f.p_onset, f.p_peak, f.p_offset, f.qrs_onset, f.r_peak, f.qrs_offset])
    assert (np.diff(ordered, axis=0) > 0).all()
    assert ((f.t_peak > f.qrs_offset) & (f.t_offset > f.t_peak)).all()


@pytest.mark.data
def test_ecgpuwave_files_parse_for_every_record(qtdb_dir: Path) -> None:
    for record in qtdb.list_records(root=qtdb_dir)[:5]:
        pu0 = qtdb.load_fiducials(record, "pu0", root=qtdb_dir)
        assert pu0.n_beats > 500  # ecgpuwave marks every beat of the 15 minutes
        assert (pu0.qrs_onset >= 0).mean() > 0.95
        t = pu0.t_peak >= 0
        assert (pu0.t_peak[t] > pu0.r_peak[t]).all()
