"""The worked examples in notebooks/ execute without error."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat (dev extra) is not installed")
nbclient = pytest.importorskip("nbclient", reason="nbclient (dev extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CLIPS = ROOT.parent / "shared" / "data" / "clips"
# Notebooks that walk through a shared clip, and the clip each needs.
NEEDS_CLIP = {"film_restoration.ipynb": "oldfilm-market-street"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    clip = NEEDS_CLIP.get(path.name)
    if clip and not (CLIPS / clip / "frames").is_dir():
        pytest.skip(f"{path.name} walks through the shared clip {clip}, not found under {CLIPS}")
    monkeypatch.setenv("HYBRIDINPAINT_CLIPS", str(CLIPS))
    nb = nbformat.read(path, as_version=4)
    # Kernels run on the CPU in the notebook's own process, outside the test's simulator settings.
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Error" not in outputs


def test_there_are_notebooks():
    assert NOTEBOOKS
