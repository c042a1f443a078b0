"""The studio's web layer: Starlette routes over :class:`.session.Studio`, and the server.

The JSON API the page uses (errors: status 400, ``{"error": message}``):

==========================  ======  =============================================
``/api/list?path=``         GET     folders, frame folders, videos, restore outputs
``/api/open``               POST    ``{"path"}``: a clip, or a restore output
``/api/frame/{k}``          GET     frame ``k`` (JPEG)
``/api/mask/{k}``           GET     its mask as an RGBA overlay (PNG)
``/api/mask/{k}``           PUT     the mask drawn on it (PNG body)
``/api/track``              POST    every drawn mask through the clip
``/api/preview``            POST    ``{"start", "count"}``: fill at half size
``/api/preview/{k}``        GET     a previewed frame (JPEG)
``/api/run``                POST    ``{"output"}``: the whole job, in the background
``/api/job``                GET     its state and progress
``/api/result/{k}``         GET     a frame of the finished output (JPEG)
``/api/provenance/{k}``     GET     its provenance map (PNG)
``/api/fixes``              GET     the restore output's fixes
``/api/fix/{id}/{which}``   GET     crop ``before`` or ``after`` fix ``id`` (PNG)
``/api/revert``             POST    ``{"ids"}``: revert those fixes
``/api/file?path=``         GET     a file under the served folder (the report)
==========================  ======  =============================================
"""

from __future__ import annotations

import threading
from pathlib import Path

from hybridinpaint.interfaces.studio.session import PREVIEW_FRAMES, Studio, StudioError

__all__ = ["create_app", "serve"]

STATIC = Path(__file__).resolve().parent / "static"


def create_app(root):
    """The Starlette application serving ``root`` (the API is in the module's doc)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    studio = Studio(root)

    def guard(fn):
        async def endpoint(request: Request):
            try:
                return await fn(request)
            except (StudioError, ValueError, OSError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    async def body(request):
        try:
            doc = await request.json()
        except ValueError as exc:
            raise StudioError("the request body must be JSON") from exc
        if not isinstance(doc, dict):
            raise StudioError("the request body must be a JSON object")
        return doc

    def k_of(request):
        return int(request.path_params["k"])

    async def index(request):
        return FileResponse(STATIC / "index.html")

    async def listing(request):
        return JSONResponse(studio.listing(request.query_params.get("path", ".")))

    async def open_(request):
        doc = await body(request)
        return JSONResponse(await _threaded(studio.open, doc.get("path")))

    async def info(request):
        return JSONResponse(studio.info())

    async def frame(request):
        return Response(studio.frame_jpeg(k_of(request)), media_type="image/jpeg")

    async def mask(request):
        if request.method == "PUT":
            return JSONResponse(studio.set_drawn(k_of(request), await request.body()))
        return Response(studio.mask_png(k_of(request)), media_type="image/png")

    async def track(request):
        return JSONResponse(await _threaded(studio.track))

    async def preview(request):
        doc = await body(request)
        res = await _threaded(studio.make_preview, doc.get("start", 0), doc.get("count", PREVIEW_FRAMES))
        return JSONResponse(res)

    async def preview_frame(request):
        return Response(studio.preview_jpeg(k_of(request)), media_type="image/jpeg")

    async def run(request):
        doc = await body(request)
        return JSONResponse(studio.run(doc.get("output"), doc.get("mask_dilation", 3)))

    async def job(request):
        return JSONResponse(studio.job)

    async def result(request):
        what = request.path_params["what"]
        data = studio.result_image(what, k_of(request))
        return Response(data, media_type="image/jpeg" if what == "result" else "image/png")

    async def fixes(request):
        return JSONResponse(studio.fixes())

    async def fix_crop(request):
        which = request.path_params["which"]
        return Response(studio.fix_crop(int(request.path_params["ident"]), which), media_type="image/png")

    async def file(request):
        p = studio.resolve(request.query_params.get("path", ""))
        if not p.is_file():
            raise StudioError(f"{request.query_params.get('path')} is not a file")
        return FileResponse(p)

    async def revert(request):
        doc = await body(request)
        return JSONResponse(await _threaded(studio.revert, doc.get("ids")))

    routes = [
        Route("/", index),
        Route("/api/list", guard(listing)),
        Route("/api/open", guard(open_), methods=["POST"]),
        Route("/api/info", guard(info)),
        Route("/api/frame/{k:int}", guard(frame)),
        Route("/api/mask/{k:int}", guard(mask), methods=["GET", "PUT"]),
        Route("/api/track", guard(track), methods=["POST"]),
        Route("/api/preview", guard(preview), methods=["POST"]),
        Route("/api/preview/{k:int}", guard(preview_frame)),
        Route("/api/run", guard(run), methods=["POST"]),
        Route("/api/job", guard(job)),
        Route("/api/{what:str}/{k:int}", guard(result)),
        Route("/api/fixes", guard(fixes)),
        Route("/api/fix/{ident:int}/{which:str}", guard(fix_crop)),
        Route("/api/revert", guard(revert), methods=["POST"]),
        Route("/api/file", guard(file)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.studio = studio
    return app


async def _threaded(fn, *args):
    """Run a slow call (tracking, a preview, a revert) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def serve(path=".", *, port=8765, open_browser=True) -> None:
    """Serve the studio for folder ``path`` on http://127.0.0.1:``port`` until interrupted."""
    import uvicorn

    root = Path(path)
    start = None
    if root.exists() and not root.is_dir():  # a video: serve its folder, open it
        start, root = root.name, root.parent
    app = create_app(root)
    if start:
        app.state.studio.open(start)
    url = f"http://127.0.0.1:{port}/"
    if open_browser:
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    print(f"hybridinpaint studio: serving {Path(root).resolve()} at {url} (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
