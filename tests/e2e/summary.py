"""Reads the JUnit XML reports of the end-to-end suites and prints one line per suite and the
closing `N passed, N failed` line. Exit status 1 when anything failed or a suite wrote no report.

    summary.py NAME=REPORT.xml ...
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def count(path: str) -> tuple[int, int, int, list[str]]:
    """Passed, failed and skipped tests, and the lines to print under the suite: each failure,
    and each known problem (a node:test `todo`, counted as skipped whether or not it failed)."""
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    failures: list[str] = []
    for case in root.iter("testcase"):
        if case.find("testcase") is not None:
            continue  # a node:test suite wrapper, not a test
        name = case.get("name", "?")
        todo = next((s for s in case.findall("skipped") if s.get("type") == "todo"), None)
        if todo is not None:
            skipped += 1
            state = "still failing" if case.find("failure") is not None else "now passing"
            failures.append(f"TODO {name} ({state}): {todo.get('message', '')}")
        elif case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(f"FAILED {name}")
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


def main(args: list[str]) -> int:
    total_passed = total_failed = total_skipped = 0
    for arg in args:
        name, _, path = arg.partition("=")
        try:
            passed, failed, skipped, failures = count(path)
        except (OSError, ET.ParseError) as e:
            print(f"  {name}: no report ({e.__class__.__name__}): counted as 1 failed")
            total_failed += 1
            continue
        if passed + failed == 0:
            print(f"  {name}: ran no test: counted as 1 failed")
            total_failed += 1
            continue
        extra = f", {skipped} skipped" if skipped else ""
        print(f"  {name}: {passed} passed, {failed} failed{extra}")
        for f in failures:
            print(f"      {f}")
        total_passed += passed
        total_failed += failed
        total_skipped += skipped
    extra = f", {total_skipped} skipped" if total_skipped else ""
    print(f"{total_passed} passed, {total_failed} failed{extra}")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
