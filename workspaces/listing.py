"""The machinery every list page shares (leads, campaigns, accounts, target lists): the sort,
the filters and the search read from the URL, keyset pagination, and the capped count.

Keyset ("seek") pagination instead of OFFSET: a page is the ``size`` rows after (or before)
the last (first) row shown, found through the index that serves the ordering, so page 5,000 of
a million rows costs what page 1 does. The ordering always ends in the primary key, so rows
that tie on the sorted column keep one order and no row is shown twice or skipped. The cursor
in the URL (``?after=`` / ``?before=``) is the values of the ordering's columns at the edge of
the page, opaque to the reader. A cursor that cannot be read shows the first page. Sorted
columns must not be NULL (a NULL compares as nothing: the rows after it would be lost).

The count reads at most ``COUNT_CAP + 1`` rows (a ``LIMIT`` subquery), so it stays cheap on a
large workspace: "1,234 leads", or "10,000+" past the cap. Pages build their queries with
``list_query`` and take the results of ``keyset_page`` and ``capped_count``; the partials
``_list_filters.html``, ``_list_pager.html`` and ``_empty_state.html`` draw them.
"""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from urllib.parse import urlencode

from django import forms
from django.db import OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils.formats import number_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

COUNT_CAP = 10_000
COUNT_TIME_LIMIT_MS = 150
PAGE_SIZE = 50
CURSOR_PARAMS = ("after", "before")


@dataclass(frozen=True)
class Sort:
    """One way to sort a list, as the URL names it (``?sort=score``): the model fields in
    order, each with a leading ``-`` for descending. ``keyset_page`` appends the primary key
    in the direction of the last field."""

    key: str
    label: str
    fields: tuple[str, ...]

    def ordering(self) -> tuple[str, ...]:
        last_descending = self.fields[-1].startswith("-")
        return (*self.fields, "-pk" if last_descending else "pk")


@dataclass(frozen=True)
class ListQuery:
    """What the URL asks of a list: the sort (one of the page's ``Sort``), the search text, the
    cursor, and every parameter as given (to rebuild links that keep them)."""

    sort: Sort
    search: str
    after: str
    before: str
    params: dict[str, list[str]]

    def url(self, **changes) -> str:
        """This list's query string with some parameters changed (None removes one). Moving to
        another sort, filter or search starts again at the first page: the cursors go unless
        given."""
        params = {key: values for key, values in self.params.items() if key not in CURSOR_PARAMS}
        for key, value in changes.items():
            params.pop(key, None)
            if value not in (None, ""):
                params[key] = [str(value)]
        return "?" + urlencode([(key, value) for key, values in params.items() for value in values])

    def sort_url(self, key: str) -> str:
        return self.url(sort=key)


def list_query(request, sorts: list[Sort], *, default: str | None = None) -> ListQuery:
    """Read the sort (unknown: the default, else the first), ``q`` and the cursor from ``GET``."""
    by_key = {sort.key: sort for sort in sorts}
    sort = by_key.get(request.GET.get("sort", "")) or by_key.get(default or "") or sorts[0]
    return ListQuery(
        sort=sort,
        search=request.GET.get("q", "").strip()[:200],
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        params={key: request.GET.getlist(key) for key in request.GET},
    )


# --- keyset pagination -------------------------------------------------------------------------


