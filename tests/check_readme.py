#!/usr/bin/env python3
"""The README's examples are real: every ```cpp block announced by `<!-- from FILE -->` must
stand verbatim in FILE, which the test suite compiles and runs."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
readme = (root / "README.md").read_text(encoding="utf-8")
blocks = re.findall(r"<!-- from (\S+) -->\n```cpp\n(.*?)```", readme, re.S)
failed = 0
for path, block in blocks:
    source = (root / path).read_text(encoding="utf-8")
    if block not in source:
        print(f"README block from {path} is not in that file:\n{block}")
        failed += 1
print(f"{len(blocks)} README blocks checked, {failed} differ from their files")
sys.exit(1 if failed or not blocks else 0)
