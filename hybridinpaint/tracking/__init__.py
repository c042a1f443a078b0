"""Masks from one drawing: :func:`track_mask` follows a drawn mask through a video (:mod:`.tracker`)."""

from hybridinpaint.tracking.tracker import (  # noqa: F401
    Tracking,
    track_mask,
)

__all__ = ["track_mask", "Tracking"]
