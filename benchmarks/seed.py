"""Time and peak memory of ``manage.py seed_demo`` on PostgreSQL.

    .venv/bin/python benchmarks/seed.py [--profiles 100000] [--days 120]

Runs the command in a child process on a scratch database (cxo_bench_seed) and samples its resident
memory every 0.2 s. Results go to the "Demo world" section of docs/benchmarks.md.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import PYTHON, ROOT, production_env, scratch_database, write_section  # noqa: E402


def rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+)", status)
    return int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=100000)
    parser.add_argument("--days", type=int, default=120)
    options = parser.parse_args()
    url = scratch_database("cxo_bench_seed")
    env = production_env(url)
    started = time.monotonic()
    child = subprocess.Popen(
        [
            PYTHON,
            "manage.py",
            "seed_demo",
            "--profiles",
            str(options.profiles),
            "--days",
            str(options.days),
            "--today",
            "2026-11-24",
            "--truth-out",
            "/tmp/cxo_bench_truth.csv",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    peak, last_line = 0, ""
    while child.poll() is None:
        peak = max(peak, rss_kib(child.pid))
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    output = child.stdout.read()
    last_line = output.strip().splitlines()[-1] if output.strip() else ""
    stored = int(re.search(r"(\d+) events stored", last_line).group(1)) if "events stored" in last_line else 0
    body = f"""`benchmarks/seed.py --profiles {options.profiles} --days {options.days}` (PostgreSQL, production settings):

| figure | result | target |
|---|---|---|
| people | {options.profiles:,} | 100,000 |
| events stored | {stored:,} | ~10 M at 100k people |
| wall time | **{elapsed / 60:.1f} min** ({stored / elapsed:,.0f} events/s) | ≤ 15 min at 100k people |
| peak resident memory | **{peak / 1024:,.0f} MiB** | < 2 GB |

Last line of the command: `{last_line}`
"""
    write_section("Demo world", body)
    print(body)


if __name__ == "__main__":
    main()
