"""Every tunable of hybridinpaint in one place, grouped by the stage that reads it.

Each value was chosen by a measurement, written beside it (details in
benchmarks/RESULTS.md). The stages read them at call time as
``config.<stage>.<NAME>``, so a script or a test can change one for a run:

>>> from hybridinpaint import config
>>> config.flow.COMPLETE_SCALE
2

(``monkeypatch.setattr(config.flow, "COMPLETE_SCALE", 1)`` in a test.)
Formats, schema versions and file names are not tunables and stay in their
modules.
"""

from types import SimpleNamespace

# --- propagate -------------------------------------------------------------
propagate = SimpleNamespace(
    # A step is trusted when the flow there and the flow back agree to within
    # TAU_ABS + TAU_REL * |flow| pixels. Measured on 4 shared clips x 2 hole kinds
    # (mean hole PSNR): 0.75 + 0.05|f| 15.80 dB, 2 + 0.1|f| 15.84 (16.26 with the
    # background-motion check of flow.complete), 4 + 0.2|f| 15.73. Completed flows
    # in fast aerial motion disagree by 1-3 px, and a strict check breaks chains.
    TAU_ABS=2.0,
    TAU_REL=0.1,
)

# --- flow ------------------------------------------------------------------
flow = SimpleNamespace(
    # Above this width flow is estimated on a downscaled copy, then scaled back.
    MAX_FLOW_WIDTH=640,
    # Boundary pixels this close to a hole are checked against the background motion.
    RING=32,
    # Carried motion: a vector is steady when the motion before it differs by at most
    # STEADY_ABS + STEADY_REL * |vector| pixels, and lands where at least CARRY_WEIGHT
    # of a pixel's worth of such vectors arrive.
    STEADY_ABS=1.0,
    STEADY_REL=0.25,
    CARRY_WEIGHT=0.5,
    # Flow completion stops at 0.01% of the boundary flows' range; 0.1% lost
    # 0.2 dB hole PSNR on running-car (moving) for 3 ms per frame.
    FLOW_TOL=1e-4,
    # Holes' flow is completed at 1/COMPLETE_SCALE of the working size and
    # interpolated back: motion inside a hole is smooth, and carried motion
    # (islands of known values in the hole) makes the full-size solve twice as
    # slow (issue 15 in RESULTS.md: same hole PSNR, 0.046 vs 0.065 s/frame).
    COMPLETE_SCALE=2,
)

# --- pipeline --------------------------------------------------------------
pipeline = SimpleNamespace(
    # Key frames after the first fill what the first one's propagation could not
    # reach: slivers where chains stop at carried foreground motion. PatchMatch's
    # cost grows with the pixels it fills and FSR's with its context, so these are
    # filled at 1/LATER_KEY_SCALE of the flow's working size with a TELEA guide (issue
    # 15 in RESULTS.md: same hole PSNR, key frames 0.099 -> 0.022 s/frame at 432x240).
    LATER_KEY_SCALE=2,
    # Border mismatches larger than this (in [0, 1] units) are taken for
    # something other than an exposure change (an object at the edge) and ignored.
    SEAM_MAX=0.08,
)

# --- hallucinate -----------------------------------------------------------
hallucinate = SimpleNamespace(
    # PatchMatch texture synthesis: patch side, EM rounds per level, PatchMatch
    # iterations per round, and the coarsest level's smaller side.
    PATCH=7,
    EM_ROUNDS=2,
    PM_ITERS=4,
    COARSEST=40,
    # Levels with more hole pixels than this get one EM round of 2 iterations.
    BIG_LEVEL=20000,
    # Weight of the guide (classical or network fill) inside the hole when
    # matching, against 1 for known pixels: the copied texture follows it.
    GUIDE=0.5,
    # FSR's cost grows with the number of missing pixels (about 0.1 ms each
    # here); as a guide for PatchMatch, which supplies the detail, it is computed
    # with the hole scaled down to about this many pixels.
    GUIDE_PIXELS=1000,
    # The network sees at most this many pixels on its longer side: it gives the
    # structure, PatchMatch the detail, so a 1080p frame is refined at a third.
    NET_MAX_SIDE=640,
)

# --- live ------------------------------------------------------------------
live = SimpleNamespace(
    # Pixels this close to a hole get completed flow rather than the estimator's (offline: flow_dilation=8).
    FLOW_DILATION=8,
    # Steps from a real pixel given to a spatial (PatchMatch) fill: any real source is preferred.
    SPATIAL_AGE=1000.0,
)

# --- stream ----------------------------------------------------------------
stream = SimpleNamespace(
    # Frames x pixels per chunk when the chunk is chosen automatically: a chunk
    # costs about 80 bytes per pixel-frame inside inpaint (measured at 1080p), so
    # this keeps a chunk near 2 GB whatever the frame size.
    AUTO_PIXELS=24e6,
)

# --- blotches --------------------------------------------------------------
blotches = SimpleNamespace(
    # Candidates: the SDI smoothed over a Gaussian of this sigma (pixels) above
    # CANDIDATE_Z times its own noise (and a floor of CANDIDATE_FLOOR grey levels
    # in [0, 1]), then grown by GROW pixels over what still spikes at half that.
    SMOOTH=1.0,
    CANDIDATE_Z=3.5,
    CANDIDATE_FLOOR=0.01,
    GROW=2,
    # No noise estimate goes below a grey level (of 255): 8-bit rounding alone
    # leaves about half of one in a difference, and scans are never cleaner.
    SIGMA_FLOOR=1 / 255,
    # A candidate whose two warped neighbours differ from each other, summed over
    # it, by more than DISAGREE_MAX times its spike is not single-frame dirt: the
    # motion compensation failed there, and the classifier never sees it.
    DISAGREE_MAX=1.0,
    # Warped neighbours that agree with each other within this share of the
    # frame's spike are trusted even where the flow check failed (fast pans).
    AGREE=0.25,
)

