"""The hand-written tuning log that the ECG benchmarks keep in their results pages.

A results page holds its log between two markers; a rerun reads it back from the old page
(:func:`kept_section`) and writes it again (:func:`log_lines`), so the log survives reruns.
"""

from __future__ import annotations

import re
from pathlib import Path

LOG_START, LOG_END = "<!-- tuning-log:start -->", "<!-- tuning-log:end -->"


def kept_section(path: Path) -> str:
    """The hand-written tuning log of an existing results file (kept across runs)."""
    if path.is_file():
        found = re.search(
            re.escape(LOG_START) + r"(.*?)" + re.escape(LOG_END), path.read_text(), re.S
        )
        if found:
            return found.group(1).strip("\n")
    return "_(no tuning log yet)_"


def log_lines(log: str) -> list[str]:
    """The page's "Tuning log" section around ``log``, ready to join with newlines."""
    return ["## Tuning log", "", LOG_START, log, LOG_END, ""]
