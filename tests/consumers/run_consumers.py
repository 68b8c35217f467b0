#!/usr/bin/env python3
"""Consume nnprobe from a tiny outside project, as a user would, by one route:

  meson      nnprobe as a meson subproject (`dependency('nnprobe')`): only the library is
             built, none of nnprobe's tests, examples or benchmarks
  pkgconfig  `meson install` of the build, then `pkg-config --cflags --libs nnprobe`
  cmake      `meson install`, then CMake's `find_package(nnprobe CONFIG REQUIRED)` and the
             `nnprobe::nnprobe` target

In each route the consumer must compile with -ffp-contract=off (the same-bits promise) and
print exactly what the same program built inside the project prints (--reference); and a
doctest program of test cases only (consumer_test.cpp), linked with nnprobe's prebuilt doctest
main (the nnprobe-doctest-main dependency and .pc file, the nnprobe::doctest_main target), must
build and pass. In the meson and CMake routes that program is built with a precompiled header of
<nnprobe/probes.hpp> and <nnprobe/probes/doctest.hpp>, as the README shows, and the compiler
must have used it (check_pch).

Usage: run_consumers.py ROUTE --source-root DIR --build-root DIR --reference EXE
Exit status 0 on success, 77 (skipped) when the route's tool (cmake) is missing, 1 otherwise.
"""
import argparse
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        print(f"$ {' '.join(map(str, cmd))}\n{p.stdout}{p.stderr}")
        sys.exit(1)
    return p.stdout


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def install(build_root, dest):
    """Install the already-built project under dest (prefix kept: dest/usr/local/...)."""
    run(["meson", "install", "-C", build_root, "--no-rebuild", "--quiet", "--destdir", str(dest)])
    prefixes = [p for p in dest.rglob("nnprobe.pc")]
    if not prefixes:
        fail("meson install wrote no nnprobe.pc")
    pc = prefixes[0]
    # Debian's pkg-config searches <prefix>/lib/<multiarch>/pkgconfig, lib/pkgconfig and share/pkgconfig.
    search = run(["pkg-config", "--variable", "pc_path", "pkg-config"]).strip().split(":")
    installed_at = "/" + str(pc.parent.relative_to(dest))
    if installed_at not in search:
        fail(f"nnprobe.pc is installed in {installed_at}, which pkg-config does not search ({':'.join(search)})")
    prefix = next(dest.rglob("nnprobe.hpp")).parents[2]  # <prefix>/include/nnprobe/nnprobe.hpp
    return pc.parent, prefix


def check_flag(commands, what):
    if "-ffp-contract=off" not in commands:
        fail(f"{what}: the consumer is compiled without -ffp-contract=off:\n{commands}")


def check_pch(build_dir, gch_name):
    """The test program's object was compiled with the precompiled header, not by parsing its
    headers: the .gch exists, the compile command forces it in (-include) with -Winvalid-pch made
    an error, GCC marks it used ('!' under -H) when the command is rerun, and the same command
    with another optimisation level (which makes the .gch unusable) fails instead of quietly
    parsing the headers again."""
    gch = sorted(build_dir.rglob(gch_name))
    if not gch:
        fail(f"no precompiled header {gch_name} in {build_dir}")
    entries = json.loads((build_dir / "compile_commands.json").read_text())
    entry = next((e for e in entries if e["file"].endswith("consumer_test.cpp")), None)
    if entry is None:
        fail(f"consumer_test.cpp is not in {build_dir / 'compile_commands.json'}")
    args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
    header = gch[0].name[:-len(".gch")]
    forced = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-include"]
    if not any(pathlib.Path(f).name == header for f in forced):
        fail(f"consumer_test.cpp is compiled without -include {header}: {' '.join(args)}")
    for flag in ("-Winvalid-pch", "-Werror=invalid-pch"):
        if flag not in args:
            fail(f"consumer_test.cpp is compiled without {flag}: {' '.join(args)}")
    cleaned, skip = [], False
    for a in args:  # the same command, checking syntax only: no object, no dependency file
        if skip:
            skip = False
        elif a in ("-o", "-MF", "-MQ", "-MT"):
            skip = True
        elif a not in ("-c", "-MD", "-MMD"):
            cleaned.append(a)
    check = cleaned + ["-fsyntax-only", "-fdiagnostics-color=never", "-H"]
    p = subprocess.run(check, cwd=entry["directory"], capture_output=True, text=True)
    used = [l for l in p.stderr.splitlines() if l.startswith("! ") and l.endswith(gch_name)]
    if p.returncode or not used:
        fail(f"GCC did not use the precompiled header (no '! ...{gch_name}' under -H):\n"
             f"$ {' '.join(check)}\n{p.stderr[-2000:]}")
    other = check + ["-O2" if "-O0" in args else "-O0"]
    p = subprocess.run(other, cwd=entry["directory"], capture_output=True, text=True)
    if p.returncode == 0 or "invalid-pch" not in p.stderr:
        fail(f"an unusable precompiled header (another optimisation level) did not fail the build:\n"
             f"$ {' '.join(other)}\n{p.stderr[-2000:]}")


