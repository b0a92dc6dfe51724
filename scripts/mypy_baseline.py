#!/usr/bin/env python3
"""Run mypy and hold its errors to mypy-baseline.txt, a list that may only shrink.

Each line of the baseline is one known error as `path: message  [code]`, without the line number,
so that editing a file elsewhere does not disturb it (the same error twice is listed twice).

- An error that the baseline does not list fails the check: fix it (or, for a deliberate
  exception, add a `# type: ignore[code]` with the reason).
- A baseline line that mypy no longer reports also fails the check, so the list shrinks with
  every fix: `scripts/mypy_baseline.py --update` removes it.
- `--update` never adds a line unless `--accept-new` is given, e.g. when a merge moves
  known errors into another file (or the baseline does not exist yet).

Usage: scripts/mypy_baseline.py [--update [--accept-new]] [mypy arguments]
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
HEADER = (
    "# Known mypy errors, one per line, that the code still has: this list may only shrink.\n"
    "# Checked by `make lint` (scripts/mypy_baseline.py); fix one, then run\n"
    "# `scripts/mypy_baseline.py --update` to drop its line.\n"
)
# path:line: error: message  [code]  (mypy's default output without columns)
_ERROR = re.compile(r"^(?P<path>[^:]+):\d+: error: (?P<message>.*)$")
# Some messages cite other lines ("defined on line 12"): those move with every edit too.
_LINE_REFERENCE = re.compile(r"\bon line \d+\b")


def run_mypy(arguments: list[str]) -> tuple[list[str], str]:
    """Run mypy on the checkout; return its errors as baseline lines and its whole output."""
    result = subprocess.run(  # noqa: S603 - mypy with the caller's own arguments
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary", *arguments, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode not in (0, 1) or (result.returncode == 1 and " error: " not in output):
        sys.exit(f"mypy did not run:\n{output}")
    errors = []
    for line in result.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            message = _LINE_REFERENCE.sub("on line N", match["message"])
            errors.append(f"{match['path']}: {message}")
    return sorted(errors), output


def read_baseline() -> list[str]:
    if not BASELINE.exists():
        return []
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def write_baseline(errors: list[str]) -> None:
    BASELINE.write_text(HEADER + "".join(f"{e}\n" for e in sorted(errors)), encoding="utf-8")


def main(argv: list[str]) -> int:
    update = "--update" in argv
    accept_new = "--accept-new" in argv
    arguments = [a for a in argv if a not in ("--update", "--accept-new")]
    current, output = run_mypy(arguments)
    known = read_baseline()
    new = Counter(current) - Counter(known)
    fixed = Counter(known) - Counter(current)

    if update:
        if new and known and not accept_new:
            print(output, end="")
            print(f"\n{sum(new.values())} new mypy error(s), not added to the baseline:")
            print("".join(f"  {e}\n" for e in sorted(new.elements())), end="")
            print("Fix them, or pass --accept-new when known errors only moved.")
            return 1
        write_baseline(current)
        print(f"mypy baseline: {len(current)} error(s) ({len(known)} before).")
        return 0

    if new:
        print(output, end="")
        print(f"\n{sum(new.values())} mypy error(s) not in mypy-baseline.txt:")
        print("".join(f"  {e}\n" for e in sorted(new.elements())), end="")
    if fixed:
        print(f"\n{sum(fixed.values())} error(s) of mypy-baseline.txt are fixed; drop them with")
        print("scripts/mypy_baseline.py --update:")
        print("".join(f"  {e}\n" for e in sorted(fixed.elements())), end="")
    if new or fixed:
        return 1
    print(f"mypy: no new errors ({len(known)} known in mypy-baseline.txt).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
