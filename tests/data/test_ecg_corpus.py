"""The generated ECG corpus: seeded, mixed, with corrupt and pathological files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from medmodal.data.ecg_corpus import CORRUPTIONS, LONG_FACTOR, PATHOLOGIES, make_ecg_corpus
from medmodal.errors import InvalidParameterError, MedmodalError
from medmodal.io import read_record


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_corpus_is_seeded_and_mixed(tmp_path: Path) -> None:
    kw = {"duration": 4.0, "sampling_rate": 250.0, "n_leads": 2, "corrupt": 3, "pathological": 4}
    manifest = make_ecg_corpus(tmp_path / "a", 12, seed=5, **kw)
    make_ecg_corpus(tmp_path / "b", 12, seed=5, **kw)
    make_ecg_corpus(tmp_path / "c", 12, seed=6, **kw)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert manifest["kind"].value_counts().to_dict() == {
        "normal": 5,
        "pathological": 4,
        "corrupt": 3,
    }
    assert set(manifest["defect"]) == {"", *CORRUPTIONS, *PATHOLOGIES}
    assert manifest["rhythm"].nunique() >= 2
    for row in manifest.itertuples():
        if row.kind == "corrupt":
            with pytest.raises(MedmodalError):
                read_record(row.path)
            continue
        record = read_record(row.path)
        assert record.n_leads == 2
        assert record.sampling_rate == 250.0
        expected = 4.0 * (LONG_FACTOR if row.defect == "long" else 1)
        assert record.duration == pytest.approx(expected)
        if row.defect == "flat":
            assert (record.signal == 0).all()


def test_default_counts_and_bad_arguments(tmp_path: Path) -> None:
    manifest = make_ecg_corpus(tmp_path, 3, duration=2.0, sampling_rate=250.0, n_leads=1)
    assert list(manifest["kind"]) == ["normal"] * 3  # 2 % and 1 % of 3 round to none
    with pytest.raises(InvalidParameterError, match="n must be an int >= 1"):
        make_ecg_corpus(tmp_path, 0)
    with pytest.raises(InvalidParameterError, match="exceed n=2"):
        make_ecg_corpus(tmp_path, 2, corrupt=2, pathological=1)


def test_workers_write_the_same_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import medmodal.data.ecg_corpus as corpus

    monkeypatch.setattr(corpus, "CHUNK", 3)  # several tasks for the pool
    kw = {"duration": 2.0, "sampling_rate": 250.0, "n_leads": 2, "corrupt": 1, "pathological": 1}
    serial = make_ecg_corpus(tmp_path / "one", 8, seed=4, **kw)
    pooled = make_ecg_corpus(tmp_path / "two", 8, seed=4, workers=2, **kw)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    assert serial.drop(columns="path").equals(pooled.drop(columns="path"))
    with pytest.raises(InvalidParameterError, match="workers"):
        make_ecg_corpus(tmp_path / "x", 2, workers=0)
