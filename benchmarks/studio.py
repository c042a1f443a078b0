"""The studio's response times: from opening a 50-frame 432x240 clip to the first preview.

Runs the studio's Starlette app in this process through Starlette's test
client (the HTTP handling is real, the network is not), in a fresh process
with the kernel cache already filled (run it twice; the first run of a new
install compiles). Steps: open the clip, draw a mask on frame 0 (a PNG, as
the page sends it), preview 10 frames; then track the mask through the 50
frames and preview again.

    python benchmarks/studio.py [--clip NAME] [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
from _results import write_section  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default="schoolgirls")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        sys.exit(f"needs the shared clips at {quality.CLIPS}")
    t_start = time.perf_counter()
    from starlette.testclient import TestClient

    from hybridinpaint.interfaces.studio import create_app
    from hybridinpaint.runs import io

    frames = quality.load_clip(args.clip, 50)
    t, h, w = frames.shape[:3]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, f in enumerate(frames):
            io.write_frame(Path(tmp) / "clip" / f"{k:05d}.png", f)
        mask = np.zeros((h, w), np.uint8)
        cv2.ellipse(mask, (w // 2, h // 2), (w // 10, h // 6), 0, 0, 360, 255, -1)  # an object drawn on frame 0
        png = cv2.imencode(".png", mask)[1].tobytes()
        with TestClient(create_app(tmp)) as client:

            def timed(label, call):
                t0 = time.perf_counter()
                r = call()
                assert r.status_code == 200, r.text
                rows.append((label, time.perf_counter() - t0))
                return r.json()

            timed("open the clip (50 frames read)", lambda: client.post("/api/open", json={"path": "clip"}))
            timed("draw a mask on frame 0", lambda: client.put("/api/mask/0", content=png))
            timed(
                "preview 10 frames (first: kernels loaded from the cache)",
                lambda: client.post("/api/preview", json={"start": 0, "count": 10}),
            )
            first = sum(s for _, s in rows)
            timed("preview 10 frames again", lambda: client.post("/api/preview", json={"start": 20, "count": 10}))
            timed("track the mask through 50 frames", lambda: client.post("/api/track"))
            timed("preview 10 tracked frames", lambda: client.post("/api/preview", json={"start": 30, "count": 10}))
    tracked = rows[0][1] + rows[1][1] + rows[4][1] + rows[5][1]
    lines = [
        f"Clip: {args.clip}, {t} frames at {w}x{h}, 2 cores, a fresh process (the kernels load from the cache "
        "inside the first preview).",
        "",
        "| step | seconds |",
        "| --- | --- |",
    ]
    lines += [f"| {label} | {s:.2f} |" for label, s in rows]
    lines += [
        "",
        f"Opening to the first preview: **{first:.2f} s** (target 5); a 10-frame preview once warm: "
        f"**{rows[3][1]:.2f} s** (target 2); opening, drawing, tracking and a first preview: {tracked:.2f} s. "
        f"The whole script, imports and writing the clip to disk included: {time.perf_counter() - t_start:.1f} s.",
    ]
    md = "\n".join(lines) + "\n"
    print(md)
    if not args.no_write:
        write_section("studio", md, heading="Studio response times (issue 19)", command="python benchmarks/studio.py")


if __name__ == "__main__":
    main()
