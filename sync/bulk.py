"""What every bulk upsert shares: the per-record report, and an insert that lets the database
settle races between concurrent batches.

Each resource's upsert (``accounts.services.accounts_upsert``, ``leads.services.leads_upsert``
...) parses its records with its ``Spec``, fetches the existing rows of the whole batch in one
query per key, resolves references in one query per kind, and writes the valid records in one
transaction; one bad record never fails the others.
"""

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from workspaces.permissions import (
    RECORD_WRITE_ACTIONS,
    Action,
    history_granted,
    ordered,
    record_write_actions,
    write_actions,
)

from .interchange import Errors, Parsed, Spec, values_equal

STATUSES = ("created", "updated", "unchanged", "error")
# Field types whose Python values the PostgreSQL driver takes as they are.
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.DecimalField,
    models.DateTimeField,
    models.DateField,
    models.BooleanField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)


class BatchReport:
    """Per-record results, in the order the records were sent."""

    def __init__(self, size: int):
        self.results: list[dict | None] = [None] * size

    def fail(self, index: int, errors: Errors) -> None:
        self.results[index] = {"index": index, "status": "error", "id": None, "errors": errors}

    def succeed(self, index: int, status: str, record_id: int) -> None:
        self.results[index] = {"index": index, "status": status, "id": record_id, "errors": {}}

    def failed(self, index: int) -> bool:
        result = self.results[index]
        return result is not None and result["status"] == "error"

    def open_indexes(self) -> list[int]:
        return [i for i, result in enumerate(self.results) if result is None]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(r["status"] for r in self.results if r is not None)
        return {status: counted.get(status, 0) for status in STATUSES}

    def as_dict(self) -> dict:
        return {"results": self.results, "counts": self.counts}


def refusal(who: str, action: Action) -> str:
    return gettext("%(who)s may not %(action)s (permission %(permission)s).") % {
        "who": who,
        "action": action.label,
        "permission": action.value,
    }


def unpermitted_records(
    resource: str, kind: str, records: list, granted: frozenset[Action], who: str
) -> dict[int, Errors]:
    """The records of a write the caller may not make, with the refusal naming the first action
    missing (``workspaces.permissions``: the kind's actions, and a record's own, such as a stage
    event into a sales stage); under the field that asked for it."""
    base = write_actions(resource, kind)
    refused: dict[int, Errors] = {}
    for index, record in enumerate(records):
        own = record_write_actions(resource, record)
        missing = [action for action in ordered(base | own) if action not in granted]
        if missing:
            field = "non_field_errors" if missing[0] in base else RECORD_WRITE_ACTIONS[resource][0]
            refused[index] = {field: [refusal(who, missing[0])]}
    return refused


def upsert_permitted(
    upsert, *, resource: str, kind: str, records: list, granted: frozenset[Action] | None, who: str = "", **options
) -> BatchReport:
    """The resource's upsert of the records the caller may write; the others are refused in
    their own results (the batch's other records are written, as with any refused record).
    ``granted`` None: a system's import (the ``import_csv`` command), which may write anything.
    A resource with history rules is told whether the caller may import history
    (``history_granted``): if not, its moves are live ones."""
    history = history_granted(resource, granted)
    if history is not None:
        options["history"] = history
    refused = unpermitted_records(resource, kind, records, granted, who) if granted is not None else {}
    if not refused:
        return upsert(records=records, **options)
    kept = [index for index in range(len(records)) if index not in refused]
    written = upsert(records=[records[index] for index in kept], **options)
    report = BatchReport(len(records))
    for index, errors in refused.items():
        report.fail(index, errors)
    for result, index in zip(written.results, kept, strict=True):
        report.results[index] = result | {"index": index}
    return report


