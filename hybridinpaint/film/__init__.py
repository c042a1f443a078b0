"""Film restoration: dust, dirt and scratch detection and repair, deflicker, the fix record and its report.

The public functions of :mod:`.repair` are re-exported here
(``hybridinpaint.film.restore``, ``detect_defects``, ``revert``, ...);
:mod:`.blotches` (the blotch detector), :mod:`.flicker`, :mod:`.fixes` (the
``fixes.json`` schema) and :mod:`.report` (the HTML review page) hold the rest.
"""

from hybridinpaint.film.repair import (  # noqa: F401
    KINDS,
    Defects,
    Fix,
    Restoration,
    blotch_candidates,
    detect_defects,
    restore,
    revert,
)

__all__ = ["detect_defects", "blotch_candidates", "restore", "revert", "Defects", "Restoration", "Fix", "KINDS"]
