"""What people use: the ``hybridinpaint`` command (:mod:`.cli`), :mod:`.doctor`, :mod:`.demo` and the browser :mod:`.studio`."""
