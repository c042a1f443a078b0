"""Fills for never-seen pixels: still images, static-camera video, and key-frame time.

1. Still images: frame 0 of each shared clip and the photos held out of
   training, at 432x240, with blob, stroke and box holes of 1-10%: hole
   PSNR, hole SSIM (the SSIM map averaged over the hole) and a sharpness
   ratio (gradient energy in the hole over the truth's) for each fill.
2. Video: stationary holes on the static-camera clips; hole PSNR and flow
   warping error in the hole, beside the warping error of the original frames.
3. CPU seconds for one key-frame fill at 432x240 and 1920x1080.

    python benchmarks/hallucination.py [--no-write] [--fills telea,fsr,patch,net,net-pixels]

(``net-pixels``, the network's output without PatchMatch, is measured on still
images only.)

Variants tried for issue 16 and not kept, measured like the fills on still
images and video (not timed; any of them implies ``--no-write``):

- ``patch-split``, ``net-split``: low frequencies from the guide, texture from
  PatchMatch (the guide blurred by a Gaussian of ``SPLIT_SIGMA`` px, plus
  PatchMatch's result minus its own blur), with FSR or the network as guide;
- ``patch-sharp``, ``net-sharp``: each hole pixel takes the pixel of its own
  best patch (the centre of the source patch PatchMatch found for it) instead
  of the vote's average;
- ``ring-choice``: per key frame, a ``RING`` px ring of known pixels around the
  hole is hidden, each of ``RING_FILLS`` fills hole and ring, and the one whose
  ring comes out nearest the truth (mean squared error) fills the hole.

    python benchmarks/hallucination.py --no-write --fills patch,net,patch-split,net-split,patch-sharp,net-sharp
    python benchmarks/hallucination.py --no-write --fills fsr,patch,net,ring-choice
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint import metrics as M
from hybridinpaint.completion import hallucinate
from hybridinpaint.completion import train as trainmod

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
from _results import write_section  # noqa: E402

IMAGES = HERE.parent.parent / "shared" / "data" / "images"
# Photos kept out of training (train.py is run with them removed; see MODEL_CARD.md).
HELD_OUT = ("kodak_kodim21.png", "kodak_kodim22.png", "kodak_kodim23.png", "kodak_kodim24.png")
STATIC = ("schoolgirls", "dogs-jump", "sam2-dog")
FILLS = ("telea", "fsr", "patch", "net")
# Still images only: the network's own pixels, without PatchMatch (the network as a pixel
# generator, against "net", the network as PatchMatch's guide).
STILL_ONLY = ("net-pixels",)
# Variants of the PatchMatch fills (see the module's doc): name -> (the fill it modifies, how).
VARIANTS = {
    "patch-split": ("patch", "split"),
    "net-split": ("net", "split"),
    "patch-sharp": ("patch", "sharp"),
    "net-sharp": ("net", "sharp"),
    "ring-choice": ("patch", "ring"),
}
SPLIT_SIGMA = 4.0
RING = 6
RING_FILLS = ("fsr", "patch", "net")


def _ring_choice(real_fill, image, hole, **kwargs):
    """``real_fill`` with the one of RING_FILLS that best refills a hidden ring of known pixels around ``hole``."""
    if not hole.any():
        return real_fill(image, hole, "patch", **kwargs)
    dist = cv2.distanceTransform((~hole).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ring = ~hole & (dist <= RING)
    hidden = hole | ring
    src = np.where(hidden[..., None], 0, image).astype(np.float32)
    errors = {f: float(((real_fill(src, hidden, f, **kwargs)[0] - image)[ring] ** 2).mean()) for f in RING_FILLS}
    return real_fill(image, hole, min(RING_FILLS, key=errors.get), **kwargs)


def _blur(a):
    return cv2.GaussianBlur(a, (0, 0), SPLIT_SIGMA).reshape(a.shape)


@contextmanager
def variant(how):
    """Yield the fill name to hand to ``hallucinate.fill`` or ``inpaint(hallucinate=)`` for ``how``.

    For a variant, ``hallucinate.texture`` (split, sharp) or ``hallucinate.fill``
    (ring) is replaced inside the block by the variant's; plain fills pass through.
    """
    if how not in VARIANTS:
        yield how
        return
    base, kind = VARIANTS[how]
    real_texture, real_fill = hallucinate.texture, hallucinate.fill

    def texture(image, hole, guide, *args, **kwargs):
        out, nnf = real_texture(image, hole, guide, *args, **kwargs)
        if kind == "split":
            out = np.where(hole[..., None], np.clip(_blur(guide) + out - _blur(out), 0, 1), out).astype(np.float32)
        elif nnf is not None and nnf.shape[:2] == hole.shape:
            ys, xs = np.nonzero(hole)
            out = out.copy()
            out[ys, xs] = image[nnf[ys, xs, 1], nnf[ys, xs, 2]]
        return out, nnf

    def fill(image, hole, how, **kwargs):
        return _ring_choice(real_fill, image, hole, **kwargs)

    if kind == "ring":
        hallucinate.fill = fill
    else:
        hallucinate.texture = texture
    try:
        yield base
    finally:
        hallucinate.texture, hallucinate.fill = real_texture, real_fill


def net_pixels(src, hole):
    """The shipped network's output in the hole (on its context box), no PatchMatch."""
    from hybridinpaint.completion import net

    alt = hallucinate.classical(src, hole, "telea")
    by, bx = hallucinate.context_box(hole, margin=0.0, least=32)
    first = alt if net.load().first == "telea" else hallucinate.classical(src, hole, "fsr")
    out = src.copy()
    out[by, bx] = net.refine(first[by, bx], alt[by, bx], hole[by, bx])
    return out


