"""``hybridinpaint stream``: raw RGB24 frames in on stdin, filled frames out on stdout."""

from __future__ import annotations

import sys

import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.live import inpaint_stream
from hybridinpaint.runs import io

__all__ = ["stream_pipe"]


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 432x240, got {text!r}") from None
    if w < 2 or h < 2:
        raise ValueError(f"--size must be at least 2x2, got {text!r}")
    return w, h


def stream_pipe(
    size: str, mask, *, lookahead: int = 4, backend: str = "auto", settings=None, stdin=None, stdout=None
) -> int:
    """``hybridinpaint stream``: raw RGB24 frames of ``size`` ("WxH") in, filled frames out.

    Reads whole frames from ``stdin`` (default: the process's) until it
    ends, and writes each filled frame to ``stdout`` as soon as it is out,
    so the command sits in an ffmpeg pipe. ``mask``: an image file, one mask
    for every frame. Returns the number of frames written.
    """
    w, h = _size(size)
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout.buffer if stdout is None else stdout
    hole = _arrays.masks_bool(np.asarray(io.read_frame(mask))[None], (1, h, w))[0] if mask is not None else None
    if hole is None:
        raise ValueError("--mask is required")
    frame_bytes = w * h * 3

    def frames():
        k = 0
        while True:
            buf = stdin.read(frame_bytes)
            if not buf:
                return
            while len(buf) < frame_bytes:
                more = stdin.read(frame_bytes - len(buf))
                if not more:
                    raise ValueError(f"stdin ended inside frame {k}: {len(buf)} of {frame_bytes} bytes ({w}x{h} RGB24)")
                buf += more
            yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            k += 1

    n = 0
    for out in inpaint_stream(frames(), hole, lookahead=lookahead, backend=backend, settings=settings):
        stdout.write(np.ascontiguousarray(out).tobytes())
        stdout.flush()
        n += 1
    return n
