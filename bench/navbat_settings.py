"""navbat's own settings for the side-by-side run, with persistent database connections as
the reference has them (unless navbat's settings already pool or keep connections)."""

import os

from navbat.settings import *  # noqa: F403
from navbat.settings import DATABASES

_default = DATABASES["default"]
if not _default.get("CONN_MAX_AGE") and "pool" not in _default.get("OPTIONS", {}):
    _default["CONN_MAX_AGE"] = 600
    _default["CONN_HEALTH_CHECKS"] = True

# The callback scenario sends thousands of callbacks a minute from one address to one
# connection: far past the production limits (300 per address, 120 per connection), which
# would answer 429 after the first seconds. The counting itself still runs on every
# callback, as in production; the limits have their own tests (tests/uzum/test_callbacks_flood.py).
NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = 1_000_000_000
NAVBAT_CALLBACK_LIMIT_PER_CONNECTION = 1_000_000_000
NAVBAT_CALLBACK_LIMIT_PER_ORDER = 1_000_000_000

# The in-process timings render pages without a server and without `collectstatic`: plain
# static names there (the served runs use the hashed manifest, as production does).
if os.environ.get("BENCH_PLAIN_STATIC"):
    STORAGES = {
        **STORAGES,  # noqa: F405
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
