# The two commands of the README. Each installs what is missing (Debian 12, as root),
# configures, builds and runs.
#   make demo   the probes on the Iris example, their verdicts and report
#   make test   the whole suite: unit tests, compile-fail tests, examples, then the same
#               suite again under AddressSanitizer + UndefinedBehaviorSanitizer
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
PACKAGES := g++ clang libclang-rt-14-dev meson ninja-build pkg-config python3 \
            libboost-dev libxtensor-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev doctest-dev libfmt-dev
# OpenBLAS gives different bits at different thread counts: pin it where bits are compared.
export OPENBLAS_NUM_THREADS := 1

.PHONY: deps demo test test-fast test-asan build clean bench

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j2

demo: build
	./$(BUILD)/src/nnprobe-demo examples/data/iris.csv $(BUILD)/nnprobe-report.html

# Unit and compile-fail tests in the normal build, then the sanitizer build; the last line
# is the plain `N passed, N failed` summary of both.
test: deps $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja
	ninja -C $(BUILD) -j2
	-meson test -C $(BUILD) --print-errorlogs --num-processes 2
	ninja -C $(ASAN_BUILD) -j2
	-UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
	  meson test -C $(ASAN_BUILD) --no-rebuild --print-errorlogs --num-processes 1 --no-suite compile-fail --no-suite bench
	@python3 tests/summarise.py $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json

test-fast: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j2
	-meson test -C $(BUILD) --print-errorlogs --num-processes 2
	@python3 tests/summarise.py $(BUILD)/meson-logs/testlog.json

# nnprobe beside PyTorch and dlib: installs the peers, builds -O3, prints the table.
bench: deps
	python3 bench/run_bench.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
