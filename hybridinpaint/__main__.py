"""``python -m hybridinpaint``: the ``hybridinpaint`` command."""

import sys

from hybridinpaint.interfaces.cli import main

sys.exit(main())
