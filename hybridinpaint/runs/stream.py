"""Long videos in overlapping chunks: bounded memory, resumable runs, Dask clusters.

A video is cut into chunks of ``chunk`` frames that overlap by ``overlap``
frames. Each chunk is an independent :func:`hybridinpaint.inpaint` call (its
own flows, its own key frames), so chunks can run anywhere: in this process,
or as tasks on a Dask cluster. Results are joined in order: over an overlap
the fills of the two chunks are cross-faded (the later chunk's weight rising
from 1/(overlap+1) to overlap/(overlap+1)), so no seam shows in time; pixels
outside the mask are never blended and stay bit-identical.

Memory holds one chunk being read, the chunks in flight, and one overlap:
it does not grow with the video's length.

:func:`inpaint_file` writes each finished chunk's frames atomically and then
records the chunk in the run record in the output (``hybridinpaint-run.json``,
:mod:`hybridinpaint.runs.engine`)
together with the overlap the next chunk will blend with; a re-run on the
same output skips the recorded chunks and produces the same files as an
uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridinpaint import visualize
from hybridinpaint.completion import pipeline
from hybridinpaint.kernels import resolve_backend, warm_up
from hybridinpaint.kernels.checks import positive_int
from hybridinpaint.runs import engine, io, media
from hybridinpaint.settings import Settings, resolve

__all__ = ["inpaint_chunks", "inpaint_file", "FrameResult", "plan_chunks", "auto_chunking", "MANIFEST"]

MANIFEST = engine.RECORD  # the run record (hybridinpaint.runs.engine)
_TAIL = ".hybridinpaint-overlap-{}.npz"


@dataclass
class FrameResult:
    """One finished frame: the filled image and where its pixels came from.

    ``method`` (H, W) uint8 codes as :data:`hybridinpaint.completion.pipeline.METHOD_NAMES`;
    ``source_frame`` (H, W) int32 global frame index; ``confidence`` (H, W) float32.
    """

    index: int
    frame: np.ndarray
    method: np.ndarray
    source_frame: np.ndarray
    confidence: np.ndarray


def plan_chunks(count: int, chunk: int, overlap: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each chunk; consecutive chunks share ``overlap`` frames."""
    if count <= chunk:
        return [(0, count)]
    stride = chunk - overlap
    out = []
    start = 0
    while True:
        stop = min(start + chunk, count)
        out.append((start, stop))
        if stop == count:
            return out
        start += stride


def auto_chunking(h: int, w: int, *, settings=None) -> tuple[int, int]:
    """``(chunk, overlap)`` for frames of ``h`` x ``w``: 32 and 8 up to ~720x480, fewer frames above."""
    chunk = int(np.clip(round(resolve(settings).stream.AUTO_PIXELS / (h * w)), 8, 32))
    return chunk, _auto_overlap(chunk)


