// hybridinpaint studio: one page, plain DOM and canvas. The server does the work (see studio/__init__.py).
"use strict";
const $ = (id) => document.getElementById(id);
const state = { frames: 0, k: 0, width: 0, height: 0, poly: [], preview: new Set(), drawing: false };

function status(text) { $("status").textContent = text; }

async function api(path, options = {}) {
  const r = await fetch(path, options);
  const isJson = (r.headers.get("content-type") || "").includes("json");
  const doc = isJson ? await r.json() : null;
  if (!r.ok) throw new Error(doc && doc.error ? doc.error : r.statusText);
  return doc;
}
const post = (path, doc) => api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(doc) });

async function list(path = ".") {
  const doc = await api("/api/list?path=" + encodeURIComponent(path));
  const nav = $("files");
  nav.replaceChildren();
  if (doc.path !== ".") nav.append(link("..", () => list(doc.path.split("/").slice(0, -1).join("/") || ".")));
  for (const e of doc.entries) {
    const a = link(`${e.name} (${e.kind})`, () => (e.kind === "folder" ? list(e.path) : open(e.path)));
    a.dataset.path = e.path;
    nav.append(a);
  }
}
function link(text, onclick) { const a = document.createElement("a"); a.textContent = text; a.onclick = onclick; return a; }

async function open(path) {
  $("path").value = path;
  status("opening " + path + " ...");
  try {
    const doc = await post("/api/open", { path });
    if (doc.kind === "restore") return showRestore(doc);
    $("restore").hidden = true;
    $("video").hidden = false;
    Object.assign(state, { frames: doc.frames, width: doc.width, height: doc.height, k: 0, preview: new Set() });
    const c = $("overlay");
    c.width = doc.width; c.height = doc.height;
    // Shown at least 640 px wide (small clips are drawn on comfortably), at most 960.
    const shown = Math.min(960, Math.max(640, doc.width));
    for (const el of [$("frame"), c]) { el.style.width = shown + "px"; el.style.height = (shown * doc.height / doc.width) + "px"; }
    for (const id of ["previewimg", "resultimg", "provimg"]) { $(id).style.width = (shown / 2) + "px"; $(id).removeAttribute("src"); }
    $("scrub").max = doc.frames - 1;
    await show(0);
    status(`${path}: ${doc.frames} frames, ${doc.width}x${doc.height}. Draw the object, then Track.`);
  } catch (e) { status("error: " + e.message); }
}

async function show(k) {
  state.k = k;
  $("scrub").value = k;
  $("frameno").textContent = `${k} / ${state.frames - 1}`;
  const img = $("frame");
  await loadImage(img, `/api/frame/${k}?t=${Date.now()}`);
  const mask = new Image();
  await loadImage(mask, `/api/mask/${k}?t=${Date.now()}`);
  const ctx = $("overlay").getContext("2d");
  ctx.clearRect(0, 0, state.width, state.height);
  ctx.drawImage(mask, 0, 0);
  state.poly = [];
  $("previewimg").removeAttribute("src");
  if (state.preview.has(k)) await loadImage($("previewimg"), `/api/preview/${k}?t=${Date.now()}`);
  if ($("progress").dataset.done === "1") {
    loadImage($("resultimg"), `/api/result/${k}`);
    loadImage($("provimg"), `/api/provenance/${k}`);
  }
}
function loadImage(img, src) {
  return new Promise((resolve) => { img.onload = () => resolve(img); img.onerror = () => resolve(img); img.src = src; });
}

// ---- drawing
function tool() { return document.querySelector("input[name=tool]:checked").value; }
function pos(ev) {
  const r = $("overlay").getBoundingClientRect();
  return [(ev.clientX - r.left) * state.width / r.width, (ev.clientY - r.top) * state.height / r.height];
}
function paint(ctx, x, y) {
  ctx.globalCompositeOperation = tool() === "erase" ? "destination-out" : "source-over";
  ctx.fillStyle = "rgb(255,40,40)";
  ctx.beginPath();
  ctx.arc(x, y, Number($("size").value) / 2, 0, 2 * Math.PI);
  ctx.fill();
}
function strokeTo(ctx, from, to) {
  const n = Math.max(1, Math.ceil(Math.hypot(to[0] - from[0], to[1] - from[1]) / 2));
  for (let i = 1; i <= n; i++) paint(ctx, from[0] + (to[0] - from[0]) * i / n, from[1] + (to[1] - from[1]) * i / n);
}
async function saveMask() {
  const blob = await new Promise((r) => $("overlay").toBlob(r, "image/png"));
  const doc = await api(`/api/mask/${state.k}`, { method: "PUT", body: blob });
  state.preview = new Set();
  status(`mask on frame ${state.k} saved; drawn on frames ${doc.drawn.join(", ") || "none"}`);
}
function setupDrawing() {
  const c = $("overlay");
  const ctx = c.getContext("2d");
  c.addEventListener("pointerdown", (ev) => {
    if (tool() === "polygon") {
      state.poly.push(pos(ev));
      ctx.globalCompositeOperation = "source-over";
      ctx.fillStyle = "rgb(255,40,40)";
      ctx.fillRect(state.poly.at(-1)[0] - 1, state.poly.at(-1)[1] - 1, 3, 3);
      return;
    }
    state.drawing = true;
    state.last = pos(ev);
    paint(ctx, ...state.last);
  });
  c.addEventListener("pointermove", (ev) => {
    if (!state.drawing) return;
    const p = pos(ev);
    strokeTo(ctx, state.last, p);
    state.last = p;
  });
  const end = () => { if (state.drawing) { state.drawing = false; saveMask().catch((e) => status("error: " + e.message)); } };
  c.addEventListener("pointerup", end);
  c.addEventListener("pointerleave", end);
  c.addEventListener("dblclick", () => {
    if (tool() !== "polygon" || state.poly.length < 3) return;
    ctx.globalCompositeOperation = "source-over";
    ctx.fillStyle = "rgb(255,40,40)";
    ctx.beginPath();
    state.poly.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.fill();
    state.poly = [];
    saveMask().catch((e) => status("error: " + e.message));
  });
}