@dataclass
class Page:
    """One page of rows and the cursors to its neighbours (None: no page there)."""

    rows: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    query: ListQuery | None = field(default=None, repr=False)

    @property
    def next_url(self) -> str | None:
        return self.query.url(after=self.next_cursor) if self.next_cursor and self.query else None

    @property
    def previous_url(self) -> str | None:
        return self.query.url(before=self.previous_cursor) if self.previous_cursor and self.query else None


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: tuple) -> str:
    text = json.dumps([_plain(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _model_field(model, name: str):
    name = name.lstrip("-")
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def decode_cursor(token: str, model, ordering: tuple[str, ...]) -> tuple | None:
    """The ordering's values a cursor holds, each parsed by its model field, or None when the
    token is not one of ours (edited by hand, from another sort)."""
    if not token or len(token) > 2000:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(raw, list) or len(raw) != len(ordering):
        return None
    values = []
    for name, value in zip(ordering, raw, strict=True):
        if value is None or isinstance(value, list | dict):
            return None
        try:
            parsed = _model_field(model, name).to_python(value)
        except (forms.ValidationError, ValueError, TypeError, OverflowError):
            return None
        if isinstance(parsed, int) and not -(2**63) <= parsed < 2**63:
            return None
        values.append(parsed)
    return tuple(values)


def _seek(ordering: tuple[str, ...], values: tuple, *, forward: bool) -> Q:
    """Rows strictly past ``values`` in the ordering (``forward``) or strictly before it: the
    expansion (a > x) | (a = x & b > y) | ..., ANDed with a bound on the first column so the
    database reads the index from the cursor on."""
    names = [name.lstrip("-") for name in ordering]
    after = []
    for i, name in enumerate(ordering):
        ascending = not name.startswith("-")
        op = "gt" if ascending == forward else "lt"
        equal = {names[j]: values[j] for j in range(i)}
        after.append(Q(**equal, **{f"{names[i]}__{op}": values[i]}))
    first_op = "gte" if (not ordering[0].startswith("-")) == forward else "lte"
    return Q(**{f"{names[0]}__{first_op}": values[0]}) & reduce(or_, after)


def _reversed(ordering: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name[1:] if name.startswith("-") else f"-{name}" for name in ordering)


def keyset_page(queryset: QuerySet, query: ListQuery, *, size: int | None = None) -> Page:
    """The page of ``queryset`` (already filtered) that the query's cursor names, in its sort.

    One query: ``size + 1`` rows, the extra one telling whether there is a page beyond. Going
    back (``before``) reads the reversed ordering and turns the rows round. A page reached by
    a cursor always has a way back; a ``before`` page that comes out empty (its rows were
    deleted meanwhile) is the first page instead."""
    size = size or PAGE_SIZE
    model = queryset.model
    ordering = query.sort.ordering()
    names = [name.lstrip("-") for name in ordering]
    after = decode_cursor(query.after, model, ordering) if query.after else None
    before = decode_cursor(query.before, model, ordering) if query.before and after is None else None

    def cursor(row) -> str:
        return encode_cursor(tuple(getattr(row, name) for name in names))

    if before is not None:
        rows = list(queryset.filter(_seek(ordering, before, forward=False)).order_by(*_reversed(ordering))[: size + 1])
        more = len(rows) > size
        rows = rows[:size][::-1]
        if not rows:
            return keyset_page(queryset, ListQuery(query.sort, query.search, "", "", query.params), size=size)
        return Page(rows, next_cursor=cursor(rows[-1]), previous_cursor=cursor(rows[0]) if more else None, query=query)
    if after is not None:
        queryset = queryset.filter(_seek(ordering, after, forward=True))
    rows = list(queryset.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        next_cursor=cursor(rows[-1]) if more else None,
        previous_cursor=cursor(rows[0]) if after is not None and rows else None,
        query=query,
    )


# --- the count ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CappedCount:
    """How many rows a list holds, exactly up to the cap: ``shown`` is "1,234" or "10,000+"."""

    number: int
    capped: bool

    @property
    def shown(self) -> str:
        text = number_format(self.number, force_grouping=True)
        return f"{text}+" if self.capped else text


def capped_count(queryset: QuerySet, cap: int | None = None, *, at_least: int = 0) -> CappedCount:
    """COUNT over a ``LIMIT cap + 1`` subquery: never reads more than cap + 1 rows.

    On PostgreSQL the count also gets ``COUNT_TIME_LIMIT_MS``: a few filters together may match
    a few thousand rows among hundreds of thousands the indexes cannot tell apart, and reading
    them all would hold the page. Past the limit the count says what is known, ``at_least``
    rows (the page's, plus one when there is a next page): "51+"."""
    cap = COUNT_CAP if cap is None else cap
    limited = queryset.order_by()[: cap + 1]
    if connection.vendor != "postgresql" or not COUNT_TIME_LIMIT_MS:
        number = limited.count()
        return CappedCount(min(number, cap), number > cap)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (previous,) = cursor.fetchone()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [COUNT_TIME_LIMIT_MS])
            number = limited.count()
            cursor.execute("SET LOCAL statement_timeout = %s", [previous])
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) != "57014":  # query_canceled
            raise
        return CappedCount(at_least, True)
    return CappedCount(min(number, cap), number > cap)


# --- the filter form ---------------------------------------------------------------------------


class ListFilterForm(forms.Form):
    """A list's filters, read from ``GET``. ``primary`` names the few fields shown in the bar;
    the others are behind "More". The search box is ``q``. A value that does not validate is
    ignored (a stale bookmark still shows the list), and ``applied`` says which filters act."""

    primary: tuple[str, ...] = ()

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)
        for bound in self.fields.values():
            bound.required = False

    def primary_fields(self) -> list["FilterField"]:
        return [FilterField(self[name]) for name in self.fields if name in self.primary]

    def more_fields(self) -> list["FilterField"]:
        return [FilterField(self[name]) for name in self.fields if name not in self.primary]

    def values(self) -> dict:
        """The filters given and valid (empty ones left out)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "", [], ())}

    @property
    def more_open(self) -> bool:
        """Whether "More" starts open: one of its filters is in use."""
        return any(self.data.get(name) for name in self.fields if name not in self.primary)


class FilterField:
    """One filter of the bar: the bound field, and for a choice its ``<option>`` list made here
    in one pass (a list may offer hundreds of campaigns; a template loop over them costs more
    than the page's queries)."""

    def __init__(self, bound):
        self.bound = bound
        self.is_select = bound.field.widget.input_type == "select"

    @property
    def options(self) -> str:
        value = self.bound.value()
        chosen = "" if value is None else str(value)
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) == chosen else "", label)
                for key, label in self.bound.field.choices
            ),
        )
