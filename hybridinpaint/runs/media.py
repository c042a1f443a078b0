"""Videos and frame folders as streams of frames, and masks to match.

Video files (mp4, mov, mkv, avi) are read with PyAV where it is installed
(the ``video`` extra) and with OpenCV otherwise; frames come out RGB uint8.
Frame folders (PNG, JPEG, TIFF, DPX; 8/16-bit, grey or RGB) keep their
depth. Video output is lossless FFV1 with PyAV (MKV, AVI or MOV; MP4 gets
lossless H.264 RGB where the codec is built in), and OpenCV's FFV1 or MP4V
otherwise; the frame rate is kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.runs import io

__all__ = ["VIDEO_SUFFIXES", "open_masks", "FrameSource", "write_video", "is_video"]

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm")


def is_video(path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _pyav():
    try:
        import av
    except ImportError:
        return None
    return av


class FrameSource:
    """Frames of a video file or a frame folder, read in order from any start.

    Attributes: ``path``, ``count``, ``shape`` (H, W) or (H, W, C),
    ``dtype``, ``fps`` (None for folders), ``names`` (file names of a
    folder's frames, else None).
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"input not found: {self.path}")
        self.fps = None
        self.names = None
        if self.path.is_dir():
            self._files = io.list_frames(self.path)
            self.names = [f.name for f in self._files]
            first = io.read_frame(self._files[0])
            self.count, self.shape, self.dtype = len(self._files), first.shape, first.dtype
        elif is_video(self.path):
            self._files = None
            self.count, self.shape, self.fps = _probe_video(self.path)
            self.dtype = np.dtype(np.uint8)
        else:
            raise ValueError(
                f"input {self.path} is neither a frame folder nor a video ({', '.join(VIDEO_SUFFIXES)}); "
                "a single image is a one-frame folder"
            )

    def frames(self, start: int = 0) -> Iterator[np.ndarray]:
        """Frames ``start``, ``start + 1``, ... to the end; each checked against the first."""
        if self._files is not None:
            for f in self._files[start:]:
                img = io.read_frame(f)
                if img.shape != self.shape or img.dtype != self.dtype:
                    raise ValueError(
                        f"frames differ: {self._files[0].name} is {self.shape} {self.dtype}, "
                        f"{f.name} is {img.shape} {img.dtype}"
                    )
                yield img
            return
        for k, img in enumerate(_decode(self.path)):
            if k >= start:
                yield img


def _probe_video(path: Path):
    av = _pyav()
    if av is not None:
        try:
            with av.open(str(path)) as box:
                if not box.streams.video:
                    raise ValueError(f"{path} holds no video stream")
                stream = box.streams.video[0]
                fps = float(stream.average_rate) if stream.average_rate else None
                shape = (stream.codec_context.height, stream.codec_context.width, 3)
                count = stream.frames or sum(1 for p in box.demux(stream) if p.size)
        except av.error.FFmpegError as exc:
            raise ValueError(f"cannot read video {path}: {exc}") from exc
        return count, shape, fps
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError(f"cannot read video {path} (OpenCV could not open it; installing PyAV may help)")
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = cap.get(cv2.CAP_PROP_FPS) or None
        count = 0
        while cap.grab():  # the container's frame count can be an estimate
            count += 1
    finally:
        cap.release()
    if count == 0:
        raise ValueError(f"cannot read video {path}: no frames decoded")
    return count, (h, w, 3), fps


def _decode(path: Path) -> Iterator[np.ndarray]:
    av = _pyav()
    if av is not None:
        with av.open(str(path)) as box:
            for frame in box.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
        return
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def _as_mask(img: np.ndarray, where="mask") -> np.ndarray:
    """True where missing: any channel above half the range, or above 0 in a 0/1 image.

    A mask drawn in mid grey (values up to 64-127 of 255, none above) is
    refused rather than read as empty; fainter values (compression noise in
    a mask video) are not marks.
    """
    grey = img if img.ndim == 2 else img.max(axis=2)
    top = int(grey.max())
    if top <= 1:
        return grey > 0
    half = np.iinfo(grey.dtype).max // 2
    if half // 2 < top <= half:
        raise ValueError(
            f"{where}: values go up to {top} and none is above {half} (half of {np.iinfo(grey.dtype).max}); "
            "masks are 0/1 or black/white, white where missing"
        )
    return grey > half


