#!/usr/bin/env python3
"""Compile-fail test driver for nnprobe's static checks.

For each compiler, the test file must
  1. fail to compile (-fsyntax-only),
  2. print every `// expect: <text>` of the file somewhere in stderr (compared exactly,
     then ignoring whitespace, so g++'s `> >` matches clang's `>>`),
  3. print its first line containing `nnprobe:` within the first --max-line lines of stderr,
  4. print at most `// max-errors: N` errors (default 1: a failed check must not cascade),
and compiled again with -DNNP_TWIN (the passing twin, under #ifdef NNP_TWIN in the same file)
it must compile (exit status 0). A check whose message is the name of a function called in a
constant expression (`nnprobe_dropout_rate_must_be_in_0_1`) counts that name as its message.

Twins cost as much as the failing compiles; --no-twin skips them, and --twins compiles the
twins of every --file given as ONE translation unit per compiler (each file's body in its own
namespace, its #include lines, and the #defines before its first #include, hoisted to the
top; so a case keeps its #includes outside #if blocks and its names in its own file).

Usage:
  run_compile_fail.py --source-root DIR --file tests/compile_fail/c2_linear_stack.cpp \\
      --compiler g++ --compiler clang++
  run_compile_fail.py --twins --file a.cpp --file b.cpp ... --compiler g++

A compiler is a command of one or more words: everything after --compiler up to the next
option of this script (`--compiler ccache c++ -m64` works). A compiler whose command is not
on PATH is an error, except when it is clang (or given with --optional-compiler): then it is
skipped with a note. With no compiler given, g++ (required) and clang++ (optional) are used.
Other options: --extra-arg ARG (added to every compile, repeatable), --max-line N (default 5).

Exit status 0 when every check holds, 1 otherwise (with the reason), 2 on a usage error.
Standard library only.
"""
import os
import re
import shutil
import subprocess
import sys

OPTIONS_WITH_COMMAND = ("--compiler", "--cxx", "--optional-compiler")
OPTIONS_WITH_VALUE = ("--source-root", "--file", "--extra-arg", "--max-line")
OPTIONS_FLAGS = ("--no-twin", "--twins")
ALL_OPTIONS = OPTIONS_WITH_COMMAND + OPTIONS_WITH_VALUE + OPTIONS_FLAGS + ("-h", "--help")
# The line that carries a check's message: a static_assert's `nnprobe:` text, or the name of
# the non-constexpr function a constant expression called (`nnprobe_dropout_rate_...`).
MESSAGE = re.compile(r"nnprobe(:|_[a-z])")


