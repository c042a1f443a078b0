"""The kernel build: generated launchers, their declared signatures, and numba's on-disk cache.

The cache tests run fresh Python processes against a cache folder of their
own (``NUMBA_CACHE_DIR``), because what is being tested is what a new
process finds on disk.
"""

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hybridinpaint.kernels import _generate, cache_dir, warm_up
from hybridinpaint.kernels._accelerate import run_cpu
from hybridinpaint.kernels._declarations import KERNELS

KERNEL_DIR = Path(_generate.__file__).resolve().parent

# A new process: warm up the named kernels, run one, print what happened as JSON.
_PROBE = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    names = sys.argv[1].split(",")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from hybridinpaint.kernels import cache_dir, warm_up, warp_backward
        rows = warm_up(names=names, progress="--progress" in sys.argv)
        img = np.arange(12, dtype=np.float32).reshape(3, 4)
        flow = np.zeros((3, 4, 2), np.float32); flow[..., 0] = 1
        out, valid = warp_backward(img, flow, backend="cpu")
    print(json.dumps({
        "cached": {r["name"]: r["cached"] for r in rows},
        "out": out.tolist(), "valid": valid.tolist(),
        "cache_dir": cache_dir(),
        "warnings": [str(w.message) for w in caught],
    }))
    """
)
_NAMES = "normalise_px,warp_backward_px"
_EXPECT_OUT = [[1.0, 2.0, 3.0, 3.0], [5.0, 6.0, 7.0, 7.0], [9.0, 10.0, 11.0, 11.0]]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_CACHE", "HYBRIDINPAINT_"))}
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    # The package this test process imports (an install, or a checkout on sys.path).
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env.update(extra)
    return env


def _probe(env, *flags, names=_NAMES):
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, names, *flags], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["out"] == _EXPECT_OUT
    assert res["valid"] == [[True, True, True, False]] * 3
    res["stderr"] = proc.stderr
    return res


def _cache_files(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.suffix in (".nbi", ".nbc"))


# --- generated launchers ----------------------------------------------------------


def test_launchers_are_up_to_date():
    assert _generate.out_of_date() == [], "run `python -m hybridinpaint.kernels._generate` and commit the result"


def test_generator_sees_a_changed_body_and_rewrites(tmp_path):
    # A copy of the kernel package, edited as a developer would.
    pkg = tmp_path / "kcopy"
    shutil.copytree(KERNEL_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    code = textwrap.dedent(
        """
        import sys
        from kcopy import _generate
        print(_generate.out_of_date())
        with open(_generate.HERE / "warping_fns.py", "a") as f:
            f.write("# an edit\\n")
        print(_generate.out_of_date())
        from kcopy import _accelerate
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fresh = _accelerate._launchers_fresh("cpu")
        print(fresh, any("older than the kernel bodies" in str(w.message) for w in caught))
        print(_generate.write())
        print(_generate.out_of_date())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(PYTHONPATH=str(tmp_path)), timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:5] == [
        "[]",
        "['_launch_cpu.py', '_launch_cuda.py']",
        "False True",
        "['_launch_cpu.py', '_launch_cuda.py']",
        "[]",
    ]


def test_every_declared_kernel_has_launchers_for_both_targets():
    cpu = (KERNEL_DIR / "_launch_cpu.py").read_text()
    cuda = (KERNEL_DIR / "_launch_cuda.py").read_text()
    for name in KERNELS:
        assert f"def {name}_cpu(" in cpu
        assert f"def {name}_cuda(" in cuda
    assert "exec(" not in (KERNEL_DIR / "_accelerate.py").read_text()


# --- declared signatures ----------------------------------------------------------


def test_launch_checks_arguments_against_the_declaration():
    img = np.zeros((2, 3, 1), np.float32)
    flow = np.zeros((2, 3, 2), np.float32)
    out = np.empty((2, 3, 1), np.float32)
    valid = np.empty((2, 3), np.uint8)
    with pytest.raises(TypeError, match="argument flow must be a C-contiguous 3-D float32 array"):
        run_cpu("warp_backward_px", (2, 3), img, flow.astype(np.float64), out, valid)
    with pytest.raises(TypeError, match="argument image must be a C-contiguous"):
        run_cpu("warp_backward_px", (2, 3), np.zeros((2, 6, 1), np.float32)[:, ::2], flow, out, valid)
    with pytest.raises(TypeError, match="takes 4 arguments"):
        run_cpu("warp_backward_px", (2, 3), img, flow, out)
    ro = out.copy()
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="argument out is written"):
        run_cpu("warp_backward_px", (2, 3), img, flow, ro, valid)
    # Read-only inputs are fine: the caller's arrays are only read.
    img.flags.writeable = False
    run_cpu("warp_backward_px", (2, 3), img, flow, out, valid)
    assert (valid == 1).all() and (out == 0).all()


