# Mode connectivity and FGE for Darknet: builds ./darknet against an installed Darknet.
#   make                      build ./darknet against Debian's darknet package
#   make DARKNET=/path/to/darknet   ... against your own build (libdarknet.so + include/darknet.h)
#   make GPU=1                pass -DGPU and the CUDA flags (library must be built GPU=1)
#   make FAST=0               no interposed fast CPU kernels
#   make deps | test | bench | demo | clean
#   make fuzz [FUZZ_TIME=300]  libFuzzer harnesses of the file readers (tests/fuzz, clang-14)
DARKNET ?= /usr/lib/darknet
DARKNET_INC ?= $(DARKNET)/include
GPU ?= 0
CUDA ?= /usr/local/cuda
HAVE_OPENBLAS := $(shell test -e /usr/include/x86_64-linux-gnu/cblas.h -o -e /usr/include/cblas.h -o -e /usr/include/openblas/cblas.h && echo 1 || echo 0)
FAST ?= $(HAVE_OPENBLAS)
SAN ?= 0

CC ?= gcc
OPT ?= -O2
CFLAGS += $(OPT) -g -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation -fopenmp
CPPFLAGS += -isystem $(DARKNET_INC) $(addprefix -Iplugins/,host wspace data train curve plane fge fast cli plot)
LDLIBS += -Wl,--no-as-needed -L$(DARKNET) -ldarknet -Wl,-rpath,$(abspath $(DARKNET)) -lz -lm -lpthread -ldl
# PLplot draws the figures (plugins/plot); -isystem keeps its headers' warnings out of -Werror
CPPFLAGS += $(patsubst -I%,-isystem %,$(shell pkg-config --cflags plplot 2>/dev/null))
LDLIBS += $(shell pkg-config --libs plplot 2>/dev/null)
LDFLAGS += -fopenmp

ifeq ($(GPU),1)
CPPFLAGS += -DGPU -I$(CUDA)/include
LDLIBS += -L$(CUDA)/lib64 -lcudart -lcublas -lcurand
endif
ifeq ($(FAST),1)
CPPFLAGS += -DFAST
LDLIBS += -lopenblas
endif
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

BUILD := build
MODULES := host wspace data plot train curve plane fge cli
LIB_SRC := $(filter-out plugins/cli/main.c,$(foreach m,$(MODULES),$(wildcard plugins/$(m)/*.c)))
ifeq ($(FAST),1)
LIB_SRC += $(wildcard plugins/fast/*.c)
endif
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
TEST_SRC := $(wildcard tests/unit/test_*.c)
ifneq ($(FAST),1)
TEST_SRC := $(filter-out tests/unit/test_fast%,$(TEST_SRC))
endif
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test bench demo clean fuzz fuzz-build fuzz-corpus
all: darknet

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

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

# the same command inside a build folder (build-san/darknet: the sanitizer build the
# command-line tests also run)
$(BUILD)/darknet: $(BUILD)/plugins/cli/main.o $(BUILD)/libplugins.a
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libplugins.a tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS) -lcmocka

# gemm and im2col_cpu kept local: the fast path's "not interposed" case
$(BUILD)/tests/test_fast_hidden: tests/unit/test_fast_hidden.c $(BUILD)/libplugins.a tests/unit/testutil.h tests/unit/hide_gemm.map
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< -Wl,--version-script=tests/unit/hide_gemm.map -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(BUILD)/libplugins.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libplugins.a -Wl,--no-whole-archive $(LDLIBS)

deps:
	@bash scripts/deps.sh

# unit tests (also rebuilt under AddressSanitizer + UBSan in build-san/) and command-line
# tests; one summary line at the end. SAN_TESTS=0 skips the sanitizer pass.
SAN_TESTS ?= 1
# FUZZ_TESTS=0 skips the short fuzzing check (tests/fuzz/check.sh; needs clang-14)
FUZZ_TESTS ?= 1
FUZZ_CC ?= clang-14
SAN_BIN := $(patsubst $(BUILD)/%,build-san/%,$(TEST_BIN))
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
ifeq ($(SAN_TESTS),1)
	@$(MAKE) --no-print-directory SAN=1 BUILD=build-san $(SAN_BIN)
endif
ifeq ($(FUZZ_TESTS),1)
	@if command -v $(FUZZ_CC) >/dev/null; then $(MAKE) --no-print-directory fuzz-build; fi
endif
	@ASAN_OPTIONS=abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  bash tests/run.sh $(TEST_BIN) $(if $(filter 1,$(SAN_TESTS)),$(SAN_BIN)) \
	  $(if $(filter 1,$(FUZZ_TESTS)),tests/fuzz/check.sh)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bash scripts/bench.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# libFuzzer harnesses, one per file reader (tests/fuzz/README.md): built with clang-14 under
# ASan+UBSan in build-fuzz/. `make test` replays the regression inputs and runs each harness
# briefly (FUZZ_TESTS=0 skips that; without clang-14 it is skipped with a message);
# `make fuzz` runs each for FUZZ_TIME seconds, one after the other, niced.
FUZZ_TIME ?= 300
FUZZ_HARNESSES := curve weights idx cifar datacfg cfgcheck list image
FUZZ_CPPFLAGS := -isystem $(DARKNET_INC) $(addprefix -Iplugins/,host wspace data curve)
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -DIMAGE_MAX_PIXELS="(1 << 20)"
FUZZ_LIB_OBJ := $(patsubst %.c,build-fuzz/%.o,$(foreach m,host wspace data,$(wildcard plugins/$(m)/*.c)) plugins/curve/curve.c)
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
	rm -rf $(BUILD) build-san build-fuzz darknet

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(shell find build-fuzz -name '*.d' 2>/dev/null)
