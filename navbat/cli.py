"""The `navbat` console command.

navbat run [--host H] [--port P]   migrate, collect static files, load the demo on an empty
                                   database, serve the web, the API and the background
                                   worker in one process
navbat serve [--host H] [--port P] [--workers N] [--threads T]
                                   the web tier alone (production; no migrate, no worker)
navbat worker                      background workers alone (production)
navbat demo [--json]               load the demo salon (idempotent) and print its logins
navbat <django command> ...        any Django management command (migrate, createsuperuser…)
"""

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading

logger = logging.getLogger("navbat")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "navbat.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _demo_text(info: dict) -> str:
    lines = [
        f"Demo salon: {info['business']['name']}",
        f"  open      {info['public_url']}/",
        f"  log in    {info['login']['email']} / {info['login']['password']}",
        f"  API token {info['api_token']}",
        f"  API docs  {info['public_url']}/api/v1/docs",
    ]
    uzum = info.get("uzum")
    if uzum:
        # The API key and the Merchant API password are left out on purpose: this text ends
        # up in logs. The page shows them masked; `navbat demo --json` gives scripts the
        # password.
        lines += [
            f"Uzum Bank ({uzum['environment']}), connection {uzum['connection_id']}",
            f"  terminal id          {uzum['terminal_id']}",
            f"  Merchant API service {uzum['merchant_service_id']}, "
            f"login {uzum['merchant_login']} (password: navbat demo --json)",
            f"  payment callback     {uzum['callback_urls']['payment']}",
            f"  event callback       {uzum['callback_urls']['event']}",
            f"  receipt callback     {uzum['callback_urls']['receipt']}",
            f"  Merchant API         {uzum['merchant_api_url']}",
        ]
    return "\n".join(lines)


DEMO_REFUSED = (
    "navbat demo: the demo salon is for the embedded mode only; production never loads it."
)


def _first_run_demo() -> str | None:
    """The embedded mode loads the demo on an empty database and returns what to print;
    production never loads it (no demo owner, token or sandbox connection)."""
    from django.conf import settings

    from navbat.demo import load_demo
    from navbat.salons.models import Business

    if not settings.EMBEDDED or Business.objects.exists():
        return None
    return _demo_text(load_demo())


def _make_worker(*, interval: float, worker_id: str):
    from navbat.payments.reconciliation import ensure_daily_scheduled
    from navbat.worker import JobWorker

    # The nightly check reschedules itself; the first worker to start seeds it once.
    ensure_daily_scheduled()
    return JobWorker(
        queue_names=["*"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def _supervised_worker(*, interval: float, worker_id: str):
    """A worker thread started again (with a log line) whenever it dies; see navbat.worker."""
    from navbat.worker import Supervisor

    return Supervisor(
        make_worker=lambda: _make_worker(interval=interval, worker_id=worker_id),
        worker_id=worker_id,
    )


def _collectstatic() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def _serve_in_process(sock, *, threads: int | None) -> None:
    """navbat's WSGI application on waitress in this process, until Ctrl-C or SIGTERM."""
    from django.db import connections

    from navbat import server
    from navbat.wsgi import application

    # Connections opened by migrate or the demo are not the serving threads' to reuse.
    connections.close_all()
    server.serve_forever(
        server.make_server(application, sock, server.limits_from_settings(threads))
    )


def _public_url(host: str, port: int) -> str:
    """Where `navbat run` is reached, when NAVBAT_PUBLIC_URL does not say."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a listening address, not a bind
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both stop `navbat run` cleanly.

    SIGINT is set explicitly: a process started in the background by a shell inherits
    SIGINT ignored, and then Ctrl-C or ``kill -INT`` would do nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def cmd_run(args) -> int:
    # Printed links, CSRF origins and the sandbox bank's callbacks follow the port served.
    os.environ.setdefault("NAVBAT_PUBLIC_URL", _public_url(args.host, args.port))
    _setup()
    from navbat.server import listening_socket

    _migrate()
    _collectstatic()
    # Bound before anything else starts, so a taken port stops `navbat run` at once.
    sock = listening_socket(args.host, args.port)
    demo_text = _first_run_demo()
    if demo_text:
        print(demo_text, flush=True)
    from navbat.worker import new_worker_id

    worker = _supervised_worker(interval=1.0, worker_id=new_worker_id(f"embedded-{os.getpid()}"))
    worker.start()
    print(f"navbat serves http://{args.host}:{args.port}/ (Ctrl-C stops everything)", flush=True)
    _stop_on_signals()
    try:
        _serve_in_process(sock, threads=args.threads)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop(timeout=5)  # the job in hand gets a moment; an unfinished one is reclaimed
    print("navbat stopped.", flush=True)
    return 0


def cmd_serve(args) -> int:
    """The web tier alone: no migrations, no demo, no worker (run `navbat worker`)."""
    # Settings are checked once, here, before any process is forked.
    _setup()
    from django.conf import settings

    from navbat.server import listening_socket, run_workers

    workers = args.workers or settings.NAVBAT_WEB_WORKERS
    if workers > 1:
        return run_workers(
            workers=workers,
            host=args.host,
            port=args.port,
            child_main=lambda sock: _serve_in_process(sock, threads=args.threads),
        )
    sock = listening_socket(args.host, args.port)
    print(f"navbat serves http://{args.host}:{args.port}/", flush=True)
    _stop_on_signals()
    with contextlib.suppress(KeyboardInterrupt):
        _serve_in_process(sock, threads=args.threads)
    print("navbat stopped.", flush=True)
    return 0


def cmd_worker(args) -> int:
    _setup()
    from navbat.worker import new_worker_id, run_worker_process

    worker_id = new_worker_id()
    return run_worker_process(
        make_worker=lambda: _make_worker(interval=args.interval, worker_id=worker_id),
        worker_id=worker_id,
    )


def cmd_demo(args) -> int:
    _setup()
    from django.conf import settings

    from navbat.demo import load_demo

    if not settings.EMBEDDED:
        print(DEMO_REFUSED, file=sys.stderr)
        return 2
    _migrate()
    info = load_demo()
    print(json.dumps(info, indent=2, ensure_ascii=False) if args.json else _demo_text(info))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="navbat", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    run_parser = sub.add_parser("run", help="serve everything in one process")
    run_parser.add_argument("--host", default=os.environ.get("NAVBAT_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("NAVBAT_PORT", "8000")))
    run_parser.add_argument("--threads", type=int, default=None, help="NAVBAT_WEB_THREADS")
    serve_parser = sub.add_parser("serve", help="serve the web tier alone (production)")
    serve_parser.add_argument("--host", default=os.environ.get("NAVBAT_HOST", "127.0.0.1"))
    serve_parser.add_argument(
        "--port", type=int, default=int(os.environ.get("NAVBAT_PORT", "8000"))
    )
    serve_parser.add_argument("--workers", type=int, default=None, help="NAVBAT_WEB_WORKERS")
    serve_parser.add_argument("--threads", type=int, default=None, help="NAVBAT_WEB_THREADS")
    worker_parser = sub.add_parser("worker", help="run background workers only")
    worker_parser.add_argument("--interval", type=float, default=1.0)
    demo_parser = sub.add_parser("demo", help="load the demo salon and print its logins")
    demo_parser.add_argument("--json", action="store_true")

    if argv and argv[0] not in ("run", "serve", "worker", "demo", "-h", "--help"):
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["navbat", *argv])
        return 0
    args = parser.parse_args(argv)
    handlers = {"run": cmd_run, "serve": cmd_serve, "worker": cmd_worker, "demo": cmd_demo}
    if args.command is None:
        parser.print_help()
        return 2
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
