"""Which backends can run here."""

from ._accelerate import cuda_simulated, cuda_usable


def available_backends() -> tuple[str, ...]:
    """Backends that can run kernels in this process.

    ``"cpu"`` always; ``"cuda"`` when numba-cuda is installed and a CUDA
    device answers, or when Numba's CUDA simulator is switched on
    (``NUMBA_ENABLE_CUDASIM=1``).

    Examples
    --------
    >>> from hybridinpaint.kernels import available_backends
    >>> "cpu" in available_backends()
    True
    """
    return ("cpu", "cuda") if (cuda_usable() or cuda_simulated()) else ("cpu",)
