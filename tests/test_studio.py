"""``hybridinpaint studio``: its API on a real Starlette app, and the page end to end in headless Chromium."""

import json
import socket
import threading
import time

import numpy as np
import pytest
from conftest import CHROMIUM, DRIVER, NO_BROWSER
from test_film import add_blotches, textured_pan
from test_tracking import scene

from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io

pytest.importorskip("starlette", reason="needs the studio extra (starlette, uvicorn)")
pytest.importorskip("starlette.testclient", reason="Starlette's test client needs httpx2 (the dev extra)")

from starlette.testclient import TestClient  # noqa: E402

from hybridinpaint.interfaces.studio import create_app  # noqa: E402


def project(tmp_path, t=8):
    """A served folder: a clip with a moving red disc, and a restore output of blotched scans."""
    frames, truth = scene(t=t)
    for k, f in enumerate(frames):
        io.write_frame(tmp_path / "clip" / f"{k:03d}.png", f)
    dirty, _ = add_blotches(textured_pan(t=6), per_frame=3)
    for k, f in enumerate(dirty):
        io.write_frame(tmp_path / "scans" / f"f{k:03d}.png", f)
    assert (
        cli.main(["restore", str(tmp_path / "scans"), "-o", str(tmp_path / "restored"), "--report", "--backend", "cpu"])
        == 0
    )
    return frames, truth


def png(mask):
    import cv2

    return cv2.imencode(".png", np.where(mask, 255, 0).astype(np.uint8))[1].tobytes()


@pytest.fixture
def client(tmp_path):
    frames, truth = project(tmp_path)
    with TestClient(create_app(tmp_path)) as c:
        c.frames, c.truth, c.root = frames, truth, tmp_path
        yield c


