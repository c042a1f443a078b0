"""Digest of every command's output on small fixed inputs, to show a refactor changed no pixel.

Runs ``inpaint`` (arrays), and the file commands ``inpaint``, ``remove``,
``anonymize`` and ``restore`` with their default settings on short pieces of
the bundled demo clip and the shared clips, and prints one SHA-256 per command
(frames, and for ``inpaint`` the provenance too). Run it before and after a
change and compare::

    python scripts/output_digest.py > before.txt
    ... change ...
    python scripts/output_digest.py > after.txt && diff before.txt after.txt

Commands whose shared clip is missing are reported as skipped.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint.interfaces import cli, demo

CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "clips"


def _digest_arrays(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _digest_folder(folder: Path) -> str:
    frames = []
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() in (".png", ".tif", ".tiff"):
            frames.append(cv2.imread(str(f), cv2.IMREAD_UNCHANGED))
    return _digest_arrays(*frames) + f" ({len(frames)} frames)"


def _write_frames(folder: Path, frames: np.ndarray) -> Path:
    folder.mkdir(parents=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:05d}.png"), f[..., ::-1] if f.ndim == 3 else f)
    return folder


def _cli(*args) -> None:
    code = cli.main([str(a) for a in args])
    if code != 0:
        raise SystemExit(f"hybridinpaint {' '.join(map(str, args))} exited {code}")


def main() -> int:
    video = demo.clip()[:12]
    t, h, w = video.shape[:3]
    hole = demo.moving_hole(t, h, w)
    rows = []

    res = hybridinpaint.inpaint(video, hole, backend="cpu", return_result=True)
    p = res.provenance
    rows.append(("inpaint (arrays)", _digest_arrays(res.frames)))
    rows.append(("inpaint (provenance)", _digest_arrays(p.method, p.source_frame, p.source_xy, p.confidence)))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = _write_frames(tmp / "demo", video)
        masks = _write_frames(tmp / "masks", hole.astype(np.uint8) * 255)
        _cli(
            "inpaint",
            frames,
            "--mask",
            masks,
            "-o",
            tmp / "inpaint",
            "--quiet",
            "--backend",
            "cpu",
            "--chunk",
            "8",
            "--overlap",
            "2",
        )
        rows.append(("inpaint (file, chunks of 8)", _digest_folder(tmp / "inpaint")))

        cv2.imwrite(str(tmp / "first.png"), hole[0].astype(np.uint8) * 255)
        _cli("remove", frames, "--first-mask", tmp / "first.png", "-o", tmp / "remove", "--quiet", "--backend", "cpu")
        rows.append(("remove", _digest_folder(tmp / "remove")))

        girls = CLIPS / "schoolgirls" / "frames"
        if girls.is_dir():
            sub = tmp / "girls"
            sub.mkdir()
            for f in sorted(girls.iterdir())[:8]:
                (sub / f.name).write_bytes(f.read_bytes())
            for mode in ("remove", "blur", "box"):
                # The digest records what comes out, leaks included (without the flag a leak exits 3).
                _cli(
                    "anonymize",
                    sub,
                    "-o",
                    tmp / f"anon-{mode}",
                    "--mode",
                    mode,
                    "--quiet",
                    "--backend",
                    "cpu",
                    "--allow-leaks",
                )
                rows.append((f"anonymize --mode {mode}", _digest_folder(tmp / f"anon-{mode}")))
        else:
            rows.append(("anonymize", f"skipped: {girls} missing"))

        film = CLIPS / "oldfilm-train-robbery" / "frames"
        if film.is_dir():
            sub = tmp / "film"
            sub.mkdir()
            for f in sorted(film.iterdir())[:10]:
                (sub / f.name).write_bytes(f.read_bytes())
            _cli("restore", sub, "-o", tmp / "restore", "--backend", "cpu")
            rows.append(("restore", _digest_folder(tmp / "restore" / "frames")))
        else:
            rows.append(("restore", f"skipped: {film} missing"))

    for name, digest in rows:
        print(f"{name:32s} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
