"""Blotch candidates, their explainable features, and the classifier that decides which are dirt.

Detection in two steps. First every region that *might* be dirt becomes a
candidate: the spike detection index (SDI: the frame against both
motion-compensated neighbours, in the same direction [1]_) is smoothed a
little before it is thresholded, because dirt is spatially coherent and
grain is not, so a faint 20-pixel blotch that no single pixel gives away
stands out as a region. Then each candidate is described by a handful of
features an archivist can read (how far above the noise its spike is, how
well the two neighbours agree with each other, how busy the picture and the
neighbouring frames are there, its size and shape, rank-ordered differences
(ROD) [2]_) and a logistic regression over them gives the probability that
it is dirt. Logistic regression, rather than a larger model, because every
fix must say why it was made: a probability is a sum of per-feature terms,
and :meth:`BlotchModel.explain` names the terms that decided it.

The weights ship in ``hybridinpaint/data/blotch_model.json``; the script
that fits them on synthetic damage of the shared clips is
``scripts/train_blotch_model.py``.

References
----------
.. [1] A. C. Kokaram, R. D. Morris, W. J. Fitzgerald, P. J. W. Rayner,
   "Detection of missing data in image sequences", IEEE Trans. Image
   Processing 4(11), 1995.
.. [2] M. J. Nadenau, S. K. Mitra, "Blotch and scratch detection in image
   sequences based on rank ordered differences", 1997.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
from scipy import ndimage

from hybridinpaint.settings import resolve

__all__ = [
    "Evidence",
    "frame_evidence",
    "candidates",
    "features",
    "plausible",
    "transform",
    "noise_sigma",
    "local_level",
    "BlotchModel",
    "load_model",
    "FEATURES",
    "NAMES",
]


# Name, and whether the classifier sees its logarithm (heavy-tailed ratios).
FEATURES = (
    ("log_area", False),  # log of the region's pixel count
    ("z_mean", True),  # mean spike / noise sigma
    ("z_max", True),  # peak spike / noise sigma
    ("contrast", True),  # mean spike in grey levels (0-255)
    ("z_sum", True),  # summed spike / (sigma * sqrt(area)): the region's evidence as a whole
    ("disagree", True),  # |prev - next| / spike, summed: neighbours that disagree mean motion, not dirt
    ("texture", True),  # local level of spikes around / sigma: busy picture (grass, fur)
    ("over_texture", True),  # mean spike / that local level
    ("trust", False),  # share of the region where the flow passed its check
    ("fill", False),  # area / bounding-box area
    ("rod_sdi", True),  # ROD / SDI: outside the six neighbouring values, not only unlike them
    ("one_sign", False),  # |mean sign| of its spikes: dirt is all darker or all brighter than both neighbours
    ("ring", True),  # spike just outside / inside: dirt has an edge, texture goes on
    ("neighbours_spiky", True),  # spikes near it in frames t-1 and t+1 / its own: flicker of texture
    ("z_smooth", False),  # log(1 + peak of the smoothed SDI / its noise)
)
NAMES = tuple(n for n, _ in FEATURES)
_LOGGED = np.array([lg for _, lg in FEATURES])


@dataclass
class Evidence:
    """Per-pixel evidence for one frame (all (H, W) float32 unless noted; grey levels in [0, 1])."""

    spike: np.ndarray  # min(|I - prev|, |I - next|)
    signed: np.ndarray  # the spike with its sign where both differences agree in sign and are trusted, else 0
    combined: np.ndarray  # min(SDI, ROD + SDI / 2): both tests agree
    sdi: np.ndarray
    rod: np.ndarray
    apart: np.ndarray  # |prev - next|
    ok: np.ndarray  # bool: the neighbours are trusted here
    local: np.ndarray  # local level of spikes (texture)
    sigma: float  # noise sigma of the frame's differences


def noise_sigma(diff: np.ndarray) -> float:
    """Robust standard deviation of a difference image (median absolute deviation)."""
    return float(1.4826 * np.median(np.abs(diff - np.median(diff)))) + 1e-4


def local_level(diff: np.ndarray) -> np.ndarray:
    """A robust (median) local level of ``diff``, computed at a quarter of the size."""
    h, w = diff.shape
    small = cv2.resize(diff.astype(np.float32), (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    level = ndimage.median_filter(small, size=9)
    return cv2.resize(level, (w, h), interpolation=cv2.INTER_LINEAR)


def _sdi_rod(grey, prev, nxt, ok):
    ef = grey - prev
    eb = grey - nxt
    same = np.sign(ef) == np.sign(eb)
    sdi = np.where(same & ok, np.minimum(np.abs(ef), np.abs(eb)), 0.0)
    # ROD: the pixel against the sorted six values of the two warped 3x1 neighbourhoods.
    stack = []
    for img in (prev, nxt):
        stack += [np.roll(img, 1, axis=0), img, np.roll(img, -1, axis=0)]
    r = np.sort(np.stack(stack), axis=0)
    above = grey > 0.5 * (r[2] + r[3])
    rod = np.where(above, grey - r[5], r[0] - grey)
    rod = np.where(ok, np.maximum(rod, 0.0), 0.0)
    return sdi.astype(np.float32), rod.astype(np.float32)


def frame_evidence(grey, prev, nxt, trusted, inside=None, *, settings=None) -> Evidence:
    """The evidence maps of one frame ``grey`` given its neighbours warped onto it.

    ``trusted``: where the flows passed their check; ``inside``: where both
    neighbours were sampled inside their frames (picture entering the frame
    in a pan has no neighbour to agree with, however alike the clamped
    samples look).
    """
    settings = resolve(settings)
    cfg = settings.blotches
    apart = np.abs(prev - nxt)
    ef, eb = grey - prev, grey - nxt
    spike = np.minimum(np.abs(ef), np.abs(eb))
    ok = trusted | (apart < cfg.AGREE * spike)
    if inside is not None:
        ok &= inside
    sdi, rod = _sdi_rod(grey, prev, nxt, ok)
    sigma = noise_sigma(ef[ok]) if ok.any() else 0.01
    signed = np.where((np.sign(ef) == np.sign(eb)) & ok, np.sign(ef) * spike, 0).astype(np.float32)
    return Evidence(
        spike=spike.astype(np.float32),
        signed=signed,
        combined=np.minimum(sdi, rod + 0.5 * sdi),
        sdi=sdi,
        rod=rod,
        apart=apart.astype(np.float32),
        ok=ok,
        local=local_level(spike * ok),
        sigma=sigma,
    )


def candidates(ev: Evidence, *, settings=None) -> tuple[np.ndarray, int, np.ndarray]:
    """Candidate regions of one frame: ``labels`` (H, W) int32, their count, and the smoothed SDI's z-map.

    Brighter and darker spikes make separate regions: a piece of dirt is
    one or the other, while a failed motion compensation leaves both side
    by side.
    """
    settings = resolve(settings)
    cfg = settings.blotches
    smooth = cv2.GaussianBlur(ev.signed, (0, 0), cfg.SMOOTH)
    sig = max(noise_sigma(smooth[ev.ok]) if ev.ok.any() else 0.01, cfg.SIGMA_FLOOR)
    z = np.abs(smooth) / sig
    level = max(cfg.CANDIDATE_Z * sig, cfg.CANDIDATE_FLOOR)
    labels = np.zeros(smooth.shape, np.int32)
    n = 0
    for sign in (1, -1):
        cand = sign * smooth > level
        if cfg.GROW:
            cand |= ndimage.binary_dilation(cand, iterations=cfg.GROW) & (sign * ev.signed > 0.5 * level)
        lab, m = ndimage.label(cand & (labels == 0), structure=np.ones((3, 3)))
        labels[lab > 0] = lab[lab > 0] + n
        n += m
    return labels, n, z.astype(np.float32)


def features(
    ev: Evidence, labels: np.ndarray, n: int, z: np.ndarray, neighbours: list[Evidence], *, settings=None
) -> np.ndarray:
    """(n, len(FEATURES)) raw features of the candidate regions ``1..n`` of ``labels``.

    ``neighbours`` are the evidence of the frames before and after (one or
    two): texture that moves or flickers spikes there too; dirt does not.
    """
    settings = resolve(settings)
    cfg = settings.blotches
    idx = np.arange(1, n + 1)
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    sig = max(ev.sigma, cfg.SIGMA_FLOOR)
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(float)
    c = ev.combined
    csum = np.asarray(ndimage.sum(c, labels, idx))
    cmean = csum / area
    spike = np.asarray(ndimage.sum(ev.spike, labels, idx))
    objs = ndimage.find_objects(labels)
    bbox = np.array([(s[0].stop - s[0].start) * (s[1].stop - s[1].start) for s in objs], float)
    grown = ndimage.grey_dilation(labels, footprint=np.ones((5, 5)))
    band = np.where((labels == 0) & (grown > 0), grown, 0)
    # A region can have no band of its own (another region all around it): no ring evidence then.
    ring_n = np.bincount(band.ravel(), minlength=n + 1)[1:]
    ring = np.asarray(ndimage.sum(ev.spike, band, idx)) / np.maximum(ring_n, 1)
    local = np.asarray(ndimage.mean(ev.local, labels, idx))
    if neighbours:
        near = np.maximum.reduce([ndimage.maximum_filter(e.combined, size=7) for e in neighbours])
        near = np.asarray(ndimage.mean(near, labels, idx))
    else:
        near = np.zeros(n)
    sdi = np.asarray(ndimage.sum(ev.sdi, labels, idx))
    x = np.stack(
        [
            np.log(area),
            cmean / sig,
            np.asarray(ndimage.maximum(c, labels, idx)) / sig,
            cmean * 255,
            csum / (sig * np.sqrt(area)),
            np.asarray(ndimage.sum(ev.apart, labels, idx)) / np.maximum(spike, 1e-6),
            local / sig,
            cmean / np.maximum(local, 1e-4),
            np.asarray(ndimage.mean(ev.ok.astype(float), labels, idx)),
            area / bbox,
            np.asarray(ndimage.sum(ev.rod, labels, idx)) / np.maximum(sdi, 1e-6),
            np.abs(np.asarray(ndimage.sum(np.sign(ev.signed), labels, idx)))
            / np.maximum(np.asarray(ndimage.sum(ev.signed != 0, labels, idx)), 1),
            ring / np.maximum(spike / area, 1e-6),
            near / np.maximum(cmean, 1e-6),
            np.log1p(np.asarray(ndimage.maximum(z, labels, idx))),
        ],
        1,
    )
    return np.nan_to_num(x, nan=0.0, posinf=1e6)


def plausible(x: np.ndarray, *, settings=None) -> np.ndarray:
    """(n,) bool: the candidates whose neighbours agree well enough for the spike to mean dirt."""
    settings = resolve(settings)
    cfg = settings.blotches
    return x[:, NAMES.index("disagree")] <= cfg.DISAGREE_MAX


def transform(x: np.ndarray) -> np.ndarray:
    """Raw features to what the classifier sees: logs of the heavy-tailed ones."""
    x = np.array(x, dtype=float, copy=True)
    x[:, _LOGGED] = np.log1p(np.maximum(x[:, _LOGGED], 0.0))
    return x


_MODEL_SCHEMA = {
    "type": "object",
    "required": ["features", "mean", "scale", "coef", "intercept", "threshold"],
    "properties": {
        "features": {"type": "array", "items": {"type": "string"}},
        "mean": {"type": "array", "items": {"type": "number"}},
        "scale": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}},
        "coef": {"type": "array", "items": {"type": "number"}},
        "intercept": {"type": "number"},
        "threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    },
}


@dataclass
class BlotchModel:
    """A logistic regression over standardised, transformed :data:`FEATURES`.

    ``threshold`` is the probability above which a candidate is called dirt
    at ``sensitivity=1``; ``sensitivity`` multiplies the odds.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    provenance: dict | None = None

    def terms(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions to the log-odds, (n, len(FEATURES))."""
        return (transform(x) - self.mean) / self.scale * self.coef

    def probability(self, x: np.ndarray) -> np.ndarray:
        logit = self.terms(x).sum(axis=1) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))

    def accept(self, p: np.ndarray, sensitivity: float = 1.0, threshold: float | None = None) -> np.ndarray:
        """Where ``p`` calls dirt: at ``threshold`` (default: the model's), its odds divided by ``sensitivity``."""
        threshold = self.threshold if threshold is None else threshold
        odds = threshold / (1 - threshold) / sensitivity
        return p >= odds / (1 + odds)

    def explain(self, x_row: np.ndarray, top: int = 3) -> str:
        """The ``top`` features that pushed this candidate's log-odds most, with their values."""
        t = self.terms(x_row[None])[0]
        order = np.argsort(-np.abs(t))[:top]
        return ", ".join(f"{NAMES[i]}={x_row[i]:.3g} ({t[i]:+.1f})" for i in order)

    def to_json(self) -> dict:
        d = {
            "features": list(NAMES),
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "threshold": float(self.threshold),
        }
        if self.provenance:
            d["provenance"] = self.provenance
        return d

    @classmethod
    def from_json(cls, d: dict) -> BlotchModel:
        import jsonschema

        jsonschema.validate(d, _MODEL_SCHEMA)
        if tuple(d["features"]) != NAMES or not (len(d["mean"]) == len(d["scale"]) == len(d["coef"]) == len(NAMES)):
            raise ValueError(f"blotch model is for features {d['features']}, this version computes {list(NAMES)}")
        return cls(
            np.array(d["mean"]),
            np.array(d["scale"]),
            np.array(d["coef"]),
            float(d["intercept"]),
            float(d["threshold"]),
            d.get("provenance"),
        )


@lru_cache(maxsize=1)
def load_model() -> BlotchModel:
    """The shipped model (``hybridinpaint/data/blotch_model.json``)."""
    text = resources.files("hybridinpaint").joinpath("data/blotch_model.json").read_text()
    return BlotchModel.from_json(json.loads(text))
