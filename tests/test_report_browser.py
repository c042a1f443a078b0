"""``report.html`` in a real browser: headless Chromium from the system's packages, driven by Selenium.

Nothing is downloaded: the browser and its driver come from Debian's
``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them);
without them the test is skipped.
"""

import json
import os
import shutil

import pytest
from conftest import CHROMIUM, DRIVER, NO_BROWSER
from test_film import add_blotches, textured_pan

from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=NO_BROWSER)


def test_report_loads_toggles_sorts_and_renders(browser, tmp_path):
    from selenium.webdriver.common.by import By

    clean = textured_pan(t=6)
    dirty, _ = add_blotches(clean, per_frame=3)
    for k, f in enumerate(dirty):
        io.write_frame(tmp_path / "scans" / f"f{k:03d}.png", f)
    out = tmp_path / "out"
    assert cli.main(["restore", str(tmp_path / "scans"), "-o", str(out), "--report", "--backend", "cpu"]) == 0
    fixes = json.loads((out / "fixes.json").read_text())["fixes"]
    assert len(fixes) >= 3
    browser.get((out / "report.html").as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "#fixes tbody tr")
    assert len(rows) == len(fixes)
    # Every picture decoded (frame views and crops).
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length"
    )
    assert broken == 0
    assert browser.execute_script("return document.images.length") >= len(fixes) * 2
    # Toggle scan / repaired on the first frame shown.
    k = fixes[0]["frame"]
    after, before = browser.find_element(By.ID, f"a{k}"), browser.find_element(By.ID, f"b{k}")
    assert after.is_displayed() and not before.is_displayed()
    browser.find_element(By.ID, f"t{k}").click()
    assert before.is_displayed() and not after.is_displayed()
    browser.find_element(By.ID, f"t{k}").click()
    assert after.is_displayed()
    # Sort by area, up then down.
    header = [h for h in browser.find_elements(By.CSS_SELECTOR, "#fixes th") if h.text == "area"][0]
    col = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#fixes th")].index("area")

    def areas():
        rows = browser.find_elements(By.CSS_SELECTOR, "#fixes tbody tr")
        return [int(r.find_elements(By.TAG_NAME, "td")[col].text) for r in rows]

    header.click()
    assert areas() == sorted(f["area"] for f in fixes)
    header.click()
    assert areas() == sorted((f["area"] for f in fixes), reverse=True)
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("HYBRIDINPAINT_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
