"""Film restoration on files: ``hybridinpaint restore`` and ``hybridinpaint revert``.

An output directory holds ``frames/`` (repaired frames, same names, format
and bit depth as the scans), ``provenance/`` (a PNG map per frame),
``fixes.json`` and, with ``--report``, ``report.html``. It is built in a
temporary sibling and moved into place at the end, so a crash leaves no half
output; the output is a run of :mod:`hybridinpaint.runs.engine` (its record,
``hybridinpaint-run.json``, beside ``fixes.json``): a re-run with the same
scans and settings has nothing to do, one with others is refused naming them,
and ``--overwrite`` replaces the previous run whole instead of mixing with it.

``fixes.json`` (schema ``hybridinpaint.film.fixes``, version 2; validated by
:mod:`hybridinpaint.film.fixes` before a revert touches anything)::

    {"schema": "hybridinpaint.film.fixes", "version": 2,
     "scans": "/abs/path/to/SCANS_DIR", "frames": ["0001.png", ...], "size": [H, W],
     "checksums": {"0001.png": "<SHA-256 of the scan file>", ...},
     "settings": {"sensitivity": 1.0, "min_area": 5, "kinds": ["blotch", "scratch"]},
     "totals": {"blotch": 12, "scratch": 3},
     "fixes": [{"id": 1, "frame": 0, "file": "0001.png", "bbox": [y0, x0, y1, x1],
                "area": 17, "kind": "blotch", "score": 0.41,
                "method": "propagated along flow", "sources": [1], "confidence": 0.97,
                "runs": [[y, x0, x1], ...], "reverted": false}, ...]}

``runs`` lists the fix's pixels as row runs (``x1`` exclusive); ``revert``
uses them to put the scanned pixels back, after checking the scans against
``checksums``. A revert builds the new output beside the old one (frames,
provenance maps, ``fixes.json`` and the report) and swaps it in whole: it
happens completely or not at all.
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint import visualize
from hybridinpaint.film import fixes as fixes_file
from hybridinpaint.film import repair as film
from hybridinpaint.kernels import warm_up
from hybridinpaint.runs import engine, io
from hybridinpaint.settings import resolve

SCHEMA = fixes_file.SCHEMA
VERSION = fixes_file.VERSION


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


def _b64(img, ext=".png", quality=75):
    """``img`` (RGB or grey uint8) encoded as a data URL: PNG for crops, JPEG for the frame views."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img, params)
    mime = "jpeg" if ext == ".jpg" else "png"
    return f"data:image/{mime};base64," + base64.b64encode(buf.tobytes()).decode()


