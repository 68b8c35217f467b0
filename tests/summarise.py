#!/usr/bin/env python3
"""Turn meson test logs into one plain closing line, `N passed, N failed`.

A doctest executable counts its test cases (from its own summary line); any other meson
test counts as one. A skipped test is neither: it is listed on its own line,
`N skipped: <names>`, just before the closing line. Exit status 1 when anything failed or
nothing ran.
"""
import json
import re
import sys

DOCTEST = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed")


def count(path):
    """(passed, failed, names of skipped tests) in one testlog.json."""
    passed = failed = 0
    skipped = []
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"{path}: no test log (did the build fail?)")
        return 0, 1, []
    for line in lines:
        t = json.loads(line)
        if t["result"] == "SKIP":
            skipped.append(t["name"])
            continue
        ok = t["result"] in ("OK", "EXPECTEDFAIL")
        m = DOCTEST.search(t.get("stdout", "") or "")
        if m:
            p, f = int(m.group(2)), int(m.group(3))
            # A crash after the summary, or a non-zero exit, still fails the run.
            if not ok and f == 0:
                f = 1
            passed, failed = passed + p, failed + f
        else:
            passed, failed = passed + ok, failed + (not ok)
        if not ok:
            print(f"FAILED: {path}: {t['name']} ({t['result']})")
    return passed, failed, skipped


def main():
    passed = failed = 0
    skipped = []
    for path in sys.argv[1:]:
        p, f, s = count(path)
        passed, failed, skipped = passed + p, failed + f, skipped + s
    if skipped:
        print(f"{len(skipped)} skipped: {', '.join(skipped)}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
