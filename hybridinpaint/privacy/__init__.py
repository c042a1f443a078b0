"""Privacy: find faces (:mod:`.faces`), track them, and remove, blur or box them (:mod:`.anonymizer`)."""

from hybridinpaint.privacy.anonymizer import (  # noqa: F401
    MODES,
    RECORD_SCHEMA,
    AnonymizeResult,
    Track,
    anonymize,
    box_iou,
    build_record,
    detect,
    frame_mask,
    link_tracks,
    record_tracks,
    track_masks,
    verify,
)

__all__ = [
    "anonymize",
    "anonymize_file",
    "AnonymizeResult",
    "Track",
    "detect",
    "link_tracks",
    "box_iou",
    "track_masks",
    "verify",
    "build_record",
    "frame_mask",
    "record_tracks",
    "RECORD_SCHEMA",
    "MODES",
]
