"""Object removal from one drawn mask: track it (:func:`hybridinpaint.track_mask`), then inpaint.

The tracked masks are written as PNGs (white where removed) into a folder
beside the output, with ``tracking.json`` (the annotated frame, the drawn
mask's checksum, the input's fingerprint, per-frame confidence and the
frames to check), before any pixel is filled: a reviewer sees exactly what
was removed, and a rerun with the same input and drawn mask reuses them
instead of tracking again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hybridinpaint.runs import engine, io, media, stream
from hybridinpaint.settings import resolve
from hybridinpaint.tracking import tracker as tracking

__all__ = ["remove_file", "masks_folder", "write_masks", "TRACKING_RECORD"]

TRACKING_RECORD = "tracking.json"


def _record(input, first_mask, frame, src) -> dict:

    return {
        "input": engine.fingerprint(input),
        "frames": src.count,
        "first_mask": engine.fingerprint(first_mask),
        "first_mask_sha256": io.sha256_file(first_mask),
        "frame": frame,
    }


def masks_folder(output, save_masks, inputs: dict) -> Path:
    """The folder a run's masks go in: ``save_masks``, by default ``OUTPUT.masks`` beside the output.

    Refused (ValueError) when it is, holds or lies inside one of ``inputs``
    (name -> path, as for :func:`hybridinpaint.runs.io.check_apart`), or is or
    lies inside the output; what a killed run left beside it is cleaned up.
    """

    output = Path(output)
    folder = Path(save_masks) if save_masks else output.with_name(output.name + ".masks")
    io.check_apart(inputs, {"output": output, "--save-masks": folder})
    if folder.resolve() == output.resolve() or output.resolve() in folder.resolve().parents:
        raise ValueError(f"--save-masks {folder} must lie outside the output {output}")
    io.clean_stale(folder)
    return folder


def write_masks(folder, masks, *, into=".", record=None, record_name=TRACKING_RECORD) -> None:
    """Masks as PNGs (white where masked; ``000000.png``, ...) in ``folder/into``, and ``record`` as JSON.

    ``masks``: an iterable of ``(H, W)`` bool. The folder is built beside
    and replaces an earlier one whole, so it is never half written.
    """

    folder = Path(folder)
    tmp = io.temp_dir(folder)
    for k, m in enumerate(masks):
        io.write_frame(tmp / into / f"{k:06d}.png", np.where(m, 255, 0).astype(np.uint8))
    if record is not None:
        io.write_json(tmp / record_name, record)
    io.replace_dir(tmp, folder)


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
    settings=None,
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
    resume, overwrite, progress, backend, settings, **options
        Passed to :func:`hybridinpaint.inpaint_file` (``settings`` to the tracking too).

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

    settings = resolve(settings)
    input, first_mask, output = Path(input), Path(first_mask), Path(output)
    src = media.FrameSource(input)
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or not 0 <= frame < src.count:
        raise ValueError(f"frame must be an integer in [0, {src.count - 1}] (the input's frames), got {frame!r}")
    drawn = media.open_masks(first_mask, src.count, src.shape)
    if not isinstance(drawn, np.ndarray):
        raise ValueError(f"first mask {first_mask} must be one image, the object drawn on frame {frame}")
    if not drawn.any():
        raise ValueError(f"first mask {first_mask} is empty: draw the object in white")
    masks_dir = masks_folder(output, save_masks, {"input": input, "first mask": first_mask})
    expect = {**_record(input, first_mask, int(frame), src), "tracking_settings": settings.to_dict()["tracking"]}
    doc = io.matching_record(masks_dir / TRACKING_RECORD, expect, masks_dir, expect["frames"])
    tracked = doc is None
    if tracked:
        if masks_dir.exists() and not overwrite and any(masks_dir.iterdir()):
            raise FileExistsError(
                f"{masks_dir} holds masks of another input or drawn mask; pass --overwrite to replace them"
            )
        frames = np.stack(list(src.frames()))
        res = tracking.track_mask(
            frames, drawn, frame=int(frame), backend=backend, settings=settings, return_result=True
        )
        del frames
        doc = {
            **expect,
            "confidence": [round(float(c), 4) for c in res.confidence],
            "unsure": res.unsure,
            "unsure_below": settings.tracking.UNSURE,
        }
        write_masks(masks_dir, res.masks, record=doc)
    summary = stream.inpaint_file(
        input,
        masks_dir,
        output,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        mask_dilation=mask_dilation,
        backend=backend,
        settings=settings,
        command="remove",
        **options,
    )
    summary.update(masks=str(masks_dir), tracked=tracked, confidence=doc["confidence"], unsure=doc["unsure"])
    return summary
