# Mode connectivity and FGE for Darknet: builds ./darknet against an installed Darknet.
#   make                      build ./darknet against Debian's darknet package
#   make DARKNET=/path/to/darknet   ... against your own build (libdarknet.so + include/darknet.h)
#   make GPU=1 DARKNET=/path/to/a/GPU/build   the GPU path (-DGPU, our kernels in plugins/gpu/*.cu
#                             built with nvcc for CUDA_ARCH, cudart/cuBLAS); the library must be GPU=1 CUDNN=0
#   make GPU=1 CUDNN=1 DARKNET=...  the same for a library built GPU=1 CUDNN=1 (scripts/gpu_check.sh)
#   make GPU=1 gpu-compile-check   only compile every -DGPU object and .cu file (no GPU, no GPU library needed)
#   make FAST=0               no interposed fast CPU kernels
#   make HOST=alexeyab DARKNET=build-alexeyab/darknet   the second host (plugins/host_alexeyab/,
#                             docs/hosts.md) over AlexeyAB's CPU libdarknet.so, built by
#                             scripts/build_alexeyab.sh; FAST=0 (fast/ interposes pjreddie's kernels)
#   make MPI=1                ./darknet-mpi with Open MPI (mpicc; objects in build-mpi/):
#                             mpirun -np N ./darknet-mpi plane|curve|train|fge ...
#   make deps | test | bench | demo | demo-detect | clean
#   make test HOSTS=pjreddie  leave out the second host's tests (default HOSTS=pjreddie alexeyab:
#                             tests/cli/alexeyab.sh builds the fork into build-alexeyab/, cached,
#                             and build-ax/darknet over it, and runs the chain on it)
#   make fuzz [FUZZ_TIME=300]  libFuzzer harnesses of the file readers (tests/fuzz, clang-14)
DARKNET ?= /usr/lib/darknet
DARKNET_INC ?= $(DARKNET)/include
GPU ?= 0
CUDA ?= /usr/local/cuda
HAVE_OPENBLAS := $(shell test -e /usr/include/x86_64-linux-gnu/cblas.h -o -e /usr/include/cblas.h -o -e /usr/include/openblas/cblas.h && echo 1 || echo 0)
FAST ?= $(HAVE_OPENBLAS)
# The host: pjreddie (plugins/host/) or alexeyab (plugins/host_alexeyab/ in place of host/'s
# library-specific files; host/run.c and host/cfgcheck.c, which know no Darknet type, shared)
HOST ?= pjreddie
ifeq ($(HOST),alexeyab)
override FAST := 0
endif
# oneDNN convolutions in the fast path (Debian's libdnnl-dev); make DNNL=0 leaves them out
HAVE_DNNL := $(shell test -e /usr/include/dnnl.h -o -e /usr/include/oneapi/dnnl/dnnl.h && echo 1 || echo 0)
DNNL ?= $(HAVE_DNNL)
SAN ?= 0
MPI ?= 0

CC ?= gcc
OPT ?= -O2
# WERROR= (scripts/gpu_check.sh on another distribution's compiler) keeps warnings as warnings
WERROR ?= -Werror
CFLAGS += $(OPT) -g -std=gnu11 -Wall -Wextra $(WERROR) -Wno-format-truncation -fopenmp
# Include paths: each module is compiled with its own folder and those of the modules it uses,
# and only those, so that a dependency not listed here fails the build; Darknet's header only
# in host/ and fast/ (fast/ interposes the library). Tests, benchmarks and main.c see all.
DK_INC := -isystem $(DARKNET_INC)
ALL_INC := $(DK_INC) $(addprefix -Iplugins/,host wspace data train curve plane fge fast cli plot dist detect detector)
USES_wspace :=
USES_data := wspace
USES_plot := wspace
USES_dist := wspace
USES_detect := wspace
USES_host := wspace data detect
USES_train := host data dist wspace fge plot
USES_curve := host data dist wspace train plot
USES_plane := host data dist wspace curve plot
USES_fge := host data dist wspace
USES_detector := host data detect train curve plane dist wspace fge
USES_cli := host data dist wspace train curve plane fge fast plot detect detector
USES_fast :=
mod_inc = $(addprefix -Iplugins/,$(1) $(USES_$(1))) $(if $(filter host fast,$(1)),$(DK_INC))
LDLIBS += -Wl,--no-as-needed -L$(DARKNET) -ldarknet -Wl,-rpath,$(abspath $(DARKNET)) -lz -lm -lpthread -ldl
# PLplot draws the figures (plugins/plot); -isystem keeps its headers' warnings out of -Werror.
# PLOT=0 (the default where pkg-config finds no PLplot, as on a GPU image: scripts/gpu_check.sh):
# plugins/plot/plot_none.c instead of plot.c: every command works and writes its tables, and
# -png/-svg/-pdf are refused in one line.
HAVE_PLPLOT := $(shell pkg-config --exists plplot 2>/dev/null && echo 1 || echo 0)
PLOT ?= $(HAVE_PLPLOT)
ifeq ($(PLOT),1)
CPPFLAGS += $(patsubst -I%,-isystem %,$(shell pkg-config --cflags plplot 2>/dev/null))
LDLIBS += $(shell pkg-config --libs plplot 2>/dev/null)
endif
LDFLAGS += -fopenmp

