"""The interchange formats: the columns a resource takes and gives, the same for CSV headers and
JSON fields, and the parsing of one record's values into Python.

One ``Spec`` per resource (declared beside its models, in each app's ``interchange.py``) is the
only definition: the bulk upsert validates with it, the CSV import and export use its columns,
the API renders with it, and the OpenAPI schema is generated from it. Parsing is a plain loop
over the columns (a bulk of 1,000 records validates in a few milliseconds); it checks types,
lengths and choices. What needs the database (references, duplicates) is checked by the
resource's upsert, in bulk.
"""

import datetime as dt
import decimal
import functools
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from rest_framework import serializers

from accounts.normalize import normalize_domain
from funnel.moments import date_error, event_time_error
from leads.normalize import normalize_email

Errors = dict[str, list[str]]

TEXT, ID, EMAIL, DOMAIN, CHOICE, INTEGER, DECIMAL, DATE, DATETIME, SLUG = (
    "text",
    "id",
    "email",
    "domain",
    "choice",
    "integer",
    "decimal",
    "date",
    "datetime",
    "slug",
)
TEXT_KINDS = frozenset({TEXT, ID, EMAIL, DOMAIN, CHOICE, SLUG})
MAX_AMOUNT = decimal.Decimal("999999999999.99")
CENT = decimal.Decimal("0.01")
JSON = "json"  # an output-only object (an audit event's payload): JSON in the API, JSON text in CSV


class Invalid(ValueError):
    """A value that cannot be taken; the message says why."""


