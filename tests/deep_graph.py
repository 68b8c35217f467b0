#!/usr/bin/env python3
"""A 200-node graph expression compiles under -Wall within a memory cap.

    deep_graph.py --source-root DIR --compiler c++ [args...]

Writing `a | b | c | ...` must cost the compiler time and memory linear in its length. Under
-Wall (-Wnonnull, -Wformat) g++ constant-folds the arguments of every call to check them, and
a graph operator it can evaluate there re-evaluates the whole expression before each `|`: 2.2 GB
and 7 s of front end for the 200 nodes below, against 340 MB once graph.hpp's value-building
functions spell their return types. The compile runs with -fsyntax-only (the front end is
where that cost was) under a 1 GB address-space cap: a cubic front end fails it by a factor of
two; memory, unlike time, does not depend on the machine's load.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile

CAP_MB = 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--compiler", nargs="+", required=True)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.source_root, "bench"))
    from compile_scaling import network  # the benchmark's residual networks, same shape

    source = ("#include <nnprobe/graph.hpp>\n#include <nnprobe/layers/dense.hpp>\n"
              "#include <nnprobe/layers/activations.hpp>\n#include <nnprobe/layers/merge.hpp>\n"
              f"constexpr auto net = {network(200)};\n"
              "static_assert(decltype(net)::size == 200);\n")
    with tempfile.TemporaryDirectory(prefix="nnp-deep-") as tmp:
        path = os.path.join(tmp, "deep_graph.cpp")
        with open(path, "w") as f:
            f.write(source)

        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (CAP_MB << 20, CAP_MB << 20))
        cmd = a.compiler + ["-std=c++20", "-Wall", "-Wextra", "-fsyntax-only",
                            "-I", os.path.join(a.source_root, "include"), path]
        p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=cap)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if p.returncode:
        print(f"FAIL: a 200-node graph expression did not compile with -Wall under {CAP_MB} MB "
              f"(peak {peak_mb:.0f} MB):\n{p.stderr[-2000:]}")
        return 1
    print(f"a 200-node graph expression compiled with -Wall: peak {peak_mb:.0f} MB (cap {CAP_MB} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
