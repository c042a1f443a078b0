"""``hybridinpaint anonymize`` on files: :func:`hybridinpaint.privacy.anonymize` for a video file or frame folder.

Detection streams through the input; the masks and the record go to a
folder of their own before any pixel changes; ``"remove"`` runs the chunked,
resumable :func:`hybridinpaint.inpaint_file`; the output is read back and
checked for faces left.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from hybridinpaint.privacy.anonymizer import (
    _options,
    build_record,
    check_cover_options,
    cover_checked,
    detect,
    frame_mask,
    link_tracks,
    record_tracks,
    to_grey,
    track_from_record,
    verify,
    warn_leaks,
)
from hybridinpaint.privacy.faces import FaceDetector
from hybridinpaint.runs import engine, io, media, stream
from hybridinpaint.runs.remove import masks_folder, write_masks
from hybridinpaint.settings import resolve

__all__ = ["anonymize_file", "MASKS_RECORD", "MASKS_FRAMES"]


MASKS_RECORD = "anonymize.json"
MASKS_FRAMES = "frames"


def anonymize_file(
    input,
    output,
    *,
    faces=True,
    plates=False,
    mode="box",
    threshold=None,
    verify_threshold=None,
    record=None,
    save_masks=None,
    resume=None,
    overwrite=False,
    progress=False,
    backend="auto",
    settings=None,
    **options,
) -> dict:
    """:func:`anonymize` on a video file or frame folder, written to a folder or a video file.

    Detection streams through the input (memory: the boxes); the masks
    (``frames/``, white where a face is replaced) and the record
    (``anonymize.json``) go to ``save_masks`` (default ``OUTPUT.masks``)
    before any pixel is changed. ``"remove"``
    then runs :func:`hybridinpaint.inpaint_file` on them (chunked,
    resumable; a rerun reuses masks made from the same input and settings);
    ``"blur"`` and ``"box"`` write the output in one pass, completely or not
    at all. Finally the output is read back and checked (:func:`verify`).

    Parameters
    ----------
    input, output : path
        As for :func:`hybridinpaint.inpaint_file`; RGB or grey frames.
    faces, plates, mode, threshold, verify_threshold
        As for :func:`anonymize`.
    record : path, optional, keyword-only
        Also write the record (JSON, :data:`RECORD_SCHEMA`) here; it is
        always written as ``anonymize.json`` in the masks folder.
    save_masks : path, optional, keyword-only
        Folder for the masks and the record. Never inside an input.
    resume, overwrite, progress, backend, settings, **options
        Passed to :func:`hybridinpaint.inpaint_file` (``"remove"``);
        ``overwrite`` also lets ``"blur"`` / ``"box"`` replace an output.

    Returns
    -------
    dict
        ``frames``, ``tracks``, ``leaks`` (list, see :func:`verify`),
        ``masks`` (folder), ``record`` (path), ``reused`` (masks from an
        earlier run), ``output``, ``seconds``.
    """

    t0 = time.perf_counter()
    settings = resolve(settings)
    threshold, verify_threshold = _options(faces, plates, mode, threshold, verify_threshold, settings)
    check_cover_options(mode, {"mask_dilation": options.get("mask_dilation", 0)})
    input, output = Path(input), Path(output)
    src = media.FrameSource(input)
    if len(src.shape) == 3 and src.shape[2] not in (1, 3):
        raise ValueError(f"input {input} must hold RGB or grey frames, got frames of shape {src.shape}")
    masks_dir = masks_folder(output, save_masks, {"input": input})
    io.check_apart({"input": input}, {"--record": record})
    video_out = media.is_video(output)
    run = None
    if mode != "remove":  # one pass, all or nothing: a run of one chunk ("remove" runs on inpaint_file's)
        run = engine.start(
            output.with_name(output.name + ".parts") if video_out else output,
            command="anonymize",
            inputs={"input": input},
            frames=src.count,
            options={"mode": mode, "threshold": threshold, "verify_threshold": verify_threshold},
            settings=settings,
            plan=[(0, src.count)],
            resume=resume,
            overwrite=overwrite,
            video=output if video_out else None,
        )
    expect = {
        "input": engine.fingerprint(input),
        "frames": src.count,
        "mode": mode,
        "threshold": threshold,
        "privacy_settings": settings.to_dict()["privacy"],
        **({} if mode == "remove" else {"verify_threshold": verify_threshold}),  # the check's boxes are in the masks
    }
    doc = io.matching_record(masks_dir / MASKS_RECORD, expect, masks_dir / MASKS_FRAMES, src.count)
    detector = FaceDetector(settings=settings)
    if doc is None:
        if masks_dir.exists() and any(masks_dir.iterdir()) and not overwrite:
            raise FileExistsError(f"{masks_dir} holds masks of another input or settings; pass --overwrite")
        found = detect(
            src.frames(),
            threshold=settings.privacy.LINK_FRACTION * threshold,
            detector=detector,
            progress=progress,
            settings=settings,
        )
        tracks = _carried_tracks(src, found, threshold, settings)
        masks = (
            frame_mask(tracks, k, src.shape, ellipse=mode != "box" or settings.privacy.BOX_SHAPE == "ellipse")
            for k in range(src.count)
        )
        doc = {**expect, **record_tracks(tracks, mode), "leaks": None}
        write_masks(masks_dir, masks, into=MASKS_FRAMES, record=doc, record_name=MASKS_RECORD)
        reused = False
    else:
        tracks = [track_from_record(t) for t in doc["tracks"]]
        reused = True
    pixels = None
    if mode == "remove":
        pixels = stream.inpaint_file(
            input,
            masks_dir / MASKS_FRAMES,
            output,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            backend=backend,
            settings=settings,
            command="anonymize",
            **options,
        )["pixels"]
    elif not run.finished or not reused or "checked" not in doc:
        # A finished output with masks made afresh (or a record cut short) still needs the check's boxes in the
        # masks and the record: the pass is run again, and the output written only if it is not finished.
        checked: list[dict] = []

        def covered():
            for k, frame in enumerate(src.frames()):
                frame, mask, found_k = cover_checked(
                    frame, tracks, k, mode, detector=detector, threshold=verify_threshold, settings=settings
                )
                # every frame: the masks say what this pass replaced (the check's boxes too, and no earlier run's)
                io.write_frame(masks_dir / MASKS_FRAMES / f"{k:06d}.png", np.where(mask, 255, 0).astype(np.uint8))
                checked.extend(found_k)
                yield frame

        if run.finished:
            for _ in covered():
                pass
        else:
            try:
                _write_all(src, output, covered(), video_out, run)
            except BaseException:
                run.abandon()
                raise
        doc["checked"] = checked
        io.write_json(masks_dir / MASKS_RECORD, doc)
    out_src = media.FrameSource(output)
    if out_src.count != src.count:
        raise RuntimeError(f"{output} holds {out_src.count} frames, the input {src.count}: written incompletely")
    replaced = media.open_masks(masks_dir / MASKS_FRAMES, src.count, src.shape)() if mode != "remove" else None
    leaks = verify(out_src.frames(), tracks, threshold=verify_threshold, detector=detector, masks=replaced)
    full = build_record(
        tracks,
        leaks,
        mode=mode,
        threshold=threshold,
        verify_threshold=verify_threshold,
        frames=src.count,
        shape=src.shape,
        checked=doc.get("checked") or [],
        pixels=pixels,
    )
    full.update(expect)
    io.write_json(masks_dir / MASKS_RECORD, full)
    if record:
        io.write_json(record, full)
    warn_leaks(leaks, stacklevel=2)
    return {
        "frames": src.count,
        "tracks": len(tracks),
        "leaks": leaks,
        "leaked_frames": full["leaked_frames"],
        "checked": full["checked"],
        "track_report": full["tracks"],
        "unseen": _unseen(pixels),
        "masks": str(masks_dir),
        "record": str(record or masks_dir / MASKS_RECORD),
        "reused": reused,
        "output": str(output),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _unseen(pixels) -> float | None:
    """The share of the replaced pixels that no other frame showed, from ``inpaint_file``'s pixels per method."""
    if not pixels:
        return None
    filled = sum(n for name, n in pixels.items() if name != "original")
    seen = sum(n for name, n in pixels.items() if name.startswith("propagated"))
    return round((filled - seen) / filled, 3) if filled else None


