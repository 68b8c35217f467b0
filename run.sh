#!/usr/bin/env bash
# The README's commands. Each installs the Debian 12 packages it is missing (as root, or
# through sudo), configures, builds what it needs and runs, printing each stage as it goes.
# Nothing beyond a bare Debian 12 system is assumed: bash, apt and coreutils.
#
#   ./run.sh demo    the probes on the Iris MLP, healthy and broken: verdicts and a report
#   ./run.sh test    the whole suite: unit, compile-fail and consumer tests, the examples,
#                    then the suite again under AddressSanitizer + UndefinedBehaviorSanitizer;
#                    the last line is `N passed, N failed`
#   ./run.sh bench   nnprobe beside PyTorch, libtorch and dlib (installs them: python3-torch,
#                    libtorch-dev, libdlib-dev), build/bench/results.json
#
# BUILD and ASAN_BUILD name the build folders (default build, build-asan).
set -euo pipefail
cd "$(dirname "$0")"

BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
# OpenBLAS gives different bits at different thread counts: pin it where bits are compared.
export OPENBLAS_NUM_THREADS=1

# What building the library and the demo needs; the test suite adds clang (its compile-fail
# cases are checked with both compilers) and cmake (a consumer project uses find_package).
BUILD_PACKAGES=(g++ meson ninja-build pkg-config libboost-dev libxtensor-dev libxsimd-dev
                libxtensor-blas-dev libopenblas-dev doctest-dev libfmt-dev nlohmann-json3-dev)
TEST_PACKAGES=(clang libclang-rt-14-dev cmake)

stage() { printf '\n==> %s\n' "$*"; }

install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "run.sh: missing packages (${missing[*]}); run as root to install them" >&2; exit 1; }
        sudo=(sudo)
    fi
    stage "installing ${#missing[@]} Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update
    # Progress on one line per package, not apt's silent -qq.
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

configure() {  # configure DIR [meson options...]
    local dir=$1; shift
    [ -f "$dir/build.ninja" ] && return 0
    stage "configuring $dir"
    meson setup "$dir" "$@"
}

demo() {
    install_missing "${BUILD_PACKAGES[@]}"
    configure "$BUILD"
    stage "building the demo (only what it needs)"
    ninja -C "$BUILD" src/nnprobe-demo
    stage "running the demo"
    "./$BUILD/src/nnprobe-demo" examples/data/iris.csv "$BUILD/nnprobe-report.html"
}

run_tests() {
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    configure "$BUILD"
    # Unoptimised: under the sanitizers g++ takes 5.7x the CPU time at -O2 for 2.7x faster
    # tests (tests/test_sequences.cpp: 98.7 s against 17.3 s to compile), and compiling is
    # most of the run.
    configure "$ASAN_BUILD" -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
    stage "building the suite"
    ninja -C "$BUILD"
    stage "running the suite"
    meson test -C "$BUILD" --print-errorlogs --num-processes 2 || true
    stage "building the suite under AddressSanitizer + UndefinedBehaviorSanitizer"
    # Only what the sanitizer run executes: not the compile-fail, consumer or bench programs.
    ninja -C "$ASAN_BUILD" $(python3 - "$ASAN_BUILD" <<'EOF_PY'
import json, os, subprocess, sys
build = sys.argv[1]
skip = {"nnprobe:compile-fail", "nnprobe:bench", "nnprobe:consumers"}
tests = json.loads(subprocess.run(["meson", "introspect", "--tests", build],
                                  capture_output=True, text=True, check=True).stdout)
root = os.path.realpath(build)
for t in tests:
    if skip.isdisjoint(t["suite"]):
        for arg in (a for a in t["cmd"] if not a.startswith("-")):  # absolute, or relative to the build
            path = os.path.realpath(os.path.join(root, arg))
            if path.startswith(root + os.sep):
                print(os.path.relpath(path, root))
EOF_PY
)
    stage "running the suite under the sanitizers"
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
        meson test -C "$ASAN_BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
        --no-suite compile-fail --no-suite bench --no-suite consumers || true
    python3 tests/summarise.py "$BUILD/meson-logs/testlog.json" "$ASAN_BUILD/meson-logs/testlog.json"
}

bench() {
    install_missing "${BUILD_PACKAGES[@]}" python3
    python3 bench/run_bench.py --build "$BUILD"
}

case "${1:-}" in
    demo) demo ;;
    test) run_tests ;;
    bench) bench ;;
    *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
