"""Propagation of source coordinates along flow (DESIGN.md, pipeline step 4).

Sweeps carry, for each hole pixel, *where* its colour can be found — a
source frame and a sub-pixel position there — not the colour itself. Each
step checks forward-backward consistency; the colour is sampled once, at the
end, from the source frame, so it stays sharp and its provenance is known.
The loops are the kernels :func:`hybridinpaint.kernels.propagate_holes`
and :func:`~hybridinpaint.kernels.combine_sources_into`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridinpaint.kernels import propagate_holes
from hybridinpaint.settings import Settings


@dataclass
class Sources:
    """Per listed hole pixel: source frame (-1 none), ``(x, y)`` there, steps taken."""

    frame: np.ndarray  # (N,) int32
    xy: np.ndarray  # (N, 2) float32
    steps: np.ndarray  # (N,) int32


def sweep(
    holes, frame, xy, steps, step_flows, check_flows, forward: bool, backend: str, *, settings: Settings
) -> Sources:
    """One sweep over the hole pixels ``holes`` (a ``HoleList``) from the given start state.

    See :func:`hybridinpaint.kernels.propagate_sources` for what a sweep does.
    """

    # The pipeline's flows are finite by construction: skip the scan of both
    # flow volumes on every sweep.
    out = propagate_holes(
        holes,
        frame,
        xy,
        steps,
        step_flows,
        check_flows,
        forward=forward,
        tau_abs=settings.propagate.TAU_ABS,
        tau_rel=settings.propagate.TAU_REL,
        check_finite=False,
        backend=backend,
    )
    return Sources(*out)
