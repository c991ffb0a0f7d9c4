"""Calls with a time limit in a helper process: ok, error, timeout, a helper that dies."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from medmodal.ecg._runner import call_with_limit


def test_ok_error_timeout_and_death_are_outcomes_never_exceptions() -> None:
    assert call_with_limit(abs, -2, 30).value == 2
    error = call_with_limit(int, "x", 30)
    assert error.status == "error"
    assert error.reason.startswith("ValueError: invalid literal")
    began = time.perf_counter()
    slow = call_with_limit(time.sleep, 60, 0.5)
    assert slow.status == "timeout"
    assert "0.5 s" in slow.reason
    assert time.perf_counter() - began < 30  # killed, not waited for
    dead = call_with_limit(os._exit, 3, 30)
    assert (dead.status, dead.reason) == ("error", "the record's process died (exit code 3)")
    assert call_with_limit(abs, -5, 30).value == 5  # a fresh helper took over


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_without_a_limit_the_call_runs_here() -> None:
    pid = str(os.getpid())  # readlink("/proc/self") is the pid of the process calling it
    assert call_with_limit(os.readlink, "/proc/self", None).value == pid
    assert call_with_limit(os.readlink, "/proc/self", 30).value != pid
    assert call_with_limit(int, "x", None).status == "error"