def route_meson(src, work):
    (work / "subprojects").mkdir()
    # A copy of the tree without build folders, as a wrap or a git submodule would give.
    shutil.copytree(src, work / "subprojects" / "nnprobe",
                    ignore=shutil.ignore_patterns("build*", ".git", "__pycache__"))
    shutil.copy(HERE / "meson.build.in", work / "meson.build")
    shutil.copy(HERE / "consumer.cpp", work / "consumer.cpp")
    shutil.copy(HERE / "consumer_test.cpp", work / "consumer_test.cpp")
    shutil.copytree(HERE / "pch", work / "pch")
    run(["meson", "setup", "b", "--wrap-mode=forcefallback"], cwd=work)
    targets = json.loads(run(["meson", "introspect", "--targets", "b"], cwd=work))
    theirs = sorted(t["name"] for t in targets if t["subproject"] == "nnprobe")
    if theirs != ["nnprobe", "nnprobe_doctest_main"]:
        fail(f"as a subproject nnprobe should build only its library and doctest main, it declares {theirs}")
    tests = json.loads(run(["meson", "introspect", "--tests", "b"], cwd=work))
    if tests:
        fail(f"as a subproject nnprobe registers {len(tests)} tests in its user's `meson test`")
    run(["ninja", "-C", "b"], cwd=work)
    check_flag(run(["ninja", "-C", "b", "-t", "commands"], cwd=work), "meson subproject")
    check_pch(work / "b", "nnprobe_pch.hpp.gch")
    return work / "b" / "consumer", work / "b" / "consumer_test"


def route_pkgconfig(src, build_root, work):
    pc_dir, prefix = install(build_root, work / "root")
    # The file says prefix=/usr/local; point a copy at where it was installed instead.
    (work / "pc").mkdir()
    for name in ("nnprobe.pc", "nnprobe-doctest-main.pc"):
        if not (pc_dir / name).exists():
            fail(f"meson install wrote no {name} beside nnprobe.pc")
        text = (pc_dir / name).read_text().splitlines()
        text = [f"prefix={prefix}" if line.startswith("prefix=") else line for line in text]
        (work / "pc" / name).write_text("\n".join(text) + "\n")
    env = dict(os.environ, PKG_CONFIG_PATH=str(work / "pc"))
    flags = run(["pkg-config", "--cflags", "--libs", "nnprobe"], env=env).split()
    if "-I/usr/include" in flags or any(f.startswith("-DBOOST") for f in flags):
        fail(f"pkg-config's flags carry system or Boost clutter: {' '.join(flags)}")
    check_flag(" ".join(flags), "pkg-config")
    exe = work / "consumer"
    run(["g++", str(HERE / "consumer.cpp"), "-o", str(exe)] + flags)
    test_exe = work / "consumer_test"
    test_flags = run(["pkg-config", "--cflags", "--libs", "nnprobe", "nnprobe-doctest-main"], env=env).split()
    run(["g++", str(HERE / "consumer_test.cpp"), "-o", str(test_exe)] + test_flags)
    return exe, test_exe


def route_cmake(src, build_root, work):
    if not shutil.which("cmake"):
        print("SKIPPED: cmake is not installed")
        sys.exit(77)
    _, prefix = install(build_root, work / "root")
    shutil.copy(HERE / "CMakeLists.txt", work / "CMakeLists.txt")
    shutil.copy(HERE / "consumer.cpp", work / "consumer.cpp")
    shutil.copy(HERE / "consumer_test.cpp", work / "consumer_test.cpp")
    # Ninja, not CMake's default Makefiles: run.sh installs ninja, and a bare Debian has no make.
    run(["cmake", "-G", "Ninja", "-S", str(work), "-B", str(work / "b"), f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"])
    run(["cmake", "--build", str(work / "b")])
    check_flag((work / "b" / "compile_commands.json").read_text(), "CMake nnprobe::nnprobe")
    check_pch(work / "b", "cmake_pch.hxx.gch")
    return work / "b" / "consumer", work / "b" / "consumer_test"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("route", choices=["meson", "pkgconfig", "cmake"])
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True)
    ap.add_argument("--reference", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix=f"nnprobe-consumer-{a.route}-") as tmp:
        work = pathlib.Path(tmp)
        if a.route == "meson":
            exe, test_exe = route_meson(pathlib.Path(a.source_root), work)
        elif a.route == "pkgconfig":
            exe, test_exe = route_pkgconfig(a.source_root, a.build_root, work)
        else:
            exe, test_exe = route_cmake(a.source_root, a.build_root, work)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        got = run([str(exe)], env=env)
        want = run([a.reference], env=env)
        if got != want:
            fail(f"the consumer prints {got!r}, the same program built in the project {want!r}")
        # The test program has no main() of its own: the prebuilt one runs its test case.
        summary = run([str(test_exe), "--no-version"], env=env)
        if "test cases: 1 | 1 passed | 0 failed" not in summary:
            fail(f"the consumer's doctest program did not run its one test case:\n{summary}")
        print(f"{a.route}: {got.strip()}")
        print(f"{a.route} doctest program: {summary.strip().splitlines()[-3]}")


if __name__ == "__main__":
    main()
