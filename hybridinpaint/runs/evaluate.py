"""``hybridinpaint evaluate RESULT TRUTH [--mask MASK]``: the metrics of a result against its truth.

Both videos (or frame folders) are read whole into memory, so evaluate a
long film by ranges. The flow for the measures of steadiness is estimated
on the truth (OpenCV DIS), so that a result's own errors do not bend it;
the truth's own values are reported beside the result's, since real motion
(and the flow estimator) sets a floor no result goes under.
"""

from __future__ import annotations

import numpy as np

from hybridinpaint import metrics
from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.completion import flow as flowmod
from hybridinpaint.runs.media import FrameSource, open_masks

__all__ = ["evaluate", "evaluate_files", "format_table"]


def evaluate(result, truth, *, mask=None) -> dict:
    """Every measure of :mod:`hybridinpaint.metrics` for ``result`` against ``truth`` (arrays).

    Returns a dict: ``psnr``, ``ssim`` (whole frames), with a mask also
    ``psnr_mask`` and ``ssim_mask``; for two frames or more ``warp_error``
    and ``temporal_consistency`` of the result and of the truth (keys ending
    in ``_truth``), over the mask when one is given, along the truth's flow.
    """
    # Frames counted by metrics' one rule of shapes: (H, W) and (H, W, 1..4) are one image.
    frames = 1 if metrics.is_image(np.shape(result)) else int(np.shape(result)[0])
    out = {"frames": frames, "psnr": metrics.psnr(result, truth), "ssim": metrics.ssim(result, truth)}
    if mask is not None:
        out["psnr_mask"] = metrics.psnr(result, truth, mask=mask)
        out["ssim_mask"] = metrics.ssim(result, truth, mask=mask)
    if out["frames"] >= 2:
        # One flow estimate (on the truth) serves all four measures.
        flows = flowmod.estimate_frames(_arrays.frames_float(truth)[1])
        for name, fn in (("warp_error", metrics.warp_error), ("temporal_consistency", metrics.temporal_consistency)):
            out[name] = fn(result, mask=mask, flow=flows)
            out[f"{name}_truth"] = fn(truth, mask=mask, flow=flows)
    return out


def _read(path) -> np.ndarray:

    src = FrameSource(path)
    return np.stack(list(src.frames()))


def evaluate_files(result, truth, mask=None) -> dict:
    """:func:`evaluate` on files: videos or frame folders, and a mask image, folder or video."""

    res, tru = _read(result), _read(truth)
    if res.shape != tru.shape:
        raise ValueError(
            f"{result} and {truth} differ: {res.shape[0]} frames of {res.shape[1:]} against "
            f"{tru.shape[0]} of {tru.shape[1:]}"
        )
    masks = None
    if mask is not None:
        got = open_masks(mask, res.shape[0], FrameSource(truth).shape)
        masks = np.broadcast_to(got, res.shape[:3]) if isinstance(got, np.ndarray) else np.stack(list(got()))
    return evaluate(res, tru, mask=masks)


_ROWS = (
    ("psnr", "PSNR, whole frames (dB)"),
    ("ssim", "SSIM, whole frames"),
    ("psnr_mask", "PSNR in the mask (dB)"),
    ("ssim_mask", "SSIM in the mask"),
    ("warp_error", "warp error x 1000 (truth's)"),
    ("temporal_consistency", "temporal consistency (truth's)"),
)


def format_table(doc: dict) -> str:
    """The measures as a plain two-column table."""
    lines = [f"frames: {doc['frames']}"]
    for key, label in _ROWS:
        if key not in doc:
            continue
        scale = 1000.0 if key == "warp_error" else 1.0
        value = f"{doc[key] * scale:.4f}" if key.startswith(("ssim", "temporal")) else f"{doc[key] * scale:.2f}"
        if f"{key}_truth" in doc:
            truth = doc[f"{key}_truth"] * scale
            value += f" ({truth:.4f})" if key.startswith("temporal") else f" ({truth:.2f})"
        lines.append(f"{label:34s} {value}")
    return "\n".join(lines)
