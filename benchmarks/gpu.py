"""CPU against CUDA on a machine with an NVIDIA GPU: the kernel cache and whole runs.

Three measurements, printed as Markdown (paste them into RESULTS.md's GPU
section; the machine differs from the 2-core development machine, so this
script writes nothing by itself):

1. **Kernel cache.** With an empty ``NUMBA_CACHE_DIR``, a new process builds
   every CUDA launcher (``warm_up("cuda")``); a second new process loads them.
   Per process: seconds, how many launchers came from the cache, the whole
   process's wall time, and the first launch of a loaded kernel.
2. **Whole runs.** ``inpaint`` on frames of a clip (``--clip FOLDER`` of
   PNGs, else a synthetic scene) with a moving blob, ``backend="cpu"`` and
   ``backend="cuda"``, after a warm-up: seconds per frame, and how far the
   two results differ inside the hole (the CUDA splat sums with atomics, so
   the last bits may differ); outside the hole both must equal the input;
   the peak device memory in use during the CUDA run, and seconds per stage
   of both runs.
3. The kernel table: run ``python benchmarks/kernels.py --no-write`` beside it.

    python benchmarks/gpu.py [--clip FOLDER] [--frames 40] [--fill telea] [--sizes 432x240,1920x1080]

(Under ``NUMBA_ENABLE_CUDASIM=1`` it runs on the simulator, to try the
script itself on tiny sizes: ``--skip-cache --sizes 24x16 --frames 3``.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CACHE_PROBE = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
from hybridinpaint.kernels import warm_up, warp_backward
rows = warm_up("cuda")
t1 = time.perf_counter()
img = np.random.default_rng(0).random((240, 432, 3)).astype(np.float32)
flow = np.ones((240, 432, 2), np.float32)
warp_backward(img, flow, backend="cuda")
t2 = time.perf_counter()
warp_backward(img, flow, backend="cuda")
t3 = time.perf_counter()
print(json.dumps({"warm_up_s": t1 - t0, "cached": sum(r["cached"] for r in rows), "kernels": len(rows),
                  "first_launch_s": t2 - t1, "second_launch_s": t3 - t2,
                  "slowest": sorted(rows, key=lambda r: -r["seconds"])[:3]}))
"""


def cache_rows() -> list[str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="hybridinpaint-cuda-cache-"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    lines = [
        "| process | warm_up('cuda') (s) | launchers from the cache | first launch (s) | second launch (s) "
        "| whole process (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("first (empty cache)", "second (new process)", "third (new process)"):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _CACHE_PROBE], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if out.returncode:
            lines.append(f"| {name} | failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else '?'} |")
            print(out.stderr, file=sys.stderr)
            break
        r = json.loads(out.stdout.strip().splitlines()[-1])
        lines.append(
            f"| {name} | {r['warm_up_s']:.1f} | {r['cached']} of {r['kernels']} | {r['first_launch_s']:.3f} "
            f"| {r['second_launch_s']:.4f} | {wall:.1f} |"
        )
        print(lines[-1], "slowest:", r["slowest"], flush=True)
    return lines


def load_frames(clip: str | None, n: int, size: tuple[int, int]) -> np.ndarray:
    import cv2

    w, h = size
    files = sorted(Path(clip).glob("*.png"))[:n] if clip else []
    if files:
        raw = [cv2.imread(str(f))[:, :, ::-1] for f in files]
        interp = cv2.INTER_AREA if w < raw[0].shape[1] else cv2.INTER_CUBIC
        return np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in raw])
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.random((h + 4 * n, w + 4 * n, 3)).astype(np.float32), (0, 0), 3)
    base = (255 * (base - base.min()) / np.ptp(base)).astype(np.uint8)
    return np.stack([base[2 * i : 2 * i + h, 3 * i : 3 * i + w] for i in range(n)])


class _DeviceMemory:
    """Peak device memory in use while a block runs, above what was in use before it (sampled every 2 ms).

    The sampler asks the driver from its own thread, with the process's (primary) context made
    current there; None where that fails, and under the simulator, which has no memory to ask about.
    """

    def __enter__(self):
        import threading

        self.peak, self.error, self.stop = None, None, threading.Event()
        if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
            return self
        from numba import cuda

        ctx = cuda.current_context()
        ctx.deallocations.clear()  # free what numba still holds for later release: a true baseline
        self.base = ctx.get_memory_info()[0]

        def sample():
            try:
                info = cuda.current_context().get_memory_info
                low = self.base
                while not self.stop.wait(0.002):
                    low = min(low, info()[0])
                self.peak = self.base - min(low, info()[0])
            except Exception as exc:  # reported, not fatal: the timings still count
                self.error = repr(exc)

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if getattr(self, "thread", None):
            self.thread.join()
        if self.error:
            print(f"device memory not sampled: {self.error}", file=sys.stderr)