def _carried_tracks(src, found, threshold: float, settings) -> list:
    """Tracks of ``found`` carried through the detector's misses, reading only the frames beside their ends."""
    cfg = settings.privacy
    plain = link_tracks(found, src.shape, threshold=threshold, settings=settings.replace(privacy={"CARRY": 0}))
    near: set[int] = set()
    for tr in plain:
        seen = tr.frames[~np.isnan(tr.scores)]
        near.update(range(max(0, seen[0] - cfg.CARRY - 1), seen[0] + 1))
        near.update(range(seen[-1], min(src.count, seen[-1] + cfg.CARRY + 2)))
    if not near:
        return plain
    # only the grey of the frames beside the tracks' ends is kept
    grey = {k: to_grey(f) for k, f in enumerate(src.frames()) if k in near}
    return link_tracks(found, src.shape, threshold=threshold, frame_at=grey.__getitem__, settings=settings)


def _write_all(src, output, frames, video_out: bool, run) -> None:
    """Every frame of ``frames`` to ``output`` (a video, or a folder named like the input's), all or nothing."""
    import shutil

    if video_out:
        media.write_video(output, frames, src.fps, src.shape)
        run.chunk_done(0)
        shutil.rmtree(run.folder, ignore_errors=True)  # the video is the output; its work folder goes
        return
    names = stream._output_names(src, False)  # lossless, named as inpaint_file names them
    with run.building() as tmp:
        for k, (name, frame) in enumerate(zip(names, frames)):
            io.write_frame(tmp / name, frame, like=stream._like(src, k))
