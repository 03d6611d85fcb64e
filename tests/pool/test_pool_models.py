"""rma: metafor's behaviour at the edges, batches, JSON output, and never a silent NaN."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import PoolingError
from extractor.pool import Control, PoolingWarning, RmaBatch, escalc, rma, rma_many

Y = np.array([-0.62, -0.31, -0.85, -0.12, -0.47, -0.70])
V = np.array([0.041, 0.062, 0.058, 0.033, 0.090, 0.047])


def quiet(*args: object, **kwargs: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma(*args, **kwargs)  # type: ignore[arg-type]


def test_result_fields_carry_metafor_names_and_serialise() -> None:
    res = rma(Y, V, method="REML", test="knha")
    for name in (
        "b",
        "se",
        "zval",
        "pval",
        "ci_lb",
        "ci_ub",
        "tau2",
        "tau2_ci",
        "I2",
        "H2",
        "QE",
        "QEp",
        "pi_lb",
        "pi_ub",
        "k",
    ):
        assert hasattr(res, name)
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["k"] == 6 and d["test"] == "knha" and d["ddf"] == 5
    assert res.tau2_ci is not None and res.tau2_ci.ci_lb <= res.tau2 <= res.tau2_ci.ci_ub
    assert res.pi_lb is not None and res.pi_lb < res.ci_lb < res.b < res.ci_ub < res.pi_ub  # type: ignore[operator]
    assert sum(res.weights) == pytest.approx(100)
    assert "Random-effects model" in res.summary()


def test_k1_fits_with_tau2_zero_and_switches_to_z_like_metafor() -> None:
    with pytest.warns(PoolingWarning, match='Setting argument test="z" since k=1'):
        res = rma([0.4], [0.05], method="REML", test="knha")
    assert res.k == 1 and res.tau2 == 0 and res.test == "z" and res.se_tau2 is None
    assert res.I2 == 0 and res.H2 == 1 and res.QE == 0 and res.QEp == 1
    assert res.tau2_ci is None and res.confint_note == "Stopped because k = 1."
    assert res.pi_lb == res.ci_lb and res.pi_ub == res.ci_ub


def test_identical_studies_give_tau2_zero_and_a_note_for_knapp_hartung() -> None:
    res = quiet([0.3] * 4, [0.02, 0.05, 0.03, 0.04], method="REML", test="knha")
    assert res.tau2 == 0 and res.I2 == 0 and res.QE == 0  # type: ignore[attr-defined]
    assert res.se == 0 and res.ci_lb == res.ci_ub == 0.3  # type: ignore[attr-defined]
    assert any("scale factor is 0" in n for n in res.notes)  # type: ignore[attr-defined]
    adhoc = quiet([0.3] * 4, [0.02, 0.05, 0.03, 0.04], method="REML", test="adhoc")
    assert adhoc.se > 0  # type: ignore[attr-defined]


def test_zero_sampling_variances() -> None:
    y, v = [0.1, 0.35, 0.52, 0.21], [0.0, 0.01, 0.02, 0.015]
    for method in ("EE", "DL", "PM", "HS", "HSk", "PMM", "DLIT"):
        with pytest.raises(PoolingError):
            quiet(y, v, method=method)
    res = quiet(y, v, method="REML")
    assert res.tau2 > 0 and res.I2 is None and res.QE is None  # type: ignore[attr-defined]
    assert "non-positive sampling variances" in res.confint_note  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("y", "v", "message"),
    [
        ([0.1, 0.2], [0.1, -0.1], "negative"),
        ([0.1, np.inf], [0.1, 0.1], "finite"),
        ([0.1, 0.2], [0.1], "differ in shape"),
        ([np.nan, np.nan], [0.1, 0.1], "no study has both"),
    ],
)
def test_bad_inputs_raise_pooling_error(y: list[float], v: list[float], message: str) -> None:
    with pytest.raises(PoolingError, match=message):
        quiet(y, v)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(PoolingError, match="unknown method"):
        rma(Y, V, method="XX")
    with pytest.raises(PoolingError, match="unknown test"):
        rma(Y, V, test="wald")
    with pytest.raises(PoolingError, match="level"):
        rma(Y, V, level=100)
    with pytest.raises(PoolingError, match="control"):
        rma(Y, V, control="fast")  # type: ignore[arg-type]
    with pytest.raises(PoolingError, match="PFT"):
        rma(Y, V, measure="PFT")


def test_missing_values_are_omitted_with_metafors_warning() -> None:
    y = Y.copy()
    y[2] = np.nan
    with pytest.warns(PoolingWarning, match="Studies with NAs omitted"):
        res = rma(y, V)
    assert res.k == 5 and res.omitted == (2,)
    ref = rma(np.delete(Y, 2), np.delete(V, 2))
    assert res.b == pytest.approx(ref.b, rel=1e-14) and res.tau2 == pytest.approx(ref.tau2, rel=1e-12)


def test_fe_is_ee_with_its_own_label_and_fixed_tau2() -> None:
    ee, fe = rma(Y, V, method="EE"), rma(Y, V, method="FE")
    assert fe.method == "FE" and fe.b == ee.b and fe.I2 == ee.I2 and fe.pi_lb is None
    fixed = rma(Y, V, tau2=0.05)
    w = 1 / (V + 0.05)
    assert fixed.tau2 == 0.05 and fixed.b == pytest.approx((w * Y).sum() / w.sum())
    assert fixed.tau2_ci is None and fixed.se_tau2 is None


def test_level_changes_the_interval() -> None:
    r90, r95 = rma(Y, V, level=90), rma(Y, V)
    assert r90.ci_ub - r90.ci_lb < r95.ci_ub - r95.ci_lb
    assert (r90.ci_ub - r90.b) / r90.se == pytest.approx(1.6448536269514722)


def test_back_transformation_from_escalc() -> None:
    es = escalc("PLO", xi=[12, 30, 8, 21], ni=[40, 60, 35, 50])
    res = rma(es)
    assert res.measure == "PLO" and res.transformed is not None
    assert res.transformed.pred == pytest.approx(1 / (1 + math.exp(-res.b)))
    pft = rma(escalc("PFT", xi=[12, 30, 8, 21], ni=[40, 60, 35, 50]))
    assert pft.transformed is not None and 0 < pft.transformed.pred < 1


def test_metafor_control_reproduces_a_refusal_exact_mode_solves() -> None:
    y = [0.089, 0.059, -0.082, -0.001, 0.381, 0.204]
    v = [0.06, 0.107, 0.139, 0.048, 0.022, 0.16]
    with pytest.raises(PoolingError, match="Fisher scoring algorithm did not converge"):
        rma(y, v, control="metafor")
    exact = rma(y, v)
    slow = rma(y, v, control=Control(switch_after=None, stepadj=0.5))  # metafor's own remedy
    assert exact.tau2 == pytest.approx(slow.tau2, rel=1e-9)


def test_batches_match_single_fits_and_report_errors_per_row() -> None:
    rng = np.random.default_rng(4)
    v = rng.uniform(0.01, 0.2, (40, 8))
    y = rng.normal(-0.4, np.sqrt(v + 0.04))
    y[5, 6:] = np.nan  # a shorter analysis (padding)
    v[5, 6:] = np.nan
    v[7, 0] = 0.0  # DL refuses this one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = rma(y, v, method="DL", test="knha")
    assert isinstance(batch, RmaBatch) and len(batch) == 40
    assert batch.k[5] == 6 and batch.warnings[5] == ()  # padding is not an omission
    assert batch.error[7] is not None and math.isnan(batch.b[7])
    with pytest.raises(PoolingError):
        batch[7]
    for i in (0, 5, 39):
        one = rma(y[i][~np.isnan(y[i])], v[i][~np.isnan(v[i])], method="DL", test="knha")
        assert batch.b[i] == pytest.approx(one.b, rel=1e-12)
        assert batch.tau2_ci_ub[i] == pytest.approx(one.tau2_ci.ci_ub, rel=1e-12)  # type: ignore[union-attr]
        assert batch[i].pi_ub == pytest.approx(one.pi_ub, rel=1e-12)
    json.dumps(batch.to_dict(), allow_nan=False)
    many = rma_many([Y, Y[:3]], [V, V[:3]], method="REML")
    assert many.k.tolist() == [6, 3]


def test_ten_thousand_meta_analyses_in_one_call() -> None:
    rng = np.random.default_rng(11)
    v = rng.uniform(0.01, 0.2, (10_000, 12))
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    batch = rma(y, v, method="REML", test="knha", emit_warnings=False)
    assert batch.b.shape == (10_000,)
    assert all(e is None for e in batch.error)  # exact mode converges where metafor's defaults stop
    assert np.isfinite(batch.b).all() and np.isfinite(batch.tau2_ci_lb).all()
    for i in (0, 1234, 9999):
        assert batch.tau2[i] == pytest.approx(rma(y[i], v[i]).tau2, rel=1e-9, abs=1e-12)


finite = st.floats(min_value=-5, max_value=5, allow_nan=False)
variance = st.floats(min_value=1e-3, max_value=2.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(finite, variance), min_size=2, max_size=15),
    method=st.sampled_from(["EE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS", "HSk", "PMM"]),
    test=st.sampled_from(["z", "knha", "adhoc", "t"]),
)
def test_valid_inputs_never_give_a_silent_nan(
    data: list[tuple[float, float]], method: str, test: str
) -> None:
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    res = quiet(y, v, method=method, test=test)
    for name in ("b", "se", "ci_lb", "ci_ub", "tau2", "I2", "H2", "QE", "QEp", "zval", "pval"):
        value = getattr(res, name)
        if name in ("zval", "pval") and res.se == 0:  # type: ignore[attr-defined]
            # all studies identical under Knapp-Hartung: metafor's se = 0 (0/0 test), with our note
            assert any("scale factor is 0" in n for n in res.notes)  # type: ignore[attr-defined]
            continue
        assert value is not None and math.isfinite(value), name
    assert res.tau2 >= 0 and 0 <= res.I2 <= 100  # type: ignore[attr-defined]
    assert res.ci_lb <= res.b <= res.ci_ub  # type: ignore[attr-defined]
    if method != "EE":
        assert res.tau2_ci is not None  # type: ignore[attr-defined]
        assert 0 <= res.tau2_ci.ci_lb <= res.tau2_ci.ci_ub  # type: ignore[attr-defined]
        assert res.pi_lb <= res.ci_lb  # type: ignore[attr-defined]
