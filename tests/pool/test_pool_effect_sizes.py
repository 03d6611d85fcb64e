"""escalc: formulas on hand-checkable numbers, shapes, and clear refusals of impossible inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gamma

from extractor.errors import PoolingError
from extractor.pool import escalc
from extractor.pool.effect_sizes import cmicalc


def test_unpacks_to_yi_vi_and_keeps_ni() -> None:
    yi, vi = escalc("MD", m1i=[3.0], sd1i=[2.0], n1i=[20], m2i=[5.0], sd2i=[1.0], n2i=[10])
    assert yi[0] == -2.0
    assert vi[0] == pytest.approx(4 / 20 + 1 / 10)
    es = escalc("MD", m1i=3.0, sd1i=2.0, n1i=20, m2i=5.0, sd2i=1.0, n2i=10)
    assert float(es.ni) == 30


def test_hedges_g_uses_the_exact_gamma_correction() -> None:
    m = 18.0
    exact = gamma(m / 2) / (math.sqrt(m / 2) * gamma((m - 1) / 2))
    assert float(cmicalc(m)) == pytest.approx(exact, rel=1e-13)
    yi, vi = escalc("SMD", m1i=4.0, sd1i=2.0, n1i=10, m2i=5.0, sd2i=2.0, n2i=10)
    g = exact * (-1 / 2)
    assert float(yi) == pytest.approx(g, rel=1e-13)
    assert float(vi) == pytest.approx(0.2 + g**2 / 40, rel=1e-13)


def test_pre_post_measures_follow_metafors_sign_and_variances() -> None:
    kw = {"m1i": 3.0, "m2i": 6.0, "sd1i": 2.0, "sd2i": 1.5, "ni": 25, "ri": 0.4}
    yi, vi = escalc("MC", **kw)
    var_change = 4 + 2.25 - 2 * 0.4 * 2 * 1.5
    assert float(yi) == -3.0 and float(vi) == pytest.approx(var_change / 25)
    j = float(cmicalc(24))
    yi, vi = escalc("SMCC", **kw)
    assert float(yi) == pytest.approx(j * -3 / math.sqrt(var_change))
    yi, vi = escalc("SMCR", m1i=3.0, m2i=6.0, sd1i=1.5, ni=25, ri=0.4)
    assert float(yi) == pytest.approx(j * -3 / 1.5)
    assert float(vi) == pytest.approx(2 * 0.6 / 25 + float(yi) ** 2 / 50)


def test_proportions_and_zero_cells() -> None:
    yi, vi = escalc("PR", xi=[0, 5], ni=[10, 10])
    # metafor: add 1/2 to both cells of the 0/10 study only (to="only0")
    assert yi[0] == pytest.approx(0.5 / 11) and yi[1] == 0.5
    yi, _ = escalc("PLO", xi=[0, 5], ni=[10, 10], add=0)
    assert math.isnan(yi[0]) and yi[1] == 0.0  # log(0) is recoded to missing, like metafor's NA
    yi, _ = escalc("PAS", xi=[0], ni=[10])  # PAS/PFT add nothing by default
    assert yi[0] == 0.0
    yi, vi = escalc("OR", ai=[0, 3], n1i=[10, 10], ci=[0, 1], n2i=[10, 10], drop00=True)
    assert math.isnan(yi[0]) and not math.isnan(yi[1])
    yi, _ = escalc("RR", ai=[2, 3], n1i=[10, 10], ci=[0, 1], n2i=[10, 10], to="if0all")
    assert yi[1] == pytest.approx(math.log((3.5 / 11) / (1.5 / 11)))


def test_two_dimensional_batches_broadcast() -> None:
    m1 = np.arange(24, dtype=float).reshape(4, 6) / 10 + 3
    es = escalc("SMD", m1i=m1, sd1i=2.0, n1i=30, m2i=4.0, sd2i=2.5, n2i=28)
    assert es.yi.shape == es.vi.shape == (4, 6)
    one = escalc("SMD", m1i=m1[2], sd1i=2.0, n1i=30, m2i=4.0, sd2i=2.5, n2i=28)
    np.testing.assert_allclose(es.yi[2], one.yi, rtol=1e-15)


def test_missing_values_stay_missing_without_error() -> None:
    yi, vi = escalc(
        "MD", m1i=[1.0, np.nan], sd1i=[1.0, 1.0], n1i=[10, 10], m2i=[0.0, 0.0], sd2i=[1.0, 1.0], n2i=[10, 10]
    )
    assert not math.isnan(yi[0]) and math.isnan(yi[1])


@pytest.mark.parametrize(
    ("measure", "kwargs", "message"),
    [
        (
            "MD",
            {"m1i": [1, 2], "sd1i": [1, 0], "n1i": [5, 5], "m2i": [0, 0], "sd2i": [1, 1], "n2i": [5, 5]},
            "sd1i must be > 0 at study 1",
        ),
        ("SMD", {"m1i": 1, "sd1i": -1, "n1i": 5, "m2i": 0, "sd2i": 1, "n2i": 5}, "sd1i must be > 0"),
        ("SMD", {"m1i": 1, "sd1i": 1, "n1i": 1, "m2i": 0, "sd2i": 1, "n2i": 5}, "n1i must be at least 2"),
        ("MC", {"m1i": 1, "m2i": 2, "sd1i": 1, "sd2i": 1, "ni": 10, "ri": 1.0}, "strictly between -1 and 1"),
        (
            "SMCC",
            {"m1i": 1, "m2i": 2, "sd1i": 1, "sd2i": 1, "ni": 10, "ri": -1.2},
            "strictly between -1 and 1",
        ),
        ("SMCR", {"m1i": 1, "m2i": 2, "sd1i": 1, "ni": 1, "ri": 0.5}, "ni must be at least 2"),
        ("PR", {"xi": [3, 12], "ni": [10, 10]}, "events xi cannot exceed the total ni at study 1"),
        ("RR", {"ai": 12, "n1i": 10, "ci": 1, "n2i": 10}, "events ai cannot exceed the group size n1i"),
        ("OR", {"ai": -1, "bi": 3, "ci": 1, "di": 2}, "ai must be a count >= 0"),
        ("ROM", {"m1i": -1, "sd1i": 1, "n1i": 5, "m2i": 2, "sd2i": 1, "n2i": 5}, "positive means"),
        ("XYZ", {}, "unknown measure"),
        ("SMD", {"m1i": 1, "sd1i": 1, "n1i": 5, "m2i": 0, "sd2i": 1, "n2i": 5, "vtype": "HO"}, "vtype='HO'"),
        ("PR", {"xi": 1, "ni": 5, "to": "some"}, "to='some'"),
        ("MD", {"m1i": 1, "sd1i": 1, "n1i": 5}, "needs argument 'm2i'"),
    ],
)
def test_impossible_inputs_are_refused_with_a_clear_message(
    measure: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(PoolingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        escalc(measure, **kwargs)  # type: ignore[arg-type]


def test_vtypes() -> None:
    kw = {
        "m1i": [3.0, 4.0],
        "sd1i": [2.0, 1.0],
        "n1i": [20, 40],
        "m2i": [5.0, 4.5],
        "sd2i": [1.0, 1.5],
        "n2i": [10, 30],
    }
    ho = escalc("MD", vtype="HO", **kw)
    sp2 = (19 * 4 + 9 * 1) / 28
    assert ho.vi[0] == pytest.approx(sp2 * (1 / 20 + 1 / 10))
    av = escalc("SMD", vtype="AV", **kw)
    ls = escalc("SMD", **kw)
    ybar = (30 * ls.yi[0] + 70 * ls.yi[1]) / 100
    assert av.vi[0] == pytest.approx(1 / 20 + 1 / 10 + ybar**2 / 60)
