"""Vectorised Brent root finding (the Forsythe–Malcolm–Moler ``zeroin`` algorithm).

This is Brent's (1973) method — bisection safeguarding secant and inverse quadratic
interpolation steps — in the formulation published by Forsythe, Malcolm & Moler (1977,
*Computer Methods for Mathematical Computations*, §7.2), which is also what R's ``uniroot``
runs. Following the published algorithm step for step (same interval, same tolerance rule
``2·eps·|b| + tol/2``) visits the same points as R does, so with metafor's default tolerance we
land on the same approximate root metafor reports — which is how ``Control.metafor()``
reproduces metafor's default numbers — and with a tiny tolerance on the exact root.

Many independent problems ("lanes") are solved at once: every lane keeps its own state and the
function is evaluated only for lanes still running.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
EPS = float(np.finfo(float).eps)


def zeroin(
    f: Callable[[FloatArray, IntArray], FloatArray],
    lower: FloatArray,
    upper: FloatArray,
    f_lower: FloatArray,
    f_upper: FloatArray,
    tol: float,
    maxiter: int,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Find a root in ``[lower, upper]`` for each lane; ``f(x, lanes)`` evaluates lanes ``lanes``.

    ``f_lower`` and ``f_upper`` (already evaluated) must differ in sign (or be zero). Returns
    ``(root, converged)``; a lane that needs more than ``maxiter`` steps is not converged.
    """
    a = np.array(lower, dtype=float)
    b = np.array(upper, dtype=float)
    fa = np.array(f_lower, dtype=float)
    fb = np.array(f_upper, dtype=float)
    n = a.shape[0]
    root = np.full(n, np.nan)
    converged = np.zeros(n, dtype=bool)
    # A root at an end point.
    at_a = fa == 0.0
    at_b = ~at_a & (fb == 0.0)
    root[at_a] = a[at_a]
    root[at_b] = b[at_b]
    converged[at_a | at_b] = True
    active = np.flatnonzero(~(at_a | at_b))
    if active.size == 0:
        return root, converged
    a, b, fa, fb = a[active], b[active], fa[active], fb[active]
    c, fc = a.copy(), fa.copy()
    lanes = active
    remaining = maxiter + 1
    while lanes.size and remaining > 0:
        remaining -= 1
        prev_step = b - a
        swap = np.abs(fc) < np.abs(fb)
        a = np.where(swap, b, a)
        b = np.where(swap, c, b)
        c = np.where(swap, a, c)
        fa = np.where(swap, fb, fa)
        fb = np.where(swap, fc, fb)
        fc = np.where(swap, fa, fc)
        tol_act = 2 * EPS * np.abs(b) + tol / 2
        new_step = (c - b) / 2
        done = (np.abs(new_step) <= tol_act) | (fb == 0)
        if done.any():
            root[lanes[done]] = b[done]
            converged[lanes[done]] = True
            keep = ~done
            lanes, a, b, c, fa, fb, fc = (x[keep] for x in (lanes, a, b, c, fa, fb, fc))
            prev_step, tol_act, new_step = prev_step[keep], tol_act[keep], new_step[keep]
            if not lanes.size:
                break
        interp = (np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb))
        if interp.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                cb = c - b
                secant = a == c
                t1_s = fb / fa
                p_s = cb * t1_s
                q_s = 1.0 - t1_s
                q0 = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p_q = t2 * (cb * q0 * (q0 - t1) - (b - a) * (t1 - 1.0))
                q_q = (q0 - 1.0) * (t1 - 1.0) * (t2 - 1.0)
                p = np.where(secant, p_s, p_q)
                q = np.where(secant, q_s, q_q)
                q = np.where(p > 0, -q, q)
                p = np.abs(p)
                accept = (
                    interp & (p < (0.75 * cb * q - np.abs(tol_act * q) / 2)) & (p < np.abs(prev_step * q / 2))
                )
                new_step = np.where(accept, p / q, new_step)
        small = np.abs(new_step) < tol_act
        new_step = np.where(small, np.where(new_step > 0, tol_act, -tol_act), new_step)
        a, fa = b, fb
        b = b + new_step
        fb = np.asarray(f(b, lanes), dtype=float)
        same = ((fb > 0) & (fc > 0)) | ((fb < 0) & (fc < 0))
        c = np.where(same, a, c)
        fc = np.where(same, fa, fc)
    if lanes.size:  # ran out of iterations: report where we are, not converged
        root[lanes] = b
    return root, converged
