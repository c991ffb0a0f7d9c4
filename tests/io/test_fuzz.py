"""Hypothesis against every reader: random bytes and randomised headers (WFDB record and
signal lines, .npy headers, .npz members, CSV text, mutated EDF headers). Only a
MedmodalError or a clean Record may come out, each read within a few seconds.

``make test`` runs a few hundred examples in all; the ``_10k`` versions (marked slow,
``make test-all``) run 10,000 per reader.
"""

from __future__ import annotations

import io
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medmodal.errors import MedmodalError
from medmodal.io import Record, read_record

#: One case: the files to write, the one to read, read_record's keyword arguments.
Case = tuple[dict[str, bytes], str, dict[str, Any]]

FAST = 100
SLOW = 10_000
SECONDS = 10.0  # generous: the machine is shared; a hang or a rate-squared blow-up is far more

_RATES = st.sampled_from(
    ["360", "250", "nan", "inf", "-360", "0", "1e9", "1e-300", "", "abc", "360.5", "20001", "2e4"]
)
_FMTS = st.sampled_from(["8", "16", "61", "80", "160", "212", "24", "32", "310", "311", "0", "9"])
_BIG = st.one_of(st.integers(0, 50), st.integers(0, 10**12))
_DESCR = st.sampled_from(
    ["<f8", ">f4", "<i2", "|u1", "|b1", "<c16", "|O", "<U3", "|V8", "<m8[s]", "<M8[D]", "<f2"]
)


def _read(case: Case) -> None:
    files, target, kwargs = case
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            (Path(tmp) / name).write_bytes(content)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                record = read_record(Path(tmp) / target, **kwargs)
            except MedmodalError:
                pass
            else:
                assert isinstance(record, Record)
                assert record.signal.ndim == 2 and record.sampling_rate <= 20_000
        assert time.perf_counter() - start < SECONDS


@st.composite
def random_bytes(draw: st.DrawFn) -> Case:
    suffix = draw(st.sampled_from(["csv", "npy", "npz", "edf", "hea"]))
    content = draw(st.binary(max_size=2000))
    files = {f"r.{suffix}": content}
    if suffix == "hea":
        files["r.dat"] = draw(st.binary(max_size=2000))
    rate = draw(st.sampled_from([None, 100.0, 360.0]))
    return files, f"r.{suffix}", {"sampling_rate": rate}


@st.composite
def wfdb_headers(draw: st.DrawFn) -> Case:
    n_sig = draw(st.one_of(st.integers(0, 3), st.just(10**9)))
    n_lines = draw(st.integers(0, 3)) if draw(st.booleans()) else min(n_sig, 3)
    sig_len = draw(st.one_of(st.just(""), _BIG.map(str)))
    record_line = f"r {n_sig} {draw(_RATES)} {sig_len}".rstrip()
    lines = [record_line]
    for i in range(n_lines):
        spf = draw(st.one_of(st.just(""), _BIG.map(lambda v: f"x{v}")))
        skew = draw(st.one_of(st.just(""), _BIG.map(lambda v: f":{v}")))
        offset = draw(st.one_of(st.just(""), _BIG.map(lambda v: f"+{v}")))
        lines.append(f"r.dat {draw(_FMTS)}{spf}{skew}{offset} 200 12 0 0 0 0 L{i}")
    files = {"r.hea": "\n".join(lines).encode() + b"\n", "r.dat": draw(st.binary(max_size=4000))}
    rate = draw(st.sampled_from([None, 360.0]))
    return files, "r.hea", {"sampling_rate": rate, "annotation": False}


def _npy(draw: st.DrawFn) -> bytes:
    shape = tuple(draw(st.lists(_BIG, max_size=3)))
    header = {"descr": draw(_DESCR), "fortran_order": draw(st.booleans()), "shape": shape}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + draw(st.binary(max_size=2000))


@st.composite
def npy_headers(draw: st.DrawFn) -> Case:
    return {"r.npy": _npy(draw)}, "r.npy", {"sampling_rate": 100.0}


@st.composite
def npz_members(draw: st.DrawFn) -> Case:
    keys = draw(
        st.lists(
            st.sampled_from(["signal", "fs", "lead_names", "ann_sample", "ann_symbol", "ann_fs"]),
            min_size=1, max_size=5, unique=True,
        )
    )  # fmt: skip
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buf, "w", compression=method) as archive:
        for key in keys:
            archive.writestr(f"{key}.npy", _npy(draw))
    rate = draw(st.sampled_from([None, 360.0]))
    return {"r.npz": buf.getvalue()}, "r.npz", {"sampling_rate": rate}


@st.composite
def csv_texts(draw: st.DrawFn) -> Case:
    header = draw(st.sampled_from(["time,a,b\n", "a;b\n", "t\tx\n", "time_ms,x\n", ""]))
    body = draw(st.text(alphabet=',;\t\n 0123456789.-+eEnaNTtrufl"#', max_size=400))
    delimiter = draw(st.sampled_from([None, None, ",", ";", "\t", r"\s+", "", "ab"]))
    rate = draw(st.sampled_from([None, 250.0]))
    kwargs: dict[str, Any] = {"sampling_rate": rate, "delimiter": delimiter}
    return {"r.csv": (header + body).encode()}, "r.csv", kwargs


def _edf_template() -> bytes:
    from pyedflib import highlevel

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "t.edf")
        headers = highlevel.make_signal_headers(["I", "II"], sample_frequency=100)
        highlevel.write_edf(path, [np.zeros(300), np.ones(300)], headers)
        return Path(path).read_bytes()


_EDF = _edf_template()


@st.composite
def edf_headers(draw: st.DrawFn) -> Case:
    data = bytearray(_EDF)
    header_len = 256 * 3
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, header_len - 1))
        data[pos] = draw(st.sampled_from(b"0123456789 .-+eE9"))
    cut = draw(st.one_of(st.just(len(data)), st.integers(0, len(data))))
    rate = draw(st.sampled_from([None, 100.0]))
    return {"r.edf": bytes(data[:cut])}, "r.edf", {"sampling_rate": rate}


def _fuzz(strategy: st.SearchStrategy[Case], n: int) -> Callable[[], None]:
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=strategy)
    def test(case: Case) -> None:
        _read(case)

    return test  # type: ignore[no-any-return]


test_fuzz_random_bytes = _fuzz(random_bytes(), FAST)
test_fuzz_wfdb_headers = _fuzz(wfdb_headers(), FAST)
test_fuzz_npy_headers = _fuzz(npy_headers(), FAST)
test_fuzz_npz_members = _fuzz(npz_members(), FAST)
test_fuzz_csv_texts = _fuzz(csv_texts(), FAST)
test_fuzz_edf_headers = _fuzz(edf_headers(), FAST)

test_fuzz_random_bytes_10k = pytest.mark.slow(_fuzz(random_bytes(), SLOW))
test_fuzz_wfdb_headers_10k = pytest.mark.slow(_fuzz(wfdb_headers(), SLOW))
test_fuzz_npy_headers_10k = pytest.mark.slow(_fuzz(npy_headers(), SLOW))
test_fuzz_npz_members_10k = pytest.mark.slow(_fuzz(npz_members(), SLOW))
test_fuzz_csv_texts_10k = pytest.mark.slow(_fuzz(csv_texts(), SLOW))
test_fuzz_edf_headers_10k = pytest.mark.slow(_fuzz(edf_headers(), SLOW))
