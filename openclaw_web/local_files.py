"""Owner-only files under var/: the generated keys and the embedded SQLite database.

Used by settings at start-up, before logging is configured (a warning then goes to stderr
through Python's last-resort handler, which is what an operator sees at start-up anyway).

Every file here is *created* with mode 0600 (never written first and tightened afterwards,
which leaves a window in which another local user can read it), and var/ itself is 0700. Files
left looser by an earlier version are tightened at start-up, with a log line saying so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """Remove group/other permission bits from `path` if it has any, saying so."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        path.chmod(mode)
        log.warning("%s was accessible to other users (mode %o); tightened to %o", path, current, mode)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) with the directory itself 0700, or tighten it.

    `os.makedirs(mode=...)` is filtered by the umask, which can only remove bits, so the result
    is at most 0700; the chmod makes it exactly 0700. A sticky directory (such as /tmp) is
    shared by design and is never tightened: OPENCLAW_VAR_DIR must name the app's own folder.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    mode = path.stat().st_mode
    if mode & stat.S_ISVTX:
        log.warning("%s is a shared (sticky) directory; point OPENCLAW_VAR_DIR at a folder of its own", path)
        return path
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def _publish_once(path: Path, content: str) -> None:
    """Write `content` to `path` unless it exists, never visible with a looser mode than 0600.

    1. `mkstemp` creates a temporary file in the same folder with O_EXCL and mode 0600.
    2. The content is written and flushed to disk.
    3. `os.link` gives it its final name only if that name is still free, so two processes
       starting at the same moment cannot overwrite each other's key (both then read the one
       that won); where hard links are unsupported, `os.replace` renames it atomically.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:
            os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def replace_private_file(path: Path, content: str) -> None:
    """Write `content` to `path`, replacing it atomically: readers see the old file or the new one,
    never a half-written one, and never a looser mode than 0600 (`mkstemp`, then `os.replace`).
    The folder is created 0700 if missing."""
    ensure_private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def local_key(directory: Path, name: str) -> str:
    """A random key kept in `directory`/`name` (created 0600 on first use), tightened if looser."""
    ensure_private_dir(directory)
    path = directory / name
    if not path.exists():
        _publish_once(path, secrets.token_urlsafe(50))
    _tighten(path, PRIVATE_FILE_MODE)
    return path.read_text().strip()


def ensure_private_sqlite_file(path: Path) -> None:
    """Create the SQLite database file empty and 0600 before Django opens it (SQLite would
    create it with the umask's mode, usually 0644, and gives its -journal and -wal files the
    database file's mode); tighten an existing one. Its folder is left as it is (it may be
    shared); a missing one is created 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    _tighten(path, PRIVATE_FILE_MODE)
