"""Frame sequences on disk: PNG, JPEG, TIFF and DPX (8/10/12/16-bit, grey or RGB), written atomically.

DPX goes through OpenImageIO's Python package where it is installed (the
``dpx`` extra: ``pip install "hybridinpaint[dpx]"``); 10- and 12-bit DPX
samples are read as uint16 scaled to the full 16-bit range and written back
at the bit depth and with the header of the scan they came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "list_frames",
    "check_apart",
    "temp_dir",
    "temp_file",
    "clean_stale",
    "sha256_file",
    "read_frame",
    "read_sequence",
    "write_frame",
    "replace_dir",
    "publish",
    "write_text",
    "write_json",
    "FRAME_SUFFIXES",
]

FRAME_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".dpx")


def list_frames(folder) -> list[Path]:
    """The image files of ``folder``, sorted by name; a clear error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"frame directory not found: {folder}")
    # Hidden files are never frames: temp files of ours, .DS_Store, ._* of macOS.
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FRAME_SUFFIXES
    )
    if not files:
        raise ValueError(f"{folder} holds no frames ({', '.join(FRAME_SUFFIXES)})")
    return files


def _oiio(path):
    try:
        import OpenImageIO
    except ImportError:
        raise ImportError(
            f"{path}: DPX files need OpenImageIO's Python package; install it with "
            '`pip install "hybridinpaint[dpx]"` (or `pip install openimageio`)'
        ) from None
    return OpenImageIO


def _read_dpx(path: Path) -> np.ndarray:
    oiio = _oiio(path)
    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise ValueError(f"cannot read DPX file {path}: {oiio.geterror()}")
    try:
        spec = inp.spec()
        fmt = oiio.UINT8 if spec.format == oiio.UINT8 else oiio.UINT16
        img = inp.read_image(fmt)
    finally:
        inp.close()
    if img is None:
        raise ValueError(f"cannot read DPX file {path}: {oiio.geterror()}")
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    return np.ascontiguousarray(img)


def _write_dpx(tmp: str, img: np.ndarray, like) -> None:
    oiio = _oiio(tmp)
    h, w = img.shape[:2]
    c = 1 if img.ndim == 2 else img.shape[2]
    fmt = oiio.UINT8 if img.dtype == np.uint8 else oiio.UINT16
    spec = None
    if like is not None and Path(like).suffix.lower() == ".dpx":
        inp = oiio.ImageInput.open(str(like))
        if inp is not None:
            spec = oiio.ImageSpec(inp.spec())  # keep the scan's header: bit depth, timecode, film fields
            inp.close()
    if spec is None or (spec.width, spec.height, spec.nchannels) != (w, h, c):
        spec = oiio.ImageSpec(w, h, c, fmt)
    spec.set_format(fmt)
    out = oiio.ImageOutput.create(tmp)
    if out is None or not out.open(tmp, spec):
        raise OSError(f"OpenImageIO could not write {tmp}: {oiio.geterror()}")
    try:
        if not out.write_image(np.ascontiguousarray(img)):
            raise OSError(f"OpenImageIO could not write {tmp}: {out.geterror()}")
    finally:
        out.close()


def read_frame(path) -> np.ndarray:
    """One image as ``(H, W)`` grey or ``(H, W, 3)`` RGB, uint8 or uint16 as stored.

    10- and 12-bit DPX samples come back as uint16 over the full 16-bit range.
    """
    path = Path(path)
    if path.suffix.lower() == ".dpx":
        img = _read_dpx(path)
    elif path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        try:
            img = tifffile.imread(path)
        except Exception as exc:
            raise ValueError(f"cannot read TIFF file {path}: {exc}") from exc
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[..., :3]
    else:
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise ValueError(f"cannot read image file {path}")
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB if img.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    if img.dtype not in (np.uint8, np.uint16) or img.ndim not in (2, 3):
        raise ValueError(f"{path}: expected an 8- or 16-bit grey or RGB image, got {img.dtype} {img.shape}")
    return img


def read_sequence(folder) -> tuple[np.ndarray, list[Path]]:
    """All frames of ``folder`` stacked ``(T, H, W[, 3])``; frames must agree in size, channels and depth."""
    files = list_frames(folder)
    first = read_frame(files[0])
    out = np.empty((len(files),) + first.shape, first.dtype)
    out[0] = first
    for k, f in enumerate(files[1:], start=1):
        img = read_frame(f)
        if img.shape != first.shape or img.dtype != first.dtype:
            raise ValueError(
                f"frames differ: {files[0].name} is {first.shape} {first.dtype}, {f.name} is {img.shape} {img.dtype}"
            )
        out[k] = img
    return out, files