def _rgb8(frame):
    img = frame if frame.dtype == np.uint8 else (frame // 257).astype(np.uint8)
    return np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img


def _display(frame):
    """An 8-bit RGB view of a frame, at most 640 px wide."""
    img = _rgb8(frame)
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


# Crops around a fix: this many pixels of context; none for fixes larger than
# _CROP_MAX on a side (flicker fixes cover the frame; the frame view shows them).
_CROP_PAD = 6
_CROP_MAX = 240

_SCRIPT = """
function t(i){var a=document.getElementById('a'+i),b=document.getElementById('b'+i);
var s=a.style.display=='none';a.style.display=s?'':'none';b.style.display=s?'none':'';}
function sortBy(th){var tb=th.closest('table').tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
var asc=th.getAttribute('data-asc')!='1';th.setAttribute('data-asc',asc?'1':'0');
var rows=Array.prototype.slice.call(tb.rows);rows.sort(function(a,b){
var x=a.cells[i].textContent,y=b.cells[i].textContent;
var nx=parseFloat(x),ny=parseFloat(y),c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});
rows.forEach(function(r){tb.appendChild(r);});}
"""

_COLUMNS = (
    *("id", "frame", "kind", "area", "bbox", "score", "why"),
    *("method", "sources", "confidence", "scan", "repaired"),
)


def _crops(scan, repaired, f):
    y0, x0, y1, x1 = f["bbox"]
    if y1 - y0 > _CROP_MAX or x1 - x0 > _CROP_MAX:
        return "<td></td><td></td>"
    h, w = scan.shape[:2]
    sl = (slice(max(0, y0 - _CROP_PAD), min(h, y1 + _CROP_PAD)), slice(max(0, x0 - _CROP_PAD), min(w, x1 + _CROP_PAD)))
    cells = []
    for img, what in ((scan, "scan"), (repaired, "repaired")):
        crop = _rgb8(img[sl])
        cells.append(f"<td><img class='crop' src='{_b64(crop)}' alt='{what} {f['id']}'></td>")
    return "".join(cells)


def report_html(scans, restored, mask, fixes, files) -> str:
    """A self-contained page: per frame a scan/repaired view, and a sortable table of fixes with crops.

    Frame views are JPEG at display size (at most 640 px wide) with the
    repairs outlined; each fix has lossless full-resolution crops of the scan
    and the repair around it. The page needs no network and no other file.
    """
    totals = {}
    for f in fixes:
        totals[f["kind"]] = totals.get(f["kind"], 0) + 1
    parts = [
        "<!doctype html><meta charset='utf-8'><title>hybridinpaint restoration report</title>",
        "<style>body{font-family:sans-serif;margin:2em}.view{max-width:100%}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}th{cursor:pointer;background:#eee}.frame{margin-bottom:2em}"
        ".crop{height:64px;image-rendering:pixelated}</style>",
        f"<script>{_SCRIPT}</script>",
        "<h1>Restoration report</h1>",
        f"<p>{len(fixes)} fixes in {len(files)} frames: "
        + ", ".join(f"{n} {html.escape(k)}" for k, n in sorted(totals.items()))
        + ". Red outlines mark repaired pixels; each frame's button switches between the scan and the repair. "
        "Click a column of the table to sort by it.</p>",
        "<table id='fixes'><thead><tr>"
        + "".join(f"<th onclick='sortBy(this)'>{c}</th>" for c in _COLUMNS)
        + "<th onclick='sortBy(this)'>reverted</th></tr></thead><tbody>",
    ]
    for f in fixes:
        k = f["frame"]
        parts.append(
            f"<tr><td>{f['id']}</td><td>{k}</td><td>{html.escape(f['kind'])}</td><td>{f['area']}</td>"
            f"<td>{f['bbox']}</td><td>{f.get('score', '')}</td><td>{html.escape(f.get('why', ''))}</td>"
            f"<td>{html.escape(str(f.get('method', '')))}</td>"
            f"<td>{f.get('sources', '')}</td><td>{f.get('confidence', '')}</td>{_crops(scans[k], restored[k], f)}"
            f"<td>{'yes' if f.get('reverted') else ''}</td></tr>"
        )
    parts.append("</tbody></table>")
    shown = sorted({f["frame"] for f in fixes})
    for k in shown:
        name = files[k]
        before = _outlined(_display(scans[k]), mask[k])
        after = _outlined(_display(restored[k]), mask[k])
        parts.append(f"<div class='frame'><h2>{html.escape(name)} (frame {k})</h2>")
        parts.append(f"<button id='t{k}' onclick='t({k})'>scan / repaired</button><br>")
        parts.append(f"<img class='view' id='a{k}' src='{_b64(after, '.jpg')}' alt='repaired'>")
        parts.append(f"<img class='view' id='b{k}' style='display:none' src='{_b64(before, '.jpg')}' alt='scan'>")
        parts.append("</div>")
    return "\n".join(parts)


def _fix_mask(fixes, shape):
    """Pixels of the defect fixes that are not reverted, ``(T, H, W)`` bool (flicker fixes cover whole frames)."""
    mask = np.zeros(shape, bool)
    for f in fixes:
        if not f.get("reverted") and f["kind"] != "flicker":
            ys, xs = _pixels(f["runs"])
            mask[f["frame"], ys, xs] = True
    return mask


def restore_dir(
    scans,
    out,
    *,
    sensitivity=1.0,
    min_area=5,
    deflicker=False,
    report=False,
    backend="auto",
    settings=None,
    resume=None,
    overwrite=False,
    progress=True,
) -> dict:
    """Detect and repair the scans of ``scans``; write everything to ``out`` (see the module doc).

    ``settings`` (:class:`hybridinpaint.settings.Settings`, a dict or a TOML
    file's path; the defaults when None) is used throughout and recorded in
    ``fixes.json`` (``settings.tunables``) and in the run record. The output
    is a run of :mod:`hybridinpaint.runs.engine` with one chunk: started
    again with the same scans, options and settings it has nothing to do;
    with others it is refused, naming what differs, unless ``overwrite``
    (``resume`` as for :func:`hybridinpaint.inpaint_file`).
    """

    settings = resolve(settings)
    scans, out = Path(scans), Path(out)
    files = io.list_frames(scans)
    checksums = {f.name: io.sha256_file(f) for f in files}
    frames, files = io.read_sequence(scans)
    if frames.shape[0] < 3:
        raise ValueError(
            f"{scans} holds {frames.shape[0]} frame(s); blotch detection needs at least 3 (temporal neighbours)"
        )
    options = {"sensitivity": sensitivity, "min_area": min_area, "deflicker": bool(deflicker), "report": bool(report)}
    run = engine.start(
        out,
        command="restore",
        inputs={"scans": scans},
        frames=len(files),
        options=options,
        settings=settings,
        plan=[(0, len(files))],
        resume=resume,
        overwrite=overwrite,
    )  # first: an unwritable output fails now, not after the detection
    if run.finished:
        if progress:
            print(f"hybridinpaint restore: {out} is already restored with these settings", file=sys.stderr)
        return fixes_file.load(out)
    with run.building() as tmp:
        if progress:
            print(f"hybridinpaint restore: {len(files)} frames from {scans}", file=sys.stderr)
        warm_up(backend, progress=progress)  # says "compiling kernels (first run only)" when it does
        res = film.restore(
            frames,
            sensitivity=sensitivity,
            min_area=min_area,
            deflicker=deflicker,
            backend=backend,
            settings=settings,
            progress=progress,
        )
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
            "size": [int(frames.shape[1]), int(frames.shape[2])],
            "checksums": checksums,
            "settings": {
                "sensitivity": sensitivity,
                "min_area": min_area,
                "kinds": list(film.KINDS),
                "deflicker": bool(deflicker),
                "tunables": settings.to_dict(),
            },
            "totals": totals,
            "fixes": fixes,
        }
        fixes_file.check(doc)  # what we write, a revert must accept
        io.write_json(tmp / "fixes.json", doc)
        if report:
            page = report_html(frames, res.frames, _fix_mask(fixes, frames.shape[:3]), fixes, doc["frames"])
            io.write_text(tmp / "report.html", page)
    return doc


