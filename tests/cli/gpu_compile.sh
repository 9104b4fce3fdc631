#!/usr/bin/env bash
# The GPU path's compile check (issue 11), for make test and CI, needing no GPU: every plugin
# object with -DGPU against the system darknet.h plus the CUDA headers, our .cu kernels with
# nvcc, and the GPU test and benchmark programs (make GPU=1 gpu-compile-check, in
# build-gpucheck/). Skips, saying so, where the CUDA toolkit is absent.
set -u
cd "$(dirname "$0")/../.."
CUDA=${CUDA:-/usr/local/cuda}
if [ ! -x "$CUDA/bin/nvcc" ]; then
    echo "gpu_compile: SKIP: no nvcc at $CUDA/bin/nvcc (set CUDA=...; the CUDA toolkit is needed only for this check)"
    exit 0
fi
echo "gpu_compile: $("$CUDA/bin/nvcc" --version | tail -1)"
if ! make --no-print-directory -j2 GPU=1 CUDA="$CUDA" BUILD=build-gpucheck gpu-compile-check > build-gpucheck.log 2>&1; then
    grep -E "error|Error" build-gpucheck.log | head -20
    echo "gpu_compile: FAIL (log: build-gpucheck.log)"
    exit 1
fi
n=$(find build-gpucheck -name '*.o' | wc -l)
rm -f build-gpucheck.log
echo "gpu_compile: ok, $n objects compiled with -DGPU / nvcc"
