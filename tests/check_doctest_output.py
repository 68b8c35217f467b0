#!/usr/bin/env python3
"""What a user's doctest run shows for nnprobe's verdicts: run the unit-test binary's
"doctest glue" suite (one probe that fails on purpose, one that passes) with the console
reporter, then with the JUnit reporter and NNP_VERDICTS_JSON set, and check that
  - the console shows the failing CHECK with the verdict's explanation as its value,
  - the JUnit failure message is the explanation (not `false`),
  - -ts selects a test suite, and the JSON file holds every verdict with its test case.
Usage: check_doctest_output.py TEST_BINARY
"""
import json
import re
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

exe = sys.argv[1]
failures = []


def expect(cond, what, text=""):
    if not cond:
        failures.append(f"{what}\n{text}")


def run(*args, env=None):
    return subprocess.run([exe, "--no-version", "-ts=doctest glue", *args], capture_output=True, errors="replace",
                          text=True, env=env).stdout


console = run()
expect("CHECK( probe ) is NOT correct!" in console and "values: CHECK( FAIL overfits: " in console,
       "the console does not show the failing CHECK with the verdict's explanation", console)
expect("CHECK( false )" not in console, "the console shows CHECK( false )", console)
expect(re.search(r"test cases:\s*3 \|\s*3 passed", console), "-ts='doctest glue' should select its 3 cases", console)

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "verdicts.json")
    xml = run("-r=junit", env=dict(os.environ, NNP_VERDICTS_JSON=path))
    messages = [f.get("message", "") for f in ET.fromstring(xml).iter("failure")]
    expect(any(m.startswith("FAIL overfits: ") for m in messages),
           f"the JUnit failure message is not the explanation: {messages}", xml)
    try:
        doc = json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        doc = {"verdicts": []}
        expect(False, f"no JSON verdicts at {path}: {e}")
    cases = {(v["test_case"], v["check"], v["passed"]) for v in doc["verdicts"]}
    expect(("glue: a failing probe reads like a failing CHECK on the verdict", "overfits", False) in cases
           and ("glue: a passing probe", "all_layers_change", True) in cases,
           f"the JSON verdicts lack a case: {sorted(cases)}")
    expect(all(v["series"] for v in doc["verdicts"]), "a JSON verdict has no series")

for f in failures:
    print("FAIL:", f)
print("doctest output: ok" if not failures else f"doctest output: {len(failures)} problems")
sys.exit(1 if failures else 0)
