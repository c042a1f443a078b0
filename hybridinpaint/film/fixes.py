"""``fixes.json``, the record of a ``hybridinpaint restore`` run: its schema and its checks.

A restore output folder may be handed to someone else, edited, or damaged;
nothing in it is trusted. :func:`load` validates the file against
:data:`SCHEMA_V2` (JSON Schema, checked with ``jsonschema``) and then
against itself (ids unique, every fix in a listed frame, every run inside
the frame) before anything reads a pixel or writes a byte.

Version 2 adds what makes a revert verifiable: ``size`` (frame height and
width) and ``checksums`` (the SHA-256 of every scanned frame file at restore
time), so that a revert refuses scans that are not the ones restored.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA = "hybridinpaint.film.fixes"
VERSION = 2

_NAME = {"type": "string", "pattern": r"^(?!\.{1,2}$)[^/\\\x00]+$", "maxLength": 255}
_UINT = {"type": "integer", "minimum": 0}

SCHEMA_V2 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "hybridinpaint restore record (fixes.json), version 2",
    "type": "object",
    "required": ["schema", "version", "scans", "frames", "size", "checksums", "settings", "totals", "fixes"],
    "properties": {
        "schema": {"const": SCHEMA},
        "version": {"const": VERSION},
        "scans": {"type": "string"},
        "frames": {"type": "array", "items": _NAME, "minItems": 1, "uniqueItems": True},
        "size": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2},
        "checksums": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
        "settings": {"type": "object"},
        "totals": {"type": "object", "additionalProperties": _UINT},
        "fixes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "frame", "file", "bbox", "area", "kind", "runs", "reverted"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "frame": _UINT,
                    "file": _NAME,
                    "bbox": {"type": "array", "items": _UINT, "minItems": 4, "maxItems": 4},
                    "area": {"type": "integer", "minimum": 1},
                    "kind": {"type": "string"},
                    "score": {"type": "number"},
                    "why": {"type": "string"},
                    "method": {"type": "string"},
                    "sources": {"type": "array", "items": _UINT},
                    "confidence": {"type": "number"},
                    "runs": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "array", "items": _UINT, "minItems": 3, "maxItems": 3},
                    },
                    "reverted": {"type": "boolean"},
                },
            },
        },
    },
}


class FixesError(ValueError):
    """``fixes.json`` is missing, unreadable, or not a valid record."""


def load(out) -> dict:
    """The validated record of restore output folder ``out``; :class:`FixesError` if it is not one."""
    path = Path(out) / "fixes.json"
    if not path.is_file():
        raise FixesError(f"{path} not found: is {out} a hybridinpaint restore output?")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FixesError(f"{path} is not valid JSON ({exc}); nothing was changed") from exc
    check(doc, path)
    return doc


def check(doc, path="fixes.json") -> None:
    """Raise :class:`FixesError` naming the first problem of ``doc``; return if it is a valid record."""
    import jsonschema

    if isinstance(doc, dict) and doc.get("schema") == SCHEMA and doc.get("version") == 1:
        raise FixesError(
            f"{path} was written by an older hybridinpaint (version 1, without checksums of the scans), so a "
            "revert cannot verify them; run `hybridinpaint restore` again to make a version 2 record"
        )
    validator = jsonschema.Draft202012Validator(SCHEMA_V2)
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        message = error.message
        if error.validator == "pattern" and error.schema.get("pattern") == _NAME["pattern"]:
            message = f"{error.instance!r} is not a plain file name (no folder parts, not '.' or '..')"
        raise FixesError(
            f"{path} is not a valid {SCHEMA} version {VERSION} record: {where or 'the document'}: {message}; "
            "nothing was changed"
        )
    frames = doc["frames"]
    if set(doc["checksums"]) != set(frames):
        raise FixesError(f"{path}: checksums must list exactly the frames")
    h, w = doc["size"]
    seen = set()
    for k, f in enumerate(doc["fixes"]):
        where = f"{path}: fixes[{k}] (id {f['id']})"
        if f["id"] in seen:
            raise FixesError(f"{where}: the id is not unique")
        seen.add(f["id"])
        if f["frame"] >= len(frames) or frames[f["frame"]] != f["file"]:
            raise FixesError(f"{where}: file {f['file']!r} is not frame {f['frame']} of the record's frames")
        for y, x0, x1 in f["runs"]:
            if not (y < h and x0 < x1 <= w):
                raise FixesError(f"{where}: run {[y, x0, x1]} lies outside the {w}x{h} frame")
