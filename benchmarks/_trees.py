"""Source trees of other git revisions, for benchmarks that run two trees side by side
(``ecg_process_identity.py``, ``io_wfdb_read.py``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*command: str) -> str:
    """The output of ``git -C <repository root> command...``, stripped."""
    done = subprocess.run(["git", "-C", str(ROOT), *command], check=True, capture_output=True)
    return done.stdout.decode().strip()


def export(rev: str, into: Path) -> Path:
    """``src`` of git revision ``rev`` under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"
