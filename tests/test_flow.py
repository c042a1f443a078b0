"""Flow completion: foreground motion carried into a hole (``flow.carry_motion``), never a scan's wobble."""

import numpy as np
import pytest

from hybridinpaint.completion import flow as flowmod
from hybridinpaint.settings import DEFAULT

H, W = 24, 40


RING_8 = DEFAULT.replace(flow={"RING": 8})


def _chain(velocities, block):
    """Flows of a 3-frame chain: a still background and a block moving by ``velocities[k]`` after frame k."""
    n = len(velocities)
    flows = np.zeros((n, H, W, 2), np.float32)
    previous = [None]
    x = 8
    for k, v in enumerate(velocities):
        flows[k, block[0] : block[1], x : x + 6] = (v, 0)
        x += int(v)
    for k in range(1, n):  # the flow from frame k back to k - 1: minus the motion that brought it there
        back = np.zeros((H, W, 2), np.float32)
        x0 = 8 + int(sum(velocities[:k]))
        back[block[0] : block[1], x0 : x0 + 6] = (-velocities[k - 1], 0)
        previous.append(back)
    return flows, previous[:n]


@pytest.mark.parametrize("steady", [True, False])
def test_steady_foreground_motion_is_carried_into_the_next_hole(steady):
    velocities = [3.0, 3.0, 3.0] if steady else [0.0, 3.0, 3.0]  # the block starts moving at frame 1
    flows, previous = _chain(velocities, (8, 14))
    unknown = np.zeros((3, H, W), bool)
    unknown[2, :, 17:30] = True  # frame 2's hole, where the block arrives
    foreground = np.zeros_like(unknown)
    foreground[:, 8:14, :] = flows[:, 8:14, :, 0] != 0
    out, carried = flowmod.carry_motion(flows, unknown, foreground, foreground, previous, "cpu", settings=DEFAULT)
    assert not carried[:2].any()  # nothing lands in frames without a hole
    if steady:
        # The block (x 11..16 in frame 1) lands on x 14..19 of frame 2, with its own motion.
        assert carried[2, 8:14, 14:20].all()
        np.testing.assert_allclose(out[2][carried[2]], np.broadcast_to([3.0, 0.0], (carried[2].sum(), 2)))
        assert carried[2].sum() == 6 * 6
    else:
        assert not carried.any()  # its motion changed in the step before: not carried
        np.testing.assert_array_equal(out, flows)


def test_background_motion_is_left_to_the_completion():
    flows = np.full((3, H, W, 2), 2.0, np.float32)  # everything pans: no foreground
    previous = [None, -flows[0], -flows[1]]
    unknown = np.zeros((3, H, W), bool)
    unknown[2, 5:15, 10:20] = True
    none = np.zeros_like(unknown)
    out, carried = flowmod.carry_motion(flows, unknown, none, none, previous, "cpu", settings=DEFAULT)
    assert not carried.any()
    np.testing.assert_array_equal(out, flows)


def test_complete_pair_carries_an_object_walking_into_a_hole():
    # A block moving right by 4 px a frame over a still background, into a hole at x 20..33.
    t, v = 5, 4
    fwd = np.zeros((t - 1, H, W, 2), np.float32)
    bwd = np.zeros_like(fwd)
    for k in range(t - 1):
        x = 4 + v * k
        fwd[k, 8:16, x : x + 8] = (v, 0)
        bwd[k, 8:16, x + v : x + v + 8] = (-v, 0)
    hole = np.zeros((t, H, W), bool)
    hole[:, 4:20, 20:34] = True
    with_carry, _ = flowmod.complete_pair(fwd, bwd, hole, "cpu", settings=RING_8)
    without, _ = flowmod.complete_pair(fwd, bwd, hole, "cpu", settings=RING_8, carry=False)
    # In frame 3 the block's front (x 20..23) is inside the hole: carried, it keeps moving;
    # completed from the still background alone, it would stop.
    np.testing.assert_allclose(with_carry[3, 8:16, 20:24], np.broadcast_to([v, 0], (8, 4, 2)), atol=1e-4)
    assert np.abs(without[3, 8:16, 20:24, 0]).max() < 1.0
    # Away from the holes the flows are the estimator's (foreground is looked for within
    # the ring of what is unknown, which itself reaches a ring beyond the hole).
    far = ~flowmod.within(hole[:-1], 16)
    np.testing.assert_array_equal(with_carry[far], fwd[far])


