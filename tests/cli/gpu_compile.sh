#!/usr/bin/env bash
# The GPU path's compile check (issue 11), for make test and CI, needing no GPU: every plugin
# object with -DGPU against the system darknet.h plus the CUDA headers, our .cu kernels with
# nvcc, and the GPU test and benchmark programs (make GPU=1 gpu-compile-check, in
# build-gpucheck/), and the same with CUDNN=1 where cuDNN's header is in the toolkit. Skips,
# saying so, where the CUDA toolkit is absent.
set -u
cd "$(dirname "$0")/../.."
CUDA=${CUDA:-/usr/local/cuda}
if [ ! -x "$CUDA/bin/nvcc" ]; then
    echo "skip the GPU compile check: no nvcc at $CUDA/bin/nvcc (set CUDA=...; the CUDA toolkit is needed only for this check)"
    exit 0
fi
echo "gpu_compile: $("$CUDA/bin/nvcc" --version | tail -1)"
if ! make --no-print-directory -j2 GPU=1 CUDA="$CUDA" BUILD=build-gpucheck gpu-compile-check > build-gpucheck.log 2>&1; then
    grep -E "error|Error" build-gpucheck.log | head -20
    echo "gpu_compile: FAIL (log: build-gpucheck.log)"
    exit 1
fi
n=$(find build-gpucheck -name '*.o' | wc -l)
echo "gpu_compile: ok, $n objects compiled with -DGPU / nvcc"
# the CUDNN=1 variant (struct layout with -DCUDNN; our cuDNN 9 shim for Darknet's build)
if [ -e "$CUDA/include/cudnn.h" ]; then
    if ! make --no-print-directory -j2 GPU=1 CUDNN=1 CUDA="$CUDA" BUILD=build-gpucheck-cudnn gpu-compile-check > build-gpucheck.log 2>&1 \
        || ! echo '#include "cudnn9_compat.h"' | gcc -x c -fsyntax-only -Wall -Wextra -Werror -Wno-deprecated-declarations \
             -isystem "$CUDA/include" -Iscripts/gpu - >> build-gpucheck.log 2>&1; then
        grep -E "error|Error" build-gpucheck.log | head -20
        echo "gpu_compile: FAIL, CUDNN=1 (log: build-gpucheck.log)"
        exit 1
    fi
    echo "gpu_compile: ok, CUDNN=1 too ($(find build-gpucheck-cudnn -name '*.o' | wc -l) objects, and scripts/gpu/cudnn9_compat.h)"
else
    echo "gpu_compile: no $CUDA/include/cudnn.h: the CUDNN=1 variant is not checked"
fi
rm -f build-gpucheck.log
