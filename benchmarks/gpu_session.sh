#!/usr/bin/env bash
# The one prepared run for a lent GPU machine (the `device` tool), about 5 minutes:
#   1. the CUDA tests on the real device (tests/test_cuda.py, no simulator);
#   2. benchmarks/gpu.py: whole `inpaint` runs, CPU and CUDA on that machine, 40 frames with a
#      moving hole at 432x240 and 1920x1080, seconds per stage, device memory, a chunked run.
# Everything it prints also lands in $OUT (gpu-tests.log, gpu-bench.md): paste the tables into
# benchmarks/RESULTS.md ("CUDA").
#
# The device image has numba-cuda, OpenCV (without contrib: so `--fill telea`, no FSR) and scipy,
# but not pydantic or jsonschema: carry them as wheels. Once, here, in the repository root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 \
#     jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1
# then call the device tool's run with carry [".whl"], command "bash benchmarks/gpu_session.sh",
# timeout_s 560.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-session}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
# numba-cuda 0.30.4 still names np.row_stack, which numpy 2.5 removed (RESULTS.md, "CUDA").
if ! python3 -c "import numpy; numpy.row_stack" 2>/dev/null; then
    mkdir -p /tmp/shim && echo "import numpy as _np; _np.row_stack = _np.vstack" > /tmp/shim/sitecustomize.py
    export PYTHONPATH="/tmp/shim:$PYTHONPATH"
fi
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c "import numba, numba_cuda, numpy, cv2; print('numba', numba.__version__, 'numba-cuda', \
numba_cuda.__version__, 'numpy', numpy.__version__, 'opencv', cv2.__version__)"
    nproc
} 2>&1 | tee "$OUT/gpu-bench.md"
NUMBA_ENABLE_CUDASIM=0 timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 \
    | tee "$OUT/gpu-tests.log" | tail -5
NUMBA_ENABLE_CUDASIM=0 timeout 330 python3 benchmarks/gpu.py --skip-cache --fill telea \
    --sizes 432x240,1920x1080 --frames 40 2>&1 | tee -a "$OUT/gpu-bench.md"
