"""``hybridinpaint studio``: draw, track, preview and review in the browser (a local web app).

A Starlette application served by uvicorn on 127.0.0.1 only. The front end
is one HTML page with a canvas and a small script (``static/``), no build
step and nothing fetched from the internet. It serves files only from under
the folder it was started on (the *root*) and refuses any path outside it.

What a page can do, through the JSON API below:

- open a video or frame folder under the root, scrub its frames;
- draw or erase a mask on any frame (the page sends the drawn mask as a
  PNG), track all drawn masks through the clip (:func:`hybridinpaint.track_mask`),
  see the masks over the video, correct on another frame and track again;
- preview the fill of a short range at half size (:func:`hybridinpaint.inpaint`),
  then run the whole job (:func:`hybridinpaint.inpaint_file`, resumable, in
  a background thread, with progress) and view result | provenance;
- open a ``hybridinpaint restore`` output: the table of fixes, before and
  after crops per fix, revert chosen fixes
  (:func:`hybridinpaint.runs.restore.revert_dir`: atomic, the report rebuilt).
"""

from hybridinpaint.interfaces.studio.app import create_app, serve
from hybridinpaint.interfaces.studio.session import PREVIEW_SCALE, Studio, StudioError

__all__ = ["create_app", "serve", "Studio", "StudioError", "PREVIEW_SCALE"]
