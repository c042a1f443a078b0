"""One run's settings: every tunable of hybridinpaint, as one frozen, validated value.

Each value was chosen by a measurement, written beside it (details in
benchmarks/RESULTS.md). A run resolves its settings once
(:func:`resolve`), passes them down to every stage, sends them with every
Dask task and writes them into its run record, so a resumed or distributed
run uses exactly the settings it started with.

>>> from hybridinpaint.settings import Settings
>>> s = Settings()
>>> s.flow.COMPLETE_SCALE
2
>>> strict = s.replace(propagate={"TAU_ABS": 0.5})
>>> strict.propagate.TAU_ABS, s.propagate.TAU_ABS
(0.5, 2.0)

In a file (``hybridinpaint --config FILE.toml ...``; ``hybridinpaint config``
prints the defaults in this form)::

    [propagate]
    TAU_ABS = 0.5

Formats, schema versions and file names are not tunables and stay in their
modules. This module imports nothing else of hybridinpaint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Settings", "SettingsError", "resolve", "DEFAULT"]


class SettingsError(ValueError):
    """A settings file or value that is not valid: the message names the setting."""


class _Section(BaseModel):
    # strict: a setting of the wrong type is refused, never converted ("0.5" is not 0.5)
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Propagate(_Section):
    """``[propagate]``."""

    TAU_ABS: float = Field(
        2.0,
        description=(
            "A step is trusted when the flow there and the flow back agree to within TAU_ABS + TAU_REL * "
            "|flow| pixels. Measured on 4 shared clips x 2 hole kinds (mean hole PSNR): 0.75 + 0.05|f| 15.80 "
            "dB, 2 + 0.1|f| 15.84 (16.26 with the background-motion check of flow.complete), 4 + 0.2|f| "
            "15.73. Completed flows in fast aerial motion disagree by 1-3 px, and a strict check breaks "
            "chains."
        ),
    )
    TAU_REL: float = 0.1


class Flow(_Section):
    """``[flow]``."""

    MAX_FLOW_WIDTH: int = Field(
        640, description="Above this width flow is estimated on a downscaled copy, then scaled back."
    )
    RING: int = Field(32, description="Boundary pixels this close to a hole are checked against the background motion.")
    WOBBLE: float = Field(
        2.5,
        ge=0,
        description=(
            "Motion near a hole is carried into the next frame only where it misses the background's homography "
            "by more than WOBBLE times the median miss over the frame: 2.5 is 3 standard deviations of Gaussian "
            "flow noise (the median of its length is 1.18 of them). Without it (0), a scan's frame-to-frame "
            "bending passed for an object's motion and was carried (issue 28: still-weave clips)."
        ),
    )
    STEADY_ABS: float = Field(
        1.0,
        description=(
            "Carried motion: a vector is steady when the motion before it differs by at most STEADY_ABS + "
            "STEADY_REL * |vector| pixels, and lands where at least CARRY_WEIGHT of a pixel's worth of such "
            "vectors arrive."
        ),
    )
    STEADY_REL: float = 0.25
    CARRY_WEIGHT: float = 0.5
    FLOW_TOL: float = Field(
        1e-4,
        description=(
            "Flow completion stops at 0.01% of the boundary flows' range; 0.1% lost 0.2 dB hole PSNR on "
            "running-car (moving) for 3 ms per frame."
        ),
    )
    COMPLETE_SCALE: int = Field(
        2,
        description=(
            "Holes' flow is completed at 1/COMPLETE_SCALE of the working size and interpolated back: motion "
            "inside a hole is smooth, and carried motion (islands of known values in the hole) makes the "
            "full-size solve twice as slow (issue 15 in RESULTS.md: same hole PSNR, 0.046 vs 0.065 s/frame)."
        ),
    )


class Pipeline(_Section):
    """``[pipeline]``."""

    LATER_KEY_SCALE: int = Field(
        2,
        description=(
            "Key frames after the first fill what the first one's propagation could not reach: slivers where "
            "chains stop at carried foreground motion. PatchMatch's cost grows with the pixels it fills and "
            "FSR's with its context, so these are filled at 1/LATER_KEY_SCALE of the flow's working size with"
            " a TELEA guide (issue 15 in RESULTS.md: same hole PSNR, key frames 0.099 -> 0.022 s/frame at "
            "432x240)."
        ),
    )
    SEAM_MAX: float = Field(
        0.08,
        description=(
            "Border mismatches larger than this (in [0, 1] units) are taken for something other than an "
            "exposure change (an object at the edge) and ignored."
        ),
    )
    EXPOSURE: bool = Field(
        True,
        description=(
            "Colours copied from another frame are scaled by the ratio of the two frames' exposures (each "
            "frame's brightness against its neighbour's along the flow, median over the pixels outside the "
            "holes), so flicker and automatic exposure do not carry one frame's brightness into another's hole."
        ),
    )
    FLOW_ON_HOST: bool = Field(
        False,
        description=(
            "With backend='cuda', run the flow stage (pre-fill and completion, at the flow's working size) on "
            "the CPU kernels and only the fill on the device: its fields are small and its multigrid solves "
            "launch many kernels over a few thousand pixels each (on an H200, diffuse at 432x240 took 40 ms "
            "on the device, 9 ms on 16 cores). Off until benchmarks/gpu.py measures a whole run both ways."
        ),
    )
    SEAMS_ON_HOST: bool = Field(
        False,
        description=(
            "With backend='cuda', solve each frame's seam correction (a Laplace solve over the hole's box) with "
            "the CPU kernels: the mismatch is on the host for the solve's set-up anyway, and the solve is many "
            "small launches on the device. Off until benchmarks/gpu.py measures a whole run both ways."
        ),
    )


class Hallucinate(_Section):
    """``[hallucinate]``."""

    PATCH: int = Field(
        7,
        description=(
            "PatchMatch texture synthesis: patch side, EM rounds per level, PatchMatch iterations per round, "
            "and the coarsest level's smaller side."
        ),
    )
    EM_ROUNDS: int = 2
    PM_ITERS: int = 4
    COARSEST: int = 40
    BIG_LEVEL: int = Field(
        20000, description="Levels with more hole pixels than this get one EM round of 2 iterations."
    )
    GUIDE: float = Field(
        0.5,
        description=(
            "Weight of the guide (classical or network fill) inside the hole when matching, against 1 for "
            "known pixels: the copied texture follows it."
        ),
    )
    GUIDE_PIXELS: int = Field(
        1000,
        description=(
            "FSR's cost grows with the number of missing pixels (about 0.1 ms each here); as a guide for "
            "PatchMatch, which supplies the detail, it is computed with the hole scaled down to about this "
            "many pixels."
        ),
    )
    NET_MAX_SIDE: int = Field(
        640,
        description=(
            "The network sees at most this many pixels on its longer side: it gives the structure, PatchMatch"
            " the detail, so a 1080p frame is refined at a third."
        ),
    )


class Live(_Section):
    """``[live]``."""

    FLOW_DILATION: int = Field(
        8,
        description=(
            "Pixels this close to a hole get completed flow rather than the estimator's (offline: flow_dilation=8)."
        ),
    )
    SPATIAL_AGE: float = Field(
        1000.0,
        description="Steps from a real pixel given to a spatial (PatchMatch) fill: any real source is preferred.",
    )


class Stream(_Section):
    """``[stream]``."""

    AUTO_PIXELS: float = Field(
        24e6,
        description=(
            "Frames x pixels per chunk when the chunk is chosen automatically: inpaint with its whole "
            "provenance costs about 70 bytes per pixel-frame at its peak (67 measured at 1080p; 80 before the "
            "fill kept the hole's provenance only), a chunk less (it keeps the filled pixels' only), so this "
            "keeps a chunk under 2 GB whatever the frame size."
        ),
    )
    OVERLAP: Literal["device", "always", "never"] = Field(
        "never",
        description=(
            "A chunked run may prepare the next chunk (checks, optical flow, exposures: mostly OpenCV on the "
            "host) in a second thread while this chunk fills: 'device' where the fill runs on CUDA, whose host "
            "mostly waits; 'always'; 'never'. Outputs are the same; one more chunk's flows are held. Off until "
            "benchmarks/gpu.py measures it on a device: on 2 CPU cores (bmx-trees, 48 frames at 432x240, "
            "chunks of 32) 'always' took 0.20-0.21 s/frame against 0.08-0.11 one chunk after the other, the "
            "parallel kernels' spinning threads (OpenMP) likely taking the cores the other half's OpenCV wanted."
        ),
    )


class Blotches(_Section):
    """``[blotches]``."""

    SMOOTH: float = Field(
        1.0,
        description=(
            "Candidates: the SDI smoothed over a Gaussian of this sigma (pixels) above CANDIDATE_Z times its "
            "own noise (and a floor of CANDIDATE_FLOOR grey levels in [0, 1]), then grown by GROW pixels over"
            " what still spikes at half that."
        ),
    )
    CANDIDATE_Z: float = 3.5
    CANDIDATE_FLOOR: float = 0.01
    GROW: int = 2
    SIGMA_FLOOR: float = Field(
        1 / 255,
        description=(
            "No noise estimate goes below a grey level (of 255): 8-bit rounding alone leaves about half of "
            "one in a difference, and scans are never cleaner."
        ),
    )
    DISAGREE_MAX: float = Field(
        0.5,
        description=(
            "A candidate whose two warped neighbours differ from each other, summed over it, by more than "
            "DISAGREE_MAX times its spike is not single-frame dirt: the motion compensation failed there, and"
            " the classifier never sees it. 1.0 until issue 26; 0.5 took clean footage from 55.9 to 41.7 "
            "false fixes per 100 frames (benchmarks/film_harm.py, no clip worse) for blotch recall 0.76 -> "
            "0.76 and defect PSNR 23.2 -> 22.2 dB held out (benchmarks/film_generalise.py)."
        ),
    )
    DIRT_PROBABILITY: float = Field(
        0.5,
        gt=0,
        lt=1,
        description=(
            "A candidate is called dirt when the classifier finds it more likely dirt than not (at sensitivity "
            "1). The classifier's own F1-best threshold (0.2) was chosen on damage with six blotches per frame;"
            " a real film is mostly clean, and on clean footage (benchmarks/film_harm.py) 0.2 made 62 false "
            "fixes per 100 frames and 0.5 made 39, for 1-4% of the blotches found (issue 26)."
        ),
    )
    PATH_RATIO: float = Field(
        0.3,
        description=(
            "A spot found again in two other frames of t-2..t+2 along a constant-velocity path, with a match "
            "error under this share of the motion-compensated neighbours', is a moving object and is left "
            "alone (film.motion). Under 0.3: 0-5% of true blotches on all three damage generators, 40% of a "
            "fast ball's detections (issue 26)."
        ),
    )
    AGREE: float = Field(
        0.25,
        description=(
            "Warped neighbours that agree with each other within this share of the frame's spike are trusted "
            "even where the flow check failed (fast pans)."
        ),
    )


class Flicker(_Section):
    """``[flicker]``."""

    WINDOW: int = Field(4, description="Frames on each side whose block statistics make the temporal reference.")
    BLOCKS: int = Field(8, description="Blocks across the frame's longer side (the resolution of the gain field).")
    GAIN_RANGE: tuple[float, float] = Field(
        (0.5, 2.0), description="Gains outside this range are taken for a failure of the estimate, not flicker."
    )
    ROUNDS: int = Field(
        3,
        description=(
            "Rounds of estimation: each measures the flicker left after the previous ones, against a "
            "reference made of frames already corrected, which removes the flicker the neighbours bring into "
            "the reference. Measured on 9 shared clips with synthetic flicker (benchmarks/film.py --flicker):"
            " residual 0.23 after one round, 0.13 after two, 0.10 after three."
        ),
    )
    MOTION: float = Field(
        0.3,
        description=(
            "A block whose brightness is this far (relative) from its reference holds motion rather than "
            "flicker and is trusted less."
        ),
    )
    MIN_SPREAD: float = Field(
        0.03,
        description=(
            "Blocks whose brightnesses spread less than this cannot tell a gain from an offset: such a frame "
            "gets an offset only."
        ),
    )
    RIDGE: float = Field(
        0.1,
        description=(
            "Measured on the 9 clips with both generators (benchmarks/flicker.py): worst residual 0.20 / 0.21"
            " / 0.22 / 0.28 with no ridge / 0.06 / 0.1 / 0.15, while a clip without flicker "
            "(tests/test_flicker.py) was bent by up to 15 / 5 / 3 / 1 grey levels. 0.1 keeps both small."
        ),
    )
    CLIP: float = Field(0.02, description="Pixels this close to black or white are taken as clipped.")


class Film(_Section):
    """``[film]``."""

    STILL_LINE: float = Field(
        2.0,
        description=(
            "A vertical line that the motion-compensated neighbours reproduce within this multiple of how "
            "well they reproduce the picture 3 px beside it (the median over five frames) is the picture's own"
            " line, and is left alone (film.scratches). Picture lines (a still post, painted poles): 0.7-1.2 "
            "at the median; synthetic scratches 1.8-20 (issue 26)."
        ),
    )

    FLOW_MEDIAN: int = Field(
        15, description="Window (working-size pixels) of the median that cleans flow fields of blotches."
    )
    FB_ABS: float = Field(
        2.0,
        description=(
            "A neighbour is trusted where its flow and the flow back agree within this many pixels (+10% of "
            "the motion); beyond it the pixel may be occluded there."
        ),
    )


class Tracking(_Section):
    """``[tracking]``."""

    BINS: int = Field(16, description="Colour histograms: bins per channel, and the background band's width (px).")
    BAND: int = 15
    PRIOR_WEIGHT: float = Field(
        1.0,
        description=(
            "How much the flow prior counts against the colour evidence (log-odds weights): the global colour"
            " models and the tile-local ones."
        ),
    )
    COLOUR_WEIGHT: float = 1.0
    LOCAL_WEIGHT: float = 1.0
    TILE: int = Field(
        32,
        description="Local colour models: tiles of TILE px, shrunk to the global model by LOCAL_PRIOR pseudo-counts.",
    )
    LOCAL_PRIOR: float = 20.0
    REACH: int = Field(2, description="Pixels further than REACH from where the flow carried the object are not it.")
    PRIOR_EPS: float = Field(
        0.02, description="The prior is clipped to [PRIOR_EPS, 1 - PRIOR_EPS] before taking log-odds."
    )
    ANCHOR: float = Field(
        0.5,
        description="A frame's colour model: this share from the annotated frame, the rest from the previous frame.",
    )
    DRIFT: float = Field(
        40.0, description="Errors add up with each step from an annotation: confidence decays as exp(-steps / DRIFT)."
    )
    UNSURE: float = Field(0.6, description="Frames whose confidence is below this are reported as unsure.")
    JOINT: bool = Field(
        True,
        description=(
            "Segment the whole shot at once by a graph cut in a bilateral grid (tracking.joint), with the"
            " frame-to-frame result as a prior: J&F 0.567 -> 0.691 with one drawn frame, 0.734 -> 0.814 with four"
            " (benchmarks/tracking.py, 3 clips; no clip lower by more than 0.003)."
        ),
    )
    JOINT_WIDTH: int = Field(
        480,
        ge=32,
        description="The joint cut runs at most this many px wide (frames scaled down, the cut scaled back).",
    )
    JOINT_WINDOW: int = Field(
        100, ge=2, description="The joint cut runs over this many frames at a time, so memory is bounded by it."
    )
    GRID_XY: float = Field(8.0, gt=0, description="Bilateral grid cells: px across, at the working size.")
    GRID_T: float = Field(2.0, gt=0, description="Bilateral grid cells: frames long.")
    GRID_LUMA: float = Field(16.0, gt=0, description="Bilateral grid cells: levels of luma (of 255).")
    GRID_CHROMA: float = Field(12.0, gt=0, description="Bilateral grid cells: levels of each chroma channel (of 255).")
    JOINT_SMOOTH: float = Field(
        1.0, gt=0, description="Cost of cutting between neighbouring vertices, per sqrt(pixels x pixels)."
    )
    JOINT_APPEARANCE: float = Field(
        0.4,
        ge=0,
        description=(
            "Weight of the colour log-likelihood ratio per pixel (drawings pooled), relative to JOINT_SMOOTH;"
            " 0.2 and 0.4 measured, 0.4 chosen on all clips (leave-one-clip-out: 0.621 with one drawn frame)."
        ),
    )
    JOINT_PRIOR: float = Field(
        0.5, ge=0, description="Weight of the frame-to-frame result per pixel (0.25, 0.5 measured)."
    )
    JOINT_BACKGROUND: float = Field(
        4.0,
        ge=0,
        description=(
            "Weight per pixel of 'this is the background a drawing showed here' (tracking.joint.background_match):"
            " J&F with one drawn frame 0.621 -> 0.686 (2, 4: 0.673 -> 0.738, 0.771 -> 0.812). 4 and 8 measured with"
            " BACKGROUND_TOLERANCE 0.05-0.15; leave-one-clip-out 0.682."
        ),
    )
    BACKGROUND_TOLERANCE: float = Field(
        0.1, gt=0, description="Colour difference (of 1) over which a background match falls off (Gaussian)."
    )
    JOINT_PRIOR_TRUST: float = Field(
        0.9, gt=0.5, lt=1, description="The frame-to-frame result counts as this probability of being right."
    )


class Faces(_Section):
    """``[faces]``."""

    NMS_IOU: float = Field(0.3, description="Overlapping detections of one face: the weaker is dropped above this IoU.")


class Privacy(_Section):
    """``[privacy]``."""

    THRESHOLD: float = Field(
        0.4,
        description=(
            "The detector score a track must reach once: chosen leave-one-clip-out on the annotated set "
            "(benchmarks/privacy.py; every fold chose 0.4)."
        ),
    )
    LINK_FRACTION: float = Field(
        0.5,
        description=(
            "Detections down to LINK_FRACTION x threshold may extend a track that has one detection at or "
            "above the threshold."
        ),
    )
    MIN_IOU: float = Field(
        0.1,
        description=(
            "A detection joins a track whose box (last seen at most MAX_GAP frames ago) overlaps it by at "
            "least MIN_IOU."
        ),
    )
    MAX_GAP: int = 12
    HOLD: int = Field(
        4,
        description=(
            "Frames a track is held before its first and after its last detection (faces entering the "
            "picture, turning away): the detector finds them late."
        ),
    )
    CARRY: int = Field(
        25,
        ge=0,
        description=(
            "Frames a track is carried before its first and after its last detection by matching the face's "
            "pixels (normalised cross-correlation) while they match: a face the detector loses as it turns, "
            "tilts or shrinks is still there. 0 turns carrying off."
        ),
    )
    CARRY_NCC: float = Field(
        0.6,
        gt=-1,
        le=1,
        description="A carried face is lost at the first frame where its best match's correlation is below this.",
    )
    UPSCALE_EVERY: int = Field(
        3,
        ge=0,
        description=(
            "Every UPSCALE_EVERY-th frame is also searched at twice its size for faces smaller than SMALL "
            "pixels (CenterFace predicts on a stride-4 grid: a 12 px face is 3 cells); tracking carries them "
            "through the frames between. 0 turns it off."
        ),
    )
    SMALL: float = Field(24.0, gt=0, description="Faces shorter than this (pixels) are looked for at twice the size.")
    BOX_SHAPE: Literal["rectangle", "ellipse"] = Field(
        "rectangle",
        description=(
            "What mode='box' blacks out: each whole head box, or the ellipse inside it. On the hand-annotated "
            "heads (benchmarks/privacy_heads.py --ablate) the ellipse replaces fewer pixels away from heads (6.4% "
            "of each frame against 10.8%) at about the same faces covered (0.984 against 0.988), but a black "
            "ellipse over a body is head-shaped, and the detector at 0.3 then fires on 425 of 1583 face-frames "
            "(66 of 360 frames; none with the rectangle): the rectangle leaks least."
        ),
    )
    SMOOTH: int = Field(5, description="Boxes are smoothed over this many frames (centre and size, a moving mean).")
    GROW_W: float = Field(
        2.1,
        description=(
            "CenterFace's box covers the face from brows to chin; the head is about twice as wide and tall, "
            "mostly upwards (hair): the box is grown by these factors, its centre raised. Measured on the "
            "annotated clips (benchmarks/privacy.py --grow; faces a detector at 0.2 still finds after "
            "removal): 1.5 x 1.7 left 36%, 1.8 x 2.0 15%, 2.1 x 2.3 15% (0% at 0.4, against 5%); blurred "
            "heads leak less the more of the head is blurred (56%, 38%, 21%)."
        ),
    )
    GROW_H: float = 2.3
    RAISE: float = 0.18
    VERIFY_FRACTION: float = Field(
        0.75,
        description=(
            "The verifying detector's threshold, as a fraction of the detection threshold: 0.3 for the "
            "default, the lowest score at which the detector's false alarms on the annotated set are rare (3 "
            "in 65 images, against 14 at 0.2), so a hit there is worth a reviewer's look."
        ),
    )


class Settings(BaseModel):
    """Every tunable, by the stage that reads it (a frozen value: change one with :meth:`replace`).

    Examples
    --------
    >>> from hybridinpaint.settings import Settings
    >>> Settings().replace(privacy={"THRESHOLD": 0.5}).privacy.THRESHOLD
    0.5
    >>> Settings.from_dict({"propagate": {"TAU_AB": 1.0}})
    Traceback (most recent call last):
    ...
    hybridinpaint.settings.SettingsError: settings: propagate.TAU_AB: unknown setting (propagate has TAU_ABS, TAU_REL)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    propagate: Propagate = Propagate()
    flow: Flow = Flow()
    pipeline: Pipeline = Pipeline()
    hallucinate: Hallucinate = Hallucinate()
    live: Live = Live()
    stream: Stream = Stream()
    blotches: Blotches = Blotches()
    flicker: Flicker = Flicker()
    film: Film = Film()
    tracking: Tracking = Tracking()
    faces: Faces = Faces()
    privacy: Privacy = Privacy()

    @classmethod
    def from_dict(cls, doc, *, source: str = "settings") -> Settings:
        """Settings from ``{"section": {"NAME": value}}``; names left out keep their defaults."""
        if not isinstance(doc, dict):
            raise SettingsError(f"{source}: expected a table of sections, got {type(doc).__name__}")
        for section, values in doc.items():
            if section not in cls.model_fields:
                raise SettingsError(f"{source}: [{section}]: unknown section (known: {', '.join(cls.model_fields)})")
            if not isinstance(values, dict):
                raise SettingsError(f"{source}: [{section}] must be a table of settings, got {values!r}")
            known = cls.model_fields[section].annotation.model_fields
            for name in values:
                if name not in known:
                    raise SettingsError(
                        f"{source}: {section}.{name}: unknown setting ({section} has {', '.join(known)})"
                    )
        try:
            return cls.model_validate(_tuples(doc))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"][:2])
            raise SettingsError(f"{source}: {where}: {first['msg']} (got {first.get('input')!r})") from None

    @classmethod
    def from_toml(cls, path) -> Settings:
        """Settings from a TOML file with the same section and value names (``[propagate] TAU_ABS = 0.5``)."""
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"settings file {path} does not exist") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise SettingsError(f"settings file {path} is not readable TOML: {err}") from None
        return cls.from_dict(doc, source=str(path))

    def to_dict(self) -> dict:
        """``{"section": {"NAME": value}}``, JSON-ready (tuples as lists): what run records hold."""
        return self.model_dump(mode="json")

    def to_toml(self) -> str:
        """The settings as a TOML file, each with the measurement that chose it as a comment."""
        out = ["# hybridinpaint settings: pass with --config FILE.toml (names left out keep their defaults)."]
        for section in type(self).model_fields:
            out.append(f"\n[{section}]")
            part = getattr(self, section)
            for name, field in type(part).model_fields.items():
                if field.description:
                    out.extend(f"# {line}" for line in _wrap(field.description))
                out.append(f"{name} = {_toml_value(getattr(part, name))}")
        return "\n".join(out) + "\n"

    def replace(self, **sections) -> Settings:
        """A copy with some values changed: ``replace(propagate={"TAU_ABS": 0.5})`` (validated)."""
        doc = self.to_dict()
        for section, values in sections.items():
            if not isinstance(values, dict):
                raise SettingsError(f"settings: {section}= must be a dict of settings, got {values!r}")
            doc.setdefault(section, {}).update(values)
        return type(self).from_dict(doc)

    def differences(self, other: dict) -> list[str]:
        """``section.NAME`` of every value that differs from ``other`` (a :meth:`to_dict` document)."""
        mine = self.to_dict()
        names = []
        for section in sorted(set(mine) | set(other or {})):
            a, b = mine.get(section, {}), (other or {}).get(section, {})
            names += [f"{section}.{n}" for n in sorted(set(a) | set(b)) if a.get(n) != b.get(n)]
        return names

    def digest(self) -> str:
        """A short fingerprint of the values (for run records and cache keys)."""
        import hashlib

        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def _tuples(doc: dict) -> dict:
    # TOML and JSON have arrays, not tuples: the tuple-valued settings are read from lists.
    out = {}
    for section, values in doc.items():
        fields = Settings.model_fields[section].annotation.model_fields
        out[section] = {
            n: tuple(v) if isinstance(v, list) and "tuple" in str(fields[n].annotation) else v
            for n, v in values.items()
        }
    return out


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    return str(v)


def _wrap(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, 88)


DEFAULT = Settings()


def resolve(settings, name: str = "settings") -> Settings:
    """The :class:`Settings` of a call: ``None`` (the defaults), a Settings, a dict, or a TOML file's path."""
    if settings is None:
        return DEFAULT
    if isinstance(settings, Settings):
        return settings
    if isinstance(settings, dict):
        return Settings.from_dict(settings, source=name)
    if isinstance(settings, (str, Path)):
        return Settings.from_toml(settings)
    raise TypeError(f"{name} must be a hybridinpaint.settings.Settings, a dict or a TOML file's path, got {settings!r}")
