"""``report.html`` in a real browser: headless Chromium from the system's packages, driven by Selenium.

Nothing is downloaded: the browser and its driver come from Debian's
``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them);
without them the test is skipped.
"""

import json
import os
import re
import shutil

import numpy as np
import pytest
from conftest import CHROMIUM, DRIVER, NO_BROWSER
from test_film import add_blotches, textured_pan

from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=NO_BROWSER)


def test_report_loads_toggles_sorts_and_renders(browser, tmp_path):
    from selenium.webdriver.common.by import By

    clean = textured_pan(t=6, h=72)
    dirty, _ = add_blotches(clean, per_frame=3)
    dirty[:, :, 30] = np.clip(dirty[:, :, 30].astype(int) + 70, 0, 255)  # a line scratch through every frame
    dirty[3] = (dirty[3] * 0.8).astype(np.uint8)  # and a darker frame: flicker
    for k, f in enumerate(dirty):
        io.write_frame(tmp_path / "scans" / f"f{k:03d}.png", f)
    out = tmp_path / "out"
    argv = ["restore", str(tmp_path / "scans"), "-o", str(out), "--report", "--deflicker", "--backend", "cpu"]
    assert cli.main(argv) == 0
    fixes = json.loads((out / "fixes.json").read_text())["fixes"]
    assert len(fixes) >= 3 and {"blotch", "scratch", "flicker"} <= {f["kind"] for f in fixes}
    browser.get((out / "report.html").as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "#fixes tbody tr")
    assert len(rows) == len(fixes)
    names = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#fixes th")]
    scan, repaired, where = names.index("scan"), names.index("repaired"), names.index("where")
    # Every fix, scratch and flicker included, shows the scan and the repair, decoded and on screen.
    for row in rows:
        cells = row.find_elements(By.TAG_NAME, "td")
        for cell in (cells[scan], cells[repaired]):
            (img,) = cell.find_elements(By.TAG_NAME, "img")
            assert browser.execute_script("return arguments[0].naturalWidth", img) > 0
            assert img.size["width"] >= 16 and img.size["height"] >= 16
        assert re.fullmatch(r"rows? \d+(–\d+)?, columns? \d+(–\d+)?", cells[where].text), cells[where].text
    kinds = {r.find_elements(By.TAG_NAME, "td")[2].text: r for r in rows}
    assert kinds["scratch"].find_elements(By.CSS_SELECTOR, "img.strip")
    assert kinds["flicker"].find_elements(By.CSS_SELECTOR, "img.thumb")
    header = browser.find_elements(By.CSS_SELECTOR, "#fixes th")[names.index("probability of a defect")]
    assert "How likely" in header.get_attribute("title")
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
