"""Object removal from one drawn mask: track it (:func:`hybridinpaint.track_mask`), then inpaint.

The tracked masks are written as PNGs (white where removed) into a folder
beside the output, with ``tracking.json`` (the annotated frame, the drawn
mask's checksum, the input's fingerprint, per-frame confidence and the
frames to check), before any pixel is filled: a reviewer sees exactly what
was removed, and a rerun with the same input and drawn mask reuses them
instead of tracking again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["remove_file", "TRACKING_RECORD"]

TRACKING_RECORD = "tracking.json"


def _record(input, first_mask, frame, src) -> dict:
    from hybridinpaint import io

    stat = Path(input).stat()
    return {
        "input": str(Path(input).resolve()),
        "input_size": stat.st_size if Path(input).is_file() else src.count,
        "input_mtime_ns": stat.st_mtime_ns,
        "frames": src.count,
        "first_mask": str(Path(first_mask).resolve()),
        "first_mask_sha256": io.sha256_file(first_mask),
        "frame": frame,
    }


def remove_file(
    input,
    first_mask,
    output,
    *,
    frame=0,
    save_masks=None,
    mask_dilation=5,
    resume=None,
    overwrite=False,
    progress=False,
    backend="auto",
    **options,
) -> dict:
    """Remove the object drawn in ``first_mask`` on ``frame`` from a video file or frame folder.

    Parameters
    ----------
    input, output : path
        As for :func:`hybridinpaint.inpaint_file`.
    first_mask : path
        An image the size of the frames, white (or 1) on the object in
        frame ``frame``.
    frame : int, keyword-only
        The frame the mask was drawn on (0-based).
    save_masks : path, optional, keyword-only
        Folder for the tracked masks and ``tracking.json``; by default
        ``OUTPUT.masks`` beside the output. Never inside an input.
    mask_dilation : int, keyword-only
        Pixels the tracked masks grow by before filling (default 5: a
        tracked edge is a few pixels off, and an object's outline left
        behind shows as a ghost).
    resume, overwrite, progress, backend, **options
        Passed to :func:`hybridinpaint.inpaint_file`.

    Notes
    -----
    The filling is chunked and resumable; the tracking is not: it reads the
    whole input into memory (about 30 bytes per pixel per frame).

    Returns
    -------
    dict
        :func:`hybridinpaint.inpaint_file`'s summary, plus ``masks`` (the
        folder), ``tracked`` (False when earlier masks were reused),
        ``confidence`` and ``unsure`` (frames to check).
    """
    from hybridinpaint import config, io, media, stream, tracking

    input, first_mask, output = Path(input), Path(first_mask), Path(output)
    src = media.FrameSource(input)
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or not 0 <= frame < src.count:
        raise ValueError(f"frame must be an integer in [0, {src.count - 1}] (the input's frames), got {frame!r}")
    drawn = media.open_masks(first_mask, src.count, src.shape)
    if not isinstance(drawn, np.ndarray):
        raise ValueError(f"first mask {first_mask} must be one image, the object drawn on frame {frame}")
    if not drawn.any():
        raise ValueError(f"first mask {first_mask} is empty: draw the object in white")
    masks_dir = Path(save_masks) if save_masks else output.with_name(output.name + ".masks")
    io.check_apart(
        {"input": input, "first mask": first_mask},
        {"output": output, "--save-masks": masks_dir},
    )
    if masks_dir.resolve() == output.resolve() or output.resolve() in masks_dir.resolve().parents:
        raise ValueError(f"--save-masks {masks_dir} must lie outside the output {output}")
    io.clean_stale(masks_dir)
    expect = _record(input, first_mask, int(frame), src)
    tracked = io.matching_record(masks_dir / TRACKING_RECORD, expect, masks_dir, expect["frames"]) is None
    if tracked:
        if masks_dir.exists() and not overwrite and any(masks_dir.iterdir()):
            raise FileExistsError(
                f"{masks_dir} holds masks of another input or drawn mask; pass --overwrite to replace them"
            )
        frames = np.stack(list(src.frames()))
        res = tracking.track_mask(frames, drawn, frame=int(frame), backend=backend, return_result=True)
        del frames
        tmp = io.temp_dir(masks_dir)
        for k, m in enumerate(res.masks):
            io.write_frame(tmp / f"{k:06d}.png", np.where(m, 255, 0).astype(np.uint8))
        doc = {
            **expect,
            "confidence": [round(float(c), 4) for c in res.confidence],
            "unsure": res.unsure,
            "unsure_below": config.tracking.UNSURE,
        }
        io.write_json(tmp / TRACKING_RECORD, doc)
        io.replace_dir(tmp, masks_dir)
    else:
        doc = json.loads((masks_dir / TRACKING_RECORD).read_text())
    summary = stream.inpaint_file(
        input,
        masks_dir,
        output,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        mask_dilation=mask_dilation,
        backend=backend,
        **options,
    )
    summary.update(masks=str(masks_dir), tracked=tracked, confidence=doc["confidence"], unsure=doc["unsure"])
    return summary
