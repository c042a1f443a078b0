"""Privacy: find faces (:mod:`.faces`), track them, and remove, blur or box them (:mod:`.anonymizer`)."""

from hybridinpaint.privacy import anonymizer
from hybridinpaint.privacy.anonymizer import *  # noqa: F403 - the package's public names are anonymizer's

__all__ = list(anonymizer.__all__)
