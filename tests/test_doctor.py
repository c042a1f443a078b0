"""``hybridinpaint doctor`` compiles every CUDA kernel to PTX, with no GPU needed."""

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("numba.cuda", reason="numba-cuda (the 'cuda' extra) is not installed")


def test_doctor_compiles_every_kernel_for_sm80_and_sm90(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run(
        [sys.executable, "-m", "hybridinpaint", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from hybridinpaint.kernels import ptx

    for name in ptx.kernels():
        for sm in ("sm_80", "sm_90"):
            assert re.search(rf"PTX {sm} {name}\s+OK", proc.stdout), f"{sm} {name} missing:\n{proc.stdout}"
    assert "numba threads:" in proc.stdout
    assert "CUDA device:" in proc.stdout
    # A measured rule, not the presence of a device (benchmarks/RESULTS.md, CUDA): with or without one.
    assert "backend='auto' runs on: cpu (" in proc.stdout
    assert re.search(r"^numpy\s+\d", proc.stdout, re.M)


def test_ptx_targets_the_requested_architecture(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = (
        "from hybridinpaint.kernels import ptx\n"
        "for cc in ((8, 0), (9, 0)):\n"
        "    text = ptx.compile_ptx('splat_px', cc)\n"
        "    print([l for l in text.splitlines() if l.startswith('.target')][0], 'atom.global.add.f32' in text)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == [".target sm_80 True", ".target sm_90 True"]


def test_doctor_fails_loudly_when_it_cannot_compile(tmp_path):
    # Under the simulator there is no compiler: every kernel must report an error and the exit code says so.
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run(
        [sys.executable, "-m", "hybridinpaint", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "ERROR" in proc.stdout, proc.stdout + proc.stderr


def test_doctor_without_numba_cuda_says_so_and_passes(monkeypatch):
    # A plain install has numba's deprecated numba.cuda only, which cannot build the kernels.
    import io

    from hybridinpaint.interfaces import doctor

    real = doctor._version
    monkeypatch.setattr(doctor, "_version", lambda dist: "not installed" if dist == "numba-cuda" else real(dist))
    out = io.StringIO()
    assert doctor.report(out) == 0
    assert "PTX: not built (numba-cuda, the 'cuda' extra, is not installed" in out.getvalue()
    assert "ERROR" not in out.getvalue()