def _wobble(h, w, amplitude=0.7):
    """A background that bends smoothly in place, as a scan of shrunken film does from frame to frame."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return amplitude * np.stack([np.sin(xx / 5), np.cos(yy / 4)], -1).astype(np.float32)


def test_an_object_stands_out_of_the_wobble_and_the_wobble_does_not():
    h, w = 64, 96
    flow = _wobble(h, w)
    flow[20:30, 30:40] = (6.0, 0.0)  # an object at the hole's edge, moving on its own
    unknown = np.zeros((h, w), bool)
    unknown[15:45, 40:60] = True
    foreground, distinct = flowmod.foreground_near(flow, unknown, 16, wobble=DEFAULT.flow.WOBBLE)
    assert distinct[20:30, 30:40].all()
    assert not (distinct & ~foreground).any()
    wobbling = foreground.copy()
    wobbling[20:30, 30:40] = False
    assert wobbling.any()  # the wobble misses the background motion by more than 1 px ...
    assert not (distinct & wobbling).any()  # ... but does not stand out of it
    # Without the wobble test, every foreground vector is distinct (the behaviour before issue 28).
    np.testing.assert_array_equal(flowmod.foreground_near(flow, unknown, 16, wobble=0.0)[1], foreground)


def test_a_wobbling_still_shot_carries_nothing_into_its_hole():
    t, h, w = 5, 64, 96
    rng = np.random.default_rng(3)
    fwd = np.stack([_wobble(h, w, rng.uniform(0.65, 0.75)) for _ in range(t - 1)])
    bwd = -fwd  # each frame bends back the way it came: a "steady" wobble, the hardest case
    hole = np.zeros((t, h, w), bool)
    hole[:, 15:45, 40:60] = True
    carried = flowmod.complete_pair(fwd, bwd, hole, "cpu", settings=DEFAULT)
    not_carried = flowmod.complete_pair(fwd, bwd, hole, "cpu", settings=DEFAULT, carry=False)
    for a, b in zip(carried, not_carried):
        np.testing.assert_array_equal(a, b)
    # Without the wobble test the wobble was carried (what this test guards against).
    before = flowmod.complete_pair(fwd, bwd, hole, "cpu", settings=DEFAULT.replace(flow={"WOBBLE": 0.0}))
    assert any(not np.array_equal(a, b) for a, b in zip(before, not_carried))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_flows_shared_among_threads_equal_one_estimator_in_order(threads):
    """estimate_pairs gives each thread its own DIS; the flows are those of one DIS called pair by pair."""
    import cv2

    rng = np.random.default_rng(5)
    scene = cv2.GaussianBlur((rng.random((48, 120)) * 255).astype(np.uint8), (0, 0), 1.5)
    grey = np.stack([scene[:, 3 * k : 3 * k + 64] for k in range(8)])
    calc = flowmod.estimator("dis")
    pairs = [(0, 2), (5, 4), (1, 2), (7, 0), (3, 3)]
    want = np.stack([calc(grey[a], grey[b]) for a, b in pairs]).astype(np.float32)
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        got = flowmod.estimate_pairs(grey, pairs)
        fwd, bwd = flowmod.estimate(grey)
    finally:
        cv2.setNumThreads(before)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(fwd[2], calc(grey[2], grey[3]))
    np.testing.assert_array_equal(bwd[6], calc(grey[7], grey[6]))
    assert np.median(fwd[..., 0]) == pytest.approx(-3, abs=0.2)  # the scene moves 3 px left per frame
    with pytest.raises(ValueError, match="flow must be one of"):
        flowmod.estimate_pairs(grey, pairs, "lucas")


def test_upscale_resizes_and_scales_the_vectors():
    import cv2

    rng = np.random.default_rng(7)
    small = (rng.random((3, 9, 16, 2)).astype(np.float32) - 0.5) * 4
    small[1] = (1.0, 2.0)  # a uniform motion at half size is twice as long at full size
    big = flowmod.upscale(small, (18, 40))
    assert big.shape == (3, 18, 40, 2) and big.dtype == np.float32
    np.testing.assert_array_equal(big[1, ..., 0], 2.5)  # 40 / 16 wide
    np.testing.assert_array_equal(big[1, ..., 1], 4.0)  # 18 / 9 high
    for k in (0, 2):
        want = cv2.resize(small[k], (40, 18), interpolation=cv2.INTER_LINEAR) * np.float32([2.5, 2.0])
        np.testing.assert_array_equal(big[k], want)
    assert flowmod.upscale(small, (9, 16)) is small