def check_apart(inputs: dict, outputs: dict) -> None:
    """Refuse any output path that is, contains or lies inside an input path.

    ``inputs`` and ``outputs`` map a name for messages (``"scans"``,
    ``"--provenance"``) to a path or None. Paths are compared after
    resolving symbolic links, so a link cannot smuggle an output into an
    input folder.
    """
    ins = {k: Path(v).resolve() for k, v in inputs.items() if v is not None}
    for oname, opath in outputs.items():
        if opath is None:
            continue
        o = Path(opath).resolve()
        for iname, i in ins.items():
            if o == i or i in o.parents or o in i.parents:
                raise ValueError(
                    f"{oname} {opath} must not be, contain or lie inside {iname} {i}: inputs are never overwritten"
                )


def umask_mode(mode: int) -> int:
    """``mode`` less the process's umask: what ``open`` or ``mkdir`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def _stale_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def temp_dir(out) -> Path:
    """A new empty folder beside ``out`` to build it in, named so :func:`clean_stale` can find it.

    Made with the permissions of a new folder (``mkdtemp`` would make it
    owner-only, and the folder becomes the output).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_stale_prefix(out)}{os.getpid()}-", dir=out.parent))
    os.chmod(tmp, umask_mode(0o777))
    return tmp


def temp_file(path) -> str:
    """A new empty temp file beside ``path`` (same suffix), named so :func:`clean_stale` can find it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{_stale_prefix(path)}{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_stale(out) -> list[Path]:
    """Remove what a killed run of ours left beside ``out``; returns what was removed.

    Temp files and folders named by :func:`temp_dir` / :func:`temp_file`
    (``.NAME.tmp-PID-*``) whose process is gone, and the old copy that
    :func:`replace_dir` moves aside (``.NAME.old-PID``): deleted when ``out``
    exists, else put back as ``out`` (the kill came between the two renames).
    Nothing of a process still running, nor anything named otherwise, is
    touched.
    """
    out = Path(out)
    if not out.parent.is_dir():
        return []
    removed = []
    for p in out.parent.iterdir():
        for marker in (_stale_prefix(out), f".{out.name}.old-"):
            if not p.name.startswith(marker):
                continue
            pid = p.name[len(marker) :].split("-", 1)[0]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            if marker.endswith("old-") and not out.exists() and p.is_dir():
                p.rename(out)
            elif p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def sha256_file(path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def publish(tmp, path) -> None:
    """Move the finished temp file ``tmp`` to ``path`` with the permissions a new file would get.

    ``tempfile.mkstemp`` creates files readable by their owner only; outputs
    follow the umask like any other file the user writes.
    """
    os.chmod(tmp, umask_mode(0o666))
    os.replace(tmp, path)


def write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file beside it, completely or not at all."""
    path = Path(path)
    tmp = temp_file(path)
    try:
        Path(tmp).write_text(text)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def matching_record(path, expect: dict, masks=None, count=None):
    """The JSON record at ``path`` if it agrees with every item of ``expect``, else None.

    With ``masks`` (a folder), it must also hold ``count`` PNG masks: a record
    of masks made earlier from the same input and settings, which a rerun
    may reuse instead of making them again. An unreadable record is None.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or any(doc.get(k) != v for k, v in expect.items()):
        return None
    if masks is not None and len(list(Path(masks).glob("*.png"))) != count:
        return None
    return doc


def write_json(path, doc) -> None:
    """Write ``doc`` as JSON to ``path``, completely or not at all (see :func:`write_text`)."""
    write_text(path, json.dumps(doc, indent=1))


def write_frame(path, img: np.ndarray, *, like=None) -> None:
    """Write ``img`` (RGB or grey, uint8/uint16) to ``path``, completely or not at all.

    ``like``: for DPX, the scan whose header (bit depth included) the new
    file keeps.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_file(path)
    try:
        if path.suffix.lower() == ".dpx":
            _write_dpx(tmp, img, like)
        elif path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            tifffile.imwrite(tmp, img, photometric="rgb" if img.ndim == 3 else "minisblack")
        else:
            data = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
            params = [cv2.IMWRITE_JPEG_QUALITY, 100] if path.suffix.lower() in (".jpg", ".jpeg") else []
            if not cv2.imwrite(tmp, data, params):
                raise OSError(f"OpenCV could not write {path}")
        publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def replace_dir(tmp, out) -> None:
    """Move the finished folder ``tmp`` to ``out``, replacing an earlier ``out`` whole.

    The old folder is moved aside first and deleted last, so ``out`` is at
    every moment either the old output or the new one, never a mix.
    """
    tmp, out = Path(tmp), Path(out)
    if not out.exists():
        tmp.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")  # clean_stale knows this name
    shutil.rmtree(old, ignore_errors=True)
    out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
