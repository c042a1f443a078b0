"""Start-up time: numba compilation, the kernel cache, and a whole CLI run.

Every number is the wall time of a fresh Python process (what a user of a
script or of the command line meets), against a kernel cache folder of its
own (``NUMBA_CACHE_DIR``):

* cold: the README's first example (12 frames of 200x120), first ever run,
  empty cache: the first ``inpaint`` call, and the whole process (median of 3);
* warm-up: ``hybridinpaint doctor --compile`` on the empty cache;
* warm: the same example in a new process after the warm-up (median of 3);
* CLI: ``hybridinpaint inpaint`` on 12 frames of 512x288 (a shared clip
  resized, a moving blob as mask, PNG folders in and out) after the warm-up.

``--source DIR`` measures another checkout (e.g. an older commit, for the
"before" column) by putting DIR first on PYTHONPATH.

    python benchmarks/startup.py [--source DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _results import write_section  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "clips" / "bmx-trees" / "frames"

_README_EXAMPLE = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import numpy as np
    import hybridinpaint

    rng = np.random.default_rng(0)
    scene = rng.random((120, 300, 3)).astype(np.float32)
    video = np.stack([scene[:, 4 * t : 4 * t + 200] for t in range(12)])
    hole = np.zeros(video.shape[:3], bool)
    hole[:, 40:80, 60:110] = True
    t1 = time.perf_counter()
    result = hybridinpaint.inpaint(video, hole, return_result=True)
    t2 = time.perf_counter()
    print(t2 - t1, t2 - t0)
    """
)


def _env(cache: Path, source: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_CACHE", "NUMBA_ENABLE_CUDASIM"))}
    env["NUMBA_CACHE_DIR"] = str(cache)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run(cmd, env) -> tuple[float, str]:
    # From a neutral folder: `python -c` and `-m` put the working folder
    # first on sys.path, which would shadow the checkout being measured.
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}")
    return wall, proc.stdout


def _example(env) -> tuple[float, float, float]:
    """(first inpaint call, time inside the process, whole process wall)."""
    wall, out = _run([sys.executable, "-c", _README_EXAMPLE], env)
    call, inside = (float(x) for x in out.split())
    return call, inside, wall


def _cli_input(folder: Path, n=12, size=(512, 288)):
    frames = folder / "frames"
    masks = folder / "masks"
    frames.mkdir(parents=True)
    masks.mkdir()
    files = sorted(CLIP.glob("*.png"))[:n] if CLIP.is_dir() else []
    rng = np.random.default_rng(0)
    for k in range(n):
        if files:
            img = cv2.resize(cv2.imread(str(files[k])), size, interpolation=cv2.INTER_AREA)
        else:  # no shared clips: a panning random texture
            img = (rng.random((size[1], size[0] + 4 * n, 3)) * 255).astype(np.uint8)[:, 4 * k : 4 * k + size[0]]
        cv2.imwrite(str(frames / f"{k:05d}.png"), img)
        m = np.zeros((size[1], size[0]), np.uint8)
        cv2.circle(m, (150 + 12 * k, 140), 40, 255, -1)
        cv2.imwrite(str(masks / f"{k:05d}.png"), m)
    return frames, masks, "a shared clip (bmx-trees)" if files else "a synthetic panning texture"


def measure(source: Path | None, warm_runs: int = 3, cold_runs: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Each cold run on an empty cache of its own.
        cold = [_example(_env(tmp / f"cold{k}", source)) for k in range(cold_runs)]
        # The warm-up runs on a second, empty cache, as on a fresh machine.
        env2 = _env(tmp / "cache2", source)
        has_compile = "--compile" in _run([sys.executable, "-m", "hybridinpaint", "doctor", "--help"], env2)[1]
        if has_compile:
            warmup_wall, _ = _run([sys.executable, "-m", "hybridinpaint", "doctor", "--compile"], env2)
        else:  # an older checkout: warming up means running the example once
            warmup_wall = _example(env2)[2]
        warm = [_example(env2) for _ in range(warm_runs)]
        frames, masks, what = _cli_input(tmp / "in")
        cli = []
        for k in range(2):
            out = tmp / f"out{k}"
            cmd = [sys.executable, "-m", "hybridinpaint", "inpaint", str(frames), "--mask", str(masks)]
            wall, _ = _run([*cmd, "-o", str(out), "--quiet"], env2)
            cli.append(wall)
    return {
        "cold_call": statistics.median(c[0] for c in cold),
        "cold_process": statistics.median(c[2] for c in cold),
        "warmup": warmup_wall,
        "warm_call": statistics.median(w[0] for w in warm),
        "warm_process": statistics.median(w[2] for w in warm),
        "cli": min(cli),
        "cli_input": what,
    }


def _table(rows: dict[str, dict]) -> str:
    lines = [
        "| | " + " | ".join(rows) + " |",
        "| --- | " + " | ".join("---" for _ in rows) + " |",
    ]
    labels = [
        ("cold_call", "README example, first `inpaint` call, empty cache (s)"),
        ("cold_process", "the same, whole process (s)"),
        ("warmup", "warm-up process (`doctor --compile`; before: one run of the example) (s)"),
        ("warm_call", "README example, first `inpaint` call in a new process after the warm-up (s)"),
        ("warm_process", "the same, whole process (s)"),
        ("cli", "`hybridinpaint inpaint`, 12 frames 512x288, after the warm-up, whole command (s)"),
    ]
    for key, label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{r[key]:.1f}" for r in rows.values()) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, help="measure this checkout instead (put first on PYTHONPATH)")
    ap.add_argument("--before", type=Path, help="also measure this checkout, as the 'before' column")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = {}
    if args.before:
        rows["before"] = measure(args.before)
        print("before", json.dumps(rows["before"]), flush=True)
    rows["now"] = measure(args.source)
    print("now", json.dumps(rows["now"]), flush=True)
    import numba

    md = (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, numba "
        f"{numba.__version__}; each number a fresh process; CLI input: {rows['now']['cli_input']}.\n\n" + _table(rows)
    )
    print(md)
    if not args.no_write:
        write_section(
            "startup",
            md,
            heading="Start-up and the kernel cache (issue 11)",
            command="python benchmarks/startup.py --before OLD_CHECKOUT",
        )


if __name__ == "__main__":
    main()
