#!/usr/bin/env bash
# The one prepared run for a lent GPU machine (the `device` tool), 5-7 minutes (caps: 7.5):
#   1. the CUDA tests on the real device (tests/test_cuda.py, no simulator);
#   2. benchmarks/gpu.py: whole `inpaint` runs, CPU and CUDA on that machine, 40 frames with a
#      moving hole at 432x240 and 1920x1080, seconds per stage, device memory, a chunked run with and
#      without the next chunk prepared meanwhile ([stream] OVERLAP).
# Everything it prints also lands in $OUT (gpu-tests.log, gpu-bench.md): paste the tables into
# benchmarks/RESULTS.md ("CUDA").
#
# The device image has numba-cuda, OpenCV (without contrib: so `--fill telea`, no FSR) and scipy,
# but not pydantic (the settings): carry it as wheels (`inpaint` and `inpaint_chunks` need nothing
# else that is missing there). Once, here, in the repository root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 \
#     typing-extensions==4.16.0
# then call the device tool's run with carry [".whl"], command "bash benchmarks/gpu_session.sh",
# timeout_s 500 (leaving time to rerun within the 15 minutes a session is lent).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-session}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .whl ]; then
    # Before the image's own packages, so the carried typing-extensions wins over an older one.
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
# numba-cuda 0.30.4 still names np.row_stack, which numpy 2.5 removed (RESULTS.md, "CUDA").
if ! python3 -c "import numpy; numpy.row_stack" 2>/dev/null; then
    mkdir -p /tmp/shim && echo "import numpy as _np; _np.row_stack = _np.vstack" > /tmp/shim/sitecustomize.py
    export PYTHONPATH="/tmp/shim:$PYTHONPATH"
fi
python3 -c "import hybridinpaint.completion.pipeline, hybridinpaint.runs.stream, numba.cuda" \
    || { echo "gpu_session: the package does not import here (see above): nothing measured" >&2; exit 2; }
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c "import numba, numba_cuda, numpy, cv2; print('numba', numba.__version__, 'numba-cuda', \
numba_cuda.__version__, 'numpy', numpy.__version__, 'opencv', cv2.__version__)"
    nproc
} 2>&1 | tee "$OUT/gpu-bench.md"
NUMBA_ENABLE_CUDASIM=0 timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 \
    | tee "$OUT/gpu-tests.log" | tail -5
NUMBA_ENABLE_CUDASIM=0 timeout 300 python3 benchmarks/gpu.py --skip-cache --fill telea \
    --sizes 432x240,1920x1080 --frames 40 2>&1 | tee -a "$OUT/gpu-bench.md"
