"""Every case of ../shared/metafor/reference.json (metafor 3.8): escalc, 1,612 fits.

See ``_pool_reference`` for the tolerance and for which metafor output each mode is compared with.
The file is third-party data: it is read here, never copied; the tests skip without it.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _pool_reference import (
    TAU2_INDEPENDENT,
    Tally,
    at_boundary,
    check_confint,
    check_fit_stats,
    check_outputs,
    check_predict,
    check_transformed,
    check_weights,
    dlit_fixed_point_gap,
    error_of,
    num,
)

from extractor.errors import PoolingError
from extractor.pool import escalc, rma
from extractor.pool.models import ITERATIVE

pytestmark = pytest.mark.shared

REF_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "metafor" / "reference.json"


@cache
def reference(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="module")
def ref(shared: Path) -> dict[str, Any]:
    return reference(str(shared / "metafor" / "reference.json"))


def _keys() -> list[str]:
    # Parametrise by escalc key when the file is there (collection must not fail without it).
    import os

    shared = Path(os.environ.get("EXTRACTOR_SHARED", REF_PATH.parents[1]))
    p = shared / "metafor" / "reference.json"
    return list(reference(str(p))["escalc"]) if p.exists() else ["absent"]


KEYS = _keys()


def _escalc_inputs(ref: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
    e = ref["escalc"][key]
    data = ref["datasets"][e["dataset"]]["data"]
    kw: dict[str, Any] = {arg: np.array([num(x) for x in data[col]]) for arg, col in e["args"].items()}
    if e["measure"] != "GEN":
        o = e["options"]
        kw.update(add=o["add"], to=o["to"], drop00=o["drop00"], vtype=o["vtype"])
    return e["measure"], kw


def _vec(xs: list[Any]) -> np.ndarray:
    return np.array([num(x) for x in xs])


@pytest.mark.parametrize("key", KEYS)
def test_escalc_matches_metafor(ref: dict[str, Any], key: str) -> None:
    measure, kw = _escalc_inputs(ref, key)
    es = escalc(measure, **kw)
    e = ref["escalc"][key]
    t = Tally()
    for name, got, want in (("yi", es.yi, e["yi"]), ("vi", es.vi, e["vi"]), ("ni", es.ni, e["ni"])):
        if name == "ni" and measure == "GEN":
            continue
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            t.check(f"{key}[{i}]", name, g, w)
    assert not t.bad, "\n".join(t.bad)


def _fit(ref: dict[str, Any], case: dict[str, Any], control: str) -> RmaResultOrError:
    e = ref["escalc"][case["escalc_key"]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rma(
                _vec(e["yi"]),
                _vec(e["vi"]),
                method=case["method"],
                test=case["test"],
                measure=e["measure"],
                ni=_vec(e["ni"]),
                control=control,
            )
    except PoolingError as exc:
        return str(exc)


RmaResultOrError = Any


@pytest.mark.parametrize("key", KEYS)
def test_metafor_defaults_reproduce_every_output(ref: dict[str, Any], key: str) -> None:
    """control='metafor': every number, refusal and warning of metafor's default run."""
    t = compare_metafor_mode(ref, key)
    assert not t.bad, "\n".join(t.bad[:40])


def compare_metafor_mode(ref: dict[str, Any], key: str) -> Tally:
    t = Tally()
    for case in (c for c in ref["cases"] if c["escalc_key"] == key):
        cid = case["id"]
        res = _fit(ref, case, "metafor")
        if case.get("error"):
            if res != case["error"]:
                t.fail(cid, f"metafor refuses with {case['error']!r}, we gave {res!r}")
            continue
        if isinstance(res, str):
            t.fail(cid, f"refused: {res}")
            continue
        check_outputs(t, cid, res, case["outputs"])
        check_predict(t, cid, res, case["predict"])
        check_transformed(t, cid, res, case.get("predict_transformed"))
        check_confint(t, cid, res, case["confint"])
        check_weights(t, cid, res, case.get("weights_pct"))
        check_fit_stats(t, cid, res, case.get("fit_stats"))
        if list(res.warnings) != list(case.get("warnings") or []):
            t.fail(cid, f"warnings {list(res.warnings)}, metafor {case.get('warnings')}")
        if res.test != case["test_used"] or res.k != case["k"]:
            t.fail(cid, f"test/k {res.test}/{res.k}, metafor {case['test_used']}/{case['k']}")
    return t


