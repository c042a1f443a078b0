"""Train the refinement network on a folder of photos (reproducible, resumable).

    python -m hybridinpaint.completion.train IMAGES_DIR --out RUN_DIR --minutes 60
    python -m hybridinpaint.completion.train IMAGES_DIR --out RUN_DIR --minutes 60 --resume
    python -m hybridinpaint.completion.train --export RUN_DIR/checkpoint.pt hybridinpaint/data/refine_net.pt

The export writes the fp16 weights (``refine_net.pt``, for PyTorch and further
training) and the same network as ONNX (``refine_net.onnx`` and
``refine_net.json``), which is what the package runs, with OpenCV's dnn
(:mod:`hybridinpaint.completion.refiner`); torch is needed only here.

Each step draws random crops of the photos (random scale and flips), cuts a
random hole into each (strokes, blobs, boxes or object-like silhouettes,
1-15% of the crop), fills it with OpenCV's FSR_FAST and TELEA as the
inference path does, and trains the network to correct the FSR fill. Loss, over the hole:
L1 on colour, optionally plus L1 on horizontal and vertical differences
(``--grad-weight``; it trades PSNR for edges, and the texture is PatchMatch's
job, so the shipped weights use 0). A checkpoint (model, optimiser, step,
random states) is written atomically every ``--every`` seconds and at the
end, so a killed run resumes where it stopped with ``--resume``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.completion.hallucinate import classical

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def load_images(folder: Path, exclude=()) -> list[np.ndarray]:
    """Every photo in ``folder`` (but the file names in ``exclude``) as float32 RGB in [0, 1]."""
    files = sorted(
        p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in set(exclude)
    )
    if not files:
        raise ValueError(f"images folder {folder} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    out = []
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot read image file {f}")
        out.append(img[:, :, ::-1].astype(np.float32) / 255.0)
    return out


# --- hole masks -----------------------------------------------------------


def stroke_mask(rng, h, w):
    m = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(1, 4)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        width = int(rng.integers(3, max(4, min(h, w) // 10)))
        for _ in range(rng.integers(2, 6)):
            ang = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(0.1, 0.4) * min(h, w)
            nx, ny = x + length * np.cos(ang), y + length * np.sin(ang)
            cv2.line(m, (int(x), int(y)), (int(nx), int(ny)), 1, width)
            x, y = nx, ny
    return m.astype(bool)


def blob_mask(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    ang = np.arctan2(yy - cy, xx - cx)
    wobble = 1 + sum(0.15 * rng.uniform(-1, 1) * np.cos(k * ang + rng.uniform(0, 6.3)) for k in (2, 3, 5))
    rad = rng.uniform(0.08, 0.22) * min(h, w)
    return np.hypot(xx - cx, (yy - cy) * rng.uniform(0.7, 1.4)) < rad * wobble


def box_mask(rng, h, w):
    m = np.zeros((h, w), bool)
    bh, bw = int(rng.uniform(0.1, 0.35) * h), int(rng.uniform(0.1, 0.35) * w)
    y, x = int(rng.integers(0, h - bh)), int(rng.integers(0, w - bw))
    m[y : y + bh, x : x + bw] = True
    return m


def silhouette_mask(rng, h, w):
    """A person- or animal-like shape: a body ellipse with a head and limbs."""
    m = np.zeros((h, w), np.uint8)
    s = rng.uniform(0.15, 0.35) * min(h, w)
    cx, cy = int(rng.uniform(0.3, 0.7) * w), int(rng.uniform(0.35, 0.65) * h)
    upright = rng.random() < 0.5
    axes = (int(s * 0.3), int(s * 0.6)) if upright else (int(s * 0.6), int(s * 0.3))
    cv2.ellipse(m, (cx, cy), axes, float(rng.uniform(-20, 20)), 0, 360, 1, -1)
    hx, hy = (cx, cy - axes[1] - int(s * 0.15)) if upright else (cx + axes[0], cy - int(s * 0.2))
    cv2.circle(m, (hx, hy), max(2, int(s * 0.18)), 1, -1)
    for _ in range(4):
        x0 = cx + int(rng.uniform(-0.5, 0.5) * axes[0])
        y0 = cy + int(rng.uniform(-0.2, 0.5) * axes[1])
        x1 = x0 + int(rng.uniform(-0.3, 0.3) * s)
        y1 = y0 + int(rng.uniform(0.3, 0.7) * s)
        cv2.line(m, (x0, y0), (x1, y1), 1, max(2, int(s * 0.08)))
    return m.astype(bool)


MASKS = (stroke_mask, blob_mask, box_mask, silhouette_mask)


def random_mask(rng, h, w, lo=0.01, hi=0.15):
    """One of the four kinds, redrawn until it covers ``lo``-``hi`` of the frame."""
    for _ in range(50):
        m = MASKS[rng.integers(len(MASKS))](rng, h, w)
        if lo <= m.mean() <= hi:
            return m
    return box_mask(rng, h, w)


def classical_fills(image: np.ndarray, hole: np.ndarray, first: str = "fsr"):
    """The network's inputs: the ``first`` fill (FSR_FAST or TELEA) and TELEA, of a float32 RGB image."""

    telea = classical(image, hole, "telea")
    return (classical(image, hole, "fsr") if first == "fsr" else telea), telea