NVCC ?= $(CUDA)/bin/nvcc
comma := ,
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90
ifeq ($(GPU),1)
CPPFLAGS += -DGPU -isystem $(CUDA)/include -Iplugins/gpu
LDLIBS += -L$(CUDA)/lib64 -Wl,-rpath,$(CUDA)/lib64 -lcudart -lcublas -lcurand -lstdc++
# CUDNN=1: for a library built GPU=1 CUDNN=1 (its struct layout); CUDNN_INC/CUDNN_LIB where
# cuDNN is not inside the CUDA tree
CUDNN ?= 0
ifeq ($(CUDNN),1)
CUDNN_INC ?= $(CUDA)/include
CUDNN_LIB ?= $(CUDA)/lib64
CPPFLAGS += -DCUDNN -isystem $(CUDNN_INC)
LDLIBS += -L$(CUDNN_LIB) -Wl,-rpath,$(CUDNN_LIB) -lcudnn
endif
endif
ifeq ($(MPI),1)
CC := mpicc
CPPFLAGS += -DDKMC_MPI
endif
ifeq ($(FAST),1)
CPPFLAGS += -DFAST
LDLIBS += -lopenblas
ifeq ($(DNNL),1)
CPPFLAGS += -DFAST_DNNL
LDLIBS += -ldnnl
endif
endif
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

