"""Test configuration.

CUDA kernels run under Numba's CUDA simulator unless the environment says
otherwise (``NUMBA_ENABLE_CUDASIM=0`` on a machine with a GPU runs them on
the device). The simulator runs each thread in Python, so blocks are kept
tiny (``HYBRIDINPAINT_CUDA_THREADS``), which also makes small test images
cross block edges.
"""

import os
import shutil
import sys

# The helpers (reference.py, strategies.py) sit beside the tests.
sys.path.insert(0, os.path.dirname(__file__))

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ.setdefault("HYBRIDINPAINT_CUDA_THREADS", "4")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# JIT compilation makes first examples slow: no deadlines anywhere.
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "sim", max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_sessionstart(session):
    # Compile every CPU kernel once, into the kernel cache, before any test:
    # the tests that start Python processes (CLI, notebooks, Dask workers)
    # then load the kernels from the cache instead of compiling them again.
    from hybridinpaint.kernels import warm_up

    warm_up("cpu")


# A real browser for the end-to-end tests: Chromium and its driver from the
# system's packages (Debian's chromium and chromium-driver; .ci/run installs
# them), driven by Selenium. Nothing is downloaded; without them those tests skip.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
NO_BROWSER = "needs Chromium and ChromeDriver from the system (apt-get install chromium chromium-driver)"


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium must not fetch a browser or driver of its own
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1600",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    yield driver
    driver.quit()
