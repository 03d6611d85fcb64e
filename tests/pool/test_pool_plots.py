"""Forest and funnel plots: the pieces a reader expects are drawn, and files are written."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extractor.pool import escalc, rma, subgroups
from extractor.pool.plots import forest_plot, funnel_plot, save_figure

Y = np.array([-0.62, -0.31, -0.85, -0.12, -0.47, -0.70])
V = np.array([0.041, 0.062, 0.058, 0.033, 0.090, 0.047])
LABELS = ["Ames 2019", "Berg 2020", "Cole 2020", "Dahl 2021", "Eng 2022", "Fox 2023"]


def texts(fig: object) -> list[str]:
    out = [t.get_text() for t in fig.texts]  # type: ignore[attr-defined]
    for ax in fig.axes:  # type: ignore[attr-defined]
        out += [t.get_text() for t in ax.texts]
    return out


def test_forest_has_rows_weights_diamond_and_prediction_interval(tmp_path: Path) -> None:
    res = rma(Y, V, method="REML", test="knha")
    fig = forest_plot(res, LABELS, title="SMD at 4 weeks")
    txt = texts(fig)
    for lab in LABELS:
        assert lab in txt
    assert "Pooled estimate" in txt
    assert any(t.endswith("%") for t in txt)  # weights
    assert any("prediction interval" in t and "I² =" in t for t in txt)
    paths = save_figure(fig, tmp_path / "forest")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and b"<svg" in paths[1].read_bytes()[:500]


def test_forest_subgroup_blocks_and_ratio_scale() -> None:
    groups = ["NRS", "VAS", "NRS", "VAS", "NRS", "VAS"]
    res = rma(Y, V)
    sub = subgroups(Y, V, groups)
    fig = forest_plot(res, LABELS, groups=groups, subgroup=sub)
    txt = texts(fig)
    assert "Subgroup NRS (k = 3)" in txt and "Subgroup VAS (k = 3)" in txt
    assert any("Subgroup differences" in t for t in txt)
    es = escalc("OR", ai=[12, 20, 7], n1i=[40, 50, 30], ci=[6, 15, 3], n2i=[40, 52, 31])
    rr = rma(es)
    fig2 = forest_plot(rr, ["a", "b", "c"])
    assert fig2.axes[0].get_xscale() == "log"


def test_funnel() -> None:
    res = rma(Y, V)
    fig = funnel_plot(res, title="funnel")
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # standard error axis inverted
    assert len(ax.collections) >= 2  # the region and the study points