def load_fixes(out) -> dict:
    """The validated ``fixes.json`` of restore output ``out`` (see :func:`hybridinpaint.film.fixes.load`)."""
    return fixes_file.load(out)


def _verify_scans(doc: dict, original: Path):
    """Refuse scans other than the ones restored, naming the first file that differs."""
    if not original.is_dir():
        raise FileNotFoundError(f"scans folder not found: {original}")
    for name in doc["frames"]:
        path = original / name
        if not path.is_file():
            raise ValueError(f"{path} is missing: {original} is not the scans folder this output was restored from")
        if io.sha256_file(path) != doc["checksums"][name]:
            raise ValueError(
                f"{path} differs from the scan that was restored (SHA-256 mismatch): {original} is not the scans "
                "folder this output was made from; nothing was changed"
            )


def _link_tree(src: Path, dst: Path):
    """``dst`` (existing, empty) filled with hard links to ``src``'s files (copies where links fail)."""
    for p in sorted(src.rglob("*")):
        q = dst / p.relative_to(src)
        if p.is_symlink():
            continue  # not ours: a restore output holds no links
        if p.is_dir():
            q.mkdir(exist_ok=True)
            continue
        try:
            os.link(p, q)
        except OSError:
            shutil.copy2(p, q)


def revert_dir(out, ids, original=None) -> list[int]:
    """Put the scanned pixels of fixes ``ids`` back into ``out``; returns the ids reverted.

    ``original``: the scans folder (default: the one recorded in
    ``fixes.json``); every scan must match the checksum recorded at restore
    time. The record is validated first; the new frames, provenance maps,
    ``fixes.json`` and report are built beside ``out`` and swapped in whole,
    so on any error nothing has changed.
    """

    out = Path(out)
    doc = fixes_file.load(out)
    original = Path(doc["scans"] if original is None else original)
    io.check_apart({"scans": original}, {"output": out})
    ids = [int(i) for i in ids]
    if not ids:
        raise ValueError("ids: give at least one fix id")
    by_id = {f["id"]: f for f in doc["fixes"]}
    missing = sorted(set(ids) - set(by_id))
    if missing:
        raise ValueError(f"fix ids {missing} are not in {out / 'fixes.json'} (ids: {sorted(by_id)})")
    _verify_scans(doc, original)
    touched: dict[str, list] = {}
    for i in dict.fromkeys(ids):
        touched.setdefault(by_id[i]["file"], []).append(by_id[i])
    for name in touched:
        if not (out / "frames" / name).is_file():
            raise ValueError(f"{out / 'frames' / name} is missing: the output is incomplete")
    io.clean_stale(out)
    tmp = io.temp_dir(out)
    try:
        _link_tree(out, tmp)
        for name, fs in touched.items():
            scan = io.read_frame(original / name)
            img = io.read_frame(out / "frames" / name)
            if img.shape[:2] != tuple(doc["size"]) or scan.shape != img.shape or scan.dtype != img.dtype:
                raise ValueError(
                    f"{out / 'frames' / name} ({img.shape} {img.dtype}) does not match its scan "
                    f"({scan.shape} {scan.dtype}) and the record's size {doc['size']}"
                )
            prov_path = tmp / "provenance" / f"{Path(name).stem}.png"
            prov = io.read_frame(prov_path) if prov_path.is_file() else None
            dim = visualize.dim_grey(scan)
            for f in fs:
                ys, xs = _pixels(f["runs"])
                img[ys, xs] = scan[ys, xs]
                if prov is not None:
                    prov[ys, xs] = dim[ys, xs, None] if prov.ndim == 3 else dim[ys, xs]
                f["reverted"] = True
            io.write_frame(tmp / "frames" / name, img, like=original / name)
            if prov is not None:
                io.write_frame(prov_path, prov)
        io.write_json(tmp / "fixes.json", doc)
        if (out / "report.html").is_file():
            scans, _ = io.read_sequence(original)
            restored, _ = io.read_sequence(tmp / "frames")
            mask = _fix_mask(doc["fixes"], restored.shape[:3])
            io.write_text(tmp / "report.html", report_html(scans, restored, mask, doc["fixes"], doc["frames"]))
        io.replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(set(ids))
