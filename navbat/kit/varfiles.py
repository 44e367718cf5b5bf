"""navbat's own files (the SQLite database, the generated keys) are its user's alone.

A umask set at start-up makes new files 0600 and directories 0700; files and a var/ that
an older version left readable by everyone are tightened when navbat next opens them.
SQLite gives its -wal and -shm files the mode of the database file, so a 0600 database
keeps them 0600 too once the ones already there are tightened.
"""

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def make_private(path: Path | str) -> None:
    """Take group's and others' permission bits away from a file or directory we own."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if info.st_uid != os.getuid():
        return  # not ours to change (a shared directory, another user's file)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        os.chmod(path, mode & 0o700)


def private_dir(path: Path) -> Path:
    """Create ``path`` (0700) if needed and make it private."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(path)
    return path


_protected: set[str] = set()


def protect_sqlite_files(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the first time this process opens a SQLite database
    file, it and its -wal and -shm files become 0600 (in-memory databases are left alone)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if name in _protected or not os.path.isfile(name):
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        make_private(path)
    _protected.add(name)
