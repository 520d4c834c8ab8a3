"""Read whole columns of one workspace into NumPy in one pass.

On PostgreSQL a query is streamed with ``COPY ... TO STDOUT (FORMAT binary)`` and parsed with
one ``np.frombuffer`` (every selected column is a non-null ``bigint``, so each row has a fixed
width); elsewhere (SQLite) the rows are fetched in one ``fetchall``. Times are read as
milliseconds since the epoch, truncated, by ``epoch_ms``; dates as days since the epoch by
``epoch_days``, so both engines give identical numbers.
"""

import numpy as np
from django.db import connection

_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


_PG_EPOCH_US = 946_684_800_000_000  # binary COPY counts timestamps in microseconds from 2000-01-01


def epoch_ms(column: str) -> str:
    """A timestamp column read as milliseconds since the epoch. On PostgreSQL the column goes
    out raw (binary COPY carries it as int8 microseconds) and is converted in NumPy: no
    per-row arithmetic in the server. Name such columns in ``read_columns(times=...)``."""
    if connection.vendor == "postgresql":
        return column
    seconds = f"CAST(strftime('%%s', {column}) AS INTEGER)"
    millis = f"CAST(substr(strftime('%%f', {column}), 4, 3) AS INTEGER)"
    return f"({seconds} * 1000 + {millis})"


def epoch_days(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')::bigint"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def as_bigint(expression: str) -> str:
    return f"({expression})::bigint" if connection.vendor == "postgresql" else f"CAST({expression} AS INTEGER)"


def read_columns(
    sql: str, params: list, names: list[str], times: frozenset[str] = frozenset()
) -> dict[str, np.ndarray]:
    """Run ``sql`` (selecting ``len(names)`` non-null integer columns, the ``times`` ones made
    with ``epoch_ms``) and return one int64 array per name."""
    if connection.vendor == "postgresql":
        return _read_postgres(sql, params, names, times)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    matrix = np.array(rows, dtype=np.int64).reshape(-1, len(names))
    return {name: np.ascontiguousarray(matrix[:, i]) for i, name in enumerate(names)}


def _read_postgres(sql: str, params: list, names: list[str], times: frozenset[str]) -> dict[str, np.ndarray]:
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        # Cast every other column to bigint here, so each row has the same width whatever the
        # query's expressions return (CASE gives integer, MIN of a smallint gives smallint).
        aliases = [f"c{i}" for i in range(len(names))]
        casts = ", ".join(
            alias if name in times else f"{alias}::bigint" for alias, name in zip(aliases, names, strict=True)
        )
        wrapped = f"SELECT {casts} FROM ({query}) AS q({', '.join(aliases)})"
        sink = _BinaryCopySink(names, times)
        cursor.copy_expert(f"COPY ({wrapped}) TO STDOUT (FORMAT binary)", sink)
    return sink.columns()


class _BinaryCopySink:
    """A file-like target for ``copy_expert`` that parses the binary COPY stream as it arrives,
    in pieces of a few megabytes, into per-column chunks: the whole stream is never held in
    memory at once, only the finished int64 columns."""

    PIECE = 16 << 20

    def __init__(self, names: list[str], times: frozenset[str]):
        self.names, self.times = names, times
        fields = [("count", ">i2")]
        for name in names:
            fields += [(f"{name}_len", ">i4"), (name, ">i8")]
        self.dtype = np.dtype(fields)
        self.pending = bytearray()
        self.header_done = False
        self.chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def write(self, data) -> int:
        self.pending += data
        if len(self.pending) >= self.PIECE:
            self._parse(final=False)
        return len(data)

    def _parse(self, *, final: bool) -> None:
        view = memoryview(self.pending)
        start = 0
        if not self.header_done:
            if len(view) < 19:
                return
            if bytes(view[:11]) != _PG_SIGNATURE:
                raise ValueError("unexpected COPY BINARY header")
            start = 19 + int.from_bytes(view[15:19], "big")
            self.header_done = True
        stop = len(view) - 2 if final else len(view)  # the trailer is a field count of -1
        whole = (stop - start) // self.dtype.itemsize
        if final and (stop - start) % self.dtype.itemsize:
            raise ValueError("COPY BINARY stream ended inside a row")
        rows = np.frombuffer(view[start : start + whole * self.dtype.itemsize], dtype=self.dtype)
        if len(rows):
            if (rows["count"] != len(self.names)).any():
                raise ValueError("COPY BINARY row with an unexpected field count")
            for name in self.names:
                if (rows[f"{name}_len"] != 8).any():
                    raise ValueError(f"column {name} must be a non-null bigint")
                values = rows[name].astype(np.int64)
                if name in self.times:
                    values = np.floor_divide(values + _PG_EPOCH_US, 1000)
                self.chunks[name].append(values)
        del rows, view
        self.pending = self.pending[start + whole * self.dtype.itemsize :]

    def columns(self) -> dict[str, np.ndarray]:
        self._parse(final=True)
        result = {}
        for name in self.names:
            parts = self.chunks.pop(name)
            result[name] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            del parts
        return result
