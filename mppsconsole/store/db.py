"""The SQLite connection the SCP threads and the CLI share.

One connection per process, serialised by a lock: pynetdicom runs every
association on its own thread, and SQLite allows one writer at a time anyway.
Other processes (the CLI beside a running ``serve``, the GUI) open their own
connection; WAL lets them read while the SCP writes, and the busy timeout makes
concurrent writers queue instead of failing. Durability: see the PRAGMAs below.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from mppsconsole.core.errors import UserError, WriteFailed
from mppsconsole.store.migrations import migrate
from mppsconsole.store.private import make_private_dirs, make_private_file

BUSY_TIMEOUT_MS = 10_000


def _write_refused(exc: BaseException) -> bool:
    """SQLITE_FULL (ENOSPC), or SQLITE_IOERR (e.g. EFBIG past a file size limit)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.OperationalError)
        and code is not None
        and (code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR))
    )


class Database:
    """A migrated SQLite database with lock-guarded transactions."""

    def __init__(self, path: Path, *, durability: str = "normal") -> None:
        self.path = path
        make_private_dirs(path.parent)
        try:
            # 0600 before SQLite opens it: SQLite gives -wal/-shm the database file's mode.
            make_private_file(path)
            self._conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # WAL + synchronous=NORMAL (the default ``durability``): a commit is written
            # to the WAL file (in the OS's cache) before the peer hears Success, so a
            # crash or kill -9 of this process loses nothing acknowledged (tests/e2e:
            # test_kill9_*); only a power loss can drop the last commits. FULL adds an
            # fsync per commit (~3 ms here, 7-25 % of an in-memory SCP against 0-7 %,
            # DESIGN.md §5) for sites that need power-loss durability; storage
            # commitment checkpoints (flush) before it vouches for anything.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={durability.upper()}")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise UserError(f"{path}: cannot open the database: {exc}") from None
        self._lock = threading.RLock()
        with self.transaction() as conn:
            migrate(conn, path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic, durable write: committed when the block ends, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                # A failed COMMIT (disk full) leaves the transaction open: every later
                # BEGIN would fail until it is rolled back.
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if _write_refused(exc):
                    raise WriteFailed(f"{self.path}: cannot write: {exc}") from exc
                raise

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (no other thread of this process writes meanwhile)."""
        with self._lock:
            yield self._conn

    def flush(self) -> None:
        """Make every commit so far survive a power loss (checkpoint: fsync WAL and file).

        Used before vouching for data (storage commitment), whatever ``synchronous`` says.
        """
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(FULL)")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
