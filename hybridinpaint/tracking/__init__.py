"""Masks from one drawing: :func:`track_mask` follows a drawn mask through a video (:mod:`.tracker`)."""

from hybridinpaint.tracking import tracker
from hybridinpaint.tracking.tracker import *  # noqa: F403 - the package's public names are tracker's

__all__ = list(tracker.__all__)