def insert_ignoring_conflicts(
    model: type[models.Model], rows: Sequence[dict], key: str | None
) -> dict[object, int] | list[int]:
    """INSERT the rows (dicts of field name to value, all with the same fields) with
    ``ON CONFLICT DO NOTHING``, returning the new ids: by the value of ``key`` (a row whose key a
    concurrent writer inserted first is left out: the caller treats it as existing), or, with
    ``key=None`` (rows no unique constraint can refuse), as a list in the rows' order.

    Under READ COMMITTED a conflicting insert waits for the other transaction and then skips
    the row, so two overlapping batches never make two rows of one key.
    """
    if not rows:
        return {} if key else []
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    pairs = list(zip(names, fields, strict=True))
    plain = all(isinstance(f, PLAIN_FIELDS) for f in fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    returning = quote("id") + (f", {quote(model._meta.get_field(key).column)}" if key else "")
    per_statement = max(1, min(1000, 30000 // len(fields)))  # SQLite's limit of bound variables
    found: dict[object, int] = {}
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(chunk))
            if connection.vendor == "postgresql" and plain:
                # psycopg2 adapts str, int, Decimal, aware datetimes and None itself: skip the
                # per-value field preparation (a third of a 1,000-row insert's time)
                params = [row[name] for row in chunk for name in names]
            else:
                params = [f.get_db_prep_save(row[name], connection) for row in chunk for name, f in pairs]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {placeholders} "  # noqa: S608
                f"ON CONFLICT DO NOTHING RETURNING {returning}",
                params,
            )
            for returned in cursor.fetchall():
                if key:
                    found[returned[1]] = returned[0]
                else:
                    ids.append(returned[0])
    return found if key else ids


def parse_batch(spec: Spec, records: list, workspace, report: BatchReport) -> list[Parsed]:
    """Parse every record with the resource's spec; the ones with errors are failed."""
    tz = ZoneInfo(workspace.timezone)
    parsed = [spec.parse(record, tz) for record in records]
    for index, result in enumerate(parsed):
        if result.errors:
            report.fail(index, result.errors)
    return parsed


def fail_repeats(parsed: list[Parsed], report: BatchReport, *fields: str) -> None:
    """A key sent twice in one batch: the later record is refused (the first one wins)."""
    for name in fields:
        keys = [None if report.failed(i) else p.values.get(name) for i, p in enumerate(parsed)]
        for index, first in duplicates_in_batch(keys).items():
            report.fail(index, {name: [f"The same {name} as record {first} of this batch; send each record once."]})


def fail_open(report: BatchReport) -> None:
    """Records still open after the second pass lost a race twice: ask for them again."""
    for index in report.open_indexes():
        report.fail(index, {"non_field_errors": ["Written by another request at the same moment; send it again."]})


def duplicates_in_batch(keys: Sequence[object | None]) -> dict[int, int]:
    """For each index whose key appeared earlier in the batch, the index of its first use."""
    first: dict[object, int] = {}
    repeated: dict[int, int] = {}
    for index, key in enumerate(keys):
        if key is None or key == "":
            continue
        if key in first:
            repeated[index] = first[key]
        else:
            first[key] = index
    return repeated


@dataclass
class PlainUpsert:
    """The upsert of a resource without a ledger (accounts, campaigns): matched on its keys in
    order (``external_id`` first), references resolved in bulk by ``resolve``, values mapped to
    model fields by ``values``; new rows filled in by ``new_row``.

    A record whose keys name two different rows is refused, naming both; a record matched by a
    later key whose row already has another ``external_id`` is refused too. Nothing is merged
    silently.
    """

    model: type[models.Model]
    spec: Spec
    keys: tuple[str, ...]
    fields: tuple[str, ...]  # the model fields compared and written
    resolve: Callable[[list[Parsed], list[int]], dict]
    values: Callable[[Parsed, dict, dict], dict]
    new_row: Callable[[object, dict, dt.datetime], dict]
    required: tuple[str, ...] = ()  # fields that cannot be emptied
    label: str = "record"
    renamed: dict = field(default_factory=dict)  # interchange column -> model field, beyond references
    validate: Callable[[dict | None, dict, dict], None] | None = None  # (existing row, values, errors)

    def run(
        self, *, workspace, records: list, pinned=None, clear_blanks: bool = False, require_key: bool = True
    ) -> BatchReport:
        """``require_key``: refuse a record without any key (a bulk or CSV record without one
        would be created again each time it is sent); a single create may go without, its
        retries protected by an Idempotency-Key."""
        report = BatchReport(len(records))
        parsed = parse_batch(self.spec, records, workspace, report)
        fail_repeats(parsed, report, *self.keys)
        if require_key and pinned is None:
            for i in report.open_indexes():
                if not any(key in parsed[i].values for key in self.keys):
                    names = " or ".join(self.keys)
                    report.fail(
                        i,
                        {
                            self.keys[0]: [
                                f"A {self.label} is matched on its {names}: send one, so that "
                                "sending the record again does not create it twice."
                            ]
                        },
                    )
        for _ in range(2):  # the second pass takes records a concurrent batch created meanwhile
            if not report.open_indexes() or not self._pass(workspace, parsed, report, pinned, clear_blanks):
                break
        fail_open(report)
        return report

    def _fetch(self, parsed: list[Parsed], todo: list[int], pinned) -> tuple[dict, dict]:
        rows: dict[int, dict] = {}
        by_key: dict[str, dict] = {key: {} for key in self.keys}
        columns = ("id", *self.fields)
        for key in self.keys:
            wanted = given(parsed, todo, key)
            if wanted:
                for row in self.model.objects.filter(**{f"{key}__in": wanted}).exclude(**{key: ""}).values(*columns):
                    rows[row["id"]] = row
                    by_key[key][row[key]] = row["id"]
        if pinned is not None and pinned.pk not in rows:
            rows[pinned.pk] = self.model.objects.filter(pk=pinned.pk).values(*columns).get()
        return rows, by_key

    @transaction.atomic
    def _pass(self, workspace, parsed, report, pinned, clear_blanks) -> bool:
        todo = report.open_indexes()
        now = timezone.now()
        rows, by_key = self._fetch(parsed, todo, pinned)
        refs = self.resolve(parsed, todo)
        creates: dict[int, dict] = {}
        changed: dict[int, tuple[dict, dict]] = {}
        for i in todo:
            p = parsed[i]
            errors: dict[str, list[str]] = {}
            matches = {key: by_key[key].get(p.values.get(key)) for key in self.keys}
            found = [(key, row_id) for key, row_id in matches.items() if row_id is not None]
            target_id = pinned.pk if pinned is not None else (found[0][1] if found else None)
            for key, row_id in found:
                if row_id != target_id:
                    errors[key] = [
                        f"{key} '{p.values[key]}' belongs to {self.label} #{row_id}, but the record matches "
                        f"{self.label} #{target_id}; nothing was merged. Fix the record."
                    ]
            target = rows.get(target_id) if target_id is not None else None
            external_id = p.values.get("external_id")
            if target is not None and external_id and target["external_id"] not in ("", external_id):
                errors.setdefault(
                    "external_id",
                    [
                        f"This {self.label} (#{target_id}) has the external_id '{target['external_id']}', "
                        f"not '{external_id}'."
                    ],
                )
            values = self.values(p, refs, errors)
            if self.validate is not None:
                self.validate(target, values, errors)
            if target is None and not errors:
                errors |= self.spec.missing_to_create(p)
            if errors:
                report.fail(i, errors)
                continue
            if target is None:
                creates[i] = self.new_row(workspace, values, now)
                continue
            changes = {name: value for name, value in values.items() if not values_equal(target.get(name), value)}
            if clear_blanks:
                for name in p.blanks:
                    field_name = self.spec_field(name)
                    if field_name in self.required:
                        errors[name] = [f"The {name} cannot be emptied."]
                    elif target.get(field_name) not in ("", None):
                        changes[field_name] = self._empty(field_name)
                if errors:
                    report.fail(i, errors)
                    continue
            changed[i] = (target, changes)
        raced = False
        if creates:
            order = sorted(creates, key=lambda i: str(creates[i].get(self.keys[0]) or ""))
            with_key = [i for i in order if creates[i].get(self.keys[0])]
            without_key = [i for i in order if not creates[i].get(self.keys[0])]
            ids = insert_ignoring_conflicts(self.model, [creates[i] for i in with_key], key=self.keys[0])
            for i in with_key:
                new_id = ids.get(creates[i][self.keys[0]])
                if new_id is None:
                    raced = True
                else:
                    report.succeed(i, "created", new_id)
            if without_key:
                # matched on a later key (an account with a domain and no external_id): its
                # unique constraint still refuses a concurrent twin, which is then retried
                for i in without_key:
                    try:
                        with transaction.atomic():
                            new_id = self.model.objects.create(**creates[i]).pk
                    except IntegrityError:
                        raced = True
                    else:
                        report.succeed(i, "created", new_id)
        updates = [(row, changes) for row, changes in changed.values() if changes]
        if updates:
            names = sorted({name for _, changes in updates for name in changes} | {"updated_at"})
            objects = [
                self.model(
                    pk=row["id"], updated_at=now, **({n: row.get(n) for n in names if n != "updated_at"} | changes)
                )
                for row, changes in updates
            ]
            self.model.objects.bulk_update(objects, names, batch_size=500)
        for i, (row, changes) in changed.items():
            report.succeed(i, "updated" if changes else "unchanged", row["id"])
        return raced

    def spec_field(self, column: str) -> str:
        return self.column_fields.get(column, column)

    @functools.cached_property
    def column_fields(self) -> dict[str, str]:
        """Interchange column -> model field, where they differ (references by their id)."""
        mapping = {}
        for column in self.spec.names:
            if column.endswith("_external_id"):
                mapping[column] = column.removesuffix("_external_id") + "_id"
            elif column.endswith("_email") and column != "email":
                mapping[column] = column.removesuffix("_email") + "_id"
        return mapping | self.renamed

    def _empty(self, name: str):
        model_field = self.model._meta.get_field(name)
        return None if model_field.null else ("" if isinstance(model_field, models.CharField) else model_field.default)


def given(parsed: list[Parsed], indexes: list[int], name: str) -> set:
    """The values the records at ``indexes`` give for ``name`` (one key's batch lookup)."""
    return {parsed[i].values[name] for i in indexes if name in parsed[i].values}