def open_masks(path, count: int, shape) -> Iterator[np.ndarray] | np.ndarray:
    """Masks for ``count`` frames of ``shape`` (H, W, ...): one image for all, a folder or a video.

    Returns an ``(H, W)`` bool array for a single image, else a fresh
    iterator factory ``start -> iterator`` of ``(H, W)`` bool masks.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"mask not found: {path}")
    h, w = shape[:2]
    if path.is_file() and path.suffix.lower() in io.FRAME_SUFFIXES:
        mask = _as_mask(io.read_frame(path), f"mask {path}")
        if mask.shape != (h, w):
            raise ValueError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]}, the frames are {w}x{h}")
        return mask
    src = FrameSource(path)
    if src.count != count:
        raise ValueError(f"mask {path} holds {src.count} frames, the input {count}")
    if src.shape[:2] != (h, w):
        raise ValueError(f"masks in {path} are {src.shape[1]}x{src.shape[0]}, the frames are {w}x{h}")

    def frames(start=0):
        for k, img in enumerate(src.frames(start), start=start):
            yield _as_mask(img, f"mask {path}, frame {k}")

    return frames


# Written into the container's metadata, so that --overwrite can tell a video
# of ours from one it must never delete.
_TAG = "written by hybridinpaint"


def written_by_hybridinpaint(path) -> bool:
    """Whether video ``path`` carries our tag (needs PyAV; without it, nothing can be shown: False)."""
    av = _pyav()
    if av is None:
        return False
    try:
        with av.open(str(path)) as box:
            return any(str(v) == _TAG for k, v in box.metadata.items() if k.lower() == "comment")
    except Exception:  # noqa: BLE001 - not a readable video: not ours
        return False


def write_video(path, frames: Iterator[np.ndarray], fps: float | None, shape) -> str:
    """Encode RGB uint8 ``frames`` into ``path`` (temp file + rename); returns the codec used.

    With PyAV the container is tagged as ours (:func:`written_by_hybridinpaint`).
    """
    path = Path(path)
    fps = fps or 25.0
    h, w = shape[:2]
    tmp = io.temp_file(path)
    try:
        av = _pyav()
        codec = _write_pyav(av, tmp, frames, fps, h, w) if av is not None else _write_cv2(tmp, frames, fps, h, w)
        io.publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return codec


def _rgb8(img: np.ndarray) -> np.ndarray:
    """RGB uint8 for a video encoder: grey repeated, 16-bit cut to its high byte."""
    rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    if rgb.dtype != np.uint8:
        rgb = (rgb >> 8).astype(np.uint8)
    return np.ascontiguousarray(rgb)


def _write_pyav(av, tmp, frames, fps, h, w) -> str:
    from fractions import Fraction

    lossless = [("ffv1", "bgr0", {})]
    if tmp.lower().endswith((".mp4", ".m4v")):
        lossless = [("libx264rgb", "rgb24", {"qp": "0"}), ("mpeg4", "yuv420p", {"qscale": "1"})]
    rate = Fraction(fps).limit_denominator(1001)
    for name, pix, opts in lossless:
        try:
            box = av.open(tmp, mode="w")
            box.metadata["comment"] = _TAG
            stream = box.add_stream(name, rate=rate, options=opts)
        except (av.error.FFmpegError, ValueError):
            box.close()
            continue
        stream.width, stream.height, stream.pix_fmt = w, h, pix
        try:
            for img in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(_rgb8(img), format="rgb24")):
                    box.mux(packet)
            for packet in stream.encode():
                box.mux(packet)
        finally:
            box.close()
        return name
    raise ValueError(f"no video codec available for {tmp}")


def _write_cv2(tmp, frames, fps, h, w) -> str:
    name = "FFV1" if tmp.lower().endswith((".mkv", ".avi")) else "mp4v"
    out = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*name), fps, (w, h))
    if not out.isOpened():
        raise ValueError(f"OpenCV cannot write {tmp} with codec {name}")
    try:
        for img in frames:
            out.write(cv2.cvtColor(_rgb8(img), cv2.COLOR_RGB2BGR))
    finally:
        out.release()
    return name