def run_rows(clip: str | None, n: int, fill: str, sizes) -> list[str]:
    import hybridinpaint
    from hybridinpaint import metrics as M

    sys.path.insert(0, str(HERE))
    import quality  # the same moving blob as the quality and speed benchmarks

    warm = np.zeros((3, 32, 32, 3), np.uint8)
    wm = np.zeros((3, 32, 32), bool)
    wm[:, 8:20, 8:20] = True
    for b in ("cpu", "cuda"):
        hybridinpaint.inpaint(warm, wm, backend=b, hallucinate=fill)
    # CUDA with the flow stage and the seams' solves on the CPU kernels ([pipeline] FLOW_ON_HOST,
    # SEAMS_ON_HOST): small fields, many small launches. The stage table tells each apart.
    runs = {
        "cpu": ("cpu", None),
        "cuda": ("cuda", None),
        "cuda, solves on host": ("cuda", {"pipeline": {"FLOW_ON_HOST": True, "SEAMS_ON_HOST": True}}),
    }
    lines = [
        f"Frames: {'clip ' + Path(clip).parent.name if clip else 'synthetic'}, {n} frames, moving blob of ~8%, "
        f"`hallucinate={fill!r}`, after a warm-up in the same process.",
        "",
        "| size | CPU s/frame | CUDA s/frame | CPU/CUDA | CUDA, solves on host: s/frame, CPU/that "
        "| CUDA vs CPU inside the hole: PSNR (dB), max abs diff | outside the hole "
        "| peak device memory in use (GB) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    stages = []
    for w, h in sizes:
        frames = load_frames(clip, n, (w, h))
        masks = quality.masks_for("moving", len(frames), h, w, seed=1)
        frames[masks] = 0
        secs, res, peaks = {}, {}, {}
        for name, (b, cfg) in runs.items():
            # The sampler wakes every 2 ms: only around the CUDA runs, not to slow the CPU's.
            with _DeviceMemory() if b == "cuda" else contextlib.nullcontext() as mem:
                t0 = time.perf_counter()
                res[name] = hybridinpaint.inpaint(
                    frames, masks, backend=b, hallucinate=fill, settings=cfg, return_result=True
                )
                secs[name] = (time.perf_counter() - t0) / n
            peaks[name] = mem.peak if mem is not None else None
        out = {name: r.frames for name, r in res.items()}
        a, c = out["cpu"].astype(np.float64), out["cuda"].astype(np.float64)
        psnr = M.psnr(out["cuda"], out["cpu"], mask=masks)
        same = all(np.array_equal(o[~masks], frames[~masks]) for o in out.values())
        peak = "?" if peaks["cuda"] is None else f"{peaks['cuda'] / 1e9:.2f}"
        host = secs["cuda, solves on host"]
        lines.append(
            f"| {w}x{h} | {secs['cpu']:.3f} | {secs['cuda']:.3f} | {secs['cpu'] / secs['cuda']:.2f} "
            f"| {host:.3f}, {secs['cpu'] / host:.2f} "
            f"| {psnr:.1f}, {np.abs(a - c)[masks].max():.0f} | {'bit-identical' if same else 'DIFFERENT'} "
            f"| {peak} |"
        )
        print(lines[-1], flush=True)
        for stage in res["cpu"].stats["seconds"]:
            cells = " | ".join(f"{r.stats['seconds'].get(stage, 0.0):.3f}" for r in res.values())
            stages.append(f"| {w}x{h} | {stage} | {cells} |")
    # The file commands run in chunks (runs.stream.auto_chunking): the device memory of one chunk.
    # Two chunks and their overlap are enough to see it (24 frames at 1080p). Once with the next
    # chunk's flows made in a second thread meanwhile ([stream] OVERLAP, the default for CUDA), once not.
    part = slice(0, min(len(frames), 24))
    lines.append("")
    for mode in ("device", "never"):
        with _DeviceMemory() as mem:
            t0 = time.perf_counter()
            chunks = hybridinpaint.inpaint_chunks(
                iter(frames[part]), masks[part], backend="cuda", hallucinate=fill,
                settings={"stream": {"OVERLAP": mode}},
            )  # fmt: skip
            done = sum(1 for _ in chunks)
            chunked = (time.perf_counter() - t0) / done
        peak = "?" if mem.peak is None else f"{mem.peak / 1e9:.2f} GB"
        how = "next chunk prepared meanwhile" if mode == "device" else "one chunk after the other"
        lines.append(
            f"- In chunks (`inpaint_chunks`, automatic chunk size, {done} frames, {how}) at {w}x{h}: "
            f"{chunked:.3f} s/frame with CUDA, peak device memory in use {peak}."
        )
        print(lines[-1], flush=True)
    lines += ["", "Seconds per stage, whole run (`InpaintResult.stats['seconds']`):", ""]
    lines += ["| size | stage | " + " | ".join(f"{name} (s)" for name in runs) + " |", "| --- " * 5 + "|", *stages]
    print("\n".join(lines[-len(stages) - 3 :]), flush=True)
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", help="a folder of PNG frames (default: a synthetic scene)")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--fill", default="patch", help="hallucinate= for the whole runs")
    ap.add_argument("--sizes", default="432x240,1920x1080", help="comma-separated WxH")
    ap.add_argument("--skip-cache", action="store_true")
    args = ap.parse_args()
    from hybridinpaint.kernels import cuda_usable

    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    if not (cuda_usable() or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"):
        sys.exit("benchmarks/gpu.py: no usable CUDA device in this process")
    print(f"Measured {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPU cores.\n", flush=True)
    if not args.skip_cache:
        print("\n".join(cache_rows()) + "\n", flush=True)
    print("\n".join(run_rows(args.clip, args.frames, args.fill, sizes)), flush=True)


if __name__ == "__main__":
    main()
