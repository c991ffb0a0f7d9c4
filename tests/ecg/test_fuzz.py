"""Hostile input for every public ECG function (issue 13).

Random arrays (NaN, inf, huge, tiny, constant, short, 2-D/3-D, wrong dtypes, object
arrays, not arrays at all) with random rates and options: a function may raise only a
:class:`~medmodal.errors.MedmodalError`, and whatever it returns holds finite or NaN
numbers, never inf. ``make test`` runs 50 derandomised examples per function; the
``slow`` version runs 10,000 random ones (``pytest -m slow tests/ecg/test_fuzz.py``).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal import ecg
from medmodal.ecg import (
    af,
    beat_classes,
    clean,
    delineate,
    hrv,
    noise,
    normalize,
    peaks,
    rate,
    segment,
    simulate,
)
from medmodal.ecg.rr import ecg_rr
from medmodal.errors import MedmodalError

QUICK, SLOW = 50, 10_000

GOOD_RATES = [100, 250, 360, 500, 1000, 1500, 4000]
BAD_RATES: list[Any] = [0, -360, math.nan, math.inf, -math.inf, 1e-300, 1e300, True, "360", None]
RATES = st.one_of(
    st.sampled_from(GOOD_RATES),
    st.sampled_from(BAD_RATES),
    st.floats(0.01, 5000),
    st.integers(-5, 5000),
)
SCALES = [1.0, -1.0, 1e-300, 1e-12, 1e6, 1e150, 1e300, 5e-324]
DTYPES = [np.float64, np.float32, np.float16, np.int16, np.int64, np.uint8]


def anything(names: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """A valid option name most of the time, else garbage."""
    return st.one_of(st.sampled_from(names), st.sampled_from(["", "nope", None, 3, 1.5, ("a",)]))


def numbers(lo: float, hi: float) -> st.SearchStrategy[Any]:
    """Floats in ``[lo, hi]`` and the values options get wrong."""
    return st.one_of(
        st.floats(lo, hi),
        st.sampled_from([0, -1, math.nan, math.inf, -math.inf, 1e300, 1e-300, True, "1", None]),
    )


@cache
def _template() -> np.ndarray:
    return np.asarray(ecg.ecg_simulate(10, 500, heart_rate=70, noise=0.02, seed=0))


@st.composite
def ecg_like(draw: st.DrawFn) -> tuple[Any, Any]:
    """An ECG at a drawn rate, then scaled, cast, gapped, made multi-lead or flat."""
    fs = draw(st.sampled_from(GOOD_RATES))
    seconds = draw(st.floats(0.2, 6.0))
    n = max(1, int(seconds * fs))
    x = np.interp(np.arange(n) * 500 / fs, np.arange(5000), _template())
    x = x * draw(st.sampled_from(SCALES)) + draw(st.sampled_from([0.0, 1e3, -1e300]))
    if draw(st.booleans()):  # a NaN/inf run
        start, length = draw(st.integers(0, n - 1)), draw(st.integers(1, max(1, n)))
        x[start : start + length] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    leads = draw(st.integers(1, 3))
    if leads > 1:
        x = np.column_stack(
            [x] + [np.zeros_like(x) + draw(st.sampled_from([0.0, 2.0])) for _ in range(1, leads)]
        )
        if draw(st.booleans()):
            with np.errstate(all="ignore"):
                x[:, 1:] = x[:, :1] * draw(st.floats(-2, 2))
    with np.errstate(all="ignore"):
        x = x.astype(draw(st.sampled_from(DTYPES)))
    return x, draw(st.one_of(st.just(fs), RATES))


@st.composite
def raw_arrays(draw: st.DrawFn) -> tuple[Any, Any]:
    """Arrays of arbitrary floats, any shape up to 3-D (at most ~1.4 M values: the
    generator itself must not need gigabytes; 1200 x 1200 x 1200 would be 13 GiB)."""
    dims = draw(st.integers(1, 3))
    side = {1: 1200, 2: 1200, 3: 110}[dims]
    shape = draw(hnp.array_shapes(min_dims=dims, max_dims=dims, min_side=0, max_side=side))
    elements = st.floats(allow_nan=True, allow_infinity=True, width=64)
    return draw(hnp.arrays(np.float64, shape, elements=elements)), draw(RATES)


ODD: list[Any] = [
    None,
    "ecg",
    [1, [2, 3]],
    np.array(["a"] * 3000, dtype=object),
    np.array([1.0] * 3000, dtype=object),
    np.ones(3000, dtype=bool),
    np.ones(3000) + 1j,
    np.zeros((0, 2)),
    np.ones((3, 3000)),
    np.full(3000, 7.0),
    np.arange(3000, dtype=np.uint64) * 2**40,
]
SIGNALS = st.one_of(ecg_like(), raw_arrays(), st.tuples(st.sampled_from(ODD), RATES))


@st.composite
def peak_sets(draw: st.DrawFn) -> Any:
    """R-peak indices: plausible, unsorted, duplicated, negative, huge, fractional, odd."""
    kind = draw(st.sampled_from(["plausible", "random", "odd"]))
    if kind == "plausible":
        step = draw(st.integers(1, 3000))
        count = draw(st.integers(0, 60))
        jitter = draw(st.lists(st.integers(0, step // 3 + 1), min_size=count, max_size=count))
        return np.cumsum([step] * count) + np.asarray(jitter, dtype=np.int64)
    if kind == "random":
        values = st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True))
        return draw(st.lists(values, max_size=40))
    return draw(st.sampled_from([*ODD, np.array([2**62, 2**62 + 1]), [1.5, 2.5], [[1, 2]]]))


def _opt_peaks() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), peak_sets())


# name -> (function, strategy of (args, kwargs))
CASES: dict[
    str, tuple[Callable[..., Any], st.SearchStrategy[tuple[tuple[Any, ...], dict[str, Any]]]]
] = {
    "ecg_clean": (
        ecg.ecg_clean,
        st.tuples(
            SIGNALS,
            st.fixed_dictionaries(
                {
                    "method": anything(clean.available_methods()),
                    "powerline": st.sampled_from(
                        [None, "auto", 50, 60, 0, -50, math.nan, 1e9, "x"]
                    ),
                }
            ),
        ),
    ),
    "ecg_peaks": (
        ecg.ecg_peaks,
        st.tuples(SIGNALS, st.fixed_dictionaries({"method": anything(peaks.available_methods())})),
    ),
    "ecg_rate": (
        ecg.ecg_rate,
        st.tuples(
            st.tuples(peak_sets(), RATES),
            st.fixed_dictionaries(
                {
                    "desired_length": st.one_of(
                        st.none(), st.integers(-5, 20_000), st.just(math.nan)
                    ),
                    "interpolation": anything(rate.available_interpolations()),
                    "limits": st.one_of(st.none(), st.tuples(numbers(-10, 400), numbers(-10, 400))),
                }
            ),
        ),
    ),
    "ecg_hrv": (
        ecg.ecg_hrv,
        st.tuples(
            st.tuples(peak_sets(), RATES),
            st.fixed_dictionaries(
                {
                    "method": anything(hrv.available_methods()),
                    "artifact_threshold": st.one_of(st.none(), numbers(-1, 2)),
                }
            ),
        ),
    ),
    "ecg_af": (
        ecg.ecg_af,
        st.tuples(
            st.tuples(peak_sets(), RATES),
            st.fixed_dictionaries(
                {
                    "signal": st.one_of(st.none(), SIGNALS.map(lambda case: case[0])),
                    "method": anything(af.available_methods()),
                    "n_samples": st.one_of(st.none(), st.integers(-5, 200_000)),
                    "window": numbers(-1, 60),
                }
            ),
        ),
    ),
    "ecg_beat_classes": (
        ecg.ecg_beat_classes,
        st.tuples(
            st.tuples(SIGNALS, peak_sets()).map(lambda c: (c[0][0], c[0][1], c[1])),
            st.fixed_dictionaries(
                {
                    "lead": st.sampled_from([0, 1, 2, -1, "II", "V1", None, 1.5, True]),
                    "lead_names": st.sampled_from([None, ["II", "V1"], ["II"], "II", 3, [None]]),
                    "model": anything(beat_classes.available_models()),
                    "clean": st.booleans(),
                }
            ),
        ),
    ),
    "ecg_beat_features": (
        ecg.ecg_beat_features,
        st.tuples(
            st.tuples(SIGNALS, peak_sets()).map(lambda c: (c[0][0], c[0][1], c[1])),
            st.fixed_dictionaries(
                {
                    "lead": st.sampled_from([0, 1, -1, "II", None]),
                    "lead_names": st.sampled_from([None, ["II", "V1"], 3]),
                    "clean": st.booleans(),
                }
            ),
        ),
    ),
    "ecg_rr": (
        ecg_rr,
        st.tuples(
            st.tuples(peak_sets(), RATES),
            st.fixed_dictionaries(
                {
                    "artifact_threshold": st.one_of(st.none(), numbers(-1, 2)),
                }
            ),
        ),
    ),
    "ecg_rhythm": (
        ecg.ecg_rhythm,
        st.tuples(
            st.tuples(peak_sets(), RATES),
            st.fixed_dictionaries(
                {
                    "n_samples": st.one_of(st.none(), st.integers(-5, 200_000)),
                    "window": numbers(-1, 60),
                }
            ),
        ),
    ),
    "ecg_quality": (
        ecg.ecg_quality,
        st.tuples(
            SIGNALS,
            st.fixed_dictionaries(
                {
                    "peaks": _opt_peaks(),
                    "window": numbers(-1, 30),
                    "detector": anything(peaks.available_methods()),
                }
            ),
        ),
    ),
    "ecg_delineate": (
        ecg.ecg_delineate,
        st.tuples(
            SIGNALS,
            st.fixed_dictionaries(
                {
                    "peaks": _opt_peaks(),
                    "method": anything(delineate.available_methods()),
                    "leads": st.sampled_from(
                        ["largest", "all", "x", 0, 1, 5, -1, [0, 1], [], [0, 0]]
                    ),
                }
            ),
        ),
    ),
    "ecg_segment": (
        ecg.ecg_segment,
        st.tuples(
            SIGNALS,
            st.fixed_dictionaries(
                {
                    "peaks": _opt_peaks(),
                    "before": numbers(-1, 2),
                    "after": numbers(-1, 2),
                    "edges": anything(segment.available_edge_policies()),
                }
            ),
        ),
    ),
    "ecg_normalize": (
        lambda signal, _rate, **kw: ecg.ecg_normalize(signal, **kw),
        st.tuples(
            SIGNALS, st.fixed_dictionaries({"method": anything(normalize.available_methods())})
        ),
    ),
    "ecg_process": (
        ecg.ecg_process,
        st.tuples(
            SIGNALS,
            st.fixed_dictionaries(
                {
                    "method": anything(peaks.available_methods()),
                    "powerline": st.sampled_from([None, "auto", 50, 60, -1, "x"]),
                    "window": numbers(-1, 30),
                    "delineate": st.booleans(),
                }
            ),
        ),
    ),
    "ecg_add_noise": (
        ecg.ecg_add_noise,
        st.tuples(
            SIGNALS,
            st.fixed_dictionaries(
                {
                    "snr_db": numbers(-40, 60),
                    "kind": anything(noise.available_kinds()),
                    "seed": st.integers(0, 3),
                }
            ),
        ),
    ),
    "ecg_simulate": (
        lambda duration, fs, **kw: ecg.ecg_simulate_annotated(duration, fs, **kw),
        st.tuples(
            st.tuples(numbers(0, 8), RATES),
            st.fixed_dictionaries(
                {
                    "heart_rate": numbers(10, 300),
                    "rhythm": anything(simulate.available_rhythms()),
                    "n_leads": st.sampled_from([1, 2, 12, 0, -1, 1.5, 10**9]),
                    "noise": st.one_of(numbers(0, 1), st.just({"nope": 1.0})),
                    "method": anything(simulate.available_methods()),
                    "seed": st.integers(0, 3),
                }
            ),
        ),
    ),
}


def assert_no_inf(value: Any, where: str = "result") -> None:
    """Walk a result (arrays, frames, dataclasses, mappings) and refuse any inf."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            assert not np.isinf(value).any(), f"inf in {where}"
        elif value.dtype == object:
            for k, item in enumerate(value.ravel()[:10_000]):
                assert_no_inf(item, f"{where}[{k}]")
    elif isinstance(value, float | np.floating):
        assert not math.isinf(value), f"inf in {where}"
    elif isinstance(value, pd.DataFrame):
        assert_no_inf(value.select_dtypes("number").to_numpy(dtype=float), where)
    elif isinstance(value, pd.Series):
        assert_no_inf(value.to_numpy(), where)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_no_inf(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            assert_no_inf(item, f"{where}[{k}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_no_inf(getattr(value, f.name), f"{where}.{f.name}")
        for method in ("summary", "to_dict", "to_frame", "beats_frame"):
            if callable(getattr(value, method, None)):
                assert_no_inf(getattr(value, method)(), f"{where}.{method}()")


def fuzz(name: str, examples: int, *, derandomize: bool) -> None:
    func, strategy = CASES[name]

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def check(case: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        args, kwargs = case
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                out = func(*args, **kwargs)
            except MedmodalError:
                return
            assert_no_inf(out, name)

    check()


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_gives_medmodal_errors_or_clean_results(name: str) -> None:
    fuzz(name, QUICK, derandomize=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_10k(name: str) -> None:
    fuzz(name, SLOW, derandomize=False)


def test_every_public_function_is_fuzzed() -> None:
    functions = {n for n in ecg.__all__ if n.startswith("ecg_")}
    # Reading files is the I/O layer's (tests/io); simulation is fuzzed through
    # ecg_simulate_annotated, which ecg_simulate wraps.
    assert functions - set(CASES) == {"ecg_process_many", "ecg_simulate_annotated"}
