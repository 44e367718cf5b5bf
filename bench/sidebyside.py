"""navbat side by side with a bare Django app (bench/reference), in one run: same Django, same
PostgreSQL server (a database each), same WSGI server with the same options, persistent
database connections for both. Ratios first (the machine is shared), absolute numbers as
context.

    python bench/run.py                       # both parts: this and the in-process timings
    python bench/sidebyside.py --quick        # a short run while developing
    BENCH_SERVER='...{app}...{host}...{port}' python bench/sidebyside.py

The server command is a template: ``{python}``, ``{app}`` (the WSGI application's dotted
path), ``{host}`` and ``{port}`` are filled in; one line changes the server for both.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import uuid
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.load import Request  # noqa: E402
from bench.processes import HOST, Server, Target  # noqa: E402

# waitress, navbat's chosen server (README "The server"; navbat/server.py), with the options
# `navbat serve` gives it, for both apps alike. `navbat serve` also checks its per-request
# header and body deadlines once a second on top of this; plain waitress does not.
DEFAULT_SERVER = (
    "{python} -m waitress --listen={host}:{port} --threads=8 --connection-limit=1000 "
    "--backlog=2048 --channel-timeout=60 --cleanup-interval=1 "
    "--max-request-body-size=1048576 --asyncore-use-poll {app}"
)
NAVBAT_APP = "navbat.wsgi:application"
REFERENCE_APP = "bench.reference.wsgi:application"
NAVBAT_PORT, REFERENCE_PORT = 18_610, 18_611


@dataclass
class Goal:
    text: str
    met: bool | None  # None: not measured


@dataclass
class Report:
    rows: list[tuple] = field(default_factory=list)  # side-by-side throughput
    rate_rows: list[tuple] = field(default_factory=list)  # fixed rate
    history_rows: list[tuple] = field(default_factory=list)
    memory_rows: list[tuple] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- databases


def database_urls() -> tuple[str, str]:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "NAVBAT_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/navbat"
    )
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the side-by-side bench needs PostgreSQL: set BENCH_DATABASE_URL")
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "navbat"

    def named(suffix: str) -> str:
        return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))

    return named("bench"), named("bench_ref")


def recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


TARGETS: dict[int, Target] = {}


def run_python(args: list[str], env: dict) -> dict:
    out = subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- scenarios


def callback_body(index: int) -> bytes:
    """A payment callback as the bank sends it, each about another order (none is ours)."""
    return json.dumps(
        {
            "orderId": str(uuid.uuid4()),
            "orderNumber": f"bench-{index}",
            "amount": 10_000_000,
            "operationType": "PURCHASE",
            "operationState": "SUCCESS",
            "status": "COMPLETED",
            "ips": "UZCARD",
            "operationTime": datetime.now(UTC).isoformat(),
        }
    ).encode()


JSON = {"Content-Type": "application/json"}


def navbat_scenarios(info: dict) -> dict[str, tuple]:
    """name → (request maker, accepted statuses)."""
    cookie = {"Cookie": f"{info['session_cookie']}={info['session']}; django_language=en"}
    basic = b64encode(f"{info['merchant_login']}:{info['merchant_password']}".encode()).decode()
    check_body = json.dumps(
        {
            "serviceId": info["merchant_service_id"],
            "timestamp": 0,
            "params": {info["payment_attribute"]: info["link_code"]},
        }
    ).encode()
    token = info["link_token"]
    return {
        "callback": (
            lambda i: Request(
                "POST",
                f"/uzum/checkout/{info['connection_id']}/callback",
                callback_body(i),
                JSON,
            ),
            {200},
        ),
        "check": (
            lambda i: Request(
                "POST",
                f"/uzum/merchant/{info['connection_id']}/check",
                check_body,
                {**JSON, "Authorization": f"Basic {basic}"},
            ),
            {200},
        ),
        "pay": (lambda i: Request("GET", f"/pay/{token}", headers=cookie_free()), {200}),
        "watch": (lambda i: Request("GET", f"/pay/{token}/watch"), {204}),
        "journal": (lambda i: Request("GET", "/journal/", headers=cookie), {200}),
        "api": (
            lambda i: Request(
                "GET",
                "/api/v1/appointments?limit=50",
                headers={"Authorization": f"Bearer {info['api_token']}"},
            ),
            {200},
        ),
    }


def cookie_free() -> dict:
    return {"Accept-Language": "en"}


REFERENCE = {
    "insert": (lambda i: Request("POST", "/insert", callback_body(i), JSON), {200}),
    "select": (lambda i: Request("GET", "/select"), {200}),
}

PAIRS = [
    # (label, navbat scenario, reference scenario, goal ratio)
    ("Checkout callback ingestion", "callback", "insert", 0.5),
    ("Merchant API /check", "check", "select", 0.35),
    ("Quick Payment page", "pay", "select", 0.35),
    ("Quick Payment watch poll (204)", "watch", "select", 0.7),
    ("Journal page (logged in)", "journal", "select", 0.3),
    ("JSON API appointment list (50 rows)", "api", "select", 0.3),
]


def measure(port: int, scenario: tuple, args) -> load.Result:
    make, ok = scenario
    target = TARGETS.get(port)
    before = target.snapshot() if target else {}
    result = load.closed_loop(HOST, port, make, clients=args.clients, duration=args.seconds, ok=ok)
    if target and result.latencies:
        after = target.snapshot()
        spent = sum(after[pid] - before.get(pid, 0.0) for pid in after)
        result.cpu_ms = spent * 1000 / len(result.latencies)
    return result


def warm(port: int, scenario: tuple, count: int = 30) -> None:
    make, ok = scenario
    result = load.closed_loop(HOST, port, make, clients=2, duration=30, ok=ok, max_requests=count)
    if result.errors:
        raise SystemExit(f"warm-up on port {port} failed: {result.describe_errors()}")


def side_by_side(args, navbat_cases: dict, report: Report, label_suffix: str = "") -> dict:
    """Each pair measured in alternating order, ``rounds`` times; the ratio of medians."""
    ratios = {}
    for label, ours, theirs, goal in PAIRS:
        if args.only and ours not in args.only:
            continue
        mine, bare = [], []
        errors = 0
        for round_ in range(args.rounds):
            order = [("n", ours), ("r", theirs)]
            for who, name in order if round_ % 2 == 0 else reversed(order):
                if who == "n":
                    result = measure(NAVBAT_PORT, navbat_cases[name], args)
                    mine.append(result)
                else:
                    result = measure(REFERENCE_PORT, REFERENCE[name], args)
                    bare.append(result)
                errors += result.errors
        ours_rps = statistics.median(r.rps for r in mine)
        theirs_rps = statistics.median(r.rps for r in bare)
        ratio = ours_rps / theirs_rps if theirs_rps else float("nan")
        ours_cpu = statistics.median(r.cpu_ms for r in mine)
        ratios[ours] = (ratio, ours_cpu)
        theirs_cpu = statistics.median(r.cpu_ms for r in bare)
        report.rows.append(
            (
                label + label_suffix,
                f"**{ratio:.2f}×**",
                f"{theirs_cpu / ours_cpu:.2f}×",
                f"≥ {goal}×",
                "met" if ratio >= goal else "**not met**",
                f"{ours_rps:.0f} vs {theirs_rps:.0f} ({theirs.upper()})",
                f"{ours_cpu:.1f} vs {theirs_cpu:.1f}",
                f"{statistics.median(r.median for r in mine):.1f} / "
                f"{statistics.median(r.percentile(0.99) for r in mine):.1f}",
                f"{statistics.median(r.median for r in bare):.1f} / "
                f"{statistics.median(r.percentile(0.99) for r in bare):.1f}",
                str(errors),
            )
        )
        report.goals.append(
            Goal(f"{label}{label_suffix} ≥ {goal}× {theirs.upper()}", ratio >= goal)
        )
        print(report.rows[-1], flush=True)
    return ratios


def fixed_rate(args, navbat_cases: dict, report: Report) -> None:
    cases = [
        ("Checkout callbacks (new connection each)", NAVBAT_PORT, navbat_cases["callback"], True),
        ("bare Django INSERT (new connection each)", REFERENCE_PORT, REFERENCE["insert"], True),
        ("Quick Payment page", NAVBAT_PORT, navbat_cases["pay"], False),
        ("bare Django SELECT", REFERENCE_PORT, REFERENCE["select"], False),
    ]
    for label, port, (make, ok), fresh in cases:
        result = load.fixed_rate(
            HOST,
            port,
            make,
            rate=args.rate,
            duration=args.rate_seconds,
            ok=ok,
            new_connection=fresh,
        )
        p99 = result.percentile(0.99)
        report.rate_rows.append(
            (
                label,
                f"{len(result.latencies)}/{result.sent}",
                f"{result.median:.1f}",
                f"{result.percentile(0.95):.1f}",
                f"**{p99:.1f}**",
                f"{max(result.latencies, default=float('nan')):.1f}",
                result.describe_errors(),
            )
        )
        if port == NAVBAT_PORT:
            report.goals.append(
                Goal(
                    f"{label}: p99 < 100 ms, no errors at {args.rate:.0f}/s",
                    p99 < 100 and not result.errors,
                )
            )
        print(report.rate_rows[-1], flush=True)


def history(args, navbat_cases: dict, env: dict, report: Report, before: dict) -> None:
    """The journal and the API list with the history grown from the first size to the
    second: their cost (requests per second, and the ratio to SELECT) should not move."""
    grown = run_python(["bench/seed.py", "history", str(args.history[1])], env)
    report.notes.append(
        f"History grown to {grown['history']:,} appointments in {grown['seconds']} s "
        "(SQL, batches of 50,000)."
    )
    after = {}
    for name in ("journal", "api"):
        warm(NAVBAT_PORT, navbat_cases[name])
    for label, name in (("Journal page", "journal"), ("API appointment list", "api")):
        mine = [measure(NAVBAT_PORT, navbat_cases[name], args) for _ in range(args.rounds)]
        bare = [measure(REFERENCE_PORT, REFERENCE["select"], args) for _ in range(args.rounds)]
        rps = statistics.median(r.rps for r in mine)
        ratio = rps / statistics.median(r.rps for r in bare)
        after[name] = ratio
        (small, small_cpu), big = before[name], ratio
        big_cpu = statistics.median(r.cpu_ms for r in mine)
        change = big_cpu / small_cpu if small_cpu else float("nan")
        report.history_rows.append(
            (
                label,
                f"{small:.2f}×",
                f"{big:.2f}×",
                f"{small_cpu:.1f}",
                f"{big_cpu:.1f}",
                f"**{change:.2f}**",
            )
        )
        report.goals.append(
            Goal(
                f"{label}: the same cost with {args.history[0]:,} and "
                f"{args.history[1]:,} appointments (CPU per request within +15 %)",
                change <= 1.15,
            )
        )
        print(report.history_rows[-1], flush=True)


def memory(servers: dict[str, Server], report: Report) -> None:
    for label, server in servers.items():
        sizes = sorted(server.rss(), reverse=True)
        mib = [s / 2**20 for s in sizes]
        report.memory_rows.append(
            (label, " + ".join(f"{m:.0f}" for m in mib), f"{sum(mib):.0f}", f"{max(mib):.0f}")
        )
        if label == "navbat":
            report.goals.append(
                Goal("web process RSS ≤ 150 MB after the run", max(sizes) <= 150 * 2**20)
            )


# ------------------------------------------------------------------------------- report


def machine() -> str:
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{memory_kb / 2**20:.1f} GiB memory, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def commit() -> str:
    try:
        sha = subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" (with uncommitted changes)" if dirty else "")


def render(report: Report, args, context: dict) -> str:
    import django

    lines = [
        f"## {context['stamp']} — side by side with bare Django",
        "",
        f"Commit {context['commit']}; {context['machine']}; load average "
        f"{context['load_before']} before the run, {context['load_after']} after (other "
        "work shares these cores: compare ratios, not absolute numbers); PostgreSQL "
        f"{context['postgres']} on {HOST}; Django {django.get_version()}.",
        f"Server (both apps, same options): `{context['server']}`.",
        f"Persistent database connections for both (CONN_MAX_AGE=600 with health checks). "
        f"Load: {args.clients} keep-alive clients for {args.seconds:g} s per measurement, "
        f"{args.rounds} rounds in alternating order, from this machine's loopback (the load "
        "generator shares the cores). History at the start: "
        f"{args.history[0]:,} appointments.",
        "",
        "| Scenario | navbat ÷ bare (req/s) | by CPU per request | Goal | | req/s navbat vs "
        "bare | CPU ms per request navbat vs bare (web + PostgreSQL) | navbat ms median / p99 "
        "| bare ms median / p99 | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *["| " + " | ".join(row) + " |" for row in report.rows],
    ]
    if report.rate_rows:
        lines += [
            "",
            f"Fixed rate: {args.rate:.0f} requests/s for {args.rate_seconds:g} s (latency from "
            "the scheduled moment, so queueing counts):",
            "",
            "| Target | answered/sent | median ms | p95 ms | p99 ms | max ms | errors |",
            "|---|---|---|---|---|---|---|",
            *["| " + " | ".join(row) + " |" for row in report.rate_rows],
        ]
    if report.history_rows:
        lines += [
            "",
            f"History: {args.history[0]:,} → {args.history[1]:,} appointments (ratio to SELECT "
            "at each size):",
            "",
            f"| Page | ratio at {args.history[0]:,} | ratio at {args.history[1]:,} | CPU ms per "
            f"request at {args.history[0]:,} | at {args.history[1]:,} | CPU change |",
            "|---|---|---|---|---|---|",
            *["| " + " | ".join(row) + " |" for row in report.history_rows],
        ]
    if report.memory_rows:
        lines += [
            "",
            "Resident memory after the run (MiB, every process of the server: one for "
            "waitress; the arbiter and its workers for a pre-forking server):",
            "",
            "| App | processes | total | largest |",
            "|---|---|---|---|",
            *["| " + " | ".join(row) + " |" for row in report.memory_rows],
        ]
    lines += ["", "Goals:", ""]
    for goal in report.goals:
        mark = {True: "met", False: "**NOT MET**", None: "not measured"}[goal.met]
        lines.append(f"- {goal.text}: {mark}")
    if report.notes:
        lines += ["", *[f"- {note}" for note in report.notes]]
    return "\n".join(lines) + "\n"


def write_results(text: str) -> None:
    """Newest first, under the file's title."""
    results = ROOT / "bench" / "RESULTS.md"
    head = "# Benchmark results\n\nWritten by `make bench` (bench/run.py), newest first.\n"
    old = results.read_text() if results.exists() else head
    if "\n## " in old:
        _title, rest = old.split("\n## ", 1)
        body = "## " + rest
    else:
        body = ""
    results.write_text(head + "\n" + text + ("\n" + body if body else ""))