// ---- actions
async function busy(label, fn) {
  status(label + " ...");
  const t0 = performance.now();
  try { await fn(); } catch (e) { status("error: " + e.message); return; }
  return (performance.now() - t0) / 1000;
}
$("open").onclick = () => open($("path").value);
$("scrub").oninput = () => show(Number($("scrub").value));
$("clear").onclick = async () => {
  $("overlay").getContext("2d").clearRect(0, 0, state.width, state.height);
  await saveMask();
};
$("track").onclick = () => busy("tracking", async () => {
  const doc = await post("/api/track", {});
  $("unsure").textContent = doc.unsure.length ? `check frames ${doc.unsure.join(", ")}` : "";
  await show(state.k);
  status(`tracked in ${doc.seconds} s` + (doc.unsure.length ? `; check frames ${doc.unsure.join(", ")}` : ""));
});
$("preview").onclick = () => busy("previewing", async () => {
  const doc = await post("/api/preview", { start: state.k, count: 10 });
  state.preview = new Set(doc.frames);
  await show(state.k);
  status(`preview of frames ${doc.frames[0]}-${doc.frames.at(-1)} in ${doc.seconds} s`);
});
$("run").onclick = () => busy("starting the job", async () => {
  await post("/api/run", { output: $("output").value });
  const bar = $("progress");
  bar.hidden = false; bar.dataset.done = "0";
  const poll = async () => {
    const job = await api("/api/job");
    bar.max = job.total || 1; bar.value = job.done || 0;
    if (job.state === "running") { status(`running: ${job.done} / ${job.total} frames`); setTimeout(poll, 500); return; }
    if (job.state === "failed") { status("job failed: " + job.error); return; }
    bar.dataset.done = "1";
    status(`done in ${job.seconds} s -> ${job.output}`);
    show(state.k);
  };
  poll();
});
document.addEventListener("keydown", (ev) => {
  if ($("video").hidden || ev.target.tagName === "INPUT") return;
  if (ev.key === "ArrowRight" && state.k < state.frames - 1) show(state.k + 1);
  if (ev.key === "ArrowLeft" && state.k > 0) show(state.k - 1);
});

// ---- restore review
function showRestore(doc) {
  $("video").hidden = true;
  $("restore").hidden = false;
  $("restorepath").textContent = `${doc.path}: ${doc.fixes.length} fixes in ${doc.frames} frames`;
  const report = $("report");
  report.hidden = !doc.report;
  report.href = "/api/file?path=" + encodeURIComponent(doc.path + "/report.html");
  const body = $("fixes").tBodies[0];
  body.replaceChildren();
  for (const f of doc.fixes) {
    const tr = document.createElement("tr");
    tr.dataset.id = f.id;
    if (f.reverted) tr.className = "reverted";
    // Built from nodes, never from HTML strings: fixes.json is a file anyone may have edited.
    const box = document.createElement("input");
    box.type = "checkbox";
    box.disabled = f.reverted;
    const crop = (which) => {
      const img = document.createElement("img");
      img.alt = which;
      img.src = `/api/fix/${f.id}/${which}?t=${Date.now()}`;
      return img;
    };
    const cells = [box, f.id, f.frame, f.kind, f.area, f.score === undefined ? "" : Number(f.score).toFixed(2),
      crop("before"), crop("after"), f.reverted ? "reverted" : "fixed"];
    for (const c of cells) {
      const td = document.createElement("td");
      if (c instanceof Node) td.append(c); else td.textContent = String(c);
      tr.append(td);
    }
    body.append(tr);
  }
  status(`restore output: ${doc.fixes.filter((f) => !f.reverted).length} fixes in place`);
}
$("revert").onclick = () => busy("reverting", async () => {
  const ids = [...document.querySelectorAll("#fixes tbody tr")]
    .filter((tr) => tr.querySelector("input").checked).map((tr) => Number(tr.dataset.id));
  if (!ids.length) { status("tick the fixes to revert first"); return; }
  const doc = await post("/api/revert", { ids });
  showRestore(doc);
  status(`reverted fixes ${ids.join(", ")}; report rebuilt`);
});

setupDrawing();
list().catch((e) => status("error: " + e.message));
