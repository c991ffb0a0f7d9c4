"""``ecg analyze --out``: the overview and, beside it, the record on ECG paper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.image import imread
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.ecg.simulate import ecg_simulate
from medmodal.io import Record, write_record
from medmodal.viz.ecg_12lead import STANDARD_LEADS

runner = CliRunner()


def _width_mm(path: Path, dpi: float = 150) -> float:
    return imread(path).shape[1] / dpi * 25.4


def test_analyze_out_writes_the_12lead_page(tmp_path: Path) -> None:
    base = ecg_simulate(12, 250, heart_rate=70, seed=4)
    leads = np.stack([(0.3 + 0.1 * k) * base for k in range(12)], axis=1)
    record = tmp_path / "twelve.npz"
    names = tuple(n.upper() for n in STANDARD_LEADS)  # PTB-XL spells AVR, AVL, AVF
    write_record(Record(leads, 250.0, names, ("mV",) * 12), record)
    out = tmp_path / "figs" / "twelve.png"
    result = runner.invoke(app, ["ecg", "analyze", str(record), "--out", str(out)])
    assert result.exit_code == 0, result.output
    paper = tmp_path / "figs" / "twelve_paper.png"
    assert out.stat().st_size > 20_000 and paper.stat().st_size > 20_000
    assert str(paper.name) in result.output.replace("\n", "")
    assert abs(_width_mm(paper) - 270) < 1  # 10 mm pulse + 4 x 62.5 mm + 2 x 5 mm margins


def test_analyze_out_real_ptbxl_record(ptbxl_dir: Path, tmp_path: Path) -> None:
    hea = ptbxl_dir / "records100" / "00000" / "00001_lr.hea"
    out = tmp_path / "ptb.png"
    result = runner.invoke(app, ["ecg", "analyze", str(hea), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ptb_paper.png").stat().st_size > 50_000
