"""One studio session: the served folder, the open clip, its masks, previews, the job, restore review.

Every path a request names is resolved inside the served folder (:meth:`Studio.resolve`);
the web layer (:mod:`hybridinpaint.interfaces.studio.app`) only translates requests into these calls.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.completion import arrays as _arrays

__all__ = ["Studio", "StudioError", "PREVIEW_SCALE"]

# Previews are filled at 1/PREVIEW_SCALE of the frame size: quick, and enough
# to judge a mask.
PREVIEW_SCALE = 2
PREVIEW_FRAMES = 10
MAX_PREVIEW_FRAMES = 30
# The open clip is held in memory (tracking needs all of it): refuse more than this.
MAX_CLIP_BYTES = 2 << 30


class StudioError(ValueError):
    """A request the studio refuses (bad path, nothing open, bad argument): answered with 400."""


def _jpeg(img: np.ndarray, quality=90) -> bytes:
    rgb = _arrays.rgb8(img)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()


def _png(img: np.ndarray) -> bytes:
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", img)
    return buf.tobytes()


class Studio:
    """What one studio session holds: the root, the open video, its masks, the preview, the job."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"studio root {root} is not a folder")
        self.lock = threading.Lock()
        self.path: Path | None = None
        self.frames: np.ndarray | None = None
        self.drawn: dict[int, np.ndarray] = {}
        self.masks: np.ndarray | None = None
        self.confidence: list = []
        self.unsure: list = []
        self.preview: dict[int, np.ndarray] = {}
        self.job: dict = {"state": "idle"}
        self.restore: Path | None = None
        self._fixes_cache = (None, None)  # (which file version, its validated record)

    # ---------------------------------------------------------------- paths
    def resolve(self, rel) -> Path:
        """``rel`` (relative to the root, or absolute) as a path under the root; StudioError otherwise."""
        if not isinstance(rel, str) or not rel or "\x00" in rel:
            raise StudioError(f"path must be a non-empty string, got {rel!r}")
        p = Path(rel)
        p = (p if p.is_absolute() else self.root / p).resolve()
        if p != self.root and self.root not in p.parents:
            raise StudioError(f"path {rel} lies outside the folder the studio serves ({self.root}): refused")
        return p

    def listing(self, rel=".") -> dict:
        """Folders and videos under ``rel``, and what each is (frames, video, restore output)."""
        from hybridinpaint.runs import io, media

        folder = self.resolve(rel)
        if not folder.is_dir():
            raise StudioError(f"{rel} is not a folder")
        entries = []
        for p in sorted(folder.iterdir()):
            if p.name.startswith("."):
                continue
            kind = None
            if p.is_dir():
                if (p / "fixes.json").is_file():
                    kind = "restore"
                elif any(q.suffix.lower() in io.FRAME_SUFFIXES for q in p.iterdir() if q.is_file()):
                    kind = "frames"
                else:
                    kind = "folder"
            elif media.is_video(p):
                kind = "video"
            if kind:
                entries.append({"name": p.name, "path": str(p.relative_to(self.root)), "kind": kind})
        return {"root": str(self.root), "path": str(folder.relative_to(self.root)), "entries": entries}

    # ---------------------------------------------------------------- video
    def open(self, rel) -> dict:
        from hybridinpaint.runs import media

        p = self.resolve(rel)
        if p.is_dir() and (p / "fixes.json").is_file():
            return self.open_restore(p)
        src = media.FrameSource(p)
        size = src.count * int(np.prod(src.shape)) * np.dtype(src.dtype).itemsize
        if size > MAX_CLIP_BYTES:
            raise StudioError(
                f"{rel} holds {src.count} frames ({size / 2**30:.1f} GiB): the studio holds a clip in memory, "
                f"at most {MAX_CLIP_BYTES / 2**30:.0f} GiB; cut a shot, or use hybridinpaint remove / inpaint"
            )
        frames = np.stack(list(src.frames()))
        with self.lock:
            self.path, self.frames = p, frames
            self.drawn, self.masks, self.preview = {}, None, {}
            self.confidence, self.unsure = [], []
            self.restore = None
        return self.info()

    def info(self) -> dict:
        if self.frames is None:
            return {"kind": None}
        t, h, w = self.frames.shape[:3]
        return {
            "kind": "video",
            "path": str(self.path.relative_to(self.root)),
            "frames": t,
            "width": w,
            "height": h,
            "drawn": sorted(self.drawn),
            "tracked": self.masks is not None,
            "unsure": self.unsure,
            "job": self.job,
        }

    def need_video(self):
        if self.frames is None:
            raise StudioError("open a video or frame folder first")
        return self.frames

    def frame_index(self, k) -> int:
        frames = self.need_video()
        if not 0 <= k < frames.shape[0]:
            raise StudioError(f"frame must be in [0, {frames.shape[0] - 1}], got {k}")
        return k

    def frame_jpeg(self, k) -> bytes:
        return _jpeg(self.need_video()[self.frame_index(k)])

    def mask_of(self, k) -> np.ndarray | None:
        """The mask shown on frame ``k``: what was drawn there, else the tracked mask."""
        self.frame_index(k)
        if k in self.drawn:
            return self.drawn[k]
        if self.masks is not None:
            return self.masks[k]
        return None

    def mask_png(self, k) -> bytes:
        """The mask of frame ``k`` as an RGBA overlay (opaque red where masked; the page shows it half transparent)."""
        h, w = self.need_video().shape[1:3]
        m = self.mask_of(k)
        rgba = np.zeros((h, w, 4), np.uint8)
        if m is not None:
            rgba[m] = (255, 40, 40, 255)
        return _png(rgba)

    def set_drawn(self, k, png: bytes) -> dict:
        """Store the mask drawn on frame ``k`` (a PNG: any non-transparent, non-black pixel is masked)."""
        frames = self.need_video()
        self.frame_index(k)
        img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise StudioError("the mask must be a PNG image")
        h, w = frames.shape[1:3]
        if img.shape[:2] != (h, w):
            raise StudioError(f"the mask is {img.shape[1]}x{img.shape[0]}, the frames are {w}x{h}")
        if img.ndim == 3 and img.shape[2] == 4:
            m = img[:, :, 3] > 127
        else:
            m = (img.reshape(h, w, -1).max(axis=2) > 127) if img.ndim == 3 else img > 127
        with self.lock:
            if m.any():
                self.drawn[k] = m
            else:
                self.drawn.pop(k, None)
            self.preview = {}
        return self.info()

    def track(self) -> dict:
        from hybridinpaint import track_mask

        frames = self.need_video()
        if not self.drawn:
            raise StudioError("draw a mask on a frame first")
        t0 = time.perf_counter()
        res = track_mask(frames, dict(self.drawn), return_result=True)
        with self.lock:
            self.masks = res.masks
            self.confidence = [round(float(c), 3) for c in res.confidence]
            self.unsure = [int(u) for u in res.unsure]
            self.preview = {}
        return {**self.info(), "confidence": self.confidence, "seconds": round(time.perf_counter() - t0, 3)}

    def current_masks(self) -> np.ndarray:
        frames = self.need_video()
        if self.masks is not None:
            masks = self.masks.copy()
            for k, m in self.drawn.items():
                masks[k] = m
            return masks
        if len(self.drawn) == 1:  # one drawn mask, not tracked: the same hole on every frame
            (m,) = self.drawn.values()
            return np.broadcast_to(m, frames.shape[:3]).copy()
        raise StudioError("track the drawn masks first (or draw on one frame only)")

    def make_preview(self, start=0, count=PREVIEW_FRAMES) -> dict:
        """Fill frames ``start`` .. ``start + count - 1`` at 1/PREVIEW_SCALE of the size."""
        from hybridinpaint import inpaint
        from hybridinpaint.completion import flow

        frames = self.need_video()
        t, h, w = frames.shape[:3]
        if not (isinstance(start, int) and isinstance(count, int)) or count < 1 or count > MAX_PREVIEW_FRAMES:
            raise StudioError(f"preview: start and count must be integers, 1 <= count <= {MAX_PREVIEW_FRAMES}")
        start = min(max(0, start), t - 1)
        stop = min(t, start + count)
        masks = self.current_masks()[start:stop]
        t0 = time.perf_counter()
        size = (max(16, w // PREVIEW_SCALE), max(16, h // PREVIEW_SCALE))
        small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames[start:stop]])
        small_masks = np.stack([cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0 for m in masks])
        small_masks = flow.dilate(small_masks, 1)
        out = inpaint(small, small_masks, backend="cpu") if small_masks.any() else small
        with self.lock:
            self.preview = {start + i: out[i] for i in range(stop - start)}
        return {"frames": list(range(start, stop)), "seconds": round(time.perf_counter() - t0, 3)}

    def preview_jpeg(self, k) -> bytes:
        if k not in self.preview:
            raise StudioError(f"no preview of frame {k}: make one first")
        return _jpeg(self.preview[k])

    # ---------------------------------------------------------------- the full job
    def run(self, output, mask_dilation=3) -> dict:
        """Start the whole job in a background thread: masks written, then ``inpaint_file``.

        A job interrupted (the studio stopped) continues where it stopped
        when run again with the same masks; with other masks it starts again.
        """
        from hybridinpaint.runs.remove import masks_folder, write_masks

        frames = self.need_video()
        if self.job.get("state") == "running":
            raise StudioError("a job is running; wait for it to finish")
        out = self.resolve(output)
        masks_dir = masks_folder(out, None, {"input": self.path})
        write_masks(masks_dir, self.current_masks())
        prov_dir = out.with_name(out.name + ".provenance")
        self.job = {
            "state": "running",
            "done": 0,
            "total": int(frames.shape[0]),
            "output": str(out.relative_to(self.root)),
        }
        thread = threading.Thread(
            target=self._run, args=(out, masks_dir, prov_dir, int(mask_dilation)), daemon=True, name="studio-job"
        )
        thread.start()
        return self.job

    def _run(self, out, masks_dir, prov_dir, mask_dilation):
        from hybridinpaint.runs import stream

        job = self.job
        options = dict(
            provenance=prov_dir,
            mask_dilation=mask_dilation,
            backend="cpu",
            progress=False,
            on_frame=lambda k: job.update(done=k + 1),
        )
        try:
            try:  # continue an earlier run of the same job (same input, masks and settings)
                summary = stream.inpaint_file(self.path, masks_dir, out, **options)
            except ValueError as exc:
                if "holds a run with a different" not in str(exc):
                    raise
                # the masks changed since: the earlier output is ours (it holds our manifest), start again
                summary = stream.inpaint_file(self.path, masks_dir, out, overwrite=True, **options)
            job.update(state="done", done=job["total"], seconds=summary["seconds"], resumed=summary["resumed_chunks"])
        except Exception as exc:  # noqa: BLE001 - reported to the page, which shows it
            job.update(state="failed", error=str(exc))

    def result_image(self, what, k) -> bytes:
        from hybridinpaint.runs import io

        if what not in ("result", "provenance"):
            raise StudioError(f"unknown image kind {what!r} (result or provenance)")
        if self.job.get("state") != "done":
            raise StudioError("no finished job: run one first")
        out = self.resolve(self.job["output"])
        folder = out if what == "result" else out.with_name(out.name + ".provenance")
        files = io.list_frames(folder)
        if not 0 <= k < len(files):
            raise StudioError(f"frame must be in [0, {len(files) - 1}], got {k}")
        img = io.read_frame(files[k])
        return _jpeg(img) if what == "result" else _png(_arrays.rgb8(img))

    # ---------------------------------------------------------------- restore review
    def _fixes_doc(self, folder=None) -> dict:
        """The validated ``fixes.json`` of ``folder`` (default: the open restore output).

        Read and validated once per version of the file: the table asks for
        two crops per fix, and each would otherwise validate the whole record.
        """
        from hybridinpaint.runs.restore import load_fixes

        folder = self.restore if folder is None else folder
        if folder is None:
            raise StudioError("open a restore output first")
        st = (folder / "fixes.json").stat()
        key = (str(folder), st.st_ino, st.st_mtime_ns, st.st_size)
        if self._fixes_cache[0] != key:
            self._fixes_cache = (key, load_fixes(folder))
        return self._fixes_cache[1]

    def open_restore(self, p: Path) -> dict:
        doc = self._fixes_doc(p)
        scans = Path(doc["scans"]).resolve()
        if scans != self.root and self.root not in scans.parents:
            raise StudioError(f"the scans of {p.name} ({scans}) lie outside the folder the studio serves: refused")
        with self.lock:
            self.restore = p
            self.frames = None
        return self.fixes()

    def fixes(self) -> dict:
        doc = self._fixes_doc()
        keep = ("id", "frame", "file", "bbox", "area", "kind", "score", "method", "confidence", "reverted")
        return {
            "kind": "restore",
            "path": str(self.restore.relative_to(self.root)),
            "frames": len(doc["frames"]),
            "fixes": [{k: f[k] for k in keep if k in f} for f in doc["fixes"]],
            "report": (self.restore / "report.html").is_file(),
        }

    def fix_crop(self, ident, which) -> bytes:
        from hybridinpaint.runs import io

        doc = self._fixes_doc()
        fix = next((f for f in doc["fixes"] if f["id"] == ident), None)
        if fix is None:
            raise StudioError(f"no fix with id {ident}")
        if which not in ("before", "after"):
            raise StudioError(f"crop must be before or after, got {which!r}")
        folder = self.resolve(doc["scans"]) if which == "before" else self.restore / "frames"
        img = _arrays.rgb8(io.read_frame(folder / fix["file"]))
        y0, x0, y1, x1 = fix["bbox"]
        pad = 12
        h, w = img.shape[:2]
        crop = img[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)]
        scale = max(1, 96 // max(crop.shape[:2]))
        return _png(cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST))

    def revert(self, ids) -> dict:
        from hybridinpaint.runs.restore import revert_dir

        if self.restore is None:
            raise StudioError("open a restore output first")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise StudioError(f"ids must be a non-empty list of fix ids, got {ids!r}")
        revert_dir(self.restore, ids)
        return self.fixes()
