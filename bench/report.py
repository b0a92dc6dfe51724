"""Print Markdown tables of the newest result per engine and size (for bench/RESULTS.md).

python bench/report.py [bench/results/*.json ...]
python bench/report.py --summary     # one table: median (p95) per page, engine and size
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = {"S": 0, "M": 1, "L": 2, "XL": 3}
# Issue 8's targets for list, search and log pages.
MEDIAN_MS, P95_MS = 50, 150
# ... and for creating a mailbox: at most the hash's own cost plus this.
CREATE_BEYOND_HASH_MS = 30


def newest(paths: list[Path]) -> list[dict[str, Any]]:
    """Return, per (engine, size), the newest run with each page's newest measurement."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(paths, key=lambda p: json.loads(p.read_text())["when"]):
        data = json.loads(path.read_text())
        key = (data["engine"], data["size"])
        if key in best and "--only" in data["command"]:
            # A partial run (--only) replaces only the pages it measured.
            old = best[key]
            steps = {(s["name"], s["role"]): s for s in old["steps"]}
            steps.update({(s["name"], s["role"]): s for s in data["steps"]})
            data["steps"] = list(steps.values())
            data["command"] = f"{old['command']}`, then `{data['command']}"
        best[key] = data
    return sorted(best.values(), key=lambda d: (d["engine"], ORDER.get(d["size"], 9)))


def mark(step: dict[str, Any]) -> str:
    beyond = step.get("beyond_hash_ms")
    if step["kind"] == "create" and beyond is not None:
        return f" ({beyond} beyond the hash{'' if beyond <= CREATE_BEYOND_HASH_MS else ' ✗'})"
    if step["kind"] != "list" or step["median_ms"] is None:
        return ""
    ok = step["median_ms"] <= MEDIAN_MS and step["p95_ms"] <= P95_MS
    return "" if ok else " ✗"


def opt(value: Any) -> str:
    return "" if value is None else str(value)


def table(data: dict[str, Any]) -> str:
    m = data["machine"]
    rows = m["rows"]
    mem = data.get("memory_after") or {}
    lines = [
        f"### {data['size']} on {m['db_server'].split(' on ')[0].split(',')[0]}",
        "",
        f"`{data['command']}` — {data['when']}; rows: {rows['domain']} domains, "
        f"{rows['mailbox']:,} mailboxes, {rows['alias']:,} alias rows, {rows['log']:,} log rows; "
        f"{data['reps']} reps after {data['warmup']} warm-up, page size {data['page_size']}, "
        f"gunicorn {data['workers']} workers; load average before {data.get('loadavg_before')}.",
        "",
        "| page | role | median ms | p95 ms | bytes | queries | SQL ms | app CPU ms | HTTP |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in data["steps"]:
        lines.append(
            f"| {s['name']} | {s['role']} | {s['median_ms']}{mark(s)} | {s['p95_ms']} | "
            f"{s['bytes']} | {s['queries'] if s['queries'] is not None else ''} | "
            f"{opt(s.get('sql_ms'))} | {opt(s.get('python_cpu_ms'))} | "
            f"{','.join(map(str, s['statuses']))} |"
        )
    lines += [
        "",
        f"Hash (configured scheme) {data['hash_ms']} ms. Server peak RSS: worker "
        f"{mem.get('peak_worker_mb')} MB, master + workers {mem.get('peak_total_mb')} MB.",
        "",
    ]
    return "\n".join(lines)


def _shape(name: str) -> str:
    """Return a page's name without its size-dependent page number (p20, p400, p1000)."""
    words = name.split()
    return " ".join(
        "p-deep" if w.startswith("p") and w[1:].isdigit() and w != "p1" else w for w in words
    )


def summary(results: list[dict[str, Any]]) -> str:
    """Return one table of medians (p95) per page and role, a column per engine and size."""
    columns = [(d["engine"], d["size"]) for d in results]
    cells: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
    for data in results:
        for s in data["steps"]:
            if s["median_ms"] is None:
                continue
            text = f"{s['median_ms']:.0f} ({s['p95_ms']:.0f}){mark(s)}"
            key = (_shape(s["name"]).replace("p-deep", "deep page"), s["role"])
            cells.setdefault(key, {})[(data["engine"], data["size"])] = text
    names = {"postgresql": "PG", "mysql": "MariaDB"}
    head = " | ".join(f"{names.get(e, e)} {z}" for e, z in columns)
    lines = [f"| page | role | {head} |", "|---|---|" + "---:|" * len(columns)]
    for (page, role), row in cells.items():
        values = " | ".join(row.get(c, "") for c in columns)
        lines.append(f"| {page} | {role} | {values} |")
    return "\n".join(lines)


def main() -> None:
    args = sys.argv[1:]
    only_summary = "--summary" in args
    paths = [Path(p) for p in args if p != "--summary"] or sorted(RESULTS.glob("*.json"))
    results = newest(paths)
    if only_summary:
        print(summary(results))
        return
    if results:
        m = results[-1]["machine"]
        print(
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}; "
            f"Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}.\n"
        )
    for data in results:
        print(table(data))


if __name__ == "__main__":
    main()
