"""Film restoration: dust, dirt and scratch detection and repair, deflicker, the fix record and its report.

The public functions of :mod:`.repair` are re-exported here
(``hybridinpaint.film.restore``, ``detect_defects``, ``revert``, ...);
:mod:`.blotches` (the blotch detector), :mod:`.flicker`, :mod:`.fixes` (the
``fixes.json`` schema) and :mod:`.report` (the HTML review page) hold the rest.
"""

from hybridinpaint.film import repair
from hybridinpaint.film.repair import *  # noqa: F403 - the package's public names are repair's

__all__ = list(repair.__all__)
