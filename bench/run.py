"""``make bench``: navbat side by side with a bare Django app on one PostgreSQL server
(bench/sidebyside.py), then the in-process timings (bench/inprocess.py) on a fresh database
of the same server; both written to bench/RESULTS.md, newest first.

    python bench/run.py [side-by-side options, e.g. --quick or --server '...']
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import sidebyside  # noqa: E402


def in_process() -> str:
    navbat_url, _reference = sidebyside.database_urls()
    url = navbat_url + "_inprocess"
    sidebyside.recreate(url)
    env = {
        **os.environ,
        "NAVBAT_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "bench.navbat_settings",
        "BENCH_PLAIN_STATIC": "1",
    }
    out = subprocess.run(  # noqa: S603
        [sys.executable, "bench/inprocess.py"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return "\n".join(
        [
            "",
            "In-process (Django's test client on the same PostgreSQL server, no HTTP server):",
            "",
            "| What | Time | Notes |",
            "|---|---|---|",
            *[f"| {name} | {result} | {notes} |" for name, result, notes in rows],
            "",
        ]
    )


def main() -> None:
    argv = sys.argv[1:]
    text = sidebyside.main([*argv, "--no-write"])
    text += in_process()
    print(text)
    if "--no-write" not in argv:
        sidebyside.write_results(text)


if __name__ == "__main__":
    main()
