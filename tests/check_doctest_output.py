#!/usr/bin/env python3
"""What a user's doctest run shows for nnprobe's verdicts: run the unit-test binary's
"doctest glue" suite (one probe that fails on purpose, one that passes) with the console
reporter, then with the JUnit reporter and NNP_VERDICTS_JSON set, and check that
  - the console shows the failing CHECK with the verdict's explanation as its value,
  - the JUnit failure message is the explanation (not `false`),
  - -ts selects a test suite, and the JSON file holds every verdict with its test case,
  - NNP_PROBE_SUITE's cases sit in a test suite named after the pipeline, so -ts selects one
    model's cases and no other,
  - NNP_SEED replays one seed, NNP_SEEDS sweeps seeds and prints the pass rate, the failing
    seeds and a command that replays one, and that command does replay it.
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


def run_plain(*args, env=None):
    p = subprocess.run([exe, "--no-version", *args], capture_output=True, errors="replace", text=True,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout


# -ts=iris-mlp selects that model's generated cases and nothing else.
_, listed = run_plain("-ltc", "-ts=iris-mlp")
names = [l.strip() for l in listed.splitlines() if l.strip() and not l.startswith("[doctest]") and "=====" not in l]
expect(len(names) >= 5 and all(n.startswith("iris-mlp/") for n in names)
       and {"iris-mlp/overfits", "iris-mlp/gradients_flow"} <= set(names),
       f"-ts=iris-mlp should list the iris-mlp/* cases alone: {names}", listed)
code, out = run_plain("-ts=iris-mlp")
expect(code == 0 and re.search(rf"test cases:\s*{len(names)} \|\s*{len(names)} passed", out),
       "-ts=iris-mlp should run and pass exactly its cases", out)

# Seeds: the every-third-seed suite passes on seed 1, fails on seed 3, and a sweep names 3 and 6.
third = ["-ts=doctest glue: every third seed", "-tc=*/overfits"]
code, out = run_plain(*third)
expect(code == 0, "the every-third-seed overfits case should pass on its default seed 1", out)
code, out = run_plain(*third, env={"NNP_SEED": "3"})
expect(code != 0 and "FAIL overfits: " in out
       and "passes when the batcher `misaligned_on_every_third_seed` is replaced by full_batch" in out,
       "NNP_SEED=3 should fail overfits and name the batcher", out)
code, out = run_plain(*third, env={"NNP_SEEDS": "6"})
case = "doctest glue: every third seed/overfits"
replay = f"NNP_SEED=3 {exe} -tc='{case}'"
expect(code != 0 and "FAIL overfits over seeds 1-6: 4 of 6 seeds pass (67%); failing seeds: 3, 6" in out
       and f"replay one: {replay}" in out, "NNP_SEEDS=6 should report the pass rate, seeds 3 and 6 and the replay", out)
replayed = subprocess.run(["sh", "-c", replay + " --no-version"], capture_output=True, text=True, errors="replace")
code, out = replayed.returncode, replayed.stdout
expect(code != 0 and "FAIL overfits: " in out and re.search(r"test cases:\s*1 \|", out),
       "the replay command should run that one case and fail it", out)
code, out = run_plain(*third, env={"NNP_SEEDS": "2"})
expect(code == 0 and "overfits over seeds 1-2" not in out, "NNP_SEEDS=2 (seeds 1, 2) should pass", out)
code, out = run_plain(*third, env={"NNP_SEED": "x"})
expect(code != 0 and "NNP_SEED=x is not a whole number" in out, "a bad NNP_SEED should be a clear error", out)

for f in failures:
    print("FAIL:", f)
print("doctest output: ok" if not failures else f"doctest output: {len(failures)} problems")
sys.exit(1 if failures else 0)
