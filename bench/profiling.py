"""In-process profile of the side-by-side scenarios against the bench database the last
side-by-side run left (or any prepared by ``bench/seed.py prepare``): per request, the median
time, the SQL statements, and with --profile the functions that dominate (cProfile).

    NAVBAT_DATABASE_URL=postgres://…/navbat_bench NAVBAT_VAR_DIR=… python bench/profiling.py
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.navbat_settings")
os.environ.setdefault("NAVBAT_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.seed import prepare  # noqa: E402
from bench.sidebyside import navbat_scenarios  # noqa: E402


def call(http: Client, request) -> int:
    headers = {}
    for name, value in request.headers.items():
        if name == "Content-Type":
            continue
        if name == "Cookie":
            for part in value.split("; "):
                key, _eq, val = part.partition("=")
                http.cookies[key] = val
            continue
        headers["HTTP_" + name.upper().replace("-", "_")] = value
    if request.method == "GET":
        return http.get(request.path, **headers).status_code
    return http.generic(
        request.method, request.path, request.body, "application/json", **headers
    ).status_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    info = prepare()
    rows = []
    for name, (make, ok) in navbat_scenarios(info).items():
        if args.only and name not in args.only:
            continue
        http = Client()
        for i in range(5):
            assert call(http, make(i)) in ok, name
        seen = []
        with connection.execute_wrapper(
            lambda run, sql, *r, seen=seen: seen.append(sql) or run(sql, *r)
        ):
            call(http, make(10))
        samples = []
        profiler = cProfile.Profile() if args.profile else None
        for i in range(args.repeat):
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            call(http, make(100 + i))
            if profiler:
                profiler.disable()
            samples.append((time.perf_counter() - start) * 1000)
        statements = [s.split()[0] for s in seen]
        rows.append((name, f"{statistics.median(samples):.1f} ms", len(seen), statements))
        print(json.dumps(rows[-1][:3]), " ".join(statements), flush=True)
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(
                os.environ.get("BENCH_SORT", "cumulative")
            ).print_stats(40)
            print(out.getvalue())
            for sql in seen:
                print("   ", sql[:400])


if __name__ == "__main__":
    main()
