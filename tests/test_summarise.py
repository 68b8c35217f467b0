#!/usr/bin/env python3
"""Checks summarise.py on hand-written meson test logs: a skipped test is reported as skipped,
never as passed; the last line stays `N passed, N failed`; any failure exits non-zero."""
import json
import os
import subprocess
import sys
import tempfile

SUMMARISE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "summarise.py")
DOCTEST_OK = "[doctest] test cases: 12 | 12 passed | 0 failed | 0 skipped\n"


def run(records):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "testlog.json")
        with open(path, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
        p = subprocess.run([sys.executable, SUMMARISE, path], capture_output=True, text=True)
    return p.returncode, p.stdout.splitlines()


def expect(what, got, wanted):
    if got != wanted:
        print(f"FAIL: {what}: got {got!r}, expected {wanted!r}")
        return 1
    return 0


def main():
    bad = 0
    unit = {"name": "unit", "result": "OK", "stdout": DOCTEST_OK}
    skip_a = {"name": "compile-fail c2", "result": "SKIP", "stdout": ""}
    skip_b = {"name": "readme examples", "result": "SKIP", "stdout": ""}
    fail = {"name": "compile-fail c3", "result": "FAIL", "stdout": ""}

    rc, out = run([unit, skip_a, {"name": "x", "result": "OK", "stdout": ""}, skip_b])
    bad += expect("skipped: exit status", rc, 0)
    bad += expect("skipped: the last two lines", out[-2:],
                  ["2 skipped: compile-fail c2, readme examples", "13 passed, 0 failed"])

    rc, out = run([unit, skip_a, fail])
    bad += expect("a failure: exit status", rc, 1)
    bad += expect("a failure: the last two lines", out[-2:],
                  ["1 skipped: compile-fail c2", "12 passed, 1 failed"])

    rc, out = run([unit])
    bad += expect("nothing skipped: no skipped line", out, ["12 passed, 0 failed"])

    rc, out = run([skip_a])
    bad += expect("only skipped: nothing ran, exit status", rc, 1)
    bad += expect("only skipped: last line", out[-1:], ["0 passed, 0 failed"])

    print("summarise.py: all cases hold" if not bad else f"{bad} case(s) failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
