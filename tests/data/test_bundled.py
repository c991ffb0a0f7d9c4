"""The MIT-BIH excerpts shipped in the package: load without shared data, match the source."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from medmodal.data import mitdb
from medmodal.data.bundled import bundled_info, bundled_path, list_bundled, load_bundled
from medmodal.errors import InvalidParameterError

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "src" / "medmodal" / "data" / "_bundled"


@pytest.fixture
def no_shared_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the data root at an empty folder: only the package's own files are there."""
    monkeypatch.setenv("MEDMODAL_DATA", str(tmp_path))


@pytest.mark.usefixtures("no_shared_data")
def test_bundled_records_load_without_shared_data() -> None:
    assert list_bundled() == ["mitdb-100", "mitdb-119", "mitdb-201"]
    for name in list_bundled():
        rec = load_bundled(name)
        assert rec.name == name
        assert rec.sampling_rate == 360.0
        assert rec.signal.shape == (108000, 2)
        assert rec.units == ("mV", "mV")
        assert np.isfinite(rec.signal).all()
        assert rec.annotations is not None
        assert len(rec.annotations.beats()) == bundled_info(name)["beats"]
        assert rec.meta["sex"] in ("M", "F")
        # A 5-minute excerpt at 40-150 bpm holds 200-750 beats.
        assert 200 < len(rec.annotations.beats()) < 750


@pytest.mark.usefixtures("no_shared_data")
def test_bundled_rhythms_are_the_advertised_ones() -> None:
    def rhythms(name: str) -> set[str]:
        rec = load_bundled(name)
        assert rec.annotations is not None
        return {r for r, _, _ in mitdb.rhythm_episodes(rec.annotations)}

    assert rhythms("mitdb-100") == {"N"}
    assert {"N", "B"} <= rhythms("mitdb-119")
    assert "AFIB" in rhythms("mitdb-201")
    rec = load_bundled("mitdb-201")
    assert rec.annotations is not None
    # The rhythm in effect at the window start is restated at sample 0.
    assert (rec.annotations.sample[0], rec.annotations.aux_note[0]) == (0, "(AFIB")
    ann119 = load_bundled("mitdb-119").annotations
    assert ann119 is not None
    assert Counter(mitdb.aami_classes(ann119))["V"] == 80


def test_lead_selection_and_aliases() -> None:
    rec = load_bundled("119", leads="V1")
    assert rec.name == "mitdb-119"
    assert rec.lead_names == ("V1",)


def test_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(InvalidParameterError, match=r"Did you mean 'mitdb-100'"):
        load_bundled("mitdb-10")


def test_bundled_path_is_a_wfdb_record() -> None:
    path = bundled_path("mitdb-100")
    assert path.with_suffix(".hea").is_file()
    assert path.with_suffix(".atr").is_file()


def test_licence_and_size() -> None:
    licence = (BUNDLED_DIR / "LICENSE").read_text()
    assert "Open Data Commons Attribution License" in licence
    assert "10.4 Choice of law" in licence  # the full text, not just a pointer
    readme = (BUNDLED_DIR / "README.md").read_text()
    assert "Moody GB, Mark RG" in readme and "Goldberger" in readme
    total = sum(p.stat().st_size for p in BUNDLED_DIR.rglob("*") if p.is_file())
    assert total < 1.5e6


@pytest.mark.data
def test_bundled_samples_are_exact_copies_of_the_source(mitdb_dir: Path) -> None:
    for name in list_bundled():
        info = bundled_info(name)
        rec = load_bundled(name)
        source = mitdb.load_record(info["record"], root=mitdb_dir)
        start = round(info["start_s"] * 360)
        np.testing.assert_array_equal(rec.signal, source.signal[start : start + rec.n_samples])
        assert source.annotations is not None and rec.annotations is not None
        window = source.annotations.between(start, start + rec.n_samples).beats()
        np.testing.assert_array_equal(rec.annotations.beats().sample, window.sample)
        assert rec.annotations.beats().symbol.tolist() == window.symbol.tolist()
