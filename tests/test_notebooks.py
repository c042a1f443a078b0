"""The worked examples in notebooks/ execute without error and print what they should."""

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat (dev extra) is not installed")
nbclient = pytest.importorskip("nbclient", reason="nbclient (dev extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CLIPS = ROOT.parent / "shared" / "data" / "clips"
# Notebooks that walk through a shared clip, and the clip each needs.
NEEDS_CLIP = {"film_restoration.ipynb": "oldfilm-market-street"}


def _number(pattern, text):
    """The number the first match of ``pattern`` captures in ``text`` (the notebook printed it)."""
    m = re.search(pattern, text)
    assert m, f"the notebook did not print {pattern!r}; it printed:\n{text}"
    return float(m.group(1))


def check_kernels(text, workdir):
    # Frame 1 is frame 0 moved (3, 2): warping back rebuilds it exactly where the flow stays inside,
    # a (120 - 2) x (180 - 3) share of the frame, and forward splatting leaves the rest uncovered.
    inside = (120 - 2) * (180 - 3) / (120 * 180)
    assert _number(r"pixels inside: ([\d.]+)", text) == round(inside, 3)
    assert _number(r"max error there: ([\d.e+-]+)", text) < 1e-6
    assert _number(r"disoccluded fraction: ([\d.]+)", text) == round(1 - inside, 3)
    # Diffusion of an affine flow over the elliptic hole (3749 px): measured max error 1.7e-4.
    assert _number(r"hole pixels: (\d+)", text) == 3749
    assert _number(r"max error inside: ([\d.e+-]+)", text) < 5e-4
    assert _number(r"true offset \(-2, -3\): ([\d.]+)", text) == 1.0
    # The vote (the one number the notebook does not assert itself): measured 0.0256 mean abs error;
    # filling the hole with the mean colour of frame 1 around it gives 0.0320. The bar sits between:
    # the vote must beat a flat fill.
    assert _number(r"mean abs error of the vote in the hole: ([\d.]+)", text) < 0.029


def check_film(text, workdir):
    from hybridinpaint.runs import io

    first = io.read_frame(io.list_frames(CLIPS / NEEDS_CLIP["film_restoration.ipynb"] / "frames")[0])
    assert f"12 frames {(12, *first.shape)} uint8" in text
    # Detection: measured 57 blotches and 0 scratches, 22113 px, on the first 12 frames of this dusty
    # clip; the bar asks for at least one blotch per frame that can have one (10), and min_area's 5 px each.
    counts = re.search(r"\{'blotch': (\d+), 'scratch': (\d+)\} defects; (\d+) pixels", text)
    assert counts, text
    blotches, scratches, pixels = map(int, counts.groups())
    assert blotches >= 10 and pixels >= 5 * (blotches + scratches)
    # Blotches are only looked for in frames with both neighbours (1..10 of 0..11).
    frames = [int(f) for f in re.findall(r"Defect\(frame=(\d+), bbox=", text)]
    assert len(frames) == 5 and all(1 <= f <= 10 for f in frames)
    # Repair: one fix per connected defect (no blotch touches a scratch here), each from frames within
    # 2 of its own, with a confidence in [0, 1].
    assert _number(r"(\d+) fixes", text) == blotches + scratches
    fixes = re.findall(r"#\s*(\d+) frame\s+(\d+) .* from frames \[([\d, ]*)\] confidence ([\d.]+)", text)
    assert len(fixes) == 8 and [int(f[0]) for f in fixes] == list(range(1, 9))
    for _, frame, sources, confidence in fixes:
        assert sources and all(abs(int(s) - int(frame)) <= 2 for s in sources.split(", "))
        assert 0 <= float(confidence) <= 1
    # The review page: written where the notebook ran, its size as printed (measured 778 kB: the repaired
    # frames and crops as embedded PNGs).
    page = workdir / "report.html"
    assert _number(r"report.html: (\d+) kB", text) == page.stat().st_size // 1024 >= 100
    assert "data:image/png;base64" in page.read_text()
    # Undo: the revert cell ran (it is skipped when there are no fixes) and gave back the scans.
    assert "fix 1 reverted; reverting all gives back the scans: True" in text


# What each notebook computes and prints, checked against what it should be.
CHECKS = {"01_kernels.ipynb": check_kernels, "film_restoration.ipynb": check_film}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    assert path.name in CHECKS, f"{path.name}: add a check of what it computes to CHECKS"
    clip = NEEDS_CLIP.get(path.name)
    if clip and not (CLIPS / clip / "frames").is_dir():
        pytest.skip(f"{path.name} walks through the shared clip {clip}, not found under {CLIPS}")
    monkeypatch.setenv("HYBRIDINPAINT_CLIPS", str(CLIPS))
    nb = nbformat.read(path, as_version=4)
    # Kernels run on the CPU in the notebook's own process, outside the test's simulator settings.
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    stdout = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o["name"] == "stdout")
    CHECKS[path.name](stdout, tmp_path)


def test_there_are_notebooks():
    assert NOTEBOOKS
