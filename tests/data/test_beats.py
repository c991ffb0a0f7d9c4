"""Beat-level MIT-BIH data: bundled excerpts offline, the full DS1/DS2 split with the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.data import mitdb
from medmodal.data.beats import (
    BEAT_CLASSES,
    RHYTHM_FEATURES,
    BeatDataset,
    beats_from_record,
    build_beats,
    match_peaks,
    normalize_morphology,
    rr_features,
)
from medmodal.data.bundled import load_bundled
from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.io import Record


@pytest.fixture(scope="module")
def beats119() -> BeatDataset:
    return beats_from_record(load_bundled("mitdb-119"))


def test_bundled_beats_match_the_annotations(beats119: BeatDataset) -> None:
    rec = load_bundled("mitdb-119")
    ann = rec.annotations.beats()  # type: ignore[union-attr]
    expected = [mitdb.AAMI_CLASSES[s] for s in ann.symbol if mitdb.AAMI_CLASSES.get(s) != "Q"]
    assert beats119.label.tolist() == expected
    assert (beats119.label == "V").sum() == (ann.symbol == "V").sum() == 80
    assert beats119.mlii.shape == beats119.other.shape == (len(expected), 128)
    assert beats119.rhythm.shape == (len(expected), len(RHYTHM_FEATURES))
    assert set(beats119.record.tolist()) == {"119"}  # the source record, not the excerpt name
    assert set(beats119.other_lead.tolist()) == {"V1"}
    np.testing.assert_allclose(beats119.demographics[0], [51.0, 1.0])  # 51-year-old woman


def test_windows_are_centred_on_the_r_peak(beats119: BeatDataset) -> None:
    # the window starts 0.25 s before the peak: the R wave (largest |deflection| of the
    # median normal beat) sits at index 0.25 / 0.65 * 128 ~ 49
    normal = np.median(beats119.mlii[beats119.label == "N"], axis=0)
    assert abs(int(np.argmax(np.abs(normal))) - 49) <= 3


def test_premature_ventricular_beats_have_short_pre_rr(beats119: BeatDataset) -> None:
    pre_rel = beats119.rhythm[:, RHYTHM_FEATURES.index("pre_rel")]
    post_pre = beats119.rhythm[:, RHYTHM_FEATURES.index("post_pre")]
    v, n = beats119.label == "V", beats119.label == "N"
    assert np.median(pre_rel[v]) < 0.85 < np.median(pre_rel[n])
    assert np.median(post_pre[v]) > 1.3  # compensatory pause


def test_record_114_takes_mlii_by_name() -> None:
    rec = load_bundled("mitdb-100")
    swapped = Record(
        rec.signal[:, ::-1], rec.sampling_rate, rec.lead_names[::-1], name="swap",
        annotations=rec.annotations, meta=rec.meta,
    )  # fmt: skip
    a, b = beats_from_record(rec), beats_from_record(swapped)
    np.testing.assert_allclose(a.mlii, b.mlii)
    assert set(b.other_lead.tolist()) == {"V5"}


def test_detected_peaks_label_nearly_every_beat() -> None:
    rec = load_bundled("mitdb-201")
    ref = beats_from_record(rec)
    det = beats_from_record(rec, peaks="detected")
    (counts,) = det.counts.values()
    assert counts["labelled"] == len(ref)
    assert counts["matched"] == len(det) >= 0.98 * len(ref)
    # labels follow the matched reference beats
    i_det, i_ref = match_peaks(det.sample, ref.sample, 54)  # 150 ms at 360 Hz
    assert len(i_det) == len(det)
    assert (ref.label[i_ref] == det.label[i_det]).all()
    assert np.median(np.abs(det.sample[i_det] - ref.sample[i_ref])) < 0.03 * 360
    assert det.source == "detected"


def test_match_peaks_is_one_to_one_within_tolerance() -> None:
    d, r = match_peaks(np.array([10, 12, 100, 500]), np.array([11, 95, 300]), 10)
    assert d.tolist() == [0, 2] and r.tolist() == [0, 1]  # 12 lost to the closer 10
    assert match_peaks(np.array([], dtype=int), np.array([5]), 3)[0].size == 0


def test_rr_features_of_a_regular_rhythm() -> None:
    f = rr_features(np.arange(0, 3600, 360), 360.0)
    np.testing.assert_allclose(f[:, :4], 1.0, atol=1e-6)
    np.testing.assert_allclose(f[:, 4:], 1.0, atol=1e-6)
    with pytest.raises(InvalidParameterError, match="at least 2 beats"):
        rr_features(np.array([5]), 360.0)


def test_subset_concatenate_save_load(tmp_path: Path, beats119: BeatDataset) -> None:
    part = beats119.subset(beats119.label == "V")
    assert part.class_counts().to_dict() == {"N": 0, "S": 0, "V": 80, "F": 0}
    both = BeatDataset.concatenate([part, beats119])
    assert len(both) == 80 + len(beats119)
    beats119.save(tmp_path / "b.npz")
    back = BeatDataset.load(tmp_path / "b.npz")
    np.testing.assert_array_equal(back.mlii, beats119.mlii)
    assert back.label.tolist() == beats119.label.tolist()
    assert back.counts == beats119.counts and back.window == beats119.window
    frame = back.to_frame()
    assert list(frame.columns[:7]) == ["record", "sample", "symbol", "label", "other_lead",
                                       "age", "sex"]  # fmt: skip
    assert frame.shape == (len(back), 7 + len(RHYTHM_FEATURES))
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(DataFormatError):
        BeatDataset.load(tmp_path / "bad.npz")


def test_modalities_shapes(beats119: BeatDataset) -> None:
    x = beats119.modalities()
    assert x["mlii"].shape == (len(beats119), 1, 128)
    assert x["rhythm"].shape == (len(beats119), 10) and x["demographics"].shape[1] == 2


def test_normalize_morphology_uses_each_records_median(beats119: BeatDataset) -> None:
    centred = normalize_morphology(beats119, subtract_median=True)
    assert np.abs(np.median(centred.mlii, axis=0)).max() < 1e-6
    scaled = normalize_morphology(beats119)
    assert np.median(np.ptp(scaled.mlii, axis=1)) == pytest.approx(1.0)


def test_bad_arguments() -> None:
    rec = load_bundled("mitdb-100")
    with pytest.raises(InvalidParameterError, match="peaks"):
        beats_from_record(rec, peaks="nope")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="window"):
        beats_from_record(rec, window=(0.1, 0.4))
    with pytest.raises(InvalidParameterError, match="MLII"):
        beats_from_record(rec.select(["V5"]))
    with pytest.raises(InvalidParameterError, match="empty"):
        build_beats([])


@pytest.mark.data
def test_real_records_pick_leads_by_name(mitdb_dir: Path, tmp_path: Path) -> None:
    beats = build_beats(["114", "124"], root=mitdb_dir, cache_dir=tmp_path)
    assert set(beats.other_lead[beats.record == "114"]) == {"V5"}  # stored first in 114
    assert set(beats.other_lead[beats.record == "124"]) == {"V4"}
    rec = mitdb.load_record("114", root=mitdb_dir)
    assert rec.lead_names == ("V5", "MLII")
    again = build_beats(["114", "124"], root=mitdb_dir, cache_dir=tmp_path)  # cached
    np.testing.assert_array_equal(again.mlii, beats.mlii)
    assert list(tmp_path.glob("beats-*/114.npz"))


@pytest.mark.data
@pytest.mark.slow
def test_de_chazal_split_has_the_published_class_counts(mitdb_dir: Path, tmp_path: Path) -> None:
    ds1 = build_beats(mitdb.DS1, root=mitdb_dir, cache_dir=tmp_path)
    ds2 = build_beats(mitdb.DS2, root=mitdb_dir)
    # de Chazal et al. (2004), Table I (after excluding Q beats)
    assert ds1.class_counts().to_dict() == {"N": 45866, "S": 944, "V": 3788, "F": 415}
    assert ds2.class_counts().to_dict() == {"N": 44259, "S": 1837, "V": 3221, "F": 388}
    assert not set(ds1.record) & set(ds2.record)
    assert set(ds1.other_lead[ds1.record == "114"]) == {"V5"}
    assert set(ds1.other_lead[ds1.record == "124"]) == {"V4"}
    cached = build_beats(mitdb.DS1, root=mitdb_dir, cache_dir=tmp_path)  # from the cache
    np.testing.assert_array_equal(cached.rhythm, ds1.rhythm)
    assert tuple(BEAT_CLASSES) == ("N", "S", "V", "F")


@pytest.mark.data
@pytest.mark.slow
def test_detected_beats_cover_ds2(mitdb_dir: Path) -> None:
    det = build_beats(mitdb.DS2, root=mitdb_dir, peaks="detected")
    labelled = sum(c["labelled"] for c in det.counts.values())
    assert len(det) >= 0.995 * labelled
