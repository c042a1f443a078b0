"""Peak memory of ``hybridinpaint inpaint`` against video length and frame size.

A shared clip is played back and forth to the length wanted (100 and 1,000
frames at 432x240; 100 frames upscaled to 1920x1080), written as a PNG
folder with a per-frame folder of masks (a box drifting over the frame),
and inpainted by the command line in a child process with the default
chunking; the child's peak resident set size comes from ``os.wait4``.

    python benchmarks/memory.py [--clip bmx-trees] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint.runs import io

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
from _results import write_section  # noqa: E402

RUNS = ((100, (432, 240)), (1000, (432, 240)), (100, (1920, 1080)))


def make_input(folder: Path, clip: np.ndarray, n: int, size) -> tuple[Path, Path]:
    """``n`` frames of ``clip`` played back and forth at ``size`` (w, h), and a drifting box mask per frame."""
    w, h = size
    period = 2 * len(clip) - 2
    frames, masks = folder / "frames", folder / "masks"
    small = {}
    for k in range(n):
        j = k % period
        j = j if j < len(clip) else period - j
        if j not in small:
            small[j] = cv2.resize(clip[j], (w, h), interpolation=cv2.INTER_CUBIC)
        io.write_frame(frames / f"{k:05d}.png", small[j])
        m = np.zeros((h, w), np.uint8)
        x = int((0.2 + 0.5 * (0.5 + 0.5 * np.sin(k / 15))) * w)
        m[int(0.4 * h) : int(0.6 * h), x : x + w // 10] = 255
        io.write_frame(masks / f"{k:05d}.png", m)
    return frames, masks


def peak_rss(cmd) -> tuple[float, float]:
    """Run ``cmd``; its peak RSS in MiB and its wall seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode})")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def run(clip_name: str):
    clip = quality.load_clip(clip_name, 40)
    rows = []
    for n, size in RUNS:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            frames, masks = make_input(tmp, clip, n, size)
            cmd = [sys.executable, "-m", "hybridinpaint", "inpaint", str(frames), "--mask", str(masks),
                   "-o", str(tmp / "out"), "--backend", "cpu", "--quiet"]  # fmt: skip
            mib, sec = peak_rss(cmd)
        rows.append((n, size, mib, sec))
        print(n, size, f"{mib:.0f} MiB", f"{sec:.1f} s", flush=True)
    return rows


def table(rows, clip_name):
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, hybridinpaint {hybridinpaint.__version__}, clip {clip_name} played "
        "back and forth, a drifting box mask (2% of the frame), `hybridinpaint inpaint` with the default "
        "chunking (32 frames, overlap 8 at 432x240; 12 and 3 at 1080p), CPU backend, 2 cores. "
        "Peak RSS of the whole process (Python, numba, OpenCV "
        "included); seconds include numba's compilation (~30 s).",
        "",
        "| frames | size | peak RSS (MiB) | seconds | s/frame |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, (w, h), mib, sec in rows:
        lines.append(f"| {n} | {w}x{h} | {mib:.0f} | {sec:.0f} | {sec / n:.2f} |")
    ratio = rows[1][2] / rows[0][2]
    lines += ["", f"1,000 frames against 100 at 432x240: {ratio:.3f}x peak memory (target <= 1.15x)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default="bmx-trees")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    md = table(run(args.clip), args.clip)
    print(md)
    if not args.no_write:
        write_section("memory", md, heading="Long videos: memory (issue 6)", command="python benchmarks/memory.py")


if __name__ == "__main__":
    main()
