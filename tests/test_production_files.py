"""Files under var/ are readable by navbat's own user only: the SQLite database with its -wal
and -shm files and the key files 0600, the var directory 0700 — also when an older version
left them readable by everyone."""

import json
import os
import stat
import subprocess
import sys

from tests.test_production import clean_env

PYTHON = sys.executable

# Opens the embedded database as any navbat process does (WAL on, so -wal and -shm exist
# while the connection is open), writes to it, and reports the modes it sees.
OPEN_AND_REPORT = """
import json, os, stat, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "navbat.settings"
import django
django.setup()
from django.db import connection
from django.conf import settings
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    cursor.execute("INSERT INTO probe VALUES (1)")
var = settings.VAR_DIR
names = ["", "navbat.sqlite3", "navbat.sqlite3-wal", "navbat.sqlite3-shm", "secret_key",
         "encryption_keys"]
print(json.dumps({name or ".": stat.S_IMODE(os.stat(var / name).st_mode) for name in names}))
"""

PRIVATE = {
    ".": 0o700,
    "navbat.sqlite3": 0o600,
    "navbat.sqlite3-wal": 0o600,
    "navbat.sqlite3-shm": 0o600,
    "secret_key": 0o600,
    "encryption_keys": 0o600,
}


def loose_umask():
    # The umask most shells start with: without navbat's care, files come out 0644.
    os.umask(0o022)


def open_embedded(tmp_path) -> dict:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [PYTHON, "-c", OPEN_AND_REPORT],
        env=clean_env(NAVBAT_VAR_DIR=str(tmp_path / "var")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=loose_umask,  # only ever sets the umask
    )
    assert result.returncode == 0, result.stderr
    return {name: oct(mode) for name, mode in json.loads(result.stdout).items()}


def octal(modes: dict) -> dict:
    return {name: oct(mode) for name, mode in modes.items()}


def test_a_fresh_var_directory_is_private(tmp_path):
    assert open_embedded(tmp_path) == octal(PRIVATE)


def test_files_an_older_version_left_readable_are_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    os.chmod(var, 0o755)  # noqa: S103 - as an older version left it
    first = open_embedded(tmp_path)
    assert first == octal(PRIVATE)
    # As an older navbat left them: everything readable by everyone.
    os.chmod(var, 0o755)  # noqa: S103 - as an older version left it
    for name in ("navbat.sqlite3", "secret_key", "encryption_keys"):
        os.chmod(var / name, 0o644)
    assert stat.S_IMODE((var / "navbat.sqlite3").stat().st_mode) == 0o644
    assert open_embedded(tmp_path) == octal(PRIVATE)