def usage_error(msg):
    print(f"run_compile_fail.py: {msg}", file=sys.stderr)
    print(__doc__.split("Usage:")[1].split("A compiler")[0].rstrip(), file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    opts = {"source_root": None, "files": [], "compilers": [], "extra": [], "max_line": 5,
            "twin": True, "twins": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        if a == "--no-twin":
            opts["twin"] = False
            i += 1
            continue
        if a == "--twins":
            opts["twins"] = True
            i += 1
            continue
        name, eq, inline = a.partition("=")
        if name in OPTIONS_WITH_COMMAND:
            words = [inline] if eq else []
            i += 1
            while i < len(argv) and argv[i].partition("=")[0] not in ALL_OPTIONS:
                words.append(argv[i])
                i += 1
            if not words or not words[0]:
                usage_error(f"{name} needs a compiler command")
            opts["compilers"].append((words, name == "--optional-compiler"))
            continue
        if name in OPTIONS_WITH_VALUE:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                usage_error(f"{name} needs a value")
            if name == "--source-root":
                opts["source_root"] = value
            elif name == "--file":
                opts["files"].append(value)
            elif name == "--extra-arg":
                opts["extra"].append(value)
            else:
                try:
                    opts["max_line"] = int(value)
                except ValueError:
                    usage_error(f"--max-line takes a number, not {value!r}")
            i += 1
            continue
        usage_error(f"unknown argument {a!r}")
    if not opts["files"]:
        usage_error("--file is required")
    if len(opts["files"]) > 1 and not opts["twins"]:
        usage_error("several --file only with --twins")
    if opts["source_root"] is None:
        # The script lives in <root>/tests/compile_fail.
        opts["source_root"] = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
    if not opts["compilers"]:
        opts["compilers"] = [(["g++"], False), (["clang++"], True)]
    return opts


def read_expectations(path):
    expects, max_errors = [], 1
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*//\s*expect:\s?(.*?)\s*$", line)
            if m and m.group(1):
                expects.append(m.group(1))
            m = re.match(r"\s*//\s*max-errors:\s*(\d+)\s*$", line)
            if m:
                max_errors = int(m.group(1))
    return expects, max_errors


def squash(text):
    return re.sub(r"\s+", "", text)


def contains(haystack, needle):
    return needle in haystack or squash(needle) in squash(haystack)


def compiler_kind(cmd):
    """'clang' or 'gcc' (anything not clang is driven like g++)."""
    try:
        out = subprocess.run(cmd + ["--version"], capture_output=True, text=True,
                             errors="replace", timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return "clang" if "clang" in out.lower() else "gcc"


def compile_file(cmd, kind, root, path, extra, twin):
    args = list(cmd) + ["-std=c++20", "-fsyntax-only"]
    args += ["-fno-color-diagnostics"] if kind == "clang" else ["-fdiagnostics-color=never"]
    args += [f"-I{os.path.join(root, 'include')}", f"-I{os.path.join(root, 'probes')}"]
    args += extra
    if twin:
        args.append("-DNNP_TWIN")
    args.append(path)
    env = dict(os.environ)
    env.pop("GCC_COLORS", None)
    env.pop("CLICOLOR_FORCE", None)
    p = subprocess.run(args, capture_output=True, text=True, errors="replace", env=env,
                       timeout=600)
    return p.returncode, p.stderr, args


def stand_in_line(lines, where, kind):
    """The diagnostic stand-in naming the nodes (`no_nonlinearity_between<node_ref<1, ...>,
    ...>`): g++ prints it in the 'evaluates to false' note after the message, clang in the
    message's `requirement '...'`."""
    if where is None:
        return None
    if kind == "clang":
        m = re.search(r"requirement '(.*?)' \"nnprobe:", lines[where])
        return f"requirement (same line): {m.group(1)}" if m else None
    for k in range(where + 1, min(where + 6, len(lines))):
        m = re.search(r"note: .(.*). evaluates to false", lines[k])
        if m:
            return f"note (line {k + 1}): {m.group(1)}"
    return None


def excerpt(text, n=30):
    lines = text.splitlines()
    shown = "\n".join("    | " + l for l in lines[:n])
    if len(lines) > n:
        shown += f"\n    | ... ({len(lines) - n} more lines)"
    return shown


def check_compiler(cmd, root, path, extra, expects, max_errors, max_line, twin=True):
    """Returns (ok, report lines)."""
    label = os.path.basename(cmd[0]) if len(cmd) == 1 else " ".join(cmd)
    kind = compiler_kind(cmd)
    if ("clang" in label) != (kind == "clang"):
        label += f" ({kind})"  # e.g. `c++`, which is g++ or clang++ depending on the system
    failures = []

    rc, err, args = compile_file(cmd, kind, root, path, extra, twin=False)
    lines = err.splitlines()
    where = next((k for k, l in enumerate(lines) if MESSAGE.search(l)), None)
    if rc == 0:
        failures.append("the file compiled, but a static check should have rejected it")
    else:
        for e in expects:
            if not contains(err, e):
                failures.append(f"expected text not in the output: {e!r}")
        if where is None:
            failures.append("no line of the output contains 'nnprobe:'")
        elif where + 1 > max_line:
            failures.append(f"the first 'nnprobe:' line is line {where + 1}, "
                            f"after the first {max_line} lines")
        errors = sum(1 for l in lines if re.search(r"\berror\b:", l))
        if errors > max_errors:
            failures.append(f"{errors} errors printed, at most {max_errors} expected "
                            "(a failed check should stop the cascade)")

    if where is not None:
        msg = lines[where][MESSAGE.search(lines[where]).start():]
        if kind == "clang":
            msg = msg.rstrip('"')  # clang quotes the message
        if len(msg) > 110:
            msg = msg[:107] + "..."
        head = f"{label}: message on line {where + 1} of {len(lines)}: {msg}"
    else:
        head = f"{label}: no nnprobe message ({len(lines)} lines of output, exit status {rc})"
    report = [head]
    stand_in = stand_in_line(lines, where, kind)
    if stand_in:
        report.append(f"  {stand_in}")
    if failures:
        report += [f"  FAIL: {f}" for f in failures]
        report.append("  command: " + " ".join(args))
        report.append("  output:\n" + excerpt(err))

    if not twin:
        return not failures, report
    rc2, err2, args2 = compile_file(cmd, kind, root, path, extra, twin=True)
    if rc2 != 0:
        failures.append("twin")
        report.append("  FAIL: the twin (-DNNP_TWIN) does not compile")
        report.append("  command: " + " ".join(args2))
        report.append("  output:\n" + excerpt(err2))
    else:
        report.append(f"  twin (-DNNP_TWIN) compiles"
                      + (" (with warnings)" if err2.strip() else ""))
    return not failures, report


def twins_source(paths):
    """One translation unit holding the twin of every file: each body in its own namespace
    (line numbers kept with #line, `int main(` renamed), the includes hoisted to the top."""
    head, bodies = [], []
    for k, path in enumerate(paths):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        seen_include = False
        body = []
        for line in lines:
            if re.match(r"\s*#\s*include\b", line):
                seen_include = True
                if line.strip() not in head:
                    head.append(line.strip())
                body.append("")
            elif not seen_include and re.match(r"\s*#\s*define\b", line):
                if line.strip() not in head:
                    head.append(line.strip())
                body.append("")
            else:  # main, in a namespace, is an ordinary function (auto: no return needed)
                body.append(re.sub(r"^int main\(", "auto twin_main(", line))
        bodies.append(f"namespace nnp_twin_{k} {{\n#line 1 \"{path}\"\n" + "\n".join(body) + "\n}\n")
    return "#define NNP_TWIN 1\n" + "\n".join(head) + "\n" + "".join(bodies)


def check_twins(cmd, root, paths, extra):
    label = os.path.basename(cmd[0])
    kind = compiler_kind(cmd)
    src = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nnprobe_twins_{os.getpid()}_{label}.cpp")
    with open(src, "w", encoding="utf-8") as f:
        f.write(twins_source(paths))
    try:
        rc, err, args = compile_file(cmd, kind, root, src, extra, twin=False)
    finally:
        os.remove(src)
    if rc == 0:
        return True, [f"{label}: the twins of {len(paths)} files compile as one translation unit"
                      + (" (with warnings)" if err.strip() else "")]
    return False, [f"{label}: FAIL: the twins (-DNNP_TWIN) do not compile",
                   "  command: " + " ".join(args), "  output:\n" + excerpt(err, 60)]


def main(argv):
    opts = parse_args(argv)
    root = os.path.abspath(opts["source_root"])
    paths = [p if os.path.isabs(p) else os.path.join(root, p) for p in opts["files"]]
    for p in paths:
        if not os.path.isfile(p):
            print(f"FAIL: no test file {p}")
            return 1
    if opts["twins"]:
        return run_twins(opts, root, paths)
    path = paths[0]
    expects, max_errors = read_expectations(path)
    if not expects:
        print(f"FAIL: {path} has no `// expect: <text>` line")
        return 1

    print(f"{os.path.relpath(path, root)}")
    return on_each_compiler(opts, lambda cmd: check_compiler(cmd, root, path, opts["extra"], expects, max_errors,
                                                             opts["max_line"], opts["twin"]))


def run_twins(opts, root, paths):
    return on_each_compiler(opts, lambda cmd: check_twins(cmd, root, paths, opts["extra"]))


def on_each_compiler(opts, check):
    """Run check(cmd) -> (good, report lines) with every compiler given; a missing optional
    (or clang) compiler is skipped, a missing required one fails. Exit status 0 when all hold."""
    ok, ran = True, 0
    for cmd, optional in opts["compilers"]:
        if shutil.which(cmd[0]) is None:
            if optional or "clang" in os.path.basename(cmd[0]):
                print(f"{cmd[0]}: not found on PATH, skipped")
                continue
            print(f"FAIL: compiler {cmd[0]!r} not found on PATH")
            return 1
        good, report = check(cmd)
        print("\n".join(report))
        ok = ok and good
        ran += 1
    if ran == 0:
        print("FAIL: no compiler was run")
        return 1
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
