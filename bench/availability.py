"""Availability (F6) in process, side by side with a bare Django read of the same window:
the days of a 30-day month and one day's times, for a salon with 20 specialists, 50
services and 5,000 appointments, and for the same salon with 500,000 appointments in its
history; on PostgreSQL and on SQLite, in one run. Medians of N runs on one core (this
process; PostgreSQL answers from its own process), the SQL statements each call makes,
the ratio to the bare read, and the ratio of the long history to the short one.

    python -m bench.availability                 # both databases, writes bench/RESULTS.md
    python -m bench.availability --runs 50 --only postgresql --no-write
    python -m bench.availability --history 50000 # a quicker run while developing

PostgreSQL: the server of ``BENCH_DATABASE_URL`` or ``NAVBAT_DATABASE_URL`` (default
``postgres://postgres:postgres@127.0.0.1:5432/navbat``), in a database named after it with
``_availability`` appended, dropped and created for the run (``--keep`` reuses one that
holds the salons already). SQLite: a file in a temporary folder.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time as clock
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CURRENT = 5_000  # appointments around the month shown (bench/availability_salon.py)
GOAL_DAYS_MS, GOAL_TIMES_MS = 50.0, 20.0


# --------------------------------------------------------------------------- the parent


def database_url() -> str:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "NAVBAT_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/navbat"
    )
    if not base.startswith(("postgres://", "postgresql://")):
        base = "postgres://postgres:postgres@127.0.0.1:5432/navbat"
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "navbat"
    return urlunsplit(parts._replace(path=f"/{name}_availability"))


def child(url: str, args, var_dir: str, *, with_index: bool = False) -> dict:
    env = {
        **os.environ,
        "NAVBAT_DATABASE_URL": url,
        "NAVBAT_VAR_DIR": var_dir,
        "NAVBAT_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "navbat.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable,
        "-m",
        "bench.availability",
        "--child",
        "--runs",
        str(args.runs),
        "--history",
        str(args.history),
        *(["--with-index"] if with_index else []),
    ]
    out = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def render(results: list[dict], args, context: dict) -> str:
    import django

    lines = [
        f"## {context['stamp']} — availability (F6): a month's days and a day's times, "
        "side by side with a bare Django read",
        "",
        f"Commit {context['commit']}; {context['machine']}; load average "
        f"{context['load_before']} before the run, {context['load_after']} after (other work "
        "shares these cores: compare ratios, not absolute numbers); Django "
        f"{django.get_version()}; {context['databases']}. `python -m bench.availability` "
        f"(bench/availability.py), in process, one thread: median of {args.runs} runs after 3 "
        "warm-up runs, every run a whole call as the widget makes it (the settings, the "
        "services, who performs them, then the window's schedule and appointments).",
        "",
        "Salon: 20 specialists (6 days a week, 09:00-21:00, two days off and one short day "
        "each in the month), 50 services, each specialist performing 30 of them (16 of the 20 "
        "perform both services asked for); "
        f"{CURRENT:,} appointments from 30 days before today to 45 days after (packed days, "
        "cancellations, holds awaiting payment, some expired); the long history adds "
        f"{args.history - CURRENT:,} past appointments (12 a day per specialist, years back) "
        "to the same salon built again, in the same database. Asked: two services (45 + 30 "
        "minutes), 15-minute step, 60 minutes' notice, 10 minutes' buffer. The bare read: "
        "`Appointment.objects.filter(business_id=…, specialist_id__in=…, "
        'starts_at__gte=…, starts_at__lt=…).values_list("specialist_id", "starts_at", '
        '"ends_at")` of the same specialists and the same window, nothing else.',
        "",
        "| Database | History | Call | navbat ms | its CPU ms | statements | bare read ms "
        "| navbat ÷ bare | of which free_days / free_times ms | goal | |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for salon in result["salons"]:
            for call in salon["calls"]:
                goal = GOAL_DAYS_MS if call["kind"] == "days" else GOAL_TIMES_MS
                met = call["ms"] <= goal
                lines.append(
                    f"| {result['database']} | {salon['appointments']:,} | {call['name']} "
                    f"| **{call['ms']:.1f}** | {call['cpu_ms']:.1f} | {call['statements']} "
                    f"| {call['bare_ms']:.1f} "
                    f"| {call['ms'] / call['bare_ms']:.1f}× | {call['alone_ms']:.1f} "
                    f"| ≤ {goal:.0f} ms | {'met' if met else '**not met**'} |"
                )
    lines += [
        "",
        "The history's effect (the same call, long history ÷ short; 1.0 = no effect):",
        "",
        "| Database | Call | short ms | long ms | long ÷ short | bare read long ÷ short |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        short, long_ = result["salons"][0], result["salons"][1]
        for first, second in zip(short["calls"], long_["calls"], strict=True):
            lines.append(
                f"| {result['database']} | {first['name']} | {first['ms']:.1f} "
                f"| {second['ms']:.1f} | **{second['ms'] / first['ms']:.2f}** "
                f"| {second['bare_ms'] / first['bare_ms']:.2f} |"
            )
    lines += [""]
    for result in results:
        if result["with_index"]:
            lines.append(
                f"{result['database']}: the same database with the index proposed for the "
                f"window's appointments: `{result['index']}`."
            )
        else:
            lines.append(
                f"{result['database']}: built in {result['build_seconds']:.0f} s "
                f"({result['rows']:,} appointments in the database). "
                f"Statements of a call: {result['statements']}."
            )
        if result.get("plan"):
            lines.append(
                f"The window's appointments on {result['database']}, long history "
                f"(the database's plan): {result['plan']}"
            )
        lines.append("")
    return "\n".join(lines)


def write_results(text: str) -> None:
    """Newest first: the new section goes above the file's first one."""
    results = ROOT / "bench" / "RESULTS.md"
    old = results.read_text()
    head, sep, rest = old.partition("\n## ")
    results.write_text(head.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n" + sep + rest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--history", type=int, default=500_000)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--keep", action="store_true", help="reuse the PostgreSQL database")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--with-index", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(args)))
        return
    sys.path.insert(0, str(ROOT))
    from bench import sidebyside

    context = {
        "stamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": sidebyside.commit(),
        "machine": sidebyside.machine(),
        "load_before": load_average(),
    }
    results, databases = [], []
    with tempfile.TemporaryDirectory(prefix="navbat-bench-availability-") as var_dir:
        if args.only in (None, "postgresql"):
            url = database_url()
            if not args.keep:
                sidebyside.recreate(url)
            databases.append(f"PostgreSQL {sidebyside.server_version(url)} on 127.0.0.1")
            results.append(child(url, args, var_dir))
            print(json.dumps(results[-1]), flush=True)
            results.append(child(url, args, var_dir, with_index=True))
            print(json.dumps(results[-1]), flush=True)
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{Path(var_dir) / 'availability.sqlite3'}"
            databases.append("SQLite (a file on the local disk)")
            results.append(child(url, args, var_dir))
            print(json.dumps(results[-1]), flush=True)
    context["load_after"] = load_average()
    context["databases"] = ", ".join(databases)
    text = render(results, args, context)
    print(text)
    if not args.no_write:
        write_results(text)


# ---------------------------------------------------------------------------- the child


def measure_here(args) -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench import availability_salon as salon

    started = clock.perf_counter()
    small = salon.find_or_build("short", history=0)
    large = salon.find_or_build("long", history=max(args.history - CURRENT, 0))
    build_seconds = clock.perf_counter() - started
    from django.db import connection

    if args.with_index:
        salon.add_proposed_index()

    from navbat.booking.models import Appointment

    salons = [
        salon.measure(small, runs=args.runs),
        salon.measure(large, runs=args.runs),
    ]
    database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    return {
        "database": database + (" + proposed index" if args.with_index else ""),
        "with_index": args.with_index,
        "index": salon.PROPOSED_INDEX,
        "salons": salons,
        "build_seconds": build_seconds,
        "rows": Appointment.objects.count(),
        "statements": salon.statements_of(small),
        "plan": salon.plan_of(large),
    }


if __name__ == "__main__":
    main()
