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

``"spared"`` lists the
regions found but left alone (a moving object, a still picture edge: their
pixels are the scan's) like fixes, without ids: ``frame``, ``file``, ``kind``,
``bbox``, ``area``, ``probability``, ``why``, ``runs``; ``repair_moving``
(``--repair-moving``) repairs them too.

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
import re
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


def _outlined(img, mask, colour=(255, 40, 40)):
    out = img.copy()
    m = cv2.resize(mask.astype(np.uint8), img.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    edge = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    out[edge] = colour
    return out


# How a fix is shown in the table. A fix up to _CROP_MAX px on a side: lossless
# full-resolution crops of the scan and the repair, _CROP_PAD px of context. A
# tall thin one (a line scratch): a strip along its whole length, _STRIP_PAD px
# of picture either side and red ticks above the repaired columns, squeezed in
# height (not in width, which would blur the line away) to at most _STRIP_H
# px. A flicker fix (it covers the frame): the whole frame before and after,
# _THUMB_W px wide. Anything else larger: its padded box scaled to fit _CROP_MAX.
_CROP_PAD = 6
_CROP_MAX = 240
_STRIP_PAD = 12
_STRIP_H = 200
_THUMB_W = 160

_SCRIPT = """
function t(i){var a=document.getElementById('a'+i),b=document.getElementById('b'+i);
var s=a.style.display=='none';a.style.display=s?'':'none';b.style.display=s?'none':'';}
function key(c){var v=c.getAttribute('data-v');return v===null?c.textContent:v;}
function sortBy(th){var tb=th.closest('table').tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
var asc=th.getAttribute('data-asc')!='1';th.setAttribute('data-asc',asc?'1':'0');
var rows=Array.prototype.slice.call(tb.rows);rows.sort(function(a,b){
var x=key(a.cells[i]),y=key(b.cells[i]);
var nx=parseFloat(x),ny=parseFloat(y),c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});
rows.forEach(function(r){tb.appendChild(r);});}
"""

_PROBABILITY_HELP = (
    "How likely it is that this region is a real defect and not picture, 0-100%. Dust and dirt: the "
    "probability given by the dirt classifier; scratches and flicker: how strong the evidence is, on the same "
    "0-100 scale. Blank where the detector gave none. Sort by it to review the doubtful ones first."
)
_AGREEMENT_HELP = (
    "How well the frames the repair copied from agree with each other at these pixels (100% = fully). It says "
    "how trustworthy the new pixels are, not whether there was a defect."
)
_WHERE_HELP = "First and last pixel row and column of the box around the fix, counted from 0 at the top left."

# (header, tooltip) of the table of fixes, in order.
_COLUMNS = (
    ("id", "the fix's number: `hybridinpaint revert OUT --ids N` undoes it"),
    ("frame", "frame number, from 0"),
    ("kind", "blotch: dust or dirt; scratch: a line scratch; flicker: the frame's brightness corrected"),
    ("probability of a defect", _PROBABILITY_HELP),
    ("area", "pixels changed"),
    ("where", _WHERE_HELP),
    ("why", "why the detector called it a defect"),
    ("repair", "how the new pixels were made"),
    ("sources", "the frames the new pixels were taken from"),
    ("repair source agreement", _AGREEMENT_HELP),
    ("scan", "the scanned picture around the fix"),
    ("repaired", "the same after the repair"),
    ("reverted", "yes: the scanned pixels were put back with `hybridinpaint revert`"),
)
_SPARED_COLUMNS = (
    ("frame", "frame number, from 0"),
    ("kind", "what the detector took it for"),
    ("probability of a defect", _PROBABILITY_HELP),
    ("area", "pixels it would have changed"),
    ("where", _WHERE_HELP),
    ("why left alone", "the evidence that it is picture (something moving, a still edge) rather than a defect"),
    ("scan", "the scanned picture around it (unchanged)"),
)


def _probability(f):
    """A fix's probability of being a defect in [0, 1], or None where the record has none."""
    p = f.get("probability")
    if isinstance(p, (int, float)) and np.isfinite(p):
        return float(min(max(p, 0.0), 1.0))
    s = f.get("score")
    if f.get("kind") == "blotch" and isinstance(s, (int, float)) and np.isfinite(s):
        return float(min(max(s, 0.0), 1.0))  # a blotch's score is the classifier's probability
    return None


def _percent_cell(v):
    if v is None:
        return "<td data-v='-1' title='the detector gave no number for this one'>–</td>"
    return f"<td data-v='{v:.4f}'>{round(100 * v)}%</td>"


def _where(bbox):
    """``[y0, x0, y1, x1]`` (ends exclusive) as "rows 10–49, columns 79–80" (ends inclusive)."""
    y0, x0, y1, x1 = (int(v) for v in bbox)

    def span(a, b, one, many):
        return f"{one} {a}" if b - a <= 1 else f"{many} {a}–{b - 1}"

    return f"{span(y0, y1, 'row', 'rows')}, {span(x0, x1, 'column', 'columns')}"


def _where_cell(bbox):
    rows, cols = _where(bbox).split(", ")
    key = f"{int(bbox[0]):06d}{int(bbox[1]):06d}"
    return f"<td data-v='{key}'><span class='nw'>{rows},</span> <span class='nw'>{cols}</span></td>"


def _thin(bbox, kind):
    """Shown as a strip: a scratch taller than a crop is wide, or anything long and thin."""
    y0, x0, y1, x1 = bbox
    h, w = y1 - y0, x1 - x0
    return (kind == "scratch" and h > 16 and h >= 3 * w) or (h > 40 and h >= 6 * w)


def _img(src, alt, cls, size=None):
    dims = f" width='{size[0]}' height='{size[1]}'" if size else ""
    return f"<img class='{cls}' src='{src}' alt='{html.escape(alt)}'{dims}>"


def _views(f, images, label):
    """An ``<img>`` per image of ``images`` (``[(frame array, 'scan'), ...]``) showing fix ``f``."""
    y0, x0, y1, x1 = (int(v) for v in f["bbox"])
    h, w = images[0][0].shape[:2]
    y0, y1, x0, x1 = min(max(y0, 0), h - 1), min(max(y1, y0 + 1), h), min(max(x0, 0), w - 1), min(max(x1, x0 + 1), w)
    out = []
    if f.get("kind") == "flicker":
        size = (_THUMB_W, max(1, round(h * _THUMB_W / w)))
        for img, what in images:
            thumb = cv2.resize(_rgb8(img), size, interpolation=cv2.INTER_AREA)
            out.append(_img(_b64(thumb, ".jpg", 85), f"{what} {label}", "thumb", size))
        return out
    if _thin((y0, x0, y1, x1), f.get("kind")):
        ya, yb = max(0, y0 - _CROP_PAD), min(h, y1 + _CROP_PAD)
        xa, xb = max(0, x0 - _STRIP_PAD), min(w, x1 + _STRIP_PAD)
        rows = min(_STRIP_H, yb - ya)
        tick = np.full((4, xb - xa, 3), 255, np.uint8)
        tick[:, x0 - xa : x1 - xa] = (230, 30, 30)
        for img, what in images:
            crop = _rgb8(img[ya:yb, xa:xb])
            if rows < yb - ya:
                crop = cv2.resize(crop, (xb - xa, rows), interpolation=cv2.INTER_AREA)
            strip = np.concatenate([tick, crop, tick])
            # Twice as wide on the page, so a 1-px line is plain to see; height as it is (at most _STRIP_H).
            out.append(_img(_b64(strip), f"{what} {label}", "strip", (2 * strip.shape[1], strip.shape[0])))
        return out
    sl = (slice(max(0, y0 - _CROP_PAD), min(h, y1 + _CROP_PAD)), slice(max(0, x0 - _CROP_PAD), min(w, x1 + _CROP_PAD)))
    for img, what in images:
        crop = _rgb8(img[sl])
        ch, cw = crop.shape[:2]
        if max(ch, cw) > _CROP_MAX:
            scale = _CROP_MAX / max(ch, cw)
            crop = cv2.resize(
                crop, (max(1, round(cw * scale)), max(1, round(ch * scale))), interpolation=cv2.INTER_AREA
            )
            out.append(_img(_b64(crop), f"{what} {label}", "big"))
        else:
            out.append(_img(_b64(crop), f"{what} {label}", "crop"))
    return out


def _grey8(img):
    g = _rgb8(img).astype(np.float32)
    return g @ np.float32([0.299, 0.587, 0.114])


def _flicker_why(f, scan, repaired):
    words = ["the frame's brightness differs from its neighbouring frames"]
    gain = re.search(r"gain\s+([0-9.]+)\s*-\s*([0-9.]+)", str(f.get("method", "")))
    if gain:
        a, b = gain.groups()
        words.append(f"brightness multiplied by {a}" if a == b else f"brightness multiplied by {a} to {b}")
    before, after = _grey8(scan).mean(), _grey8(repaired).mean()
    words.append(f"mean level {before:.1f} → {after:.1f} of 255")
    return "; ".join(words)


def _scratch_why(f, scan, lines):
    y0, x0, y1, x1 = (int(v) for v in f["bbox"])
    g = _grey8(scan[y0:y1])
    w = g.shape[1]
    inside = g[:, max(0, x0) : x1].mean() if x1 > x0 else None
    side = [g[:, a:b] for a, b in ((max(0, x0 - 4), max(0, x0 - 1)), (min(w, x1 + 1), min(w, x1 + 4))) if b > a]
    text = "a thin vertical line" if y1 - y0 >= 8 else "a short piece of a thin vertical line"
    if inside is not None and side:
        diff = inside - np.mean([s.mean() for s in side])
        if abs(diff) < 1.5:
            text += ", faint (about as bright as the picture beside it on average)"
        else:
            how = "brighter" if diff > 0 else "darker"
            text += f", {how} than the picture on both sides by {abs(diff):.0f} of 255"
    n = len({k for k, a, b in lines if a < x1 + 2 and x0 - 2 < b})
    if n > 1:
        text += f", found in {n} frames at these columns"
    return text


def _plain_why(f, scan, repaired, lines):
    """A fix's "why" in words (the record's ``reasons``, else its ``why``, else made from the pictures), and
    the detector's own text where that is technical (shown as a tooltip)."""
    reasons = f.get("reasons")
    if isinstance(reasons, list) and reasons:
        return "; ".join(str(r) for r in reasons), str(f.get("why", ""))
    why = str(f.get("why") or "")
    kind = f.get("kind")
    if kind == "flicker":
        return _flicker_why(f, scan, repaired), why
    if kind == "scratch":  # its record's why, if any, is that of a blotch it overlaps
        return _scratch_why(f, scan, lines), why
    if why.startswith("p=") or (kind == "blotch" and not why):
        return "a spot found in neither neighbouring frame, as dust and dirt are", why
    return why, ""


def _why_cell(text, detail):
    title = f" title='detector: {html.escape(detail, quote=True)}'" if detail else ""
    return f"<td class='why'{title}>{html.escape(text)}</td>"


def _header(columns, table_id):
    cells = "".join(
        f"<th onclick='sortBy(this)' title='{html.escape(tip, quote=True)}'>{html.escape(name)}</th>"
        for name, tip in columns
    )
    return f"<table id='{table_id}'><thead><tr>{cells}</tr></thead><tbody>"


def _agreement(f):
    c = f.get("confidence")
    return _percent_cell(float(min(max(c, 0.0), 1.0)) if isinstance(c, (int, float)) and np.isfinite(c) else None)


def _spared_mask(spared, shape):
    """Pixels of the spared regions, ``(T, H, W)`` bool; runs outside the frame are skipped."""
    mask = np.zeros(shape, bool)
    for s in spared:
        for run in s.get("runs") or []:
            try:
                y, x0, x1 = (int(v) for v in run)
            except (TypeError, ValueError):
                continue
            if 0 <= y < shape[1] and 0 <= x0 < x1 <= shape[2]:
                mask[int(s["frame"]), y, x0:x1] = True
    return mask


def _usable(entries, t, h, w):
    """The entries of a record's ``spared`` list that the report can show (the schema does not check them)."""
    out = []
    for s in entries or []:
        try:
            frame = int(s["frame"])
            y0, x0, y1, x1 = (int(v) for v in s["bbox"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= frame < t and 0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w:
            out.append(s)
    return out


def report_html(scans, restored, mask, fixes, files, spared=None) -> str:
    """A self-contained page: a sortable table of fixes with crops, one of regions left alone, per frame a view.

    Every fix has pictures of the scan and the repair (see ``_views``: full
    resolution crops, a strip along a scratch, thumbnails of a deflickered
    frame), a probability of being a defect, its box as labelled rows and
    columns, and why it was called a defect. ``spared`` (the record's
    ``spared``: regions the detector found but left alone as moving objects
    or picture edges) gets a table of its own. Frame views are JPEG at display
    size (at most 640 px wide) with repairs outlined in red and spared
    regions in yellow. The page needs no network and no other file.
    """
    t, h, w = scans.shape[:3]
    spared = _usable(spared, t, h, w)
    totals = {}
    for f in fixes:
        totals[f["kind"]] = totals.get(f["kind"], 0) + 1
    scratch_cols = [(f["frame"], f["bbox"][1], f["bbox"][3]) for f in fixes if f["kind"] == "scratch"]
    parts = [
        "<!doctype html><meta charset='utf-8'><title>hybridinpaint restoration report</title>",
        "<style>body{font-family:sans-serif;margin:2em}.view{max-width:100%}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:middle}th{cursor:pointer;background:#eee}"
        ".frame{margin-bottom:2em}.crop{height:64px;image-rendering:pixelated}.big{max-height:160px}"
        ".strip{image-rendering:pixelated}.why{min-width:12em;max-width:22em}td img{display:block}"
        ".note{max-width:60em}.nw{white-space:nowrap}</style>",
        f"<script>{_SCRIPT}</script>",
        "<h1>Restoration report</h1>",
        f"<p>{len(fixes)} fixes in {len(files)} frames: "
        + (", ".join(f"{n} {html.escape(k)}" for k, n in sorted(totals.items())) or "none")
        + (f"; {len(spared)} regions <a href='#spared'>left alone</a>" if spared else "")
        + ".</p>",
        "<p class='note'><b>probability of a defect</b>: how likely the region is dust, dirt, a scratch or flicker "
        "and not picture (review the low ones first). <b>where</b>: the box around it, pixel rows and columns "
        "from 0 at the top left. <b>repair source agreement</b>: how well the frames the new pixels came from "
        "agree. Scratches are shown as a strip along their length (squeezed in height, twice as wide; red ticks "
        "mark the repaired columns), flicker as the whole frame before and after. Hover over a column's name for "
        "more; click it to sort. Undo any fix with <code>hybridinpaint revert OUT --ids N</code>.</p>",
        _header(_COLUMNS, "fixes"),
    ]
    for f in fixes:
        k = f["frame"]
        why, detail = _plain_why(f, scans[k], restored[k], scratch_cols)
        pics = _views(f, [(scans[k], "scan"), (restored[k], "repaired")], str(f["id"]))
        sources = ", ".join(str(s) for s in f.get("sources", []))
        parts.append(
            f"<tr><td>{f['id']}</td><td>{k}</td><td>{html.escape(f['kind'])}</td>{_percent_cell(_probability(f))}"
            f"<td>{f['area']}</td>{_where_cell(f['bbox'])}{_why_cell(why, detail)}"
            f"<td>{html.escape(str(f.get('method', '')))}</td>"
            f"<td>{sources}</td>{_agreement(f)}<td>{pics[0]}</td><td>{pics[1]}</td>"
            f"<td>{'yes' if f.get('reverted') else ''}</td></tr>"
        )
    parts.append("</tbody></table>")
    if spared:
        parts += [
            "<h2 id='spared'>Left alone</h2>",
            f"<p class='note'>{len(spared)} regions looked like defects but were not repaired: the evidence says "
            "they are picture (something moving, or an edge that stays put from frame to frame). Their pixels are "
            "the scan's. To repair them too, run <code>hybridinpaint restore --repair-moving</code> (with "
            "<code>--overwrite</code> on this output).</p>",
            _header(_SPARED_COLUMNS, "spared-table"),
        ]
        for s in spared:
            k = int(s["frame"])
            reasons = s.get("reasons")
            why = "; ".join(str(r) for r in reasons) if isinstance(reasons, list) and reasons else str(s.get("why", ""))
            pic = _views(s, [(scans[k], "scan")], f"left alone in frame {k}")[0]
            parts.append(
                f"<tr><td>{k}</td><td>{html.escape(str(s.get('kind', '')))}</td>{_percent_cell(_probability(s))}"
                f"<td>{html.escape(str(s.get('area', '')))}</td>"
                f"{_where_cell(s['bbox'])}"
                f"<td class='why'>{html.escape(why)}</td><td>{pic}</td></tr>"
            )
        parts.append("</tbody></table>")
    spared_mask = _spared_mask(spared, (t, h, w))
    for k in sorted({f["frame"] for f in fixes} | {int(s["frame"]) for s in spared}):
        name = files[k]
        views = []
        for img in (scans[k], restored[k]):
            view = _outlined(_display(img), mask[k])
            views.append(_outlined(view, spared_mask[k], (250, 200, 0)) if spared_mask[k].any() else view)
        before, after = views
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


def _spared_dict(fx, files) -> dict:
    """A region left alone (``Restoration.spared``) as ``fixes.json`` lists it under ``spared``."""
    d = {"frame": int(fx.frame), "file": files[fx.frame].name, "kind": str(fx.kind)}
    d["bbox"] = [int(v) for v in fx.bbox]
    d["area"] = int(fx.area)
    for key in ("probability", "score"):
        v = getattr(fx, key)
        if v is not None and np.isfinite(v):
            d[key] = round(float(v), 5)
    d["why"] = fx.why or "left alone"
    d["method"] = fx.method
    d["runs"] = _runs(fx.ys, fx.xs)
    return d


def restore_dir(
    scans,
    out,
    *,
    sensitivity=1.0,
    min_area=5,
    deflicker=False,
    repair_moving=False,
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

    Regions the detector finds but the evidence says are picture (a moving
    object, a still edge) are left alone and listed in ``fixes.json`` under
    ``spared`` (and in the report); ``repair_moving`` repairs them too.
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
    options = {
        "sensitivity": sensitivity,
        "min_area": min_area,
        "deflicker": bool(deflicker),
        "repair_moving": bool(repair_moving),
        "report": bool(report),
    }
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
            spare_moving=not repair_moving,
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
        spared = [_spared_dict(fx, files) for fx in res.spared]
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
                "repair_moving": bool(repair_moving),
                "tunables": settings.to_dict(),
            },
            "totals": totals,
            "fixes": fixes,
        }
        if spared:
            doc["spared"] = spared  # an extra key: the schema allows it, and a revert does not read it
        fixes_file.check(doc)  # what we write, a revert must accept
        io.write_json(tmp / "fixes.json", doc)
        if report:
            mask = _fix_mask(fixes, frames.shape[:3])
            page = report_html(frames, res.frames, mask, fixes, doc["frames"], spared=spared)
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
            page = report_html(scans, restored, mask, doc["fixes"], doc["frames"], spared=doc.get("spared"))
            io.write_text(tmp / "report.html", page)
        io.replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(set(ids))