def still_cases():
    """(name, truth image) pairs at 432x240."""
    out = []
    for clip in sorted(p.name for p in quality.CLIPS.iterdir() if (p / "frames").is_dir()):
        out.append((clip, quality.load_clip(clip, 1)[0]))
    for name in HELD_OUT:
        img = cv2.imread(str(IMAGES / name))
        if img is not None:
            out.append((name, cv2.resize(img[:, :, ::-1], quality.SIZE, interpolation=cv2.INTER_AREA)))
    return out


def hole_of(kind, rng, h, w):
    make = {"blob": trainmod.blob_mask, "stroke": trainmod.stroke_mask, "box": trainmod.box_mask}[kind]
    for _ in range(200):
        m = make(rng, h, w)
        if 0.01 <= m.mean() <= 0.10:
            return m
    raise RuntimeError(f"could not draw a {kind} hole of 1-10%")


def grad_energy(img, sel):
    g = img.astype(np.float64).mean(axis=2)
    gx = np.zeros_like(g)
    gy = np.zeros_like(g)
    gx[:, 1:] = g[:, 1:] - g[:, :-1]
    gy[1:] = g[1:] - g[:-1]
    return float((gx**2 + gy**2)[sel].mean())


def still(fills):
    rows = []
    for name, truth in still_cases():
        h, w = truth.shape[:2]
        for kind in ("blob", "stroke", "box"):
            rng = np.random.default_rng(zlib.crc32(f"{name}/{kind}".encode()))
            hole = hole_of(kind, rng, h, w)
            img = truth.astype(np.float32) / 255
            src = img.copy()
            src[hole] = 0
            for how in fills:
                if how == "net-pixels":
                    out = net_pixels(src, hole)
                else:
                    with variant(how) as fill_name:
                        out = hallucinate.fill(src, hole, fill_name, backend="cpu")[0]
                out8 = np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
                rows.append(
                    {
                        "case": name,
                        "kind": kind,
                        "fill": how,
                        "psnr": M.psnr(out8[None], truth[None], mask=hole),
                        "ssim": M.ssim(out8[None], truth[None], mask=hole),
                        "sharp": grad_energy(out8, hole) / max(grad_energy(truth, hole), 1e-12),
                    }
                )
        print(name, "done", flush=True)
    return rows


