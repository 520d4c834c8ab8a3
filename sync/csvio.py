"""CSV in and out, through the same upsert code as the bulk API.

An import reads the file in batches of 1,000 rows, each batch one call to the resource's upsert
(its own transaction), and reports every refused row with its line number, fields and messages;
an export streams the live records in id order, a few thousand at a time, so a million rows
never sit in memory.

Formulas: a spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and some a tab
or carriage return) as a formula, so a lead named ``=HYPERLINK(...)`` would run on the desk of
whoever opens the export. Every export prefixes ``'`` to a text cell (by the column's kind: never
an amount, a number or a time) that begins with one of those or with ``'`` itself, as OWASP's
CSV injection rule says; the import strips exactly that prefix (a ``'`` followed by one of those
characters) from text cells, so an export imports back to the same values. The rule has one
home, ``workspaces.csvsafe``, which the ``report`` command's CSV uses too.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext, ngettext

from funnel.stages import EventSource
from workspaces.csvsafe import FORMULA_STARTS, formula_unguarded
from workspaces.permissions import BULK

from .bulk import upsert_permitted
from .forms import RESOURCE_LABELS
from .interchange import JSON, Spec, to_interchange
from .resources import Resource

BATCH = 1000
EXPORT_CHUNK = 5000
KEPT_ERRORS = 1000
_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # the export's inner loop asks the set (a million rows)


class CSVFormatError(ValueError):
    """A file that cannot be read as this resource's CSV at all."""


def read_csv(content: bytes, spec: Spec) -> tuple[list[str], Iterator[dict]]:
    """The header and an iterator of rows (dicts of column to text). Refuses a file that is not
    UTF-8 text, that has no header, or whose header names columns the resource does not have."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CSVFormatError(
            gettext("The file is not UTF-8 text (byte %(byte)s cannot be read); save it as CSV UTF-8.")
            % {"byte": error.start}
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise _unreadable(error, 1) from None
    if not header or not any(cell.strip() for cell in header):
        raise CSVFormatError(
            gettext("The file is empty; its first line should be a header such as: %(header)s")
            % {"header": ",".join(spec.names)}
        )
    header = [cell.strip() for cell in header]
    known = set(spec.output_names)
    unknown = [cell for cell in header if cell not in known]
    if unknown:
        raise CSVFormatError(
            ngettext(
                "Unknown column %(columns)s. The columns of %(resource)s are: %(known)s.",
                "Unknown columns %(columns)s. The columns of %(resource)s are: %(known)s.",
                len(unknown),
            )
            % {
                "columns": ", ".join(repr(c) for c in unknown),
                "resource": RESOURCE_LABELS.get(spec.resource, spec.resource),
                "known": ", ".join(spec.names),
            }
        )
    repeated = sorted({cell for cell in header if header.count(cell) > 1})
    if repeated:
        raise CSVFormatError(
            ngettext("The column %(columns)s appears twice.", "The columns %(columns)s appear twice.", len(repeated))
            % {"columns": ", ".join(repeated)}
        )

    text_cells = [i for i, name in enumerate(header) if name in spec.text_names]

    def rows() -> Iterator[dict]:
        # "__line__": the line of the file where the row starts, as a spreadsheet shows it (blank
        # lines and cells holding line breaks make it differ from the row's position).
        ended = reader.line_num
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as error:
                raise _unreadable(error, ended + 1) from None
            if cells is None:
                return
            line, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                yield {"__extra__": cells[len(header) :], "__line__": line}
                continue
            for i in text_cells:
                if i < len(cells):
                    cells[i] = formula_unguarded(cells[i])
            yield dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True)) | {"__line__": line}

    return header, rows()


def _unreadable(error: csv.Error, line: int) -> CSVFormatError:
    if "field limit" in str(error):
        return CSVFormatError(
            gettext(
                "Line %(line)s has a cell over %(limit)s characters (no column takes more than a few hundred); "
                "is a quote left open?"
            )
            % {"line": line, "limit": f"{csv.field_size_limit():,}"}
        )
    return CSVFormatError(gettext("Line %(line)s cannot be read as CSV: %(error)s.") % {"line": line, "error": error})


@dataclass
class ImportSummary:
    counts: dict = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "error": 0})
    errors: list = field(default_factory=list)  # {"line", "errors"} of refused rows (the first KEPT_ERRORS)
    rows: int = 0


def import_rows(
    *,
    workspace,
    resource: Resource,
    rows: Iterator[dict],
    actor=None,
    progress: Callable[[ImportSummary], None] | None = None,
    granted=None,
    who: str = "",
) -> ImportSummary:
    """Import the rows in batches. ``granted``, ``who``: the actions of the member the import
    runs as, and how a refused row names them (a row they may not write is refused, naming the
    permission: ``sync.bulk.upsert_permitted``); None for a system's import, which may write
    anything (the ``import_csv`` command)."""
    summary = ImportSummary()
    batch: list[dict] = []
    next_line = 2  # line 1 is the header; rows without "__line__" count from it

    def flush():
        nonlocal next_line
        lines = []
        for row in batch:
            lines.append(row.pop("__line__", next_line))
            next_line = lines[-1] + 1
        records = list(batch)
        extra = {i: row["__extra__"] for i, row in enumerate(records) if "__extra__" in row}
        for i in extra:
            records[i] = {}
        report = upsert_permitted(
            resource.upsert,
            resource=resource.name,
            kind=BULK,
            records=records,
            granted=granted,
            who=who,
            workspace=workspace,
            actor=actor,
            source=EventSource.IMPORT,
        )
        for i, result in enumerate(report.results):
            if i in extra:
                result = {
                    "status": "error",
                    "errors": {
                        "non_field_errors": [
                            ngettext(
                                "This row has %(count)s cell more than the header.",
                                "This row has %(count)s cells more than the header.",
                                len(extra[i]),
                            )
                            % {"count": len(extra[i])}
                        ]
                    },
                }
            summary.counts[result["status"]] += 1
            if result["status"] == "error" and len(summary.errors) < KEPT_ERRORS:
                summary.errors.append({"line": lines[i], "errors": result["errors"]})
        summary.rows += len(records)
        batch.clear()
        if progress:
            progress(summary)

    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    return summary


def export_csv(resource: Resource, queryset=None) -> Iterator[str]:
    """The resource's live records as CSV text, header first, in id order, in chunks."""
    names = resource.output_names()
    text_cells = [i for i, name in enumerate(names) if name in resource.spec.text_names]
    json_names = {c.name for c in (*resource.spec.columns, *resource.spec.output_only) if c.kind == JSON}
    json_cells = [i for i, name in enumerate(names) if name in json_names]
    queryset = (queryset if queryset is not None else resource.rows()).order_by("id")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    yield buffer.getvalue()
    last = 0
    while True:
        chunk = list(queryset.filter(id__gt=last).values_list(*resource.values)[:EXPORT_CHUNK])
        if not chunk:
            return
        buffer.seek(0)
        buffer.truncate()
        for row in chunk:
            cells = ["" if value is None else to_interchange(value) for value in row]
            for i in text_cells:  # csvsafe.formula_guarded, inline; an ID column may hold an integer (renews_id)
                value = cells[i]
                if type(value) is str and value[:1] in _FORMULA_FIRST:
                    cells[i] = "'" + value
            for i in json_cells:  # an object (an audit event's payload): JSON text, starting with {
                cells[i] = json.dumps(row[i], ensure_ascii=False, sort_keys=True)
            writer.writerow(cells)
        yield buffer.getvalue()
        last = chunk[-1][0]