def test_warm_up_rejects_unknown_names():
    with pytest.raises(ValueError, match="names: unknown kernel 'nope'"):
        warm_up(names=["nope"])


# --- the on-disk cache ------------------------------------------------------------


def test_a_new_process_loads_the_kernels_from_the_cache(tmp_path):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    first = _probe(env, "--progress")
    assert first["cached"] == {"normalise_px": False, "warp_backward_px": False}
    assert "compiling kernels (first run only)" in first["stderr"]
    assert first["cache_dir"].startswith(str(tmp_path / "cache"))
    assert _cache_files(tmp_path / "cache")
    second = _probe(env, "--progress")
    assert second["cached"] == {"normalise_px": True, "warp_backward_px": True}
    assert "compiling kernels" not in second["stderr"]  # nothing compiled, nothing said
    assert second["warnings"] == []


def test_a_corrupt_cache_is_rebuilt_not_fatal(tmp_path):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    _probe(env)
    files = _cache_files(tmp_path / "cache")
    for p in files:  # truncated indexes, garbage data
        p.write_bytes(p.read_bytes()[:7] if p.suffix == ".nbi" else b"not a pickle")
    again = _probe(env)
    assert again["cached"] == {"normalise_px": False, "warp_backward_px": False}
    assert any("could not be read" in w for w in again["warnings"]), again["warnings"]
    assert _probe(env)["cached"] == {"normalise_px": True, "warp_backward_px": True}


def test_a_cache_from_another_numba_version_is_ignored_and_rewritten(tmp_path):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    _probe(env)
    for p in _cache_files(tmp_path / "cache"):
        if p.suffix == ".nbi":
            with open(p, "rb") as f:
                pickle.load(f)  # numba's version, then the index
                rest = f.read()
            p.write_bytes(pickle.dumps("0.0.1") + rest)
    stale = _probe(env)
    assert stale["cached"] == {"normalise_px": False, "warp_backward_px": False}
    assert stale["warnings"] == []
    assert _probe(env)["cached"] == {"normalise_px": True, "warp_backward_px": True}


def test_a_cache_for_another_cpu_is_not_used(tmp_path):
    # numba keys cached machine code on the CPU it was built for; a process on
    # another CPU (stood in for by numba's portable "generic" target) compiles
    # its own entry beside the first, and each later finds its own.
    native = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    generic = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"), NUMBA_CPU_NAME="generic")
    assert _probe(native)["cached"] == {"normalise_px": False, "warp_backward_px": False}
    assert _probe(generic)["cached"] == {"normalise_px": False, "warp_backward_px": False}
    assert _probe(native)["cached"] == {"normalise_px": True, "warp_backward_px": True}
    assert _probe(generic)["cached"] == {"normalise_px": True, "warp_backward_px": True}


def test_concurrent_first_runs_share_one_sound_cache(tmp_path):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROBE, _NAMES], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["out"] == _EXPECT_OUT
    assert not list((tmp_path / "cache").rglob("*.tmp.*"))  # numba writes through temp files + rename
    assert _probe(env)["cached"] == {"normalise_px": True, "warp_backward_px": True}


def _locators_configurable():
    import numba

    return hasattr(numba.config, "CACHE_LOCATOR_CLASSES")


needs_locator_setting = pytest.mark.skipif(
    not _locators_configurable(), reason="this numba has no NUMBA_CACHE_LOCATOR_CLASSES to choose cache locators"
)