@pytest.mark.parametrize("key", KEYS)
def test_exact_solutions_match_metafor_with_tight_control(ref: dict[str, Any], key: str) -> None:
    """control='exact' (default) against outputs_precise/confint_precise (see _pool_reference)."""
    t = compare_exact_mode(ref, key)
    assert not t.bad, "\n".join(t.bad[:40])


def compare_exact_mode(ref: dict[str, Any], key: str) -> Tally:
    t = Tally()
    cases = [c for c in ref["cases"] if c["escalc_key"] == key]
    pm_precise = next((c.get("outputs_precise") for c in cases if c["method"] == "PM"), None)
    for case in cases:
        cid, method = case["id"], case["method"]
        res = _fit(ref, case, "exact")
        precise = case.get("outputs_precise")
        refused = case.get("error") or (precise or {}).get("error")
        if refused:
            if not isinstance(res, str) and "did not converge" in refused and method in ("SJIT", "DLIT"):
                # metafor's iteration stops at maxiter; the exact solver reaches the fixed point.
                if method == "SJIT":  # the SJIT fixed point is the PM root (Sidik & Jonkman 2007)
                    t.check(cid, "SJIT=PM tau2", res.tau2, (pm_precise or {}).get("tau2"))
                else:
                    gap = dlit_fixed_point_gap(res)
                    if gap > 1e-9:
                        t.fail(cid, f"iterated DL not at its fixed point (gap {gap:.2g})")
                    t.count["DLIT fixed point"] = t.count.get("DLIT fixed point", 0) + 1
                continue
            if res != refused:
                t.fail(cid, f"metafor refuses with {refused!r}, we gave {res!r}")
            continue
        if isinstance(res, str):
            t.fail(cid, f"refused: {res}")
            continue
        t.boundary = at_boundary(res, precise or case["outputs"])
        if method in ITERATIVE and precise:
            check_outputs(t, cid, res, precise)
            check_outputs(t, cid, res, case["outputs"], only=TAU2_INDEPENDENT)
            for name, attr in (("pi.lb", "pi_lb"), ("pi.ub", "pi_ub")):
                t.check(cid, "predict." + name, getattr(res, attr), precise.get(name))
        else:
            check_outputs(t, cid, res, case["outputs"])
            check_predict(t, cid, res, case["predict"])
            check_transformed(t, cid, res, case.get("predict_transformed"))
            check_weights(t, cid, res, case.get("weights_pct"))
            check_fit_stats(t, cid, res, case.get("fit_stats"))
        check_confint(t, cid, res, case.get("confint_precise", case["confint"]))
    return t


def test_every_case_is_covered(ref: dict[str, Any]) -> None:
    assert ref["meta"]["n_cases"] == len(ref["cases"]) == 1612
    assert {c["escalc_key"] for c in ref["cases"]} == set(KEYS)


def test_batch_fit_equals_single_fits(ref: dict[str, Any]) -> None:
    """The 2-D path (all keys of one method/test padded into one batch) gives the same numbers."""
    keys = list(KEYS)
    ys = [_vec(ref["escalc"][k]["yi"]) for k in keys]
    vs = [_vec(ref["escalc"][k]["vi"]) for k in keys]
    kmax = max(len(y) for y in ys)
    Y = np.full((len(keys), kmax), np.nan)
    V = np.full((len(keys), kmax), np.nan)
    for i, (y, v) in enumerate(zip(ys, vs, strict=True)):
        Y[i, : len(y)] = y
        V[i, : len(v)] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = rma(Y, V, method="REML", test="knha")
        for i, (y, v) in enumerate(zip(ys, vs, strict=True)):
            try:
                one = rma(y, v, method="REML", test="knha")
            except PoolingError as exc:
                assert batch.error[i] == str(exc)
                continue
            assert batch.error[i] is None
            for name in ("b", "se", "tau2", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "QE"):
                assert error_of(getattr(batch, name)[i], getattr(one, name)) == 0.0, (keys[i], name)
            got, want = batch[i].tau2_ci, one.tau2_ci
            assert (got is None) == (want is None)
            if got is not None and want is not None:
                assert error_of(got.ci_lb, want.ci_lb) == 0.0 and error_of(got.ci_ub, want.ci_ub) == 0.0
