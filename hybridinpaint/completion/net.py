"""The small network that refines a classical fill of never-seen pixels.

A gated-convolution encoder-decoder (Yu et al. 2019) with dilated context at
1/8 resolution. It takes an RGB image whose hole holds a classical fill
(OpenCV's FSR_FAST), the same image filled by TELEA (a second opinion: their
mean alone is 0.26 dB nearer the truth than FSR on our still-image
benchmark), and the hole mask, and predicts a correction to the FSR fill: at
initialisation the correction is zero, so the network starts from the
classical fill and training can only move it towards the truth.

Importing this module imports torch; the package itself runs the network's
ONNX export with OpenCV's dnn (:mod:`hybridinpaint.completion.refiner`), so
only training (and weights given as a ``.pt`` file) comes here.

References
----------
.. [1] J. Yu, Z. Lin, J. Yang, X. Shen, X. Lu, T. S. Huang, "Free-Form
   Image Inpainting with Gated Convolution", ICCV 2019.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["RefineNet", "load", "refine", "WEIGHTS"]

WEIGHTS = "refine_net.pt"
# Width of the network's feature maps at each scale (1, 1/2, 1/4, 1/8).
WIDTHS = (16, 32, 48, 64)
DILATIONS = (2, 4, 8, 16)


class GatedConv(nn.Module):
    """``elu(conv_f(x)) * sigmoid(conv_g(x))``: the gate learns where the hole is."""

    def __init__(self, cin, cout, k=3, stride=1, dilation=1):
        super().__init__()
        pad = dilation * (k - 1) // 2
        self.conv = nn.Conv2d(cin, 2 * cout, k, stride, pad, dilation)

    def forward(self, x):
        f, g = self.conv(x).chunk(2, dim=1)
        return F.elu(f) * torch.sigmoid(g)


FIRSTS = ("fsr", "telea")


class RefineNet(nn.Module):
    """Correction of a classical fill: ``net(first, telea, hole)``, images ``(N, 3, H, W)`` in [0, 1].

    ``first`` names the fill it corrects: FSR (the CPU-trained weights), or
    TELEA, which every OpenCV build has, so such weights can be trained where
    only OpenCV's main modules are installed (a GPU machine's image); then
    both inputs are the TELEA fill.
    """

    def __init__(self, widths=WIDTHS, dilations=DILATIONS, first="fsr"):
        super().__init__()
        if first not in FIRSTS:
            raise ValueError(f"first must be one of {FIRSTS}, got {first!r}")
        self.first = first
        w0, w1, w2, w3 = widths
        self.enc0 = nn.Sequential(GatedConv(7, w0, 5), GatedConv(w0, w0))
        self.enc1 = nn.Sequential(GatedConv(w0, w1, 3, 2), GatedConv(w1, w1))
        self.enc2 = nn.Sequential(GatedConv(w1, w2, 3, 2), GatedConv(w2, w2))
        self.enc3 = GatedConv(w2, w3, 3, 2)
        self.context = nn.Sequential(*[GatedConv(w3, w3, 3, 1, d) for d in dilations])
        self.dec2 = nn.Sequential(GatedConv(w3 + w2, w2), GatedConv(w2, w2))
        self.dec1 = nn.Sequential(GatedConv(w2 + w1, w1), GatedConv(w1, w1))
        self.dec0 = nn.Sequential(GatedConv(w1 + w0, w0), GatedConv(w0, w0))
        # The output also sees the inputs directly, so blending the two
        # classical fills (a linear function of them) is learnt at once.
        self.out = nn.Conv2d(w0 + 7, 3, 3, 1, 1)
        nn.init.zeros_(self.out.weight)  # start as the identity on the classical fill
        nn.init.zeros_(self.out.bias)

    def forward(self, image, alt, hole):
        x = torch.cat([image * 2 - 1, alt * 2 - 1, hole], 1)
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        c = self.context(self.enc3(e2))
        d2 = self.dec2(torch.cat([F.interpolate(c, size=e2.shape[2:], mode="bilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[2:], mode="bilinear", align_corners=False), e1], 1))
        d0 = self.dec0(torch.cat([F.interpolate(d1, size=e0.shape[2:], mode="bilinear", align_corners=False), e0], 1))
        corrected = image + self.out(torch.cat([d0, x], 1))
        return torch.where(hole > 0.5, corrected.clamp(0, 1), image)


def default_weights() -> Path:
    """The weights file shipped inside the package."""
    return Path(str(resources.files("hybridinpaint") / "data" / WEIGHTS))


_CACHE: dict = {}


def load(path=None) -> RefineNet:
    """The network with weights from ``path`` (default: the shipped file), in eval mode.

    Weights are read with ``torch.load(..., weights_only=True)``, which
    refuses pickled code, so a file from anywhere cannot run anything.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When it is not a weights file of this network (corrupt, truncated,
        or another model's).
    """
    p = Path(default_weights() if path is None else path)
    key = str(p.resolve()) if p.exists() else str(p)
    if key in _CACHE:
        return _CACHE[key]
    if not p.is_file():
        raise FileNotFoundError(f"network weights not found: {p}")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
        state = blob["state_dict"] if isinstance(blob, dict) and "state_dict" in blob else blob
        net = RefineNet(**blob.get("config", {})) if isinstance(blob, dict) and "config" in blob else RefineNet()
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except Exception as exc:
        raise ValueError(f"network weights file {p} is corrupt or not a RefineNet checkpoint: {exc}") from exc
    net.eval()
    _CACHE[key] = net
    return net


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def refine(image: np.ndarray, alt: np.ndarray, hole: np.ndarray, *, weights=None) -> np.ndarray:
    """Refine the FSR fill in ``hole`` of a float32 ``(H, W, 3)`` RGB image in [0, 1].

    ``alt`` is the same image filled by TELEA. A network trained on TELEA
    alone (``first="telea"``) refines ``alt`` and ignores the FSR fill.
    Returns the image with only the hole changed.
    """
    net = load(weights)
    if net.first == "telea":
        image = alt
    torch.set_num_threads(_threads())
    h, w = hole.shape
    # The network halves the size three times: pad to a multiple of 8.
    ph, pw = -h % 8, -w % 8
    mode = "reflect" if min(h, w) > 8 else "edge"

    def tensor(a):
        a = np.pad(a, ((0, ph), (0, pw), (0, 0)), mode=mode)
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32))[None]

    with torch.inference_mode():
        m = torch.from_numpy(np.pad(hole, ((0, ph), (0, pw))).astype(np.float32))[None, None]
        y = net(tensor(image), tensor(alt), m)[0].numpy().transpose(1, 2, 0)[:h, :w]
    return np.where(hole[..., None], y, image).astype(np.float32)
