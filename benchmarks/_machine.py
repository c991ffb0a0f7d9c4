"""Machine information recorded with every benchmark result (CPU, cores, versions, load)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, ``platform`` elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> tuple[float, float, float] | None:
    """1, 5 and 15-minute load averages (``None`` where the OS does not say)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def usable_cores() -> int:
    """Cores this process may run on (affinity), falling back to the CPU count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def package_version(name: str) -> str | None:
    """Installed version of ``name``, or ``None``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info(packages: tuple[str, ...] = ()) -> dict[str, object]:
    """Everything a reader needs to compare timings: CPU, cores, load, OS, versions, date."""
    versions = {name: package_version(name) for name in ("numpy", "scipy", *packages)}
    return {
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "load_average_1_5_15": load_average(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def describe(info: dict[str, object]) -> str:
    """One Markdown paragraph describing ``info``."""
    versions = info.get("versions")
    pkgs = ", ".join(f"{k} {v}" for k, v in dict(versions or {}).items() if v)
    load = info.get("load_average_1_5_15")
    load_text = f"; load average at start {load[0]:.2f}" if isinstance(load, tuple | list) else ""
    return (
        f"{info['cpu']}, {info['logical_cores']} logical cores ({info['usable_cores']} usable)"
        f"{load_text}; {info['platform']}; Python {info['python']}; {pkgs}; "
        f"run {info['date_utc']}."
    )