_WORKER_IMAGES: list = []


def _init_worker(images):
    _WORKER_IMAGES[:] = images


def _batch_from_seed(job):
    seed, batch, crop, first = job
    return make_batch(np.random.default_rng(seed), _WORKER_IMAGES, batch, crop, first)


def make_batch(rng, images, batch, crop, first="fsr"):
    xs, alts, ms, ys = [], [], [], []
    for _ in range(batch):
        img = images[rng.integers(len(images))]
        scale = rng.uniform(0.35, 1.0)
        h, w = img.shape[:2]
        sh, sw = max(crop, int(h * scale)), max(crop, int(w * scale))
        small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
        y, x = rng.integers(0, sh - crop + 1), rng.integers(0, sw - crop + 1)
        patch = small[y : y + crop, x : x + crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        patch = np.ascontiguousarray(patch)
        hole = random_mask(rng, crop, crop)
        main, telea = classical_fills(patch, hole, first)
        xs.append(main)
        alts.append(telea)
        ms.append(hole)
        ys.append(patch)
    return np.stack(xs), np.stack(alts), np.stack(ms), np.stack(ys)


def losses(torch, out, truth, hole):
    """L1 colour + L1 of neighbour differences, both over the hole (per hole pixel)."""
    area = hole.sum().clamp(min=1.0)
    l1 = ((out - truth).abs() * hole).sum() / (3 * area)
    gx = lambda a: a[..., :, 1:] - a[..., :, :-1]  # noqa: E731
    gy = lambda a: a[..., 1:, :] - a[..., :-1, :]  # noqa: E731
    hx = hole[..., :, 1:] * hole[..., :, :-1]
    hy = hole[..., 1:, :] * hole[..., :-1, :]
    grad = ((gx(out) - gx(truth)).abs() * hx).sum() / (3 * area) + ((gy(out) - gy(truth)).abs() * hy).sum() / (3 * area)
    return l1, grad


def _save_atomic(torch, obj, path: Path):
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(
    images_dir,
    out_dir,
    *,
    minutes,
    resume=False,
    batch=8,
    crop=96,
    lr=5e-4,
    grad_weight=0.0,
    seed=0,
    every=60,
    exclude=(),
    first="fsr",
    device="auto",
    workers=0,
):
    """Train (or resume) in ``out_dir``; returns the checkpoint's path.

    ``device``: ``"auto"`` (CUDA when torch sees a GPU), ``"cpu"`` or
    ``"cuda"``. ``workers`` > 0 draws the batches in that many processes
    (the crops' classical fills are the slow part on a GPU machine); each
    batch comes from its own seed, drawn from the run's generator, so a run
    is reproducible for a given number of workers. ``first``: the fill the
    network corrects, ``"fsr"`` or ``"telea"`` (see ``net.RefineNet``).
    """
    import torch

    from hybridinpaint.completion.net import FIRSTS, WIDTHS, RefineNet

    if first not in FIRSTS:
        raise ValueError(f"first must be one of {FIRSTS}, got {first!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    images = load_images(Path(images_dir), exclude)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = RefineNet(first=first).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    step, seconds = 0, 0.0
    config = {"widths": list(WIDTHS), "batch": batch, "crop": crop, "lr": lr, "grad_weight": grad_weight, "seed": seed}
    config.update(first=first, workers=int(workers))
    config["exclude"] = sorted(exclude)
    if resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=dev, weights_only=True)
        was = ck.get("config", {}).get("first", "fsr")
        if was != first:
            raise ValueError(f"{ckpt_path} trains a network that corrects {was}; resume it with first={was!r}")
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, seconds = int(ck["step"]), float(ck["seconds"])
        torch.set_rng_state(ck["torch_rng"].cpu())
        rng.bit_generator.state = json.loads(ck["numpy_rng"])
        print(f"resumed at step {step} ({seconds / 60:.1f} min trained)", file=sys.stderr)
    elif ckpt_path.exists():
        raise FileExistsError(f"{ckpt_path} exists; pass --resume to continue it or choose another --out")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    log = open(out / "log.tsv", "a")
    budget = minutes * 60.0
    last_save = time.monotonic()
    start = time.monotonic() - seconds

    def save():
        state = {
            "model": {k: v.cpu() for k, v in net.state_dict().items()},
            "optimizer": opt.state_dict(),
            "step": step,
            "seconds": time.monotonic() - start,
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": json.dumps(rng.bit_generator.state),
            "config": config,
        }
        _save_atomic(torch, state, ckpt_path)

    net.train()
    pool = None
    if workers > 0:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(int(workers), initializer=_init_worker, initargs=(images,))

    def submit():
        return pool.submit(_batch_from_seed, (int(rng.integers(2**63)), batch, crop, first))

    ahead = [submit() for _ in range(2 * workers)] if pool is not None else []

    def next_batch():
        if pool is None:
            return make_batch(rng, images, batch, crop, first)
        fut = ahead.pop(0)
        ahead.append(submit())
        return fut.result()

    while time.monotonic() - start < budget:
        x, alt, m, y = next_batch()
        xt, at, yt = (torch.from_numpy(a.transpose(0, 3, 1, 2).copy()).to(dev) for a in (x, alt, y))
        mt = torch.from_numpy(m[:, None].astype(np.float32)).to(dev)
        pred = net(xt, at, mt)
        l1, grad = losses(torch, pred, yt, mt)
        base, _ = losses(torch, xt, yt, mt)
        loss = l1 + grad_weight * grad
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        log.write(f"{step}\t{time.monotonic() - start:.1f}\t{l1.item():.5f}\t{grad.item():.5f}\t{base.item():.5f}\n")
        if step % 20 == 0:
            log.flush()
            msg = f"step {step}: L1 {l1.item():.4f} ({first} {base.item():.4f}), grad {grad.item():.4f}"
            print(msg, file=sys.stderr)
        if time.monotonic() - last_save > every:
            save()
            last_save = time.monotonic()
    if pool is not None:
        pool.shutdown(cancel_futures=True)
    save()
    log.close()
    return ckpt_path


def export(checkpoint, dest):
    """Write the model of ``checkpoint`` as fp16 weights and their ONNX export (what the package ships), atomically."""
    import torch

    if Path(dest).suffix.lower() not in (".pt", ".pth"):
        raise ValueError(f"dest must name a .pt file (the .onnx and .json are written beside it), got {str(dest)!r}")

    ck = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state = {k: v.half() for k, v in ck["model"].items()}
    widths = ck.get("config", {}).get("widths")
    config = {"widths": tuple(widths)} if widths else {}
    if ck.get("config", {}).get("first", "fsr") != "fsr":
        config["first"] = ck["config"]["first"]
    blob = {"state_dict": state, "config": config, "step": ck["step"]}
    _save_atomic(torch, blob, Path(dest))
    export_onnx(dest)
    return Path(dest)


def export_onnx(weights, dest=None):
    """Write the network of the ``.pt`` file ``weights`` as ONNX for OpenCV's dnn, with its ``.json`` beside it.

    ``dest`` defaults to ``weights`` with the suffix ``.onnx``. Any size that
    is a multiple of 8 runs (the axes are dynamic); the ``.json`` says which
    classical fill the network corrects (:mod:`hybridinpaint.completion.refiner`).
    Needs the ``onnx`` package (``pip install hybridinpaint[train]``).
    """
    import torch

    from hybridinpaint.completion import net

    model = net.load(weights)
    dest = Path(weights).with_suffix(".onnx") if dest is None else Path(dest)
    x = torch.zeros(1, 3, 64, 64)
    tmp = dest.with_name(dest.name + ".tmp")
    axes = {name: {2: "height", 3: "width"} for name in ("image", "alt", "hole", "out")}
    # The TorchScript exporter: the graphs of the newer one fail OpenCV's shape inference (Concat).
    torch.onnx.export(
        model,
        (x, x, x[:, :1]),
        str(tmp),
        input_names=["image", "alt", "hole"],
        output_names=["out"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    meta = dest.with_suffix(".json")
    meta_tmp = meta.with_name(meta.name + ".tmp")
    meta_tmp.write_text(json.dumps({"first": model.first, "weights": Path(weights).name}, indent=1) + "\n")
    os.replace(tmp, dest)
    os.replace(meta_tmp, meta)
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hybridinpaint train", description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="?", help="folder of training photos")
    ap.add_argument("--out", help="run folder (checkpoint.pt, log.tsv)")
    ap.add_argument("--minutes", type=float, default=60.0, help="training time budget, in total over resumes")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--grad-weight", type=float, default=0.0, help="weight of the L1 loss on image differences")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between checkpoints")
    ap.add_argument("--exclude", default="", help="comma-separated file names to hold out of training")
    ap.add_argument("--first", choices=["fsr", "telea"], default="fsr", help="the fill the network corrects")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--workers", type=int, default=0, help="processes drawing batches (0: in the training loop)")
    ap.add_argument(
        "--export", nargs=2, metavar=("CHECKPOINT", "WEIGHTS"), help="write fp16 weights and the ONNX export, then exit"
    )
    args = ap.parse_args(argv)
    if args.export:
        print(export(*args.export))
        return 0
    if not args.images or not args.out:
        ap.error("IMAGES and --out are required for training")
    ck = train(
        args.images,
        args.out,
        minutes=args.minutes,
        resume=args.resume,
        batch=args.batch,
        crop=args.crop,
        lr=args.lr,
        grad_weight=args.grad_weight,
        seed=args.seed,
        every=args.every,
        exclude=tuple(x for x in args.exclude.split(",") if x),
        first=args.first,
        device=args.device,
        workers=args.workers,
    )
    print(ck)
    return 0


if __name__ == "__main__":
    sys.exit(main())