BUILD := $(if $(filter 1,$(MPI)),build-mpi,build)
PROG := $(if $(filter 1,$(MPI)),darknet-mpi,darknet)
MODULES := host wspace data plot dist detect train detector curve plane fge cli
LIB_SRC := $(filter-out plugins/cli/main.c,$(foreach m,$(MODULES),$(wildcard plugins/$(m)/*.c)))
LIB_SRC := $(filter-out $(if $(filter 0,$(PLOT)),plugins/plot/plot.c,plugins/plot/plot_none.c),$(LIB_SRC))
ifeq ($(HOST),alexeyab)
LIB_SRC := $(filter-out $(filter-out plugins/host/run.c plugins/host/cfgcheck.c plugins/host/host_draw.c,$(wildcard plugins/host/*.c)),$(LIB_SRC))
LIB_SRC += $(wildcard plugins/host_alexeyab/*.c)
endif
ifeq ($(FAST),1)
LIB_SRC += $(wildcard plugins/fast/*.c)
ifneq ($(DNNL),1)
LIB_SRC := $(filter-out plugins/fast/fast_dnnl.c,$(LIB_SRC))
endif
endif
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
ifeq ($(GPU),1)
LIB_OBJ += $(patsubst %.cu,$(BUILD)/%.o,$(wildcard plugins/gpu/*.cu))
endif
TEST_SRC := $(wildcard tests/unit/test_*.c)
ifneq ($(FAST),1)
TEST_SRC := $(filter-out tests/unit/test_fast%,$(TEST_SRC))
endif
ifeq ($(PLOT),0)
TEST_SRC := $(filter-out tests/unit/test_plot.c,$(TEST_SRC))
endif
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test bench demo demo-detect clean gpu-compile-check mpi fuzz fuzz-build fuzz-corpus
all: $(PROG)

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(or $(INC),$(ALL_INC)) $(CFLAGS) -MMD -MP -c $< -o $@
$(foreach m,$(MODULES) fast,$(eval $(BUILD)/plugins/$(m)/%.o: INC = $$(call mod_inc,$(m))))
$(BUILD)/plugins/cli/main.o: INC = $(ALL_INC)
$(BUILD)/plugins/host_alexeyab/%.o: INC = -Iplugins/host_alexeyab $(call mod_inc,host)

$(BUILD)/%.o: %.cu plugins/gpu/gpu_kernels.h $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(NVCC) $(CUDA_ARCH) -O2 -Iplugins/gpu -Xcompiler -Wall,-Wextra$(if $(WERROR),$(comma)-Werror),-fPIC -c $< -o $@

# rebuild everything when the build flags change
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CPPFLAGS) $(CFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CPPFLAGS) $(CFLAGS) $(LDLIBS)' > $@
FORCE:

$(BUILD)/libplugins.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# whole-archive so that the interposed fast kernels are always linked in
darknet: $(BUILD)/plugins/cli/main.o $(BUILD)/libplugins.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)

# the same command with Open MPI (make MPI=1, or make mpi)
darknet-mpi: $(BUILD)/plugins/cli/main.o $(BUILD)/libplugins.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)
mpi:
	@$(MAKE) --no-print-directory MPI=1 darknet-mpi

# the same command inside a build folder (build-san/darknet: the sanitizer build the
# command-line tests also run)
$(BUILD)/darknet: $(BUILD)/plugins/cli/main.o $(BUILD)/libplugins.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libplugins.a tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS) -lcmocka

# gemm and im2col_cpu kept local: the fast path's "not interposed" case
$(BUILD)/tests/test_fast_hidden: tests/unit/test_fast_hidden.c $(BUILD)/libplugins.a tests/unit/testutil.h tests/unit/hide_gemm.map
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< -Wl,--version-script=tests/unit/hide_gemm.map -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(BUILD)/libplugins.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)

# GPU=1: the GPU tests and benchmark (run by scripts/gpu_check.sh on a machine with a GPU)
$(BUILD)/tests/test_gpu: tests/gpu/test_gpu.c $(BUILD)/libplugins.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)
$(BUILD)/bench/bench_gpu: bench/gpu/bench_gpu.c $(BUILD)/libplugins.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)

# The compile check of the GPU path (tests/cli/gpu_compile.sh, so make test and CI): every
# plugin object with -DGPU against the system darknet.h, our .cu files with nvcc, and the
# GPU test and benchmark programs; nothing is linked (that needs a GPU build of libdarknet).
GPU_CHECK_OBJ := $(LIB_OBJ) $(BUILD)/plugins/cli/main.o $(BUILD)/gpucheck/test_gpu.o $(BUILD)/gpucheck/bench_gpu.o
$(BUILD)/gpucheck/%.o: tests/gpu/%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) -c $< -o $@
$(BUILD)/gpucheck/%.o: bench/gpu/%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) -c $< -o $@
gpu-compile-check:
ifneq ($(GPU),1)
	$(error gpu-compile-check needs GPU=1)
endif
	@$(MAKE) --no-print-directory $(GPU_CHECK_OBJ)

deps:
	@bash scripts/deps.sh

# unit tests (also rebuilt under AddressSanitizer + UBSan in build-san/) and command-line
# tests (run again on build-san/darknet: any sanitizer report fails the script; leaks only
# inside libdarknet are suppressed, by name, in tests/lsan.supp); one summary line at the
# end. SAN_TESTS=0 skips the sanitizer passes.
SAN_TESTS ?= 1
# the command-line scripts that also run on build-san/darknet (all: every one; about 16 min
# on 2 busy cores, the default set about 8): error paths, cfgs, resume, signals
SAN_CLI_SCRIPTS ?= badinput cfgs commands killresume
# FUZZ_TESTS=0 skips the short fuzzing check (tests/fuzz/check.sh; needs clang-14)
FUZZ_TESTS ?= 1
FUZZ_CC ?= clang-14
SAN_BIN := $(patsubst $(BUILD)/%,build-san/%,$(TEST_BIN))
# the hosts whose command-line tests run: alexeyab adds tests/cli/alexeyab.sh's build of
# AlexeyAB's libdarknet.so (cached in build-alexeyab/) and of build-ax/darknet over it
HOSTS ?= pjreddie alexeyab
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@if command -v mpicc >/dev/null && command -v mpirun >/dev/null; then $(MAKE) --no-print-directory MPI=1 darknet-mpi build-mpi/tests/test_dist; \
	  else echo "test: no mpicc/mpirun: darknet-mpi not built, the MPI tests will be skipped"; fi
ifeq ($(SAN_TESTS),1)
	@$(MAKE) --no-print-directory SAN=1 BUILD=build-san $(SAN_BIN) build-san/darknet
endif
ifeq ($(FUZZ_TESTS),1)
	@if command -v $(FUZZ_CC) >/dev/null; then $(MAKE) --no-print-directory fuzz-build; fi
endif
	@ASAN_OPTIONS=abort_on_error=0:suppressions=$(CURDIR)/tests/asan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  SAN_CLI_SCRIPTS="$(SAN_CLI_SCRIPTS)" DKMC_HOSTS="$(HOSTS)" \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  bash tests/run.sh $(if $(filter 1,$(SAN_TESTS)),--san-cli build-san/darknet) $(TEST_BIN) $(if $(filter 1,$(SAN_TESTS)),$(SAN_BIN)) \
	  $(if $(filter 1,$(FUZZ_TESTS)),tests/fuzz/check.sh)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bash scripts/bench.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# the detection demo: the Fashion-MNIST detection set, a detector, FGE inside Darknet's loop
demo-detect: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo_detect.sh

# libFuzzer harnesses, one per file reader (tests/fuzz/README.md): built with clang-14 under
# ASan+UBSan in build-fuzz/. `make test` replays the regression inputs and runs each harness
# briefly (FUZZ_TESTS=0 skips that; without clang-14 it is skipped with a message);
# `make fuzz` runs each for FUZZ_TIME seconds, one after the other, niced.
FUZZ_TIME ?= 300
FUZZ_HARNESSES := curve weights idx cifar datacfg cfgcheck list image labels
FUZZ_CPPFLAGS := -isystem $(DARKNET_INC) $(addprefix -Iplugins/,host wspace data curve detect)
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -DIMAGE_MAX_PIXELS="(1 << 20)"
FUZZ_LIB_OBJ := $(patsubst %.c,build-fuzz/%.o,$(foreach m,host wspace data detect,$(wildcard plugins/$(m)/*.c)) plugins/curve/curve.c)
FUZZ_BIN := $(addprefix build-fuzz/fuzz_,$(FUZZ_HARNESSES))

build-fuzz/%.o: %.c build-fuzz/.flags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build-fuzz/.flags: FORCE
	@mkdir -p build-fuzz
	@echo '$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS)' > $@

build-fuzz/libfuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h build-fuzz/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer -o $@ $< build-fuzz/libfuzz.a \
	  -L$(DARKNET) -ldarknet -Wl,-rpath,$(abspath $(DARKNET)) -lz -lm -lpthread

fuzz-build: $(FUZZ_BIN)

# rewrite the committed seed corpus (tests/fuzz/gen_corpus.c)
fuzz-corpus:
	@mkdir -p build-fuzz
	$(CC) -O1 -std=gnu11 -Wall -Wextra -Wno-format-truncation -Iplugins/curve -Iplugins/wspace -Iplugins/data -o build-fuzz/gen_corpus \
	  tests/fuzz/gen_corpus.c plugins/curve/curve.c plugins/wspace/vec.c plugins/wspace/files.c -lz -lm
	rm -rf tests/fuzz/corpus && build-fuzz/gen_corpus tests/fuzz/corpus

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@nice bash tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_HARNESSES)

clean:
	rm -rf $(BUILD) build-san build-noplot build-gpucheck build-gpucheck-cudnn build-gpu build-mpi build-fuzz build-ax darknet darknet-mpi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(shell find build-fuzz -name '*.d' 2>/dev/null)
