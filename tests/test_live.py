"""inpaint_stream and `hybridinpaint stream`: latency, bounded look-ahead, known pixels, and the pipe."""

import subprocess
import sys

import numpy as np
import pytest

from hybridinpaint import inpaint_stream, metrics


def _pan(t=12, h=40, w=56, step=2, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    wide = cv2.GaussianBlur(rng.random((h, w + step * t, 3)).astype(np.float32), (0, 0), 1.5)
    wide = (255 * (wide - wide.min()) / np.ptp(wide)).astype(np.uint8)
    return np.stack([wide[:, step * k : step * k + w] for k in range(t)])


def _moving_hole(t, h, w):
    masks = np.zeros((t, h, w), bool)
    for k in range(t):
        masks[k, 12:26, 10 + 2 * k : 22 + 2 * k] = True
    return masks


@pytest.mark.parametrize("lookahead", [0, 2, 4, 20])
def test_each_frame_leaves_once_lookahead_later_frames_arrived(lookahead):
    truth = _pan()
    masks = _moving_hole(*truth.shape[:3])
    video = truth.copy()
    video[masks] = 0
    pulled = []

    def source():
        for f in video:
            pulled.append(1)
            yield f

    out = []
    for k, frame in enumerate(inpaint_stream(source(), iter(masks), lookahead=lookahead, backend="cpu")):
        assert len(pulled) == min(len(video), k + lookahead + 1)  # no more than lookahead frames ahead
        out.append(frame)
    out = np.stack(out)
    assert out.shape == video.shape and out.dtype == video.dtype
    np.testing.assert_array_equal(out[~masks], video[~masks])  # known pixels bit-identical
    assert (video[masks] == 0).all()  # the caller's frames untouched


def test_the_hole_is_filled_from_frames_that_show_it():
    truth = _pan(t=16)
    masks = _moving_hole(*truth.shape[:3])
    video = truth.copy()
    video[masks] = 0
    out = np.stack(list(inpaint_stream(iter(video), iter(masks), lookahead=4, backend="cpu")))
    import cv2

    telea = np.stack([cv2.inpaint(f, m.astype(np.uint8), 3, cv2.INPAINT_TELEA) for f, m in zip(video, masks)])
    # After the first frames (whose hole no frame yet showed), the fill is the scene itself.
    later = np.zeros_like(masks)
    later[4:] = masks[4:]
    assert metrics.psnr(out, truth, mask=later) > metrics.psnr(telea, truth, mask=later) + 5


def test_grey_frames_and_one_mask_for_all():
    truth = _pan()[..., 0]
    hole = np.zeros(truth.shape[1:], bool)
    hole[10:20, 20:30] = True
    video = truth.copy()
    video[:, hole] = 0
    out = np.stack(list(inpaint_stream(video, hole, lookahead=3, backend="cpu")))
    assert out.shape == video.shape
    np.testing.assert_array_equal(out[:, ~hole], video[:, ~hole])


def test_bad_input_names_the_argument():
    video = _pan(t=3)
    with pytest.raises(ValueError, match="frames: frame 1"):
        list(inpaint_stream([video[0], video[1, :10]], np.zeros(video.shape[1:3], bool), backend="cpu"))
    with pytest.raises(ValueError, match="masks: ran out"):
        list(inpaint_stream(video, iter([np.zeros(video.shape[1:3], bool)]), backend="cpu"))
    with pytest.raises(ValueError, match="lookahead"):
        list(inpaint_stream(video, np.zeros(video.shape[1:3], bool), lookahead=-1, backend="cpu"))


def test_stream_command_in_a_pipe(tmp_path):
    import cv2

    video = _pan(t=6, h=32, w=48)
    mask = np.zeros((32, 48), np.uint8)
    mask[10:20, 12:24] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    cmd = [sys.executable, "-m", "hybridinpaint", "stream", "--size", "48x32", "--mask", str(tmp_path / "m.png")]
    done = subprocess.run(cmd, input=video.tobytes(), capture_output=True)
    assert done.returncode == 0, done.stderr
    out = np.frombuffer(done.stdout, np.uint8).reshape(video.shape)
    np.testing.assert_array_equal(out[:, mask == 0], video[:, mask == 0])
    cut = subprocess.run(cmd, input=video.tobytes()[:100], capture_output=True, text=False)
    assert cut.returncode == 1 and b"ended inside frame 0" in cut.stderr and b"Traceback" not in cut.stderr
    bad = subprocess.run([*cmd[:5], "48by32", *cmd[6:]], input=b"", capture_output=True)
    assert bad.returncode == 1 and b"--size" in bad.stderr
