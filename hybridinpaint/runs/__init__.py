"""Files and runs: frame folders and video files, chunked resumable runs, their records.

:mod:`.io` (frames and atomic writes), :mod:`.media` (video files),
:mod:`.stream` (chunked inpainting of files), :mod:`.remove`,
:mod:`.restore` and :mod:`.evaluate` (the file commands).
"""
