"""Frame sequences on disk: PNG, JPEG and TIFF (8/16-bit, grey or RGB), written atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

__all__ = ["list_frames", "read_frame", "read_sequence", "write_frame", "replace_dir", "FRAME_SUFFIXES"]

FRAME_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")


def list_frames(folder) -> list[Path]:
    """The image files of ``folder``, sorted by name; a clear error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"frame directory not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no frames ({', '.join(FRAME_SUFFIXES)})")
    return files


def read_frame(path) -> np.ndarray:
    """One image as ``(H, W)`` grey or ``(H, W, 3)`` RGB, uint8 or uint16 as stored."""
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
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


def write_frame(path, img: np.ndarray) -> None:
    """Write ``img`` (RGB or grey, uint8/uint16) to ``path``, completely or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            tifffile.imwrite(tmp, img, photometric="rgb" if img.ndim == 3 else "minisblack")
        else:
            data = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
            params = [cv2.IMWRITE_JPEG_QUALITY, 100] if path.suffix.lower() in (".jpg", ".jpeg") else []
            if not cv2.imwrite(tmp, data, params):
                raise OSError(f"OpenCV could not write {path}")
        os.replace(tmp, path)
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
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