# --- flicker ---------------------------------------------------------------
flicker = SimpleNamespace(
    # Frames on each side whose block statistics make the temporal reference.
    WINDOW=4,
    # Blocks across the frame's longer side (the resolution of the gain field).
    BLOCKS=8,
    # Gains outside this range are taken for a failure of the estimate, not flicker.
    GAIN_RANGE=(0.5, 2.0),
    # Rounds of estimation: each measures the flicker left after the previous
    # ones, against a reference made of frames already corrected, which removes
    # the flicker the neighbours bring into the reference. Measured on 9 shared
    # clips with synthetic flicker (benchmarks/film.py --flicker): residual 0.23
    # after one round, 0.13 after two, 0.10 after three.
    ROUNDS=3,
    # A block whose brightness is this far (relative) from its reference holds
    # motion rather than flicker and is trusted less.
    MOTION=0.3,
    # Blocks whose brightnesses spread less than this cannot tell a gain from an
    # offset: such a frame gets an offset only.
    MIN_SPREAD=0.03,
    # Measured on the 9 clips with both generators (benchmarks/flicker.py):
    # worst residual 0.20 / 0.21 / 0.22 / 0.28 with no ridge / 0.06 / 0.1 / 0.15,
    # while a clip without flicker (tests/test_flicker.py) was bent by up to
    # 15 / 5 / 3 / 1 grey levels. 0.1 keeps both small.
    RIDGE=0.1,
    # Pixels this close to black or white are taken as clipped.
    CLIP=0.02,
)

# --- film ------------------------------------------------------------------
film = SimpleNamespace(
    # Window (working-size pixels) of the median that cleans flow fields of blotches.
    FLOW_MEDIAN=15,
    # A neighbour is trusted where its flow and the flow back agree within this
    # many pixels (+10% of the motion); beyond it the pixel may be occluded there.
    FB_ABS=2.0,
)

# --- tracking --------------------------------------------------------------
tracking = SimpleNamespace(
    # Colour histograms: bins per channel, and the background band's width (px).
    BINS=16,
    BAND=15,
    # How much the flow prior counts against the colour evidence (log-odds weights):
    # the global colour models and the tile-local ones.
    PRIOR_WEIGHT=1.0,
    COLOUR_WEIGHT=1.0,
    LOCAL_WEIGHT=1.0,
    # Local colour models: tiles of TILE px, shrunk to the global model by LOCAL_PRIOR pseudo-counts.
    TILE=32,
    LOCAL_PRIOR=20.0,
    # Pixels further than REACH from where the flow carried the object are not it.
    REACH=2,
    # The prior is clipped to [PRIOR_EPS, 1 - PRIOR_EPS] before taking log-odds.
    PRIOR_EPS=0.02,
    # A frame's colour model: this share from the annotated frame, the rest from the previous frame.
    ANCHOR=0.5,
    # Errors add up with each step from an annotation: confidence decays as exp(-steps / DRIFT).
    DRIFT=40.0,
    # Frames whose confidence is below this are reported as unsure.
    UNSURE=0.6,
)

# --- faces -----------------------------------------------------------------
faces = SimpleNamespace(
    # Overlapping detections of one face: the weaker is dropped above this IoU.
    NMS_IOU=0.3,
)

# --- privacy ---------------------------------------------------------------
privacy = SimpleNamespace(
    # The detector score a track must reach once: chosen leave-one-clip-out on the
    # annotated set (benchmarks/privacy.py; every fold chose 0.4).
    THRESHOLD=0.4,
    # Detections down to LINK_FRACTION x threshold may extend a track that has one
    # detection at or above the threshold.
    LINK_FRACTION=0.5,
    # A detection joins a track whose box (last seen at most MAX_GAP frames ago)
    # overlaps it by at least MIN_IOU.
    MIN_IOU=0.1,
    MAX_GAP=12,
    # Frames a track is held before its first and after its last detection
    # (faces entering the picture, turning away): the detector finds them late.
    HOLD=4,
    # Boxes are smoothed over this many frames (centre and size, a moving mean).
    SMOOTH=5,
    # CenterFace's box covers the face from brows to chin; the head is about twice
    # as wide and tall, mostly upwards (hair): the box is grown by these factors,
    # its centre raised. Measured on the annotated clips (benchmarks/privacy.py
    # --grow; faces a detector at 0.2 still finds after removal): 1.5 x 1.7 left
    # 36%, 1.8 x 2.0 15%, 2.1 x 2.3 15% (0% at 0.4, against 5%); blurred heads
    # leak less the more of the head is blurred (56%, 38%, 21%).
    GROW_W=2.1,
    GROW_H=2.3,
    RAISE=0.18,
    # The verifying detector's threshold, as a fraction of the detection threshold:
    # 0.3 for the default, the lowest score at which the detector's false alarms on
    # the annotated set are rare (3 in 65 images, against 14 at 0.2), so a hit
    # there is worth a reviewer's look.
    VERIFY_FRACTION=0.75,
)