def shown(value, limit: int = 60) -> str:
    """A sent value as an error message quotes it: control characters escaped (a NUL cannot be
    stored or shown), and cut short, so a message never carries more than a glimpse of it."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else "?" for c in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    max_length: int = 255
    choices: tuple[str, ...] = ()
    help: str = ""
    nullable: bool = True  # may be sent empty (then: left as it is by a bulk upsert)
    event: bool = False  # a DATETIME when something happened: from 1970 to just ahead of now


@dataclass(frozen=True)
class OutputColumn:
    """A field the API gives but does not take (sent back in, it is ignored, as DRF does)."""

    name: str
    kind: str = TEXT
    help: str = ""


@dataclass
class Parsed:
    values: dict = field(default_factory=dict)  # the columns given with a value
    blanks: set = field(default_factory=set)  # the columns given empty
    errors: Errors = field(default_factory=dict)


def _text(column: Column, value) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or (isinstance(value, int) and column.kind != ID):
        raise Invalid("Must be text.")
    text = str(value).strip()
    if "\x00" in text:  # PostgreSQL text cannot hold it; nothing sends it on purpose
        raise Invalid("Contains a NUL character (\\x00).")
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate (JSON's "\ud800"): not text UTF-8 or PostgreSQL can hold
        raise Invalid("Contains a lone surrogate (\\ud800 to \\udfff), which is not a character.") from None
    if len(text) > column.max_length:
        raise Invalid(f"At most {column.max_length} characters (this has {len(text)}).")
    return text


def _choice(column: Column, value) -> str:
    text = _text(column, value)
    if text not in column.choices:
        raise Invalid(f"'{text}' is not one of: {', '.join(column.choices)}.")
    return text


def _integer(column: Column, value) -> int:
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise Invalid("Must be a whole number.")
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()):  # not '²' or other digits int() refuses
            raise Invalid(f"'{shown(value)}' is not a whole number.")
        if len(value.lstrip("0")) > 10:  # beyond the cap below, and int() refuses over 4,300 digits
            raise Invalid("Too large.")
    if not isinstance(value, int | float | str):
        raise Invalid("Must be a whole number.")
    number = int(value)
    if number < 0:
        raise Invalid("Cannot be below zero.")
    if number > 2_147_483_647:
        raise Invalid("Too large.")
    return number


def _decimal(column: Column, value) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid("Must be a number, such as 1250 or 1250.50.")
    try:
        amount = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise Invalid(f"'{shown(value)}' is not a number, such as 1250 or 1250.50.") from None
    if not amount.is_finite():
        raise Invalid(f"'{shown(value)}' is not a number.")
    if amount < 0:
        raise Invalid(f"Cannot be below zero (got {shown(value)}).")
    if amount > MAX_AMOUNT:
        raise Invalid(f"At most {MAX_AMOUNT}.")
    return amount.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def _date(column: Column, value) -> dt.date:
    if not isinstance(value, str):
        raise Invalid("Must be a date as text, such as 2026-01-31.")
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"'{shown(value)}' is not a date in ISO 8601 form (2026-01-31).") from None
    if message := date_error(column.name, day):
        raise Invalid(message)
    return day


def parse_datetime(value, tz: zoneinfo.ZoneInfo, *, event: str = "") -> dt.datetime:
    """ISO 8601. A date alone means midnight in the workspace's time zone; so does a time
    without an offset. The instant of the event field named ``event`` lies from 1970 to five
    minutes ahead of now (``funnel.moments``); any other, in the years 1900 to 2200."""
    if not isinstance(value, str):
        raise Invalid("Must be an ISO 8601 timestamp as text, such as 2026-01-31T14:00:00Z.")
    text = value.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"'{shown(value)}' is not an ISO 8601 timestamp (2026-01-31T14:00:00Z, or 2026-01-31 for midnight)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if event:
        if message := event_time_error(event, moment):
            raise Invalid(message)
    elif not dt.datetime(1900, 1, 1, tzinfo=dt.UTC) <= moment <= dt.datetime(2200, 1, 1, tzinfo=dt.UTC):
        raise Invalid(f"'{shown(value)}' is outside the years 1900 to 2200.")
    # As an instant in UTC: Python takes offsets up to a day, PostgreSQL only up to about 16 hours.
    return moment.astimezone(dt.UTC)


def _email(column: Column, value) -> str:
    text = _text(column, value)
    try:
        return normalize_email(text)
    except ValidationError as error:
        raise Invalid(error.messages[0]) from None


def _domain(column: Column, value) -> str:
    text = _text(column, value)
    try:
        return normalize_domain(text)
    except ValidationError as error:
        raise Invalid(error.messages[0]) from None


_PARSERS: dict[str, Callable] = {
    TEXT: _text,
    ID: _text,
    SLUG: _text,
    EMAIL: _email,
    DOMAIN: _domain,
    CHOICE: _choice,
    INTEGER: _integer,
    DECIMAL: _decimal,
    DATE: _date,
}


@dataclass(frozen=True)
class Spec:
    """A resource's interchange columns (input), its output-only columns, and what it is
    matched on when upserted."""

    resource: str
    columns: tuple[Column, ...]
    output_only: tuple[OutputColumn, ...] = ()
    matched_on: str = "external_id"
    required_to_create: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("id", *self.names, *(c.name for c in self.output_only))

    def parse(self, record, tz: zoneinfo.ZoneInfo) -> Parsed:
        """Parse one record (a JSON object, or a CSV row as a dict of strings)."""
        parsed = Parsed()
        if not isinstance(record, dict):
            parsed.errors["non_field_errors"] = [
                f"Each record is an object of {self.resource} fields, not {type(record).__name__}."
            ]
            return parsed
        columns = self._by_name
        for name, value in record.items():
            column = columns.get(name)
            if column is None:
                if name not in self._ignored:
                    parsed.errors[shown(name)] = [f"Unknown field. Known fields: {', '.join(self.names)}."]
                continue
            if value is None or (isinstance(value, str) and not value.strip()):
                parsed.blanks.add(name)
                continue
            try:
                if column.kind == DATETIME:
                    parsed.values[name] = parse_datetime(value, tz, event=name if column.event else "")
                else:
                    parsed.values[name] = _PARSERS[column.kind](column, value)
            except Invalid as error:
                parsed.errors[name] = [str(error)]
        return parsed

    @functools.cached_property
    def text_names(self) -> frozenset[str]:
        """The columns (given and taken) that hold text, not numbers, amounts, dates or times:
        the cells a CSV export guards against formulas."""
        every = (*self.columns, *self.output_only)
        return frozenset(c.name for c in every if c.kind in TEXT_KINDS)

    @functools.cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @functools.cached_property
    def _ignored(self) -> set[str]:
        return {"id", *(c.name for c in self.output_only)}

    def missing_to_create(self, parsed: Parsed) -> Errors:
        return {
            name: ["This field is required to create a record."]
            for name in self.required_to_create
            if name not in parsed.values
        }

    # --- the OpenAPI schema -----------------------------------------------------------------

    def input_serializer(self) -> type[serializers.Serializer]:
        fields = {c.name: _schema_field(c.kind, c.help, c.choices, c.max_length, write=True) for c in self.columns}
        return _serializer_class(f"{_camel(self.resource)}Input", fields, f"A {self.resource} record, as sent.")

    def output_serializer(self) -> type[serializers.Serializer]:
        fields = {"id": serializers.IntegerField(read_only=True, help_text="our id")}
        fields |= {c.name: _schema_field(c.kind, c.help, c.choices, c.max_length) for c in self.columns}
        fields |= {c.name: _schema_field(c.kind, c.help, (), 255) for c in self.output_only}
        return _serializer_class(f"{_camel(self.resource)}", fields, f"A {self.resource} record.")


def _camel(resource: str) -> str:
    return "".join(part.capitalize() for part in resource.split("_"))


_SERIALIZERS: dict[str, type] = {}


def _serializer_class(name: str, fields: dict, doc: str) -> type[serializers.Serializer]:
    if name not in _SERIALIZERS:
        _SERIALIZERS[name] = type(name, (serializers.Serializer,), {**fields, "__doc__": doc})
    return _SERIALIZERS[name]


def _schema_field(kind: str, help_text: str, choices: Iterable[str], max_length: int, write: bool = False):
    common = {"help_text": help_text or None, "required": False, "allow_null": True}
    if kind == CHOICE and choices:
        return serializers.ChoiceField(choices=list(choices), **common)
    if kind == INTEGER:
        return serializers.IntegerField(min_value=0, **common)
    if kind == DECIMAL:
        return serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, coerce_to_string=True, **common)
    if kind == DATE:
        return serializers.DateField(**common)
    if kind == DATETIME:
        return serializers.DateTimeField(**common)
    if kind == JSON:
        return serializers.JSONField(**common)
    if kind == EMAIL:
        return serializers.EmailField(max_length=max_length, **common)
    return serializers.CharField(max_length=max_length, allow_blank=True, **common)


def values_equal(old, new) -> bool:
    """Whether an upsert would change nothing (instants compare as instants, amounts by value)."""
    if isinstance(old, decimal.Decimal) or isinstance(new, decimal.Decimal):
        return old is not None and new is not None and decimal.Decimal(old) == decimal.Decimal(new)
    return old == new


def _interchange_slow(value):
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return f"{value:.2f}"
    return value


# Dispatch on the exact type first: a page of 1,000 records converts 16,000 values.
_AS_IS = frozenset({str, int, float, bool, type(None)})
_CONVERT = {
    dt.datetime: lambda value: value.isoformat().replace("+00:00", "Z"),
    dt.date: dt.date.isoformat,
    decimal.Decimal: lambda value: f"{value:.2f}",
}


def to_interchange(value):
    """A model value as the API and CSV give it: ISO 8601 times, amounts as text."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    convert = _CONVERT.get(kind)
    return convert(value) if convert is not None else _interchange_slow(value)


def output_rows(names: tuple[str, ...], value_rows) -> list[dict]:
    """Rows of ``values_list`` (in ``names`` order) as interchange dicts."""
    return [dict(zip(names, map(to_interchange, row), strict=True)) for row in value_rows]