def test_draw_track_preview_run(client):
    kinds = {e["name"]: e["kind"] for e in client.get("/api/list").json()["entries"]}
    assert kinds == {"clip": "frames", "scans": "frames", "restored": "restore"}
    info = client.post("/api/open", json={"path": "clip"}).json()
    assert (info["frames"], info["width"], info["height"]) == (8, 96, 64)
    assert client.get("/api/frame/3").headers["content-type"] == "image/jpeg"
    assert client.put("/api/mask/0", content=png(client.truth[0])).json()["drawn"] == [0]
    doc = client.post("/api/track").json()
    assert doc["tracked"] and len(doc["confidence"]) == 8
    # the overlay of a later frame follows the disc
    import cv2

    overlay = cv2.imdecode(np.frombuffer(client.get("/api/mask/7").content, np.uint8), cv2.IMREAD_UNCHANGED)
    shown = overlay[:, :, 3] > 0
    assert (shown & client.truth[7]).sum() / (shown | client.truth[7]).sum() > 0.7
    prev = client.post("/api/preview", json={"start": 2, "count": 4}).json()
    assert prev["frames"] == [2, 3, 4, 5]
    img = cv2.imdecode(np.frombuffer(client.get("/api/preview/3").content, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[:2] == (32, 48)
    assert client.get("/api/preview/7").status_code == 400  # not previewed
    job = run_job(client)
    assert job["state"] == "done" and job["resumed"] == 0, job
    result = io.read_frame(sorted((client.root / "out").glob("*.png"))[7])
    red = (result[..., 0].astype(int) - result[..., 1]) > 100
    assert red.sum() < 0.1 * client.truth[7].sum()  # the disc is gone
    assert client.get("/api/result/7").status_code == 200 and client.get("/api/provenance/7").status_code == 200
    assert run_job(client)["resumed"] >= 1  # the same job again: the finished output is kept
    corrected = client.truth[4].copy()
    corrected[:, :30] = True  # a correction on frame 4: other masks, so the job starts again
    client.put("/api/mask/4", content=png(corrected))
    job = run_job(client)
    assert job["state"] == "done" and job["resumed"] == 0, job


def run_job(client):
    job = client.post("/api/run", json={"output": "out"}).json()
    assert job["state"] == "running"
    for _ in range(600):
        job = client.get("/api/job").json()
        if job["state"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"the job did not finish: {job}")


def test_refuses_paths_outside_the_served_folder(client, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    io.write_frame(outside / "a.png", np.zeros((8, 8, 3), np.uint8))
    (client.root / "link").symlink_to(outside)
    for path in ("..", "../", str(outside), "link", "clip/../../x", "/etc"):
        r = client.post("/api/open", json={"path": path})
        assert r.status_code == 400 and "outside" in r.json()["error"], path
    assert client.get("/api/list", params={"path": ".."}).status_code == 400
    assert client.get("/api/file", params={"path": "../x"}).status_code == 400
    assert client.post("/api/open", json={"path": "clip"}).status_code == 200
    assert client.post("/api/run", json={"output": "../out"}).status_code == 400
    assert client.post("/api/track").json()["error"].startswith("draw a mask")
    assert client.put("/api/mask/0", content=b"not a png").status_code == 400
    assert client.get("/api/frame/99").status_code == 400


def test_review_and_revert_a_restore_fix(client):
    doc = client.post("/api/open", json={"path": "restored"}).json()
    assert doc["kind"] == "restore" and doc["report"] and len(doc["fixes"]) >= 3
    first = doc["fixes"][0]["id"]
    for which in ("before", "after"):
        assert client.get(f"/api/fix/{first}/{which}").headers["content-type"] == "image/png"
    report_before = (client.root / "restored" / "report.html").stat().st_mtime_ns
    doc = client.post("/api/revert", json={"ids": [first]}).json()
    assert [f["reverted"] for f in doc["fixes"] if f["id"] == first] == [True]
    saved = json.loads((client.root / "restored" / "fixes.json").read_text())
    assert [f["reverted"] for f in saved["fixes"] if f["id"] == first] == [True]
    assert (client.root / "restored" / "report.html").stat().st_mtime_ns != report_before  # rebuilt
    assert client.post("/api/revert", json={"ids": "1"}).status_code == 400


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    frames, truth = project(tmp_path)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(tmp_path), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", tmp_path, truth
    srv.should_exit = True
    thread.join(timeout=10)


def _wait_status(browser, text, timeout=120):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda b: text in b.find_element(By.ID, "status").text)
    return browser.find_element(By.ID, "status").text


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=NO_BROWSER)
def test_in_a_browser_draw_track_preview_and_revert(browser, server, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, root, truth = server
    browser.get(url)
    _wait_status(browser, "Pick a video")
    browser.find_element(By.CSS_SELECTOR, "nav a[data-path='clip']").click()
    _wait_status(browser, "8 frames")
    canvas = browser.find_element(By.ID, "overlay")
    # A stroke across the disc on frame 0 (the canvas shows the 96x64 frame at its own size).
    w = canvas.size["width"]
    scale = w / 96
    start = ((20 - 48) * scale, 0)
    chain = ActionChains(browser).move_to_element_with_offset(canvas, *start).click_and_hold()
    for dx in range(-8, 9, 2):
        for dy in (-6, 0, 6):
            chain = chain.move_to_element_with_offset(canvas, (20 + dx - 48) * scale, dy * scale)
    chain.release().perform()
    _wait_status(browser, "saved")
    browser.find_element(By.ID, "track").click()
    _wait_status(browser, "tracked")
    browser.find_element(By.ID, "preview").click()
    _wait_status(browser, "preview of frames")
    ok = browser.execute_script("const i = document.getElementById('previewimg'); return i.complete && i.naturalWidth")
    assert ok == 48
    browser.save_screenshot(str(tmp_path / "studio_preview.png"))
    browser.find_element(By.ID, "run").click()
    _wait_status(browser, "done in")
    from selenium.webdriver.support.ui import WebDriverWait

    shown = (
        "return ['resultimg', 'provimg'].map(i => document.getElementById(i)).every(i => i.complete && i.naturalWidth)"
    )

    WebDriverWait(browser, 30).until(lambda b: b.execute_script(shown))
    assert len(list((root / "studio-output").glob("*.png"))) == 8
    browser.save_screenshot(str(tmp_path / "studio_result.png"))
    # A record someone edited: its text is shown as text, never run as HTML.
    record = root / "restored" / "fixes.json"
    doc = json.loads(record.read_text())
    doc["fixes"][1]["kind"] = '<b id="injected">blotch</b>'
    record.write_text(json.dumps(doc))
    browser.get(url)
    _wait_status(browser, "Pick a video")
    browser.find_element(By.CSS_SELECTOR, "nav a[data-path='restored']").click()
    _wait_status(browser, "fixes in place")
    rows = browser.find_elements(By.CSS_SELECTOR, "#fixes tbody tr")
    assert len(rows) >= 3
    crops = "return Array.from(document.querySelectorAll('#fixes img'))"
    WebDriverWait(browser, 30).until(lambda b: b.execute_script(crops + ".every(i => i.complete)"))
    assert browser.execute_script(crops + ".filter(i => i.naturalWidth > 0).length") == 2 * len(rows)
    assert browser.find_elements(By.ID, "injected") == []
    assert '<b id="injected">' in rows[1].text
    first = rows[0].get_attribute("data-id")
    rows[0].find_element(By.CSS_SELECTOR, "input").click()
    browser.find_element(By.ID, "revert").click()
    _wait_status(browser, "reverted fixes")
    browser.save_screenshot(str(tmp_path / "studio_revert.png"))
    saved = json.loads((root / "restored" / "fixes.json").read_text())
    assert [f["reverted"] for f in saved["fixes"] if str(f["id"]) == first] == [True]