def video(fills, n=40):
    rows = []
    names = sorted(p.name for p in quality.CLIPS.iterdir() if (p / "frames").is_dir())
    for clip in STATIC:
        i = names.index(clip)
        truth = quality.load_clip(clip, n)
        t, h, w, _ = truth.shape
        flows = quality.gt_flows(truth)
        masks = quality.masks_for("stationary", t, h, w, seed=1000 * i)
        vid = truth.copy()
        vid[masks] = 0
        fwd, bwd = np.stack([f for f, _ in flows]), np.stack([b for _, b in flows])
        base = M.warp_error(truth, mask=masks, flow=(fwd, bwd)) * 1000
        for how in fills:
            with variant(how) as fill_name:
                out = hybridinpaint.inpaint(vid, masks, hallucinate=fill_name, backend="cpu")
            m = quality.metrics(out, truth, masks, flows, vid)
            rows.append({"clip": clip, "fill": how, "psnr": m["hole_psnr"], "warp": m["warp"], "truth_warp": base})
            print(clip, how, f"{m['hole_psnr']:.2f} dB warp {m['warp']:.3f} (truth {base:.3f})", flush=True)
    return rows


def timing(fills):
    rows = []
    truth = quality.load_clip("bmx-trees", 1)[0]
    for size in ((432, 240), (1920, 1080)):
        img = cv2.resize(truth, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
        rng = np.random.default_rng(0)
        hole = hole_of("blob", rng, size[1], size[0])
        hallucinate.fill(img, hole, "net" if "net" in fills else fills[0], backend="cpu")  # warm-up
        for how in fills:
            start = time.perf_counter()
            hallucinate.fill(img, hole, how, backend="cpu")
            rows.append({"size": f"{size[0]}x{size[1]}", "fill": how, "sec": time.perf_counter() - start})
    return rows


def table(st, vd, tm, fills, pipeline_fills, timed):
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, hybridinpaint {hybridinpaint.__version__}, CPU backend.",
        "",
        "Still images (frame 0 of each shared clip and 4 held-out Kodak photos at 432x240; blob, stroke and box "
        "holes of 1-10%; means over cases). Sharpness = gradient energy in the hole over the truth's.",
        "",
        "| fill | hole PSNR dB | hole SSIM | sharpness |",
        "| --- | --- | --- | --- |",
    ]
    for how in fills:
        sel = [r for r in st if r["fill"] == how]
        lines.append(
            f"| {how} | {np.mean([r['psnr'] for r in sel]):.2f} | {np.mean([r['ssim'] for r in sel]):.3f} "
            f"| {np.mean([r['sharp'] for r in sel]):.2f} |"
        )
    lines += [
        "",
        "Video, stationary holes (~12%) on static-camera clips, 40 frames: hole PSNR dB / hole warping error "
        "(x1000; the original frames' own in brackets).",
        "",
        "| clip | " + " | ".join(pipeline_fills) + " |",
        "| --- | " + " | ".join("---" for _ in pipeline_fills) + " |",
    ]
    for clip in STATIC:
        cells = []
        for how in pipeline_fills:
            r = next(x for x in vd if x["clip"] == clip and x["fill"] == how)
            cells.append(f"{r['psnr']:.2f} / {r['warp']:.3f} ({r['truth_warp']:.3f})")
        lines.append(f"| {clip} | " + " | ".join(cells) + " |")
    if not timed:
        return "\n".join(lines) + "\n"
    lines += ["", "Key-frame fill, CPU seconds (one frame, blob hole):", ""]
    lines += ["| size | " + " | ".join(timed) + " |"]
    lines.append("| --- | " + " | ".join("---" for _ in timed) + " |")
    for size in ("432x240", "1920x1080"):
        lines.append(
            f"| {size} | "
            + " | ".join(f"{next(r['sec'] for r in tm if r['size'] == size and r['fill'] == f):.3f}" for f in timed)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fills", default=",".join(FILLS))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    fills = tuple(args.fills.split(","))
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    unknown = set(fills) - set(hallucinate.FILLS) - set(STILL_ONLY) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"--fills: unknown fill(s) {sorted(unknown)}")
    pipeline_fills = tuple(f for f in fills if f not in STILL_ONLY)
    timed = tuple(f for f in pipeline_fills if f not in VARIANTS)
    st, vd = still(fills), video(pipeline_fills)
    md = table(st, vd, timing(timed) if timed else [], fills, pipeline_fills, timed)
    print(md)
    if not args.no_write and not set(fills) & set(VARIANTS):
        write_section(
            "hallucination",
            md,
            heading="Never-seen pixels (issue 4)",
            command="python benchmarks/hallucination.py",
        )


if __name__ == "__main__":
    main()
