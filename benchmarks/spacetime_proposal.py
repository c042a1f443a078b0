"""A space-time patch proposal for the holes (issue 28), measured alone and as the key-frame guide.

Not part of the package: an experiment kept so its numbers can be re-measured.
The proposal is Wexler/Newson-style completion at 1/4 scale: each hole is
filled by EM over space-time patches of 5 x 5 pixels x 5 frames, time stacked
into channels so the package's PatchMatch and voting kernels (``patchmatch``,
``vote``) search them: a patch of frame t is the 5 x 5 patch of frames t-2..t+2
at the same place; sources are patches wholly known in all five frames,
anywhere in the video. Start: per-frame TELEA; three rounds of PatchMatch (the
hole's own pixels at weight 0.5) and voting of the centre frame's colours.

``--as-guide`` runs the quality benchmark's clips and holes through
``inpaint`` with the proposal (full size, upsampled) in place of FSR as the
first key frame's PatchMatch guide; otherwise the proposal alone is scored
against per-frame TELEA (hole PSNR, the quality benchmark's holes).

    python benchmarks/spacetime_proposal.py [--clips a,b] [--as-guide]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint import metrics as M
from hybridinpaint.completion import hallucinate as H
from hybridinpaint.completion import pipeline as P
from hybridinpaint.kernels import patchmatch, vote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality as Q  # noqa: E402

SCALE, HALF, ROUNDS, PATCH = 4, 2, 3, 5


def _stack(frames, t):
    """Frames t-HALF..t+HALF (clamped at the ends) side by side in the channels."""
    n = len(frames)
    return np.concatenate([frames[min(max(t + d, 0), n - 1)] for d in range(-HALF, HALF + 1)], axis=-1)


def proposal(work: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """Space-time completion of float32 ``work`` (T, H, W, C) in ``hole`` at 1/SCALE, upsampled; None if impossible."""
    t, h, w, c = work.shape
    size = (max(16, w // SCALE), max(16, h // SCALE))
    small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], c) for f in work])
    sh = np.stack([cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0 for m in hole])
    est = small.copy()
    for k in range(t):
        if sh[k].any():
            est[k] = H.classical(np.where(sh[k][..., None], 0, small[k]).astype(np.float32), sh[k], "telea")
    known = ~sh
    valid = np.stack(
        [np.all([known[min(max(s + d, 0), t - 1)] for d in range(-HALF, HALF + 1)], axis=0) for s in range(t)]
    )
    if not valid.any():
        return None
    sources = np.stack([_stack(small, s) for s in range(t)]).astype(np.float32)
    for r in range(ROUNDS):
        new = est.copy()
        for k in range(t):
            if not sh[k].any():
                continue
            weight = np.where(sh[k], 0.5, 1.0).astype(np.float32)
            try:
                nnf, cost = patchmatch(
                    _stack(est, k),
                    sh[k],
                    sources,
                    valid,
                    patch=PATCH,
                    iterations=4,
                    seed=k + 97 * r,
                    target_weight=weight,
                    backend="cpu",
                )
            except ValueError:  # no source patch: too little of the video is known
                return None
            v = vote(nnf, cost, sources, sh[k], patch=PATCH, backend="cpu")
            new[k][sh[k]] = v[sh[k]][:, HALF * c : (HALF + 1) * c]
        est = new
    return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, c) for f in est])


def _as_guide():
    """Make ``inpaint`` use the proposal as the first key frame's guide (for this process only)."""
    state = {}
    validate, key_frame, fill, guide_fsr = P._validate, P._key_frame, H.fill, H.guide_fsr

    def validate_(*args, **kwargs):
        st = validate(*args, **kwargs)
        state["prop"] = proposal(st.work, st.hole) if st.hole.any() and st.work.shape[0] > 1 else None
        return st

    def key_frame_(st, how):
        state["k"] = int(np.argmax(np.bincount(st.holes.ts[~st.filled], minlength=st.work.shape[0])))
        state["first"] = not st.key_frames
        return key_frame(st, how)

    def fill_(image, hole, how, **kwargs):
        prop = state.get("prop")
        if prop is None or not state.get("first") or kwargs.get("guide", "fsr") != "fsr":
            return fill(image, hole, how, **kwargs)
        by, bx = H.context_box(hole)
        crop = np.ascontiguousarray(np.where(hole[..., None], prop[state["k"]], image).astype(np.float32)[by, bx])
        H.guide_fsr = lambda *a, **k: crop
        try:
            return fill(image, hole, how, **kwargs)
        finally:
            H.guide_fsr = guide_fsr

    P._validate, P._key_frame, H.fill = validate_, key_frame_, fill_


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="sam2-juggle,bmx-trees,dogs-jump,sam2-dog,schoolgirls")
    ap.add_argument("--as-guide", action="store_true")
    args = ap.parse_args()
    every = Q.all_clips()
    if args.as_guide:
        _as_guide()
    for name in args.clips.split(","):
        i = every.index(name)
        truth = Q.load_clip(name, 40)
        t, h, w, _ = truth.shape
        for kind in ("stationary", "moving"):
            masks = Q.masks_for(kind, t, h, w, seed=1000 * i + (kind == "moving"))
            video = truth.copy()
            video[masks] = 0
            start = time.perf_counter()
            if args.as_guide:
                out = hybridinpaint.inpaint(video, masks, backend="cpu")
            else:
                prop = proposal(video.astype(np.float32) / 255, masks)
                if prop is None:
                    print(f"{name:22s} {kind:10s} no source patch wholly known in five frames: no proposal")
                    continue
                out = video.copy()
                out[masks] = np.clip(np.round(prop[masks] * 255), 0, 255).astype(np.uint8)
            sec = time.perf_counter() - start
            telea = Q.per_frame(video, masks, cv2.INPAINT_TELEA)
            what = "inpaint, space-time guide" if args.as_guide else "proposal alone"
            print(
                f"{name:22s} {kind:10s} {what}: hole PSNR {M.psnr(out, truth, mask=masks):6.2f} dB"
                f"  TELEA {M.psnr(telea, truth, mask=masks):6.2f}  {sec:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
