#!/usr/bin/env python3
"""Test (meson suite bench-smoke): the peers compute what nnprobe computes.

    smoke_peers.py NNPROBE_BENCH DLIB_BENCH|'' TORCH_BENCH_PY [LIBTORCH_BENCH|'']

Exports the workloads from nnprobe_bench, runs every workload a few steps (--smoke) in
nnprobe, dlib, PyTorch and libtorch from the same initial weights, and checks that each peer
ends at nnprobe's loss (relative 1e-3) and accuracy (within one sample), and that its W4 batch
invariance passes. A peer that cannot run a workload must say why (a line with "unsupported":
dlib has no attention for W7); that is reported, not failed. Not timed. A peer that is not
installed is skipped with a message; exit 77 (meson's SKIP) when none is.
"""
import json
import os
import subprocess
import sys
import tempfile

TORCH_PYTHON = "/usr/bin/python3"  # Debian's python3-torch is importable only from here


def json_lines(text):
    return {r["workload"]: r for r in (json.loads(l) for l in text.splitlines() if l.startswith("{"))}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    nnprobe_bench, dlib_bench, torch_py = sys.argv[1:4]
    libtorch_bench = sys.argv[4] if len(sys.argv) > 4 else ""
    with tempfile.TemporaryDirectory(prefix="nnp-bench-") as d:
        rc, out, err = run([nnprobe_bench, "--export", d])
        if rc:
            print("nnprobe_bench --export failed:\n" + err)
            return 1
        rows = {}
        with open(os.path.join(d, "manifest.txt")) as f:
            for line in f:
                t = line.split()
                rows[t[0]] = int(dict(zip(t[1::2], t[2::2]))["rows"])
        rc, out, err = run([nnprobe_bench, "--smoke"])
        ref = json_lines(out)
        if rc or set(ref) != {w for w in rows if w != "W4inv"}:  # a result per exported workload
            print("nnprobe_bench --smoke failed:\n" + out + err)
            return 1
        peers = []
        if dlib_bench:
            peers.append(("dlib", [dlib_bench, "--smoke", "--data", d]))
        else:
            print("dlib: not built (libdlib-dev missing when meson configured): skipped")
        if os.path.exists(TORCH_PYTHON):
            peers.append(("torch", [TORCH_PYTHON, torch_py, "--smoke", "--data", d]))
        if libtorch_bench:
            peers.append(("libtorch", [libtorch_bench, "--smoke", "--data", d]))
        else:
            print("libtorch: not built (libtorch-dev missing when meson configured): skipped")
        ran, bad = 0, 0
        for name, cmd in peers:
            rc, out, err = run(cmd)
            if rc == 77:
                print(f"{name}: {err.strip()}: skipped")
                continue
            if rc:
                print(f"{name} failed (exit {rc}):\n{out}{err}")
                bad += 1
                continue
            ran += 1
            got = json_lines(out)
            for w, r in ref.items():
                g = got.get(w)
                if g is None:
                    print(f"FAIL {name} {w}: no result")
                    bad += 1
                    continue
                if "unsupported" in g:
                    print(f"n/a  {name} {w}: {g['unsupported']}")
                    continue
                tol = 1e-3 * max(1.0, abs(r["final_loss"]))
                ok = (abs(g["final_loss"] - r["final_loss"]) <= tol
                      and abs(g["accuracy"] - r["accuracy"]) <= 1.0 / rows[w] + 1e-9
                      and g.get("passed", True))
                print(f"{'ok  ' if ok else 'FAIL'} {name} {w}: loss {g['final_loss']:.6g} "
                      f"(nnprobe {r['final_loss']:.6g}), accuracy {g['accuracy']:.4g} "
                      f"(nnprobe {r['accuracy']:.4g}){'' if g.get('passed', True) else ', invariance FAILED'}")
                bad += not ok
        if bad:
            return 1
        if ran == 0:
            print("no peer installed (apt-get install python3-torch libtorch-dev libdlib-dev): skipped")
            return 77
        return 0


if __name__ == "__main__":
    sys.exit(main())
