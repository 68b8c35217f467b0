#!/usr/bin/env python3
"""`./run.sh bench`: nnprobe beside PyTorch, libtorch and dlib on the workloads of bench/README.md.

    python3 bench/run_bench.py [--build build] [--reps 5] [--no-install]
    python3 bench/run_bench.py --compile-only [--scaling-nodes 25]

1. Installs the peers when missing (Debian's python3-torch, libtorch-dev and libdlib-dev; as root, with
   apt-get). A peer that cannot be installed is reported and left out; the others still run.
2. Configures (reconfigures when dlib arrived after the build was configured) and builds the
   benchmark programs with full optimisation.
3. Exports the workloads from nnprobe_bench (data, initial weights, settings) so that every
   implementation trains the same model from the same start.
4. Runs nnprobe, torch, dlib, nnprobe, torch, dlib, ... (interleaved, --reps times, one thread:
   OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)) and takes medians.
5. Times the process that runs the four-check doctest suite on the Iris MLP (median of 5), the
   compilation of its model translation unit with the project's flags (median of 3), and again
   with a precompiled header of the two nnprobe headers it includes (median of 3, interleaved
   with the former; the header's own build reported apart), and the peak memory of a W3 run.
6. Prints the table and writes BUILD/bench/results.json.

--compile-only measures the compile times alone (model translation unit, sequence example,
bench/compile_scaling.py), with no workloads and no peers, and writes
BUILD/bench/compile_results.json with the same keys results.json gives them.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"  # Debian's python3-torch is importable only from here
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
IMPLS = ("nnprobe", "torch", "libtorch", "dlib")
TARGETS = {"W1": 2.0, "W2": 60.0, "W3": 600.0, "W4": 150.0}  # us (W4: total of one probe)
# The CNN workloads' targets are relative: W5 faster than every peer (PyTorch, libtorch, dlib),
# W6 at least as fast as the fastest; the sequence classifier (W7) at least 5x faster than PyTorch.
RELATIVE_TARGETS = {"W5": "faster than every peer", "W6": "as fast as the fastest peer",
                    "W7": "5x faster than PyTorch"}


def target_met(w, e):
    mine = e["nnprobe"]
    if mine is None:
        return False
    if w in TARGETS:
        return mine <= TARGETS[w]
    if w == "W7":
        return e["torch"] is not None and e["torch"] >= 5 * mine
    peers = [e[p] for p in ("torch", "libtorch", "dlib") if e[p] is not None]
    if not peers:
        return False
    return mine < min(peers) if w == "W5" else mine <= min(peers)
SUITE_TARGET_MS, COMPILE_TARGET_S, USER_PROGRAM_TARGET_S = 50.0, 4.0, 5.0


def ratio_targets(results):
    """The speed targets stated as ratios within one run: peer / nnprobe at least `bound`, and W3
    within 1.15x of the time its five matrix products take alone. Ratios of the fastest of the
    interleaved runs (min-of-N): on a shared machine the minimum is the least disturbed figure."""
    out = []

    def add(what, value, op, bound):
        met = value is not None and (value >= bound if op == ">=" else value <= bound)
        out.append({"what": what, "value": value, "target": f"{op} {bound:g}", "met": met})

    def r(x, y):
        return x / y if x is not None and y else None
    for w, peer, bound in (("W1", "dlib", 5), ("W1", "torch", 100), ("W2", "dlib", 4), ("W4", "dlib", 5),
                           ("W7", "torch", 5)):
        add(f"{w} {peer}/nnprobe", r(results[w][f"{peer}_min_us"], results[w]["nnprobe_min_us"]), ">=", bound)
    add("W3 nnprobe/sgemm floor", r(results["W3"]["nnprobe_min_us"], min(results["W3"]["sgemm_floor_runs_us"])),
        "<=", 1.15)
    return out
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def say(msg):
    print(msg, flush=True)


def ok(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw).returncode == 0


def torch_available():
    return os.path.exists(TORCH_PYTHON) and ok([TORCH_PYTHON, "-c", "import torch"])


def libtorch_available():
    return os.path.exists("/usr/include/torch/csrc/api/include/torch/torch.h")


def dlib_available():
    return ok(["pkg-config", "--exists", "dlib-1"])


def install_peers():
    """apt-get install what is missing, one package at a time so one failure spares the other."""
    missing = [pkg for pkg, have in (("python3-torch", torch_available), ("libdlib-dev", dlib_available),
                                     ("libtorch-dev", libtorch_available))
               if not have()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        for pkg in missing:
            say(f"peer missing: {pkg} (not root or no apt-get: install it to compare with it); "
                "continuing without it")
        return
    say(f"installing peers: {' '.join(missing)}")
    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=apt_env)
    for pkg in missing:
        p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg],
                           env=apt_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode:
            say(f"peer {pkg} could not be installed; continuing without it:\n  "
                + p.stderr.strip().replace("\n", "\n  "))


def configure_and_build(build):
    if not os.path.exists(os.path.join(build, "build.ninja")):
        subprocess.run(["meson", "setup", build], cwd=ROOT, check=True)
    targets = json.loads(subprocess.run(["meson", "introspect", "--targets", build], cwd=ROOT,
                                        check=True, capture_output=True, text=True).stdout)
    names = {t["name"] for t in targets}
    if (dlib_available() and "dlib_bench" not in names) or (libtorch_available() and "libtorch_bench" not in names):
        say("a peer was installed after this build was configured: reconfiguring")
        subprocess.run(["meson", "setup", "--reconfigure", build], cwd=ROOT, check=True)
        targets = json.loads(subprocess.run(["meson", "introspect", "--targets", build], cwd=ROOT,
                                            check=True, capture_output=True, text=True).stdout)
    paths = {}
    for t in targets:
        if t["name"] in ("nnprobe_bench", "dlib_bench", "libtorch_bench", "suite_process", "probe_costs"):
            paths[t["name"]] = t["filename"][0]
    build_targets = [os.path.relpath(p, os.path.join(ROOT, build) if not os.path.isabs(build) else build)
                     for p in paths.values()]
    subprocess.run(["ninja", "-C", build] + build_targets, cwd=ROOT, check=True)
    return paths


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def run_impl(cmd, env=ENV):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    return json_lines(p.stdout)


def peak_rss_kb(cmd, env=ENV):
    """Peak resident memory of a process that runs W3 alone: each program reports its own
    VmHWM (getrusage's ru_maxrss would count the Python parent's pages from before exec)."""
    r = [x for x in run_impl(cmd, env) if x["workload"] == "W3"]
    return r[0]["peak_rss_kb"] if r else None


def time_suite_process(exe, n=5):
    times = []
    subprocess.run([exe], env=ENV, capture_output=True, cwd=ROOT)  # warm the page cache
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.run([exe], env=ENV, capture_output=True, text=True, cwd=ROOT)
        times.append((time.perf_counter() - t0) * 1e3)
        if p.returncode:
            raise RuntimeError(f"the suite process failed:\n{p.stdout}{p.stderr}")
    return statistics.median(times), times


def time_model_tu(build, n=3):
    """Compile suite_model.cpp alone with the exact command meson uses (the project's flags), and
    the same command with a precompiled header of the two nnprobe headers it includes (built once
    with those flags, as meson or CMake would build it for a user's target): n runs of each,
    interleaved, timed by compile_scaling.measured; medians of the wall seconds."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import compile_scaling
    base, cwd = compile_scaling.compile_command(build, "bench/suite_model.cpp")
    out = os.path.join(os.path.abspath(build), "bench", "model_tu_timing.o")
    plain = base + ["-c", os.path.join(ROOT, "bench", "suite_model.cpp"), "-o", out]
    r = {"runs_s": [], "pch_runs_s": [], "command": " ".join(plain), "pch_error": None}
    with tempfile.TemporaryDirectory(prefix="nnp-pch-") as tmp:
        header, r["pch_build_s"], err = compile_scaling.build_pch(base, cwd, tmp, 3000, 300)
        with_pch = base + compile_scaling.pch_args(header) + plain[len(base):]
        r["pch_command"] = " ".join(with_pch)
        if err:
            r["pch_error"] = f"building the precompiled header failed: {err}"
        for _ in range(n):
            for cmd, runs in ((plain, r["runs_s"]), (with_pch, r["pch_runs_s"])):
                if runs is r["pch_runs_s"] and r["pch_error"]:
                    continue
                t, _, err, _ = compile_scaling.measured(cmd, cwd, 3000, 300)
                if err and cmd is plain:
                    raise RuntimeError(f"compiling bench/suite_model.cpp failed: {err}\n{' '.join(cmd)}")
                if err:
                    r["pch_error"] = f"compiling with the precompiled header failed: {err}"
                    continue
                runs.append(t)
    if os.path.exists(out):
        os.remove(out)
    r["s"] = statistics.median(r["runs_s"])
    r["pch_s"] = statistics.median(r["pch_runs_s"]) if r["pch_runs_s"] and not r["pch_error"] else None
    return r


def time_example_tu(build, source, n=3):
    """Compile one example alone with the exact command meson uses for it: wall and CPU seconds
    (medians of n) and the compiler's peak resident memory (MB), measured as
    bench/compile_scaling.py measures its programs."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import compile_scaling
    cmd, cwd = compile_scaling.compile_command(build, source)
    out = os.path.join(os.path.abspath(build), "bench", "example_tu_timing.o")
    full = cmd + ["-c", os.path.join(ROOT, source), "-o", out]
    times, cpu, peaks = [], [], []
    for _ in range(n):
        s, mb, err, c = compile_scaling.measured(full, cwd, 3000, 300)
        if err:
            say(f"compiling {source} failed: {err}")
            return {"s": None, "cpu_s": None, "peak_mb": None, "runs_s": [], "command": " ".join(full)}
        times.append(s)
        cpu.append(c)
        peaks.append(mb)
    if os.path.exists(out):
        os.remove(out)
    return {"s": statistics.median(times), "cpu_s": statistics.median(cpu), "peak_mb": max(peaks),
            "runs_s": times, "command": " ".join(full)}


def compile_figures(build, a):
    """The compile-time figures, under the keys results.json gives them."""
    say("compiling the model translation unit (bench/suite_model.cpp), without and with a precompiled header ...")
    tu = time_model_tu(build)
    say("compiling the sequence example (examples/sequence_classifier.cpp) ...")
    seq = time_example_tu(build, "examples/sequence_classifier.cpp")
    scaling, user_prog = [], {}
    if not a.no_compile_scaling:
        say(f"compile time against depth (bench/compile_scaling.py: {a.scaling_nodes} nodes) and a whole user "
            "program ...")
        rows = json_lines(subprocess.run([sys.executable, os.path.join(ROOT, "bench", "compile_scaling.py"),
                                          "--build", build, "--nodes", a.scaling_nodes],
                                         cwd=ROOT, capture_output=True, text=True).stdout)
        scaling = [r for r in rows if "nodes" in r]
        user_prog = next((r for r in rows if "user_program_compile_s" in r), {})
    return {
        "model_tu_compile_s": tu["s"],
        "model_tu_compile_runs_s": tu["runs_s"],
        "model_tu_compile_command": tu["command"],
        "model_tu_compile_pch_s": tu["pch_s"],
        "model_tu_compile_pch_runs_s": tu["pch_runs_s"],
        "model_tu_compile_pch_command": tu["pch_command"],
        "model_tu_compile_pch_error": tu["pch_error"],
        "pch_build_s": tu["pch_build_s"],
        "sequence_example_compile_s": seq["s"],
        "sequence_example_compile_cpu_s": seq["cpu_s"],
        "sequence_example_compile_peak_mb": seq["peak_mb"],
        "sequence_example_compile_runs_s": seq["runs_s"],
        "sequence_example_compile_command": seq["command"],
        "user_program_compile_s": user_prog.get("user_program_compile_s"),
        "user_program_compile_cpu_s": user_prog.get("user_program_compile_cpu_s"),
        "user_program_measures": user_prog.get("user_program_measures"),
        "user_program_compile_runs_s": user_prog.get("user_program_runs_s", []),
        "user_program_compile_pch_s": user_prog.get("user_program_compile_pch_s"),
        "user_program_compile_pch_cpu_s": user_prog.get("user_program_compile_pch_cpu_s"),
        "user_program_compile_pch_runs_s": user_prog.get("user_program_pch_runs_s", []),
        "user_program_pch_build_s": user_prog.get("pch_build_s"),
        "user_program_pch_measures": user_prog.get("pch_measures"),
        "user_program_error": user_prog.get("error"),
        "user_program_pch_error": user_prog.get("pch_error"),
        "compile_scaling": scaling,
    }


def compile_lines(c):
    """The summary lines of the compile-time figures."""
    def runs(xs):
        return ", ".join(f"{x:.2f}" for x in xs)
    lines = [f"compile, the model translation unit (bench/suite_model.cpp): {c['model_tu_compile_s']:.2f} s "
             f"(runs {runs(c['model_tu_compile_runs_s'])}; target <= {COMPILE_TARGET_S:g} s)"]
    if c["model_tu_compile_pch_s"] is not None:
        lines.append(f"compile, the same with the precompiled header: {c['model_tu_compile_pch_s']:.2f} s "
                     f"(runs {runs(c['model_tu_compile_pch_runs_s'])}, interleaved with the former; "
                     f"the header itself {c['pch_build_s']:.2f} s once)")
    else:
        lines.append(f"compile, the same with the precompiled header: {c['model_tu_compile_pch_error']}")
    for r in c["compile_scaling"]:
        lines.append(f"compile, {r['nodes']} nodes: " + (f"{r['seconds']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['peak_mb']:.0f} MB"
                                                        if r["seconds"] is not None else r.get("error", "failed")))
    if c["user_program_measures"] or c["user_program_error"]:
        up, upc = c["user_program_compile_s"], c["user_program_compile_pch_s"]
        lines.append("compile, a whole user test program (one NNP_PROBE_SUITE, linked with the prebuilt doctest main): "
                     + (f"{up:.1f} s wall, {c['user_program_compile_cpu_s']:.1f} s CPU (target <= {USER_PROGRAM_TARGET_S:g} s)"
                        if up is not None else c["user_program_error"] or "failed"))
        lines.append("compile, the same with the precompiled header: "
                     + (f"{upc:.1f} s wall, {c['user_program_compile_pch_cpu_s']:.1f} s CPU (the header itself "
                        f"{c['user_program_pch_build_s']:.1f} s once)"
                        if upc is not None else c["user_program_pch_error"] or c["user_program_error"] or "failed"))
    return lines


def compile_only(build, a):
    """--compile-only: the compile figures alone. The user program links the library and the
    prebuilt doctest main, so those two are built first."""
    if not os.path.exists(os.path.join(build, "build.ninja")):
        subprocess.run(["meson", "setup", build], cwd=ROOT, check=True)
    subprocess.run(["ninja", "-C", build, "libnnprobe.a", "libnnprobe_doctest_main.a"], cwd=ROOT, check=True)
    c = compile_figures(build, a)
    say("")
    for line in compile_lines(c):
        say(line)
    out_dir = os.path.join(build, "bench")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "compile_results.json"), "w") as f:
        json.dump(c, f, indent=2)
    say(f"\nwrote {os.path.relpath(os.path.join(out_dir, 'compile_results.json'), ROOT)}")


def fmt_us(v, wid):
    if v is None:
        return "-"
    return f"{v / 1000:.3g} ms" if wid == "W4" else f"{v:.3g} us"


def main():
    ap = argparse.ArgumentParser(description="nnprobe beside PyTorch and dlib")
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions (>= 5)")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get the peers")
    ap.add_argument("--no-compile-scaling", action="store_true",
                    help="skip bench/compile_scaling.py (compile time against network depth)")
    ap.add_argument("--scaling-nodes", default="25,50,100,200",
                    help="network sizes for bench/compile_scaling.py")
    ap.add_argument("--compile-only", action="store_true",
                    help="only the compile times (no workloads, no peers): BUILD/bench/compile_results.json")
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    if a.compile_only:
        compile_only(build, a)
        return

    if not a.no_install:
        install_peers()
    paths = configure_and_build(build)
    nnprobe, dlib, suite = paths["nnprobe_bench"], paths.get("dlib_bench"), paths["suite_process"]
    have_torch = torch_available()
    if not have_torch:
        say(f"PyTorch: not importable from {TORCH_PYTHON} (Debian's python3-torch): left out")
    if not dlib:
        say("dlib: not built (libdlib-dev missing): left out")
    libtorch = paths.get("libtorch_bench")
    if not libtorch:
        say("libtorch: not built (Debian's libtorch-dev is not installed): left out")

    out_dir = os.path.join(build, "bench")
    export = os.path.join(out_dir, "export")
    os.makedirs(export, exist_ok=True)
    subprocess.run([nnprobe, "--export", export], check=True, cwd=ROOT)

    # The BLAS kernel: nnprobe switches OpenBLAS to the kernels the processor deserves by itself
    # when OpenBLAS's own pick is too generic; the peers get the same kernels through
    # OPENBLAS_CORETYPE (read when OpenBLAS loads), so that all three run on the same BLAS.
    blas = [r for r in run_impl([nnprobe, "--runs", "1", "--steps", "5", "--workload", "blas"])
            if r["workload"] == "blas"][0]
    peer_env = dict(ENV)
    if blas["switched"] and "OPENBLAS_CORETYPE" not in os.environ:
        peer_env["OPENBLAS_CORETYPE"] = blas["kernel"]
    say(f"BLAS: {blas['library']}, kernel {blas['kernel']}"
        + (f" (OpenBLAS picked {blas['detected']} for this processor; nnprobe switched it by itself, "
           f"the peers run with OPENBLAS_CORETYPE={blas['kernel']})" if blas["switched"] else "")
        + (f"\n  {blas['advice']}" if blas["advice"] else ""))

    impls = [("nnprobe", [nnprobe, "--runs", "1"])]
    if have_torch:
        impls.append(("torch", [TORCH_PYTHON, os.path.join(ROOT, "bench", "torch_bench.py"),
                                "--data", export, "--runs", "1"]))
    if dlib:
        impls.append(("dlib", [dlib, "--data", export, "--runs", "1"]))
    if libtorch:
        impls.append(("libtorch", [libtorch, "--data", export, "--runs", "1"]))

    samples = {w: {name: [] for name, _ in impls} for w in WORKLOADS}
    last = {w: {} for w in WORKLOADS}
    unsupported = {w: {} for w in WORKLOADS}  # a peer that cannot run a workload says why
    floor_runs = []  # the W3 products alone, measured by nnprobe_bench in each of its runs
    for rep in range(a.reps):
        for name, cmd in impls:
            say(f"rep {rep + 1}/{a.reps}: {name}")
            for r in run_impl(cmd, ENV if name == "nnprobe" else peer_env):
                if r["workload"] == "blas":
                    floor_runs.append(r["sgemm_floor_us"])
                    blas = r
                    continue
                if "unsupported" in r:
                    unsupported[r["workload"]][name] = r["unsupported"]
                    continue
                samples[r["workload"]][name].append(r["us"])
                last[r["workload"]][name] = r

    say("suite process (four-check doctest suite on the Iris MLP) ...")
    suite_ms, suite_runs = time_suite_process(suite)
    comp = compile_figures(build, a)
    tu_s, tu_pch_s = comp["model_tu_compile_s"], comp["model_tu_compile_pch_s"]
    up, up_pch = comp["user_program_compile_s"], comp["user_program_compile_pch_s"]
    seq_s = comp["sequence_example_compile_s"]
    say("recording overhead and false alarms over 200 seeds (bench/probe_costs.cpp) ...")
    costs = json_lines(subprocess.run([paths["probe_costs"]], cwd=ROOT, capture_output=True, text=True).stdout)
    say("peak memory of a W3 run ...")
    rss = {name: peak_rss_kb(cmd[:-2] + ["--runs", "1", "--workload", "W3"], ENV if name == "nnprobe" else peer_env)
           for name, cmd in impls}

    results = {}
    for w in WORKLOADS:
        e = {"unit": "us per probe (total)" if w == "W4" else "us per step", "target_us": TARGETS.get(w),
             "target": RELATIVE_TARGETS.get(w)}
        for name in IMPLS:
            s = samples[w].get(name)
            r = last[w].get(name)
            e[name] = statistics.median(s) if s else None
            e[f"{name}_min_us"] = min(s) if s else None
            e[f"{name}_runs_us"] = s or []
            e[f"{name}_final_loss"] = r["final_loss"] if r else None
            e[f"{name}_accuracy"] = r["accuracy"] if r else None
            if w == "W4":
                e[f"{name}_invariance_passed"] = r["passed"] if r else None
            e[f"{name}_steps"] = r["steps"] if r else None
            if name in unsupported[w]:
                e[f"{name}_unsupported"] = unsupported[w][name]
        e["target_met"] = target_met(w, e)
        results[w] = e
    floor_us = statistics.median(floor_runs)
    w3_flops = blas["sgemm_gflops"] * blas["sgemm_floor_us"] * 1e3  # same products every run
    results["W3"]["sgemm_floor_us"] = floor_us
    results["W3"]["sgemm_floor_runs_us"] = floor_runs
    results["blas"] = {"library": blas["library"], "kernel": blas["kernel"],
                       "sgemm_gflops": w3_flops / floor_us / 1e3, "detected": blas["detected"],
                       "switched": blas["switched"], "advice": blas["advice"],
                       "peers_env": {k: v for k, v in peer_env.items() if k == "OPENBLAS_CORETYPE"}}
    results["ratio_targets"] = ratio_targets(results)
    results["suite_process_ms"] = suite_ms
    results["suite_process_runs_ms"] = suite_runs
    results.update(comp)  # model_tu_compile_*, pch_build_s, sequence_example_*, user_program_*, compile_scaling
    results["w3_peak_rss_kb"] = rss.get("nnprobe")
    results["w3_peak_rss_kb_torch"] = rss.get("torch")
    results["w3_peak_rss_kb_dlib"] = rss.get("dlib")
    results["w3_peak_rss_kb_libtorch"] = rss.get("libtorch")
    results["recording_overhead"] = [c for c in costs if c["figure"] == "recording_overhead"]
    results["false_alarms"] = [c for c in costs if c["figure"] == "false_alarms"]
    results["reps"] = a.reps
    results["env"] = {"OPENBLAS_NUM_THREADS": "1", "torch_threads": 1, "nproc": os.cpu_count()}
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)

    def ratio(x, y):
        return f"{x / y:.1f}x" if x is not None and y else "-"

    rows = [("workload", "nnprobe", "torch", "libtorch", "dlib", "torch/nnprobe", "libtorch/nnprobe",
             "dlib/nnprobe", "target")]
    for w in WORKLOADS:
        e = results[w]
        met = e["target_met"]
        goal = f"<= {fmt_us(TARGETS[w], w)}" if w in TARGETS else RELATIVE_TARGETS[w]
        rows.append((w, fmt_us(e["nnprobe"], w), fmt_us(e["torch"], w), fmt_us(e["libtorch"], w),
                     "n/a" if "dlib_unsupported" in e else fmt_us(e["dlib"], w), ratio(e["torch"], e["nnprobe"]), ratio(e["libtorch"], e["nnprobe"]),
                     ratio(e["dlib"], e["nnprobe"]), f"{goal} {'met' if met else 'MISSED'}"))
    rows.append(("suite process", f"{suite_ms:.1f} ms", "", "", "", "", "", "",
                 f"<= {SUITE_TARGET_MS:g} ms {'met' if suite_ms <= SUITE_TARGET_MS else 'MISSED'}"))
    rows.append(("model TU compile", f"{tu_s:.2f} s", "", "", "", "", "", "",
                 f"<= {COMPILE_TARGET_S:g} s {'met' if tu_s <= COMPILE_TARGET_S else 'MISSED'}"))
    if tu_pch_s is not None:
        rows.append(("model TU compile, PCH", f"{tu_pch_s:.2f} s (+{comp['pch_build_s']:.2f} s once)",
                     "", "", "", "", "", "", ""))
    if up is not None:
        rows.append(("user program compile", f"{up:.2f} s", "", "", "", "", "", "",
                     f"<= {USER_PROGRAM_TARGET_S:g} s {'met' if up <= USER_PROGRAM_TARGET_S else 'MISSED'}"))
    if up_pch is not None:
        rows.append(("user program compile, PCH", f"{up_pch:.2f} s (+{comp['user_program_pch_build_s']:.2f} s once)",
                     "", "", "", "", "", "", ""))
    if seq_s is not None:
        rows.append(("sequence example compile", f"{seq_s:.2f} s ({comp['sequence_example_compile_cpu_s']:.2f} s CPU), "
                     f"{comp['sequence_example_compile_peak_mb']:.0f} MB", "", "", "", "", "", "", ""))
    rows.append(("W3 peak RSS", f"{rss.get('nnprobe') or 0:,} KB",
                 *(f"{rss[p]:,} KB" if rss.get(p) else "-" for p in ("torch", "libtorch", "dlib")),
                 "", "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    say("")
    say(f"medians of {a.reps} interleaved runs, one core (W1-W3, W5-W7 per step, W4 per probe)")
    for i, r in enumerate(rows):
        say("| " + " | ".join(c.ljust(widths[k]) for k, c in enumerate(r)) + " |")
        if i == 0:
            say("|" + "|".join("-" * (wd + 2) for wd in widths) + "|")
    say("")
    say("final loss / training accuracy of the last run (same start, same data, same steps):")
    for w in WORKLOADS:
        e = results[w]
        parts = []
        for name in IMPLS:
            if e[name] is not None:
                extra = "" if w != "W4" else (", invariance " + ("pass" if e[f"{name}_invariance_passed"] else "FAIL"))
                parts.append(f"{name} {e[f'{name}_final_loss']:.6g} / {100 * e[f'{name}_accuracy']:.1f}%{extra}")
        for name in IMPLS:
            if f"{name}_unsupported" in e:
                parts.append(f"{name}: {e[f'{name}_unsupported']}")
        say(f"  {w} ({e['nnprobe_steps']} {'probes' if w == 'W4' else 'steps'}): " + "; ".join(parts))
    for c in results["recording_overhead"]:
        say(f"recording overhead, {c['model']}: {c['plain_step_us']:.2f} us plain, "
            f"{c['recorded_step_us']:.2f} us recorded per mini-run step (+{c['overhead_percent']:.1f}%, target <= 15%)")
    for c in results["false_alarms"]:
        say(f"false alarms, {c['model']}: {c['false_alarms']} in {c['verdicts']} verdicts ({c['seeds']} seeds)")
    b = results["blas"]
    say(f"BLAS: {b['library']}, kernel {b['kernel']}"
        + (f" (switched by nnprobe from {b['detected']})" if b["switched"] else "")
        + f"; the W3 step's five products alone: {floor_us:.0f} us, {b['sgemm_gflops']:.1f} GFLOP/s")
    for line in compile_lines(comp):
        say(line)
    say("ratio targets (fastest of the interleaved runs, same run):")
    for t in results["ratio_targets"]:
        say(f"  {t['what']}: {'-' if t['value'] is None else format(t['value'], '.2f')} "
            f"(target {t['target']}) {'met' if t['met'] else 'MISSED'}")
    say(f"\nwrote {os.path.relpath(os.path.join(out_dir, 'results.json'), ROOT)}")


if __name__ == "__main__":
    main()