@needs_locator_setting
def test_a_read_only_install_caches_in_the_user_cache_folder(tmp_path):
    # Where the package's own folder cannot be written (site-packages owned by
    # root, a container), numba's user-wide locator takes over. Locators are
    # chosen by numba, so the in-tree one is left out here to stand for an
    # unwritable install folder.
    env = _env(NUMBA_CACHE_LOCATOR_CLASSES="UserWideCacheLocator", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    first = _probe(env)
    assert first["cache_dir"].startswith(str(tmp_path / "xdg"))
    assert _cache_files(tmp_path / "xdg")
    assert _probe(env)["cached"] == {"normalise_px": True, "warp_backward_px": True}


@needs_locator_setting
def test_no_writable_cache_folder_compiles_in_memory_with_a_warning(tmp_path):
    (tmp_path / "nolocator.py").write_text(
        "class Nowhere:\n"
        "    @classmethod\n"
        "    def from_function(cls, py_func, py_file):\n"
        "        return None  # as when every candidate folder is read-only\n"
    )
    env = _env(NUMBA_CACHE_LOCATOR_CLASSES="nolocator.Nowhere")
    env["PYTHONPATH"] += os.pathsep + str(tmp_path)
    res = _probe(env)
    assert res["cached"] == {"normalise_px": False, "warp_backward_px": False}
    assert res["cache_dir"] is None
    assert any("compiled in memory" in w and "NUMBA_CACHE_DIR" in w for w in res["warnings"]), res["warnings"]


def test_cuda_launchers_can_be_cached(tmp_path):
    # No GPU here: what can be checked is that numba-cuda finds a cache
    # folder for every CUDA launcher (a launcher built from an exec'd string
    # could not have one). Loading a cached kernel is measured on a GPU
    # machine (benchmarks/startup.py).
    pytest.importorskip("numba.cuda", reason="numba-cuda (the 'cuda' extra) is not installed")
    code = textwrap.dedent(
        """
        from numba import cuda
        from hybridinpaint.kernels._accelerate import launcher_function
        from hybridinpaint.kernels._declarations import KERNELS
        paths = {cuda.jit(cache=True)(launcher_function(n, "cuda")).stats.cache_path for n in KERNELS}
        print(sorted(paths))
        """
    )
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    paths = eval(proc.stdout)  # noqa: S307 - a list literal we printed
    assert len(paths) == 1 and paths[0].startswith(str(tmp_path / "cache"))


def test_after_a_warm_up_inpaint_compiles_nothing():
    # The default cache, as a user has it (the session start warmed it already).
    env = _env()
    warm = subprocess.run(
        [sys.executable, "-m", "hybridinpaint", "doctor", "--compile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert warm.returncode == 0, warm.stdout + warm.stderr
    for name in KERNELS:
        assert re.search(rf"^cpu {name}\s+(compiled and cached|loaded from cache)", warm.stdout, re.M), warm.stdout
    code = textwrap.dedent(
        """
        import numpy as np
        from numba.core import event
        import hybridinpaint
        rng = np.random.default_rng(0)
        scene = rng.random((120, 300, 3)).astype(np.float32)
        video = np.stack([scene[:, 4 * t : 4 * t + 200] for t in range(12)])
        hole = np.zeros(video.shape[:3], bool)
        hole[:, 40:80, 60:110] = True
        with event.install_recorder("numba:compile") as rec:
            out = hybridinpaint.inpaint(video, hole, backend="cpu")
        ours = [e for e in rec.buffer if "hybridinpaint" in str(e[1].data["dispatcher"].py_func.__module__)]
        print(len(ours), bool((out[~hole] == video[~hole]).all()))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "True"]
    again = subprocess.run(
        [sys.executable, "-m", "hybridinpaint", "doctor", "--compile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert again.returncode == 0
    assert again.stdout.count("loaded from cache") == len(KERNELS), again.stdout


def test_the_compile_recorder_sees_a_cold_compile(tmp_path):
    # The check above can fail: on an empty cache the same recorder counts compiles.
    code = textwrap.dedent(
        """
        from numba.core import event
        from hybridinpaint.kernels import warm_up
        with event.install_recorder("numba:compile") as rec:
            warm_up(names=["normalise_px"])
        print(sum("hybridinpaint" in str(e[1].data["dispatcher"].py_func.__module__) for e in rec.buffer) > 0)
        """
    )
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True"]


def test_cache_dir_follows_numba_cache_dir(monkeypatch, tmp_path):
    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    default = cache_dir()
    assert default is not None and str(tmp_path) not in default
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    assert cache_dir().startswith(str(tmp_path))