# --------------------------------------------------------------------------------- main


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER", DEFAULT_SERVER))
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument(
        "--history", type=lambda s: [int(x) for x in s.split(",")], default=[5_000, 500_000]
    )
    parser.add_argument("--only", nargs="*", help="navbat scenarios to run (default: all)")
    parser.add_argument("--no-rate", action="store_true")
    parser.add_argument("--no-history", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md")
    parser.add_argument(
        "--quick", action="store_true", help="short: 3 s, 1 round, 5 s rate, 50,000 history"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.rate_seconds = 3.0, 1, 5.0
        args.history = [args.history[0], 50_000]
    return args


def main(argv: list[str] | None = None) -> str:
    args = parse(argv)
    load_before = "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    navbat_url, reference_url = database_urls()
    recreate(navbat_url)
    recreate(reference_url)
    var_dir = tempfile.mkdtemp(prefix="navbat-bench-var-")
    base_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "NAVBAT_LOG_LEVEL": "WARNING",
    }
    navbat_env = {
        **base_env,
        "DJANGO_SETTINGS_MODULE": "bench.navbat_settings",
        "NAVBAT_DATABASE_URL": navbat_url,
        "NAVBAT_VAR_DIR": var_dir,
        "NAVBAT_PUBLIC_URL": f"http://{HOST}:{NAVBAT_PORT}",
    }
    reference_env = {
        **base_env,
        "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
        "BENCH_REFERENCE_DATABASE_URL": reference_url,
    }
    info = run_python(["bench/seed.py", "prepare"], navbat_env)
    run_python(["bench/seed.py", "history", str(args.history[0])], navbat_env)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=reference_env,
        check=True,
    )
    # As a release does before `navbat serve`: pages name hashed static files.
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=navbat_env,
        check=True,
    )
    report = Report()
    servers = {
        "navbat": Server(args.server, NAVBAT_APP, NAVBAT_PORT, navbat_env),
        "bare Django": Server(args.server, REFERENCE_APP, REFERENCE_PORT, reference_env),
    }
    TARGETS[NAVBAT_PORT] = Target(servers["navbat"], navbat_url)
    TARGETS[REFERENCE_PORT] = Target(servers["bare Django"], reference_url)
    try:
        cases = navbat_scenarios(info)
        for name, case in cases.items():
            if not args.only or name in args.only:
                warm(NAVBAT_PORT, case)
        for case in REFERENCE.values():
            warm(REFERENCE_PORT, case)
        before = side_by_side(args, cases, report)
        if not args.no_rate and not args.only:
            fixed_rate(args, cases, report)
        memory(servers, report)
        if not args.no_history and (not args.only or {"journal", "api"} <= set(args.only)):
            history(args, cases, navbat_env, report, before)
    finally:
        for server in servers.values():
            server.stop()
    context = {
        "stamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "load_before": load_before,
        "load_after": "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()),
        "machine": machine(),
        "postgres": server_version(navbat_url),
        "server": args.server.format(python="python", app="<app>", host=HOST, port="<port>"),
    }
    text = render(report, args, context)
    print(text)
    if not args.no_write:
        write_results(text)
    return text


if __name__ == "__main__":
    main()
