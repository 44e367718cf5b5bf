"""navbat's own settings for the side-by-side run, with persistent database connections as
the reference has them (unless navbat's settings already pool or keep connections)."""

from navbat.settings import *  # noqa: F403
from navbat.settings import DATABASES

_default = DATABASES["default"]
if not _default.get("CONN_MAX_AGE") and "pool" not in _default.get("OPTIONS", {}):
    _default["CONN_MAX_AGE"] = 600
    _default["CONN_HEALTH_CHECKS"] = True
