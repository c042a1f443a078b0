"""Camera-motion clips with known head and face boxes, made from hand-annotated photos.

The photos and their boxes are in ``benchmarks/data/faces`` (``annotations.json``,
credited in ``SOURCE.md``); the boxes were drawn by hand, without any face
detector, so they can judge one. Each photo becomes one clip: a 16:9 crop
window starts wide, then zooms in by 1.3-1.8x while it pans across the photo
towards the heads at one side of the group (eased, with a slight hand-held
wobble), and is resampled to the output size. Pan, zoom and wobble are drawn from the photo's name, so every run
gives the same frames. The window stays inside the photo (no black borders);
heads near its edge go partly out of frame, which ``visible`` records.

    python benchmarks/face_clips.py --look OUT.png
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "faces"
ZOOM = (1.3, 1.8)


@dataclass
class Clip:
    """One synthetic clip and the boxes of the people in it.

    Attributes
    ----------
    name : str
        File name of the photo the clip was made from.
    frames : numpy.ndarray
        (T, H, W, 3) uint8 RGB frames.
    people : list of dict
        One dict per annotated person, in annotation order: ``id`` (int, the
        person's index in the photo's annotation, the same in every frame),
        ``pose`` (str), ``tiny`` (bool), ``heads`` ((T, 4) float32
        [x1, y1, x2, y2] in frame pixels, not clipped to the frame),
        ``faces`` ((T, 4) float32 like ``heads``, or None where the face is not
        discernible) and ``visible`` ((T,) float32, the fraction of the head
        box's area inside the frame).
    windows : numpy.ndarray
        (T, 4) float64 crop window [x1, y1, x2, y2] in photo pixels.
    """

    name: str
    frames: np.ndarray
    people: list[dict] = field(default_factory=list)
    windows: np.ndarray | None = None


def load_annotations(path: Path | str = DATA / "annotations.json") -> dict:
    """Read the hand annotations.

    Parameters
    ----------
    path : Path or str
        The ``annotations.json`` file.

    Returns
    -------
    dict
        ``{"about": str, "images": {name: {"size": [W, H], "people": [...]}}}``.
    """
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def camera_path(
    name: str, photo_size: tuple[int, int], frames: int, aspect: float, heads: np.ndarray | None = None
) -> np.ndarray:
    """The crop windows of one clip.

    The window starts as the widest one of the output aspect that fits, roughly
    centred on the people, then zooms in while it pans towards the leftmost or
    the rightmost head (which one, and by how much it misses it, drawn from the
    name), so that heads at the far side leave the frame.

    Parameters
    ----------
    name : str
        Photo name; seeds the path, so the same name gives the same path.
    photo_size : (int, int)
        Photo width and height in pixels.
    frames : int
        Number of frames T.
    aspect : float
        Width / height of the output frames.
    heads : numpy.ndarray, optional
        (N, 4) head boxes in photo pixels; the path follows them (default: the
        photo's centre).

    Returns
    -------
    numpy.ndarray
        (T, 4) float64 windows [x1, y1, x2, y2], all inside the photo; the last
        is ``zoom`` times smaller than the first, with ``zoom`` in 1.3-1.8.
    """
    W, H = photo_size
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    zoom = rng.uniform(*ZOOM)
    if heads is None or len(heads) == 0:
        heads = np.array([[W / 2, H / 2, W / 2, H / 2]], np.float64)
    hx = (heads[:, 0] + heads[:, 2]) / 2
    hy = (heads[:, 1] + heads[:, 3]) / 2
    w0 = min(W, H * aspect)
    w1 = w0 / zoom
    h0, h1 = w0 / aspect, w1 / aspect
    toward_right = rng.random() < 0.5
    end = hx.argmax() if toward_right else hx.argmin()
    cx0 = (hx.min() + hx.max()) / 2 + rng.uniform(-0.1, 0.1) * w0
    cy0 = np.median(hy) + rng.uniform(-0.1, 0.1) * h0
    cx1 = hx[end] + rng.uniform(-0.15, 0.15) * w1
    cy1 = (np.median(hy) + hy[end]) / 2 + rng.uniform(-0.15, 0.15) * h1

    def frac(c, size, full):  # centre -> position within the free range, 0..1
        free = full - size
        return 0.5 if free < 1e-6 else float(np.clip((c - size / 2) / free, 0.0, 1.0))

    fx0, fx1 = frac(cx0, w0, W), frac(cx1, w1, W)
    fy0, fy1 = frac(cy0, h0, H), frac(cy1, h1, H)
    wobble_phase = rng.uniform(0, 2 * np.pi, size=2)

    t = np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(1)
    ease = 0.5 - 0.5 * np.cos(np.pi * t)
    w = w0 * np.exp(-np.log(zoom) * ease)  # zoom uniformly in log scale
    h = w / aspect
    cx = w / 2 + (fx0 + (fx1 - fx0) * ease) * (W - w)
    cy = h / 2 + (fy0 + (fy1 - fy0) * ease) * (H - h)
    # Hand-held wobble: about 0.4 % of the window, two slow frequencies.
    k = np.arange(frames)
    cx = cx + 0.004 * w * np.sin(0.31 * k + wobble_phase[0])
    cy = cy + 0.004 * w * np.sin(0.23 * k + wobble_phase[1])
    cx = np.clip(cx, w / 2, W - w / 2)
    cy = np.clip(cy, h / 2, H - h / 2)
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _visible(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fraction of each box's area inside [0, W] x [0, H]."""
    W, H = size
    ix = np.clip(boxes[:, 2], 0, W) - np.clip(boxes[:, 0], 0, W)
    iy = np.clip(boxes[:, 3], 0, H) - np.clip(boxes[:, 1], 0, H)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return (np.clip(ix, 0, None) * np.clip(iy, 0, None) / np.maximum(area, 1e-9)).astype(np.float32)


def make_clip(name: str, entry: dict, size: tuple[int, int] = (480, 270), frames: int = 40) -> Clip:
    """Make the clip of one annotated photo.

    Parameters
    ----------
    name : str
        Photo file name in ``DATA``.
    entry : dict
        Its annotation (``{"size": [W, H], "people": [...]}``).
    size : (int, int)
        Output frame width and height.
    frames : int
        Number of frames T.

    Returns
    -------
    Clip
    """
    out_w, out_h = size
    bgr = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(DATA / name)
    photo = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    H, W = photo.shape[:2]
    heads = np.array([p["head"] for p in entry["people"]], np.float64).reshape(-1, 4)
    win = camera_path(name, (W, H), frames, out_w / out_h, heads)
    scale = out_w / (win[:, 2] - win[:, 0])  # photo pixels -> frame pixels, per frame

    # warpAffine only interpolates; shrink the photo once with INTER_AREA so that no
    # frame samples it below ~1:1 (no aliasing), then warp from the shrunken copy.
    pre = min(1.0, float(scale.min()))
    src = photo
    if pre < 0.999:
        src = cv2.resize(photo, (max(1, round(W * pre)), max(1, round(H * pre))), interpolation=cv2.INTER_AREA)
    sx, sy = src.shape[1] / W, src.shape[0] / H

    out = np.empty((frames, out_h, out_w, 3), np.uint8)
    for i in range(frames):
        s = scale[i]
        # Continuous coordinates (pixel j spans [j, j+1)): frame x = s * (photo x - window x1), and
        # photo x = shrunken x / sx. warpAffine maps index to index (pixel centres at j + 0.5).
        m = np.array(
            [
                [s / sx, 0.0, -s * win[i, 0] + 0.5 * s / sx - 0.5],
                [0.0, s / sy, -s * win[i, 1] + 0.5 * s / sy - 0.5],
            ]
        )
        out[i] = cv2.warpAffine(src, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)

    def to_frame(box):
        b = np.asarray(box, np.float64)[None, :]
        offs = np.stack([win[:, 0], win[:, 1], win[:, 0], win[:, 1]], axis=1)
        return ((b - offs) * scale[:, None]).astype(np.float32)

    people = []
    for pid, p in enumerate(entry["people"]):
        heads = to_frame(p["head"])
        people.append(
            {
                "id": pid,
                "pose": p["pose"],
                "tiny": bool(p.get("tiny", False)),
                "heads": heads,
                "faces": None if p["face"] is None else to_frame(p["face"]),
                "visible": _visible(heads, size),
            }
        )
    return Clip(name=name, frames=out, people=people, windows=win)


def clips(size: tuple[int, int] = (480, 270), frames: int = 40, names=None) -> Iterator[Clip]:
    """Yield one camera-motion clip per annotated photo.

    Parameters
    ----------
    size : (int, int)
        Output frame width and height.
    frames : int
        Frames per clip.
    names : iterable of str, optional
        Only these photos (default: all, in annotation order).

    Yields
    ------
    Clip
    """
    images = load_annotations()["images"]
    for name in images if names is None else names:
        yield make_clip(name, images[name], size, frames)


def draw(frame: np.ndarray, clip: Clip, t: int) -> np.ndarray:
    """Frame ``t`` of ``clip`` (RGB) with head boxes (green), face boxes (red), ids and visible fractions."""
    img = np.ascontiguousarray(frame).copy()
    for p in clip.people:
        x1, y1, x2, y2 = np.round(p["heads"][t]).astype(int)
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 255, 0), 1)
        if p["faces"] is not None:
            f = np.round(p["faces"][t]).astype(int)
            cv2.rectangle(img, (f[0], f[1]), (f[2], f[3]), (255, 0, 0), 1)
        v = p["visible"][t]
        label = f"{p['id']}" + ("" if v > 0.999 else f" {v:.2f}")
        if v > 0:
            cv2.putText(img, label, (max(x1, 0), max(y1 - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 0), 1)
    cv2.putText(img, f"{clip.name} t={t}", (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
    return img


def look(path: Path | str, size: tuple[int, int] = (480, 270), frames: int = 40) -> None:
    """Write a sheet of the first, middle and last frame of every clip, boxes drawn, to ``path``."""
    rows = []
    for clip in clips(size, frames):
        ts = (0, frames // 2, frames - 1)
        rows.append(np.hstack([draw(clip.frames[t], clip, t) for t in ts]))
        cut = sum(bool((p["visible"] < 0.999).any()) for p in clip.people)
        print(f"{clip.name}: {len(clip.people)} people, {cut} partly out of frame at some time")
    sheet = np.vstack(rows)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--look", metavar="OUT.png", help="draw first/middle/last frame of each clip with boxes")
    ap.add_argument("--frames", type=int, default=40)
    args = ap.parse_args()
    if args.look:
        look(args.look, frames=args.frames)
    else:
        for clip in clips(frames=args.frames):
            print(clip.name, clip.frames.shape, len(clip.people))


if __name__ == "__main__":
    main()
