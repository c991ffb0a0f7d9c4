"""Input budgets of the readers: one place that says how large a record may be.

Every reader checks what a file *declares* (sampling rate, samples x leads, columns,
decompressed sizes, header fields) against :class:`Limits` before it allocates or
computes anything, so a small hostile file cannot exhaust memory or CPU. The defaults
cover real ECG recordings with room to spare; pass ``limits=Limits(...)`` to
:func:`medmodal.io.read_record` for bigger data.

Defaults and why:

- ``max_sampling_rate`` 20 kHz: diagnostic ECG is sampled at 250-1,000 Hz, Holters at
  125-1,024 Hz, high-resolution and ultra-high-frequency QRS work at 2-5 kHz and
  pacemaker-spike capture at 8-16 kHz; 20 kHz covers all of these. A rate is also the
  cost driver of every analysis downstream (filters and detectors scale with it).
- ``max_values`` 2**31 samples x leads (16 GiB as float64): a 24 h, 12-lead Holter at
  1 kHz holds 1.04e9 values and still reads (so does the same at 2 kHz); 1e12 does not.
- ``max_leads`` 1,024: body-surface potential maps use up to 256 leads; a CSV's time
  column counts as one. A 6,000-column CSV is refused from its first line.
- ``max_decompressed_bytes`` 17 GiB: the value budget as float64 plus 1 GiB of names
  and annotations; every member of an ``.npz`` (a zip) is checked against it, summed,
  from the zip directory and again from its ``.npy`` header, and read as a bounded stream.
- ``max_header_bytes`` 1 MiB: a WFDB ``.hea`` or a CSV header line (MIT-BIH headers are
  under 1 KiB).

Example:
    >>> from medmodal.io import Limits
    >>> Limits().max_sampling_rate
    20000.0
    >>> Limits(max_values=10**12).max_values > Limits().max_values
    True
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from pathlib import Path

from medmodal.errors import InvalidParameterError, RecordTooLargeError

#: Highest sampling rate (Hz) a file may declare or a caller may pass.
MAX_SAMPLING_RATE = 20_000.0
#: Most samples x leads in one record.
MAX_VALUES = 2**31
#: Most leads (signals of a header, columns of a table or array, time column included).
MAX_LEADS = 1024
#: Most bytes the members of one compressed container may expand to, summed.
MAX_DECOMPRESSED_BYTES = 17 * 2**30
#: Most bytes of a text header (a WFDB ``.hea`` file, a CSV header line).
MAX_HEADER_BYTES = 2**20


@dataclass(frozen=True)
class Limits:
    """The budgets every reader checks before it allocates (see the module docstring).

    Attributes:
        max_sampling_rate: Hz; the highest rate a file may declare or a caller may pass.
        max_values: most samples x leads in one record.
        max_leads: most leads (CSV columns, time column included).
        max_decompressed_bytes: most bytes a compressed container may expand to.
        max_header_bytes: most bytes of a WFDB header file or a CSV header line.
    """

    max_sampling_rate: float = MAX_SAMPLING_RATE
    max_values: int = MAX_VALUES
    max_leads: int = MAX_LEADS
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            real = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not real or not math.isfinite(float(value)) or value <= 0:
                raise InvalidParameterError(
                    f"Limits: {f.name} must be a positive finite number, got {value!r}"
                )


#: The budgets used when a reader is not given ``limits=``.
DEFAULT_LIMITS = Limits()


def check_limits(limits: object, func: str) -> Limits:
    """``limits`` if it is a :class:`Limits`, :data:`DEFAULT_LIMITS` for ``None``."""
    if limits is None:
        return DEFAULT_LIMITS
    if not isinstance(limits, Limits):
        raise InvalidParameterError(
            f"{func}: limits must be a medmodal.io.Limits, got {type(limits).__name__}"
        )
    return limits


def too_large(path: Path, field: str, value: object, limit: object, name: str) -> None:
    """Raise :class:`RecordTooLargeError` naming the file, field, value and limit."""
    raise RecordTooLargeError(
        f"read_record: {path}: {field} is {value}, above the limit of {limit}; "
        f"pass limits=Limits({name}=...) to read larger records"
    )


def check_shape(path: Path, n_samples: int, n_leads: int, limits: Limits, what: str) -> None:
    """Refuse ``n_samples`` x ``n_leads`` beyond ``max_leads`` or ``max_values``."""
    if n_leads > limits.max_leads:
        too_large(path, f"the number of leads ({what})", n_leads, limits.max_leads, "max_leads")
    values = n_samples * max(n_leads, 1)
    if values > limits.max_values:
        field = f"samples x leads ({what}: {n_samples} x {n_leads})"
        too_large(path, field, values, limits.max_values, "max_values")
