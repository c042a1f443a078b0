"""Film restoration on files: ``hybridinpaint restore`` and ``hybridinpaint revert``.

An output directory holds ``frames/`` (repaired frames, same names, format
and bit depth as the scans), ``provenance/`` (a PNG map per frame),
``fixes.json`` and, with ``--report``, ``report.html``. It is built in a
temporary sibling and moved into place at the end, so a crash leaves no half
output and a re-run replaces the previous run whole instead of mixing with it.

``fixes.json`` (schema ``hybridinpaint.fixes``, version 1)::

    {"schema": "hybridinpaint.fixes", "version": 1,
     "scans": "/abs/path/to/SCANS_DIR", "frames": ["0001.png", ...],
     "settings": {"sensitivity": 1.0, "min_area": 5, "kinds": ["blotch", "scratch"]},
     "totals": {"blotch": 12, "scratch": 3},
     "fixes": [{"id": 1, "frame": 0, "file": "0001.png", "bbox": [y0, x0, y1, x1],
                "area": 17, "kind": "blotch", "score": 0.41,
                "method": "propagated along flow", "sources": [1], "confidence": 0.97,
                "runs": [[y, x0, x1], ...], "reverted": false}, ...]}

``runs`` lists the fix's pixels as row runs (``x1`` exclusive); ``revert``
uses them to put the scanned pixels back.
"""

from __future__ import annotations

import base64
import html
import json
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint import io

SCHEMA = "hybridinpaint.fixes"
VERSION = 1


def _runs(ys, xs):
    order = np.lexsort((xs, ys))
    ys, xs = ys[order], xs[order]
    runs = []
    start = 0
    for i in range(1, ys.size + 1):
        if i == ys.size or ys[i] != ys[i - 1] or xs[i] != xs[i - 1] + 1:
            runs.append([int(ys[start]), int(xs[start]), int(xs[i - 1]) + 1])
            start = i
    return runs


def _pixels(runs):
    ys = np.concatenate([np.full(x1 - x0, y) for y, x0, x1 in runs]) if runs else np.zeros(0, int)
    xs = np.concatenate([np.arange(x0, x1) for y, x0, x1 in runs]) if runs else np.zeros(0, int)
    return ys, xs


def _png_b64(img):
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img)
    return base64.b64encode(buf.tobytes()).decode()


