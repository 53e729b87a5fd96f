"""The SQL counters' storage on MariaDB/MySQL (PyMySQL): one connection, read only, and the
tables and columns each kind needs checked before a row is read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from statsvc.core.migrate import source_id
from statsvc.core.text import error_line
from statsvc.sources.errors import SourceError, SourceURL, split_url
from statsvc.sources.reading import Reading

if TYPE_CHECKING:
    from statsvc.sources.kinds import Reader

DEFAULT_PREFIX = {
    "vinaora": "jos_",
    "nukeviet": "nv4",
    "wp-statistics": "wp_",
    "wp-postviews": "wp_",
    "post-views-counter": "wp_",
}
PREFIX = re.compile(r"[A-Za-z0-9_]*")
CONNECT_TIMEOUT = 10  # seconds
ACCESS_DENIED = {1045, 1698}  # MySQL's error numbers (1698: a user of unix_socket only)
UNKNOWN_DATABASE = 1049
EXPECTED = "mysql://user:password@host:port/database"


class Database:
    """One open connection to the old counter's database, and what its tables hold."""

    def __init__(self, connection: Any, name: str) -> None:
        self._connection = connection
        self.name = name
        self._tables: set[str] | None = None

    def tables(self) -> set[str]:
        """Return the names of the database's tables."""
        if self._tables is None:
            self._tables = {row[0] for row in self.rows("SHOW TABLES")}
        return self._tables

    def need(self, table: str, *columns: str) -> None:
        """Raise SourceError unless `table` exists with `columns`."""
        if table not in self.tables():
            raise SourceError("no_table", table=table, database=self.name)
        found = {
            str(row[0]).lower()
            for row in self.rows(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s",
                (self.name, table),
            )
        }
        for column in columns:
            if column.lower() not in found:
                raise SourceError("no_column", table=table, column=column)

    def rows(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Return the rows of a query (its identifiers checked by the caller)."""
        with self._connection.cursor() as cursor:
            cursor.execute(query, args)
            return list(cursor.fetchall())


def read(
    kind: str, url: str, reader: Reader, *, prefix: str | None, initial: int | None
) -> Reading:
    """Read the SQL counter `kind` at a mysql:// URL with its reader."""
    prefix = DEFAULT_PREFIX[kind] if prefix is None else prefix
    if not PREFIX.fullmatch(prefix):
        raise SourceError("bad_prefix", prefix=prefix)
    parts = split_url(url, EXPECTED)
    database = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("mysql", "mariadb") or not database:
        raise SourceError("bad_url", expected=EXPECTED)
    where = f"{parts.host}:{parts.port or 3306}"
    with _connected(parts, database, where) as db:
        source = source_id(kind, f"{where}/{database}", prefix)
        origin = {"kind": kind, "from": parts.public, "prefix": prefix}
        try:
            return reader(db, prefix, initial, source, origin)
        except SourceError:
            raise
        except Exception as exc:  # a query the server refused mid-way: a line, not a trace
            raise SourceError(
                "read_failed", where=where, reason=error_line(_message(exc))
            ) from None


@contextmanager
def _connected(parts: SourceURL, database: str, where: str) -> Iterator[Database]:
    try:
        import pymysql
    except ImportError:
        raise SourceError("no_driver", kind="a SQL counter") from None
    try:
        connection = pymysql.connect(
            host=parts.host,
            port=parts.port or 3306,
            user=parts.user or "root",
            password=parts.password or "",
            database=database,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=600,
            charset="utf8mb4",
        )
    except pymysql.err.OperationalError as exc:
        number = exc.args[0] if exc.args else 0
        if number in ACCESS_DENIED:
            raise SourceError("access_denied", where=where, user=parts.user or "root") from None
        if number == UNKNOWN_DATABASE:
            raise SourceError("no_database", where=where, database=database) from None
        raise SourceError("cannot_connect", where=where, reason=error_line(_message(exc))) from None
    except pymysql.err.MySQLError as exc:
        raise SourceError("cannot_connect", where=where, reason=error_line(_message(exc))) from None
    try:
        yield Database(connection, database)
    finally:
        connection.close()


def _message(exc: Exception) -> str:
    """Return a driver error's own message: PyMySQL's errors are (number, message)."""
    return str(exc.args[-1]) if exc.args else type(exc).__name__
