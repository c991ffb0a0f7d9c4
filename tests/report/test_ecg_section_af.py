"""The report's AF column text (issue 14)."""

from __future__ import annotations

from medmodal.report.ecg_section import af_text


def test_af_text_cases() -> None:
    none = {"label": "none", "burden_pct": 0.0, "n_episodes": 0, "reason": ""}
    assert af_text(none) == "none (0 % burden)"
    af = {"label": "atrial fibrillation", "burden_pct": 42.4, "n_episodes": 2, "reason": ""}
    assert af_text(af) == "atrial fibrillation (42 % burden, 2 episodes)"
    unknown = {"label": "unknown", "burden_pct": 0.0, "n_episodes": 0, "reason": "too few beats"}
    assert af_text(unknown) == "unknown (too few beats)"
    assert af_text(None) == ""