def _auto_overlap(chunk: int) -> int:
    """A quarter of the chunk, at least 2 where the chunk allows, at most 8."""
    return min(8, max(chunk // 4, min(2, (chunk - 1) // 2)))


def _chunking(chunk, overlap, shape, settings: Settings):
    if chunk is None:
        chunk = auto_chunking(*shape[:2], settings=settings)[0]
    _check_chunking(chunk, 0)
    if overlap is None:
        overlap = _auto_overlap(chunk)
    _check_chunking(chunk, overlap)
    return chunk, overlap


def _check_chunking(chunk, overlap):
    positive_int(chunk, "chunk (frames per chunk)", minimum=2)
    positive_int(overlap, "overlap", minimum=0)
    if 2 * overlap >= chunk:
        raise ValueError(f"overlap must be less than half of chunk ({chunk}), got {overlap}")


def fill_chunk(frames: np.ndarray, masks: np.ndarray, start: int, options: dict) -> dict:
    """Inpaint one chunk; the task a worker runs. Returns frames and per-pixel provenance (global frame indices)."""
    return _complete_chunk(frames, masks, start, _prepare_chunk(frames, masks, options))


def _prepare_chunk(frames, masks, options):
    """The chunk's first half (:func:`pipeline.prepare`: mostly host work), or None for an empty mask."""
    return pipeline.prepare(frames, masks, **options) if masks.any() else None


def _complete_chunk(frames, masks, start, prepared) -> dict:
    t, h, w = masks.shape
    # Only what the joiner reads, each made once (the source positions are not kept).
    method = np.zeros((t, h, w), np.uint8)
    source_frame = np.empty((t, h, w), np.int32)
    source_frame[:] = np.arange(start, start + t, dtype=np.int32)[:, None, None]
    confidence = np.ones((t, h, w), np.float32)
    if prepared is None:
        out, hole = frames, masks
    else:
        out, hole, filled = pipeline.complete_filled(prepared)
        at = filled.t, filled.y, filled.x
        method[at] = filled.method
        source_frame[at] = filled.source_frame + np.int32(start)
        confidence[at] = filled.confidence
    return {"frames": out, "method": method, "source_frame": source_frame, "confidence": confidence, "hole": hole}


class _Joiner:
    """Cross-fades consecutive chunk results over their overlap and yields finished frames in order."""

    def __init__(self, overlap: int, tail: dict | None = None):
        self.overlap = overlap
        self.tail = tail  # the previous chunk's last `overlap` frames, with "start"

    def add(self, start: int, stop: int, result: dict, last: bool) -> Iterator[FrameResult]:
        n = stop - start
        head = 0
        if self.tail is not None:
            head = self.overlap
            for o in range(self.overlap):
                yield self._blend(o, result)
        end = n if last else n - self.overlap
        for j in range(head, end):
            yield FrameResult(
                start + j,
                result["frames"][j],
                result["method"][j],
                result["source_frame"][j],
                result["confidence"][j],
            )
        if last:
            self.tail = None
        else:
            keys = ("frames", "method", "source_frame", "confidence", "hole")
            self.tail = {k: np.array(result[k][end:]) for k in keys}
            self.tail["start"] = start + end

    def _blend(self, o: int, result: dict) -> FrameResult:
        tail = self.tail
        w = (o + 1) / (self.overlap + 1)
        a, b = tail["frames"][o], result["frames"][o]
        hole = tail["hole"][o] | result["hole"][o]
        out = b.copy()
        mixed = (1 - w) * a[hole].astype(np.float64) + w * b[hole].astype(np.float64)
        if np.issubdtype(out.dtype, np.integer):
            mixed = np.clip(np.rint(mixed), 0, np.iinfo(out.dtype).max)
        out[hole] = mixed.astype(out.dtype)
        near = result if w >= 0.5 else tail
        return FrameResult(tail["start"] + o, out, near["method"][o], near["source_frame"][o], near["confidence"][o])


def _chunks(frames: Iterator, masks, plan, first: int):
    """``(index, start, stop, frames, masks)`` for chunks ``first``... read from iterators starting at plan[first]."""
    if first >= len(plan):
        return
    buf_f, buf_m = deque(), deque()
    pos = plan[first][0]
    for i in range(first, len(plan)):
        start, stop = plan[i]
        while buf_f and pos - len(buf_f) < start:  # drop frames before this chunk
            buf_f.popleft()
            buf_m.popleft()
        while pos < stop:
            f = next(frames, None)
            if f is None:
                raise ValueError(f"the input ended after {pos} frames")
            buf_f.append(f)
            buf_m.append(masks if isinstance(masks, np.ndarray) else next(masks))
            pos += 1
        yield i, start, stop, np.stack(buf_f), np.stack(buf_m)


def _ordered(tasks, options, client=None, in_flight=2):
    """Run ``fill_chunk`` on each task; yield ``(i, start, stop, result)`` in task order."""
    if client is not None:
        yield from _on_cluster(tasks, options, client, in_flight)
    elif _overlapping(options):
        yield from _overlapped(tasks, options)
    else:
        for i, start, stop, f, m in tasks:
            yield i, start, stop, fill_chunk(f, m, start, options)


def _overlapping(options) -> bool:
    """Whether to prepare the next chunk while this one fills (``[stream] OVERLAP``)."""
    mode = options["settings"].stream.OVERLAP
    return mode == "always" or (mode == "device" and resolve_backend(options.get("backend", "auto")) == "cuda")


def _overlapped(tasks, options):
    """``fill_chunk`` in two halves: chunk k + 1's preparation (a second thread) runs while chunk k is completed.

    The preparation is optical flow on the host; with CUDA the completion is
    device work the host only launches, so the two share the time. Results
    are the same as one after the other: the halves of one chunk share
    nothing with another chunk's, and parallel CPU kernels take turns
    (``kernels._accelerate.run_cpu``).
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridinpaint-prepare")
    try:
        ahead = None
        for task in tasks:
            _, _, _, f, m = task
            nxt = task, pool.submit(_prepare_chunk, f, m, options)
            if ahead is not None:
                yield _completed(*ahead)
            ahead = nxt
        if ahead is not None:
            yield _completed(*ahead)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _completed(task, prepared):
    i, start, stop, f, m = task
    return i, start, stop, _complete_chunk(f, m, start, prepared.result())


def _on_cluster(tasks, options, client, in_flight):
    pending = deque()
    for i, start, stop, f, m in tasks:
        pending.append((i, start, stop, client.submit(fill_chunk, f, m, start, options, pure=False)))
        if len(pending) >= in_flight:
            i0, s0, e0, fut = pending.popleft()
            yield i0, s0, e0, fut.result()
    while pending:
        i0, s0, e0, fut = pending.popleft()
        yield i0, s0, e0, fut.result()


def _inpaint_options(options: dict, settings: Settings) -> dict:
    """The keyword arguments of every chunk's :func:`inpaint`: ``options`` and the run's settings."""
    opts = dict(options)
    for bad in ("return_result", "progress", "settings"):
        if bad in opts:
            raise TypeError(f"{bad} is not an option of chunked inpainting")
    opts["settings"] = settings
    return opts


def inpaint_chunks(
    frames: Iterable, masks, *, chunk=None, overlap=None, settings=None, **options
) -> Iterator[FrameResult]:
    """Inpaint a stream of frames in overlapping chunks; yield finished frames in order.

    Parameters
    ----------
    frames : iterable of ndarray (H, W) or (H, W, C)
        Any iterable, e.g. a generator reading frames from disk; about two
        chunks are held in memory at a time.
    masks : ndarray (H, W), or (T, H, W) or an iterable of (H, W) arrays
        One mask for every frame, or one per frame (True where missing).
    chunk, overlap : int, keyword-only
        Frames per chunk and frames shared by consecutive chunks (cross-faded
        in the holes); ``overlap < chunk / 2``. By default
        :func:`auto_chunking` picks them from the frame size (32 and 8 for
        SD; 12 and 3 at 1080p, to bound memory).
    settings : Settings, dict or path, optional, keyword-only
        The run's tunables (:class:`hybridinpaint.settings.Settings`), the same for every chunk.
    **options
        Passed to :func:`hybridinpaint.inpaint` (``backend``,
        ``hallucinate``, ``mask_dilation`` ...).

    Yields
    ------
    FrameResult

    Examples
    --------
    >>> import numpy as np, hybridinpaint
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.random((24, 60, 3)).astype(np.float32)
    >>> video = (scene[:, t : t + 40] for t in range(12))  # a generator: frames arrive one by one
    >>> hole = np.zeros((24, 40), bool); hole[8:14, 15:22] = True
    >>> out = [r.frame for r in hybridinpaint.inpaint_chunks(video, hole, chunk=6, overlap=2, backend="cpu")]
    >>> len(out), out[0].shape
    (12, (24, 40, 3))
    """
    settings = resolve(settings)
    options = _inpaint_options(options, settings)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    chunk, overlap = _chunking(chunk, overlap, np.shape(first), settings)
    if isinstance(masks, np.ndarray) and masks.ndim == 2:
        masks = masks.astype(bool)
    elif isinstance(masks, np.ndarray) and masks.ndim != 3:
        raise ValueError(f"masks must be one (H, W) mask or (T, H, W) masks, got shape {masks.shape}")
    else:
        masks = iter(masks)
    joiner = _Joiner(overlap)
    buffered = _lookahead(first, frames)
    # The length is unknown: plan as if endless, and end where the input does
    # (a chunk is known to be the last once the next one does not come).
    pending = None
    for _, start, stop, result in _ordered(_endless_chunks(buffered, masks, chunk, overlap), options):
        if pending is not None:
            yield from joiner.add(*pending, last=False)
        pending = start, stop, result
    if pending is not None:
        yield from joiner.add(*pending, last=True)


def _lookahead(first, rest):
    yield first
    yield from rest


def _endless_chunks(frames, masks, chunk, overlap):
    """Chunks of an iterator of unknown length; the last one may be shorter."""
    buf_f, buf_m = [], []
    start = 0
    for f in frames:
        buf_f.append(f)
        buf_m.append(masks if isinstance(masks, np.ndarray) else next(masks))
        if len(buf_f) == chunk:
            yield 0, start, start + chunk, np.stack(buf_f), np.stack(buf_m)
            buf_f, buf_m = buf_f[chunk - overlap :], buf_m[chunk - overlap :]
            start += chunk - overlap
    if len(buf_f) > overlap or start == 0:
        yield 0, start, start + len(buf_f), np.stack(buf_f), np.stack(buf_m)
    # A last chunk holding only the overlap adds nothing: the previous chunk
    # already covers it, so that chunk becomes the last (see inpaint_chunks).


# ------------------------------------------------------------------ files


def _save_tail(path: Path, tail: dict):
    tmp = path.with_name(f"{path.name}.tmp.npz")
    np.savez(tmp, **tail)
    os.replace(tmp, path)


def _clean_leftovers(work: Path, done: int, provenance) -> None:
    """Delete what a killed run of ours left half-written: temp files, and overlaps no chunk will read."""
    keep = _TAIL.format(done - 1)
    folders = [work] + ([Path(provenance)] if provenance else [])
    for folder in folders:
        for p in folder.iterdir():
            ours = (p.name.startswith(".") and ".tmp-" in p.name) or (
                folder == work and p.name.startswith((".hybridinpaint-", f".{MANIFEST}"))
            )
            if ours and p.name != keep and p.is_file():
                p.unlink()


def inpaint_file(
    input,
    mask,
    output,
    *,
    chunk=None,
    overlap=None,
    provenance=None,
    resume=None,
    overwrite=False,
    scheduler=None,
    workers=None,
    progress=False,
    on_frame=None,
    settings=None,
    command="inpaint",
    **options,
) -> dict:
    """Inpaint a video file or frame folder to a frame folder or video file, chunk by chunk.

    Parameters
    ----------
    input : path
        A video (mp4, mov, mkv, avi) or a folder of frames (PNG, JPEG, TIFF,
        DPX).
    mask : path
        One image for every frame, a folder of per-frame masks (matched in
        sorted order) or a mask video; white (or 1) where missing.
    output : path
        A folder (lossless PNG, or TIFF/DPX when the input frames are; same
        bit depth; a folder input keeps its file names) or a video file
        (lossless where the codec allows, the input's frame rate).
    chunk, overlap : int, keyword-only
        Frames per chunk and frames shared by consecutive chunks; by default
        from the frame size (:func:`auto_chunking`).
    provenance : path, optional, keyword-only
        Folder for per-frame provenance maps (PNG, colours as
        :func:`hybridinpaint.visualize.provenance`).
    resume : bool or None, keyword-only
        None (default): continue a run recorded in ``output`` if there is
        one, else start; True: there must be one to continue; False: refuse
        an output that holds one.
    overwrite : bool, keyword-only
        Delete an earlier output first (only a folder holding a run
        manifest, or the named video file; provenance maps are overwritten
        in place).
    scheduler : str, optional, keyword-only
        Address of a Dask scheduler (``tcp://host:8786``) to send chunks to.
    workers : int, optional, keyword-only
        Start a local Dask cluster of this many worker processes.
    progress : bool, keyword-only
        A progress bar on stderr.
    on_frame : callable, optional, keyword-only
        Called with each frame's index once it is written (for a progress
        display of one's own, such as the studio's).
    settings : Settings, dict or path, optional, keyword-only
        The run's tunables (:class:`hybridinpaint.settings.Settings`): sent
        with every chunk (to Dask workers too), recorded in the run
        manifest, and compared when a run is resumed (a different value is
        refused, naming it; ``overwrite`` starts again).
    command : str, keyword-only
        The command named in the run record (``remove`` and ``anonymize`` run on this).
    **options
        Passed to :func:`hybridinpaint.inpaint`.

    Returns
    -------
    dict
        ``frames``, ``chunks``, ``resumed_chunks``, ``pixels`` (filled
        pixels per method, in this call), ``seconds``, ``output``, and
        ``empty_mask`` (True when no pixel was filled: the input was copied
        through).
    """
    t0 = time.perf_counter()
    settings = resolve(settings)
    options = _inpaint_options(options, settings)
    input, mask, output = Path(input), Path(mask), Path(output)
    src = media.FrameSource(input)
    chunk, overlap = _chunking(chunk, overlap, src.shape, settings)
    masks = media.open_masks(mask, src.count, src.shape)
    video_out = media.is_video(output)
    if not video_out and output.suffix and output.suffix.lower() in io.FRAME_SUFFIXES:
        raise ValueError(f"output {output} looks like an image file; give a folder or a video file")
    work = output.with_name(output.name + ".parts") if video_out else output
    if provenance and Path(provenance).resolve() in (work.resolve(), output.resolve()):
        raise ValueError(f"provenance {provenance} is the output folder; give the maps a folder of their own")
    plan = plan_chunks(src.count, chunk, overlap)
    run = engine.start(
        work,
        command=command,
        inputs={"input": input, "mask": mask},
        frames=src.count,
        options={
            "chunk": chunk,
            "overlap": overlap,
            **{k: _jsonable(v) for k, v in sorted(options.items()) if k != "settings"},
        },
        settings=settings,
        plan=plan,
        resume=resume,
        overwrite=overwrite,
        video=output if video_out else None,
        others={"--provenance": Path(provenance) if provenance else None},
    )
    try:
        return _run_chunks(
            run,
            src,
            masks,
            output,
            video_out,
            provenance,
            chunk,
            overlap,
            scheduler,
            workers,
            progress,
            on_frame,
            options,
            t0,
        )
    except BaseException:
        run.abandon()
        raise


def _run_chunks(
    run, src, masks, output, video_out, provenance, chunk, overlap, scheduler, workers, progress, on_frame, options, t0
):
    """The chunks of ``run`` not yet done: filled (here or on Dask), joined, written, recorded."""

    work, done, plan = run.folder, run.done, run.plan
    if provenance:
        Path(provenance).mkdir(parents=True, exist_ok=True)
    _clean_leftovers(work, done, provenance)

    names = _output_names(src, video_out)
    tail = None
    if done and done < len(plan):
        with np.load(work / _TAIL.format(done - 1)) as z:
            tail = {k: z[k] for k in z.files}
            tail["start"] = int(tail["start"])
    joiner = _Joiner(overlap, tail)
    start_frame = plan[done][0] if done < len(plan) else src.count
    frame_iter = src.frames(start_frame)
    mask_iter = masks if isinstance(masks, np.ndarray) else masks(start_frame)
    if done < len(plan) and scheduler is None:
        # Compile (or load from the cache) the kernels before the frame bar
        # starts, so its rate and time left measure the work, not the
        # compiler; local Dask workers then load them from the cache.
        warm_up(options.get("backend", "auto"), progress=progress)
    pixels = {name: 0 for code, name in pipeline.METHOD_NAMES.items() if code}
    client, cluster = _dask_client(scheduler, workers)
    # Started once the cluster is up; frames arrive a chunk at a time, and the bar moves a
    # chunk at a time: moved per frame, the first frame alone would seem to have taken a whole
    # chunk's time, and a 20-frame run promised 47 minutes.
    bar = engine.progress_bar(src.count, desc="inpainting", initial=start_frame, enabled=progress)
    try:
        in_flight = 2 * max(1, len(client.scheduler_info()["workers"])) if client is not None else 1
        tasks = _chunks(frame_iter, mask_iter, plan, done)
        for i, start, stop, result in _ordered(tasks, options, client, in_flight):
            last = i == len(plan) - 1
            written = 0
            for fr in joiner.add(start, stop, result, last):
                written += 1
                io.write_frame(work / names[fr.index], fr.frame, like=_like(src, fr.index))
                if provenance:
                    io.write_frame(Path(provenance) / f"{Path(names[fr.index]).stem}.png", _prov_image(fr, chunk))
                for code, name in pipeline.METHOD_NAMES.items():
                    if code:
                        pixels[name] += int((fr.method == code).sum())
                if on_frame is not None:
                    on_frame(fr.index)
            bar.update(written)
            if not last:
                _save_tail(work / _TAIL.format(i), joiner.tail)
            run.chunk_done(i)
            stale = work / _TAIL.format(i - 1)
            if stale.exists():
                stale.unlink()
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    bar.close()
    if video_out:
        files = [work / n for n in names]
        media.write_video(output, (io.read_frame(f) for f in files), src.fps, src.shape)
        shutil.rmtree(work)
    summary = {
        "frames": src.count,
        "chunks": len(plan),
        "resumed_chunks": done,
        "pixels": pixels,
        "seconds": round(time.perf_counter() - t0, 3),
        "output": str(output),
    }
    summary["empty_mask"] = not any(pixels.values())
    return summary


def _jsonable(v):
    return v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)


def _output_names(src, video_out: bool) -> list[str]:
    if src.names is not None and not video_out:
        out = []
        for n in src.names:
            p = Path(n)
            # Lossless and the same depth: PNG unless the scans are TIFF or DPX.
            out.append(n if p.suffix.lower() in (".png", ".tif", ".tiff", ".dpx") else p.stem + ".png")
        return out
    return [f"frame_{k:06d}.png" for k in range(src.count)]


def _like(src, k):
    return src.path / src.names[k] if src.names is not None else None


def _prov_image(fr: FrameResult, far: int) -> np.ndarray:
    from types import SimpleNamespace

    prov = SimpleNamespace(method=fr.method[None], source_frame=fr.source_frame[None] - np.int32(fr.index))
    return visualize.provenance(SimpleNamespace(frames=fr.frame[None], provenance=prov), max_distance=far)[0]


def _dask_client(scheduler, workers):
    if scheduler is None and workers is None:
        return None, None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(
            'scheduler/workers need dask.distributed; install it with `pip install "hybridinpaint[dask]"`'
        ) from None
    if scheduler is not None and workers is not None:
        raise ValueError("give either scheduler (an existing cluster) or workers (a local one), not both")
    if scheduler is not None:
        return Client(scheduler, timeout=30), None
    workers = positive_int(workers, "workers")
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    return Client(cluster), cluster