def _display(frame):
    """An 8-bit RGB view of a frame, at most 640 px wide."""
    img = frame if frame.dtype == np.uint8 else (frame // 257).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, -1)
    h, w = img.shape[:2]
    if w > 640:
        img = cv2.resize(img, (640, round(h * 640 / w)), interpolation=cv2.INTER_AREA)
    return img


def _outlined(img, mask):
    out = img.copy()
    m = cv2.resize(mask.astype(np.uint8), img.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    edge = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    out[edge] = (255, 40, 40)
    return out


def report_html(scans, restored, mask, fixes, files) -> str:
    """A self-contained page: per frame before/after with repairs outlined and a toggle, and the fixes."""
    totals = {}
    for f in fixes:
        totals[f["kind"]] = totals.get(f["kind"], 0) + 1
    parts = [
        "<!doctype html><meta charset='utf-8'><title>hybridinpaint restoration report</title>",
        "<style>body{font-family:sans-serif;margin:2em}img{max-width:100%}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}.frame{margin-bottom:2em}</style>",
        "<script>function t(i){var a=document.getElementById('a'+i),b=document.getElementById('b'+i);"
        "var s=a.style.display=='none';a.style.display=s?'':'none';b.style.display=s?'none':'';}</script>",
        "<h1>Restoration report</h1>",
        f"<p>{len(fixes)} fixes in {len(files)} frames: "
        + ", ".join(f"{n} {html.escape(k)}" for k, n in sorted(totals.items()))
        + ". Red outlines mark repaired pixels; the button switches between the scan and the repair.</p>",
    ]
    by_frame = {}
    for f in fixes:
        by_frame.setdefault(f["frame"], []).append(f)
    for k, name in enumerate(files):
        if k not in by_frame:
            continue
        before = _outlined(_display(scans[k]), mask[k])
        after = _outlined(_display(restored[k]), mask[k])
        parts.append(f"<div class='frame'><h2>{html.escape(name)} (frame {k})</h2>")
        parts.append(f"<button onclick='t({k})'>scan / repaired</button><br>")
        parts.append(f"<img id='a{k}' src='data:image/png;base64,{_png_b64(after)}' alt='repaired'>")
        parts.append(f"<img id='b{k}' style='display:none' src='data:image/png;base64,{_png_b64(before)}' alt='scan'>")
        parts.append("<table><tr><th>id</th><th>kind</th><th>area</th><th>bbox</th><th>score</th><th>method</th>")
        parts.append("<th>sources</th><th>confidence</th></tr>")
        for f in by_frame[k]:
            parts.append(
                f"<tr><td>{f['id']}</td><td>{f['kind']}</td><td>{f['area']}</td><td>{f['bbox']}</td>"
                f"<td>{f['score']}</td><td>{html.escape(f['method'])}</td><td>{f['sources']}</td>"
                f"<td>{f['confidence']}</td></tr>"
            )
        parts.append("</table></div>")
    return "\n".join(parts)


def _safe_output(scans: Path, out: Path):
    scans, out = scans.resolve(), out.resolve()
    if out == scans or scans in out.parents or out in scans.parents:
        raise ValueError(f"output directory {out} must not be, contain or lie inside the scans directory {scans}")
    if out.exists() and any(out.iterdir()) and not (out / "fixes.json").is_file():
        raise FileExistsError(f"{out} exists and is not a hybridinpaint restore output; choose another -o")


def restore_dir(scans, out, *, sensitivity=1.0, min_area=5, report=False, backend="auto", progress=True) -> dict:
    """Detect and repair the scans of ``scans``; write everything to ``out`` (see the module doc)."""
    from hybridinpaint import film, visualize

    scans, out = Path(scans), Path(out)
    _safe_output(scans, out)
    frames, files = io.read_sequence(scans)
    if frames.shape[0] < 3:
        raise ValueError(
            f"{scans} holds {frames.shape[0]} frame(s); blotch detection needs at least 3 (temporal neighbours)"
        )
    if progress:
        print(f"hybridinpaint restore: {len(files)} frames from {scans}", file=sys.stderr)
    from hybridinpaint.kernels import warm_up

    warm_up(backend, progress=progress)  # says "compiling kernels (first run only)" when it does
    res = film.restore(frames, sensitivity=sensitivity, min_area=min_area, backend=backend)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        prov_img = visualize.provenance(res)  # a Restoration has .frames and .provenance
        from tqdm.auto import tqdm

        for k, f in enumerate(tqdm(files, desc="writing", unit="frame", disable=not progress)):
            io.write_frame(tmp / "frames" / f.name, res.frames[k], like=f)
            io.write_frame(tmp / "provenance" / (f.stem + ".png"), prov_img[k])
        fixes = []
        totals = {}
        for fx in res.fixes:
            d = fx.to_dict()
            d["file"] = files[fx.frame].name
            d["runs"] = _runs(fx.ys, fx.xs)
            d["reverted"] = False
            fixes.append(d)
            totals[fx.kind] = totals.get(fx.kind, 0) + 1
        doc = {
            "schema": SCHEMA,
            "version": VERSION,
            "scans": str(scans.resolve()),
            "frames": [f.name for f in files],
            "settings": {"sensitivity": sensitivity, "min_area": min_area, "kinds": list(film.KINDS)},
            "totals": totals,
            "fixes": fixes,
        }
        (tmp / "fixes.json").write_text(json.dumps(doc, indent=1))
        if report:
            (tmp / "report.html").write_text(report_html(frames, res.frames, res.mask, fixes, [f.name for f in files]))
        io.replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return doc


def load_fixes(out) -> dict:
    path = Path(out) / "fixes.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {out} a hybridinpaint restore output?")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if doc.get("schema") != SCHEMA or doc.get("version") != VERSION:
        raise ValueError(f"{path} is not a {SCHEMA} version {VERSION} file")
    return doc


def revert_dir(out, ids, original) -> list[int]:
    """Put the scanned pixels of fixes ``ids`` back into ``out/frames``; returns the ids reverted."""
    out, original = Path(out), Path(original)
    doc = load_fixes(out)
    by_id = {f["id"]: f for f in doc["fixes"]}
    missing = sorted(set(ids) - set(by_id))
    if missing:
        raise ValueError(f"fix ids {missing} are not in {out / 'fixes.json'} (ids 1..{len(by_id)})")
    touched = {}
    for i in ids:
        f = by_id[i]
        touched.setdefault(f["file"], []).append(f)
    for name, fs in touched.items():
        scan = io.read_frame(original / name)
        target = out / "frames" / name
        img = io.read_frame(target)
        if scan.shape != img.shape or scan.dtype != img.dtype:
            raise ValueError(f"{original / name} does not match {target} in size or depth: is it the right scan?")
        for f in fs:
            ys, xs = _pixels(f["runs"])
            img[ys, xs] = scan[ys, xs]
            f["reverted"] = True
        io.write_frame(target, img, like=original / name)
    io.write_json(out / "fixes.json", doc)
    return sorted(ids)
