"""The report's AF column text (issue 14)."""

from __future__ import annotations

from medmodal.report.ecg_section import af_text, flagged_text


def test_af_text_cases() -> None:
    none = {"label": "none", "burden_pct": 0.0, "n_episodes": 0, "reason": ""}
    assert af_text(none) == "none (0 % burden)"
    af = {"label": "atrial fibrillation", "burden_pct": 42.4, "n_episodes": 2, "reason": ""}
    assert af_text(af) == "atrial fibrillation (42 % burden, 2 episodes)"
    unknown = {"label": "unknown", "burden_pct": 0.0, "n_episodes": 0, "reason": "too few beats"}
    assert af_text(unknown) == "unknown (too few beats)"
    assert af_text(None) == ""


def test_rr_flagged_column_counts_af_intervals_apart() -> None:
    sinus = {"n_flagged": 48, "n_intervals": 2272, "n_af": 0}
    assert flagged_text(sinus) == "48 of 2272"
    af = {"n_flagged": 321, "n_intervals": 2977, "n_af": 2390}
    assert flagged_text(af) == "321 of 2977; 2390 in AF"
