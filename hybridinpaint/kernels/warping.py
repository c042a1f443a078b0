"""Backward (gather) and forward (splat) warping along a flow field."""

from __future__ import annotations

import numpy as np

from . import warping_fns  # noqa: F401 - registers the bodies
from ._accelerate import launch_cuda, resolve_backend, run_cpu
from .checks import describe, flow_hw2, image_hwc, real_float32
from .placement import Placement

__all__ = ["warp_backward", "warp_backward_frames", "warp_forward"]


def warp_backward(image, flow, *, backend="auto"):
    """Sample ``image`` at ``(x + dx, y + dy)`` with bilinear interpolation.

    Parameters
    ----------
    image : ndarray, shape (H, W, C) or (H, W)
        Image to sample; any real dtype, computed in float32.
    flow : ndarray, shape (H, W, 2)
        ``flow[y, x] = (dx, dy)`` in pixels (OpenCV's layout).
    backend : {"auto", "cpu", "cuda"}, keyword-only
        Where to run; ``"auto"``: :func:`hybridinpaint.kernels.auto_backend` (the CPU, as measured).

    Returns
    -------
    warped : ndarray, float32, shape of ``image``
        ``warped[y, x] = image(x + dx, y + dy)``. Where the sample point
        falls outside the frame the nearest border pixel is used.
    valid : ndarray, bool, shape (H, W)
        True where ``0 <= x + dx <= W - 1`` and ``0 <= y + dy <= H - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import warp_backward
    >>> img = np.arange(12, dtype=np.float32).reshape(3, 4)
    >>> flow = np.zeros((3, 4, 2), np.float32); flow[..., 0] = 1  # look one pixel right
    >>> out, valid = warp_backward(img, flow, backend="cpu")
    >>> out[0]
    array([1., 2., 3., 3.], dtype=float32)
    >>> valid[0]
    array([ True,  True,  True, False])
    """
    img, squeeze = image_hwc(image, "image")
    fl = flow_hw2(flow, "flow", img.shape[:2])
    target = resolve_backend(backend)
    h, w, c = img.shape
    if target == "cpu":
        out = np.empty((h, w, c), np.float32)
        valid = np.empty((h, w), np.uint8)
        run_cpu("warp_backward_px", (h, w), img, fl, out, valid)
    else:
        from numba import cuda

        d_out = cuda.device_array((h, w, c), np.float32)
        d_valid = cuda.device_array((h, w), np.uint8)
        launch_cuda("warp_backward_px", (h, w), cuda.to_device(img), cuda.to_device(fl), d_out, d_valid)
        out, valid = d_out.copy_to_host(), d_valid.copy_to_host()
    return (out[:, :, 0] if squeeze else out), valid.view(bool)


def warp_backward_frames(images, flows, *, backend="auto"):
    """:func:`warp_backward` of every frame of a stack along its own flow.

    Parameters
    ----------
    images : ndarray, shape (T, H, W, C) or (T, H, W)
        Frames to sample; any real dtype, computed in float32.
    flows : ndarray, shape (T, H, W, 2)
        ``flows[k]`` is frame ``k``'s flow, ``(dx, dy)`` in pixels.
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    warped : ndarray, float32, shape of ``images``
    valid : ndarray, bool, shape (T, H, W)
        Frame by frame, what :func:`warp_backward` returns, to the bit; on
        CUDA the stack goes to the device and back once, not once per frame.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import warp_backward_frames
    >>> imgs = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    >>> flows = np.zeros((2, 3, 4, 2), np.float32); flows[1, ..., 1] = 1  # frame 1 looks one row down
    >>> out, valid = warp_backward_frames(imgs, flows, backend="cpu")
    >>> out[1, 0], bool(valid[0].all()), valid[1, 2].tolist()
    (array([16., 17., 18., 19.], dtype=float32), True, [False, False, False, False])
    """
    imgs = real_float32(images, "images", ndim=(3, 4))
    squeeze = imgs.ndim == 3
    if squeeze:
        imgs = imgs.reshape(imgs.shape + (1,))
    t, h, w, c = imgs.shape
    fl = real_float32(flows, "flows", ndim=(4,))
    if fl.shape != (t, h, w, 2):
        raise ValueError(f"flows must have shape (T, H, W, 2) = {(t, h, w, 2)} matching images, got {describe(fl)}")
    place = Placement(backend)
    src, along = place.put(imgs), place.put(fl)
    out, valid = place.empty((t, h, w, c), np.float32), place.empty((t, h, w), np.uint8)
    run = run_cpu if place.target == "cpu" else launch_cuda
    for k in range(t):
        run("warp_backward_px", (h, w), src[k], along[k], out[k], valid[k])
    out, valid = place.get(out), place.get(valid)
    return (out[..., 0] if squeeze else out), valid.view(bool)


def warp_forward(image, flow, *, backend="auto"):
    """Splat each pixel of ``image`` to ``(x + dx, y + dy)`` with bilinear weights.

    Parameters
    ----------
    image : ndarray, shape (H, W, C) or (H, W)
        Source image; any real dtype, computed in float32.
    flow : ndarray, shape (H, W, 2)
        ``flow[y, x] = (dx, dy)``: where source pixel ``(x, y)`` goes.
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    splat : ndarray, float32, shape of ``image``
        Weighted mean of everything that landed on each pixel; 0 where
        nothing landed.
    weight : ndarray, float32, shape (H, W)
        Accumulated bilinear weight; 0 means nothing landed (disocclusion),
        values above 1 mean several sources landed (occlusion).

    Notes
    -----
    The CPU backend accumulates in a fixed order and is deterministic. The
    CUDA backend uses atomic adds, so the last bits of a sum may vary from
    run to run.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import warp_forward
    >>> img = np.array([[1.0, 2.0, 3.0]], np.float32)
    >>> flow = np.zeros((1, 3, 2), np.float32); flow[..., 0] = 1  # everything moves right
    >>> splat, weight = warp_forward(img, flow, backend="cpu")
    >>> splat, weight
    (array([[0., 1., 2.]], dtype=float32), array([[0., 1., 1.]], dtype=float32))
    """
    img, squeeze = image_hwc(image, "image")
    fl = flow_hw2(flow, "flow", img.shape[:2])
    target = resolve_backend(backend)
    h, w, c = img.shape
    if target == "cpu":
        acc = np.zeros((h, w, c), np.float32)
        wacc = np.zeros((h, w), np.float32)
        # Bands taller than the vertical reach of the flow never write the
        # same rows at once, so the result is deterministic (see the bands launcher).
        dy = fl[:, :, 1]
        reach = min(float(dy.max()) - float(dy.min()), float(h))
        run_cpu("splat_px", (h, w), img, fl, acc, wacc, band=int(reach) + 4)
        out = np.empty_like(acc)
        run_cpu("normalise_px", (h, w), acc, wacc, out)
    else:
        from numba import cuda

        d_acc = cuda.to_device(np.zeros((h, w, c), np.float32))
        d_wacc = cuda.to_device(np.zeros((h, w), np.float32))
        launch_cuda("splat_px", (h, w), cuda.to_device(img), cuda.to_device(fl), d_acc, d_wacc)
        d_out = cuda.device_array((h, w, c), np.float32)
        launch_cuda("normalise_px", (h, w), d_acc, d_wacc, d_out)
        out, wacc = d_out.copy_to_host(), d_wacc.copy_to_host()
    return (out[:, :, 0] if squeeze else out), wacc
