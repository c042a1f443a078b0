"""Video completion: arrays in, arrays out.

Validation (:mod:`.arrays`), optical flow and its completion (:mod:`.flow`),
propagation along flow (:mod:`.propagate`), fills for what no frame shows
(:mod:`.hallucinate`, the network in :mod:`.net` and its training in
:mod:`.train`), and :func:`.pipeline.inpaint`, which runs them as a short
sequence of stages. Uses only :mod:`hybridinpaint.kernels` and
:mod:`hybridinpaint.settings`.
"""
