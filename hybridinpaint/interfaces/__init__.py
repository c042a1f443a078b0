"""What people use: the ``hybridinpaint`` command (:mod:`.cli`), :mod:`.doctor`, :mod:`.demo`, the :mod:`.studio`."""
