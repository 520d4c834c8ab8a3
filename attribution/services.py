import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext

from funnel.moments import check_event_times
from funnel.stages import EventSource, Stage
from leads.selectors import leads_by_reference, referenced_lead
from sync.bulk import (
    BatchReport,
    PlainUpsert,
    fail_open,
    fail_repeats,
    given,
    insert_ignoring_conflicts,
    parse_batch,
)
from sync.interchange import Parsed, values_equal
from workspaces.scoping import ensure_same_workspace

from .choices import DEFAULT_CHANNELS, TouchType
from .interchange import CAMPAIGNS, TOUCHES
from .models import Campaign, Channel, Touch


def channels_create_defaults(*, workspace) -> list[Channel]:
    """Give a workspace the default channels of docs/design.md (idempotent: existing slugs are kept)."""
    existing = set(Channel.objects.values_list("slug", flat=True))
    Channel.objects.bulk_create(
        [Channel(workspace=workspace, slug=slug, name=name) for slug, name in DEFAULT_CHANNELS if slug not in existing]
    )
    return list(Channel.objects.all())


@transaction.atomic
def touch_record(
    *,
    workspace,
    lead,
    channel,
    type: str,
    occurred_at=None,
    campaign=None,
    external_id: str = "",
    source: str = EventSource.UI,
    actor=None,
) -> Touch:
    """Record one touch of a lead held as a model instance (the browser, tests); the account is
    copied from the lead, and the same rules as the bulk path run after it."""
    ensure_same_workspace(workspace, lead=lead, channel=channel, campaign=campaign)
    check_event_times(ahead=True, occurred_at=occurred_at)
    now = timezone.now()
    touch = Touch(
        workspace=workspace,
        lead=lead,
        account_id=lead.account_id,
        campaign=campaign,
        channel=channel,
        type=type,
        occurred_at=occurred_at or now,
        external_id=external_id,
        created_at=now,
        updated_at=now,
    )
    touch.full_clean(exclude=["workspace", "lead", "account", "campaign", "channel"])
    touch.save()
    touches_after_recording(workspace=workspace, recorded={lead.pk: touch.occurred_at}, source=source, actor=actor)
    return touch


def touches_after_recording(*, workspace, recorded: dict[int, dt.datetime | None], source: str, actor=None) -> None:
    """The product's rules after touches were recorded, whoever recorded them: a touch older
    than anything known of its person is their entry into ``touched``; the leads are rescored
    (and may become MQLs and be handed off). ``recorded``: per lead touched, the earliest time
    among its touches just written (None: only moved away from it). Each lead's first touch
    (the lead list's filters) is kept up to date."""
    from leads.first_touch import leads_first_touch_refresh
    from leads.services import leads_rescore

    leads_first_touch_refresh(workspace=workspace, lead_ids=set(recorded))
    _backdate_first_touches(workspace, {k: v for k, v in recorded.items() if v is not None}, source, actor)
    _capture_on_form_fill(workspace, set(recorded), actor)
    leads_rescore(workspace=workspace, lead_ids=set(recorded), source=source)


# --- campaigns ----------------------------------------------------------------------------------


def _channels() -> dict[str, int]:
    return dict(Channel.objects.values_list("slug", "id"))


def _channel_error(slug: str, channels: dict) -> list[str]:
    return [f"Unknown channel '{slug}'. Known: {', '.join(sorted(channels))}."]


def _campaign_references(parsed: list[Parsed], indexes: list[int]) -> dict:
    return {"channels": _channels()}


def _campaign_values(parsed: Parsed, refs: dict, errors: dict) -> dict:
    given = parsed.values
    names = (
        "external_id",
        "name",
        "type",
        "start_date",
        "end_date",
        "budget",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    )
    values = {name: given[name] for name in names if name in given}
    if "cost" in given:
        values["actual_cost"] = given["cost"]
    if "channel" in given:
        channel = refs["channels"].get(given["channel"])
        if channel is None:
            errors["channel"] = _channel_error(given["channel"], refs["channels"])
        values["channel_id"] = channel
    return values


def _campaign_check(target: dict | None, values: dict, errors: dict) -> None:
    start = values.get("start_date", target["start_date"] if target else None)
    end = values.get("end_date", target["end_date"] if target else None)
    if start and end and end < start:
        errors["end_date"] = [f"The end date ({end}) is before the start date ({start})."]


def _new_campaign(workspace, values: dict, now) -> dict:
    row = {
        "workspace_id": workspace.pk,
        "external_id": "",
        "end_date": None,
        "budget": 0,
        "actual_cost": 0,
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "owner_id": None,
        "target_list_id": None,
    }
    row |= values
    return row | {
        "closed_at": None,
        "created_at": now,
        "updated_at": now,
        "sync_version": 0,
    }


CAMPAIGN_UPSERT = PlainUpsert(
    model=Campaign,
    spec=CAMPAIGNS,
    keys=("external_id",),
    fields=(
        "external_id",
        "name",
        "channel_id",
        "type",
        "start_date",
        "end_date",
        "budget",
        "actual_cost",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    ),
    resolve=_campaign_references,
    values=_campaign_values,
    new_row=_new_campaign,
    required=("name", "channel_id", "type", "start_date"),
    label="campaign",
    renamed={"cost": "actual_cost", "channel": "channel_id"},
    validate=_campaign_check,
)


def campaigns_upsert(*, workspace, records: list, pinned=None, clear_blanks=False, require_key=True, **_):
    """Create or update campaigns, matched on ``external_id``."""
    return CAMPAIGN_UPSERT.run(
        workspace=workspace, records=records, pinned=pinned, clear_blanks=clear_blanks, require_key=require_key
    )


# The fields a person sets on a campaign in the browser (every field of the model but the
# workspace's bookkeeping); ``campaign_create`` and ``campaign_update`` take them by name.
CAMPAIGN_FIELDS = (
    "name",
    "channel",
    "type",
    "start_date",
    "end_date",
    "budget",
    "actual_cost",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "owner",
    "target_list",
    "external_id",
)


def _campaign_check_references(workspace, campaign: Campaign) -> None:
    """The channel and target list are the workspace's; the owner is one of its members."""
    from django.core.exceptions import ValidationError

    from workspaces.models import Membership

    ensure_same_workspace(workspace, channel=campaign.channel, target_list=campaign.target_list)
    if campaign.owner_id is not None and not Membership.objects.filter(user_id=campaign.owner_id).exists():
        raise ValidationError({"owner": gettext("The owner must be a member of this workspace.")})


def _campaign_save(workspace, campaign: Campaign) -> Campaign:
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError

    _campaign_check_references(workspace, campaign)
    campaign.full_clean(exclude=["workspace", "channel", "owner", "target_list"])
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:  # a concurrent write took the external id between the check and the save
        raise ValidationError(
            {"external_id": gettext("A campaign with this external id already exists in this workspace.")}
        ) from None
    return campaign


@transaction.atomic
def campaign_create(*, workspace, actor=None, **values) -> Campaign:
    """Create one campaign with any of ``CAMPAIGN_FIELDS`` (the browser's form). Its status
    follows its dates (``attribution.selectors.campaign_status``)."""
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"campaign_create() got unknown fields: {', '.join(sorted(unknown))}")
    now = timezone.now()
    campaign = Campaign(workspace=workspace, created_at=now, updated_at=now)
    for name, value in values.items():
        setattr(campaign, name, value)
    return _campaign_save(workspace, campaign)


@transaction.atomic
def campaign_update(*, workspace, campaign: Campaign, actor=None, **values) -> Campaign:
    """Change any of ``CAMPAIGN_FIELDS`` of a campaign. Unchanged values write nothing (a form
    sent twice changes nothing the second time, and the change feed shows no false change)."""
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"campaign_update() got unknown fields: {', '.join(sorted(unknown))}")
    ensure_same_workspace(workspace, campaign=campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    changed = False
    for name, value in values.items():
        attribute = f"{name}_id" if name in ("channel", "owner", "target_list") else name
        new = getattr(value, "pk", value) if attribute.endswith("_id") else value
        if getattr(campaign, attribute) != new:
            setattr(campaign, name, value)
            changed = True
    if not changed:
        return campaign
    campaign.updated_at = timezone.now()
    return _campaign_save(workspace, campaign)


@transaction.atomic
def campaign_close(*, workspace, campaign: Campaign, actor=None, at=None) -> tuple[Campaign, bool]:
    """Close a campaign before its dates would: from now on its status is ``closed`` whatever
    its end date. A campaign already closed (by a marketer or by its dates) is left as it is.
    Returns the campaign and whether this call closed it."""
    ensure_same_workspace(workspace, campaign=campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    now = at or timezone.now()
    today = timezone.localtime(now, ZoneInfo(workspace.timezone)).date()
    if campaign.closed_at is not None or (campaign.end_date is not None and campaign.end_date < today):
        return campaign, False
    campaign.closed_at = now
    campaign.updated_at = now
    campaign.save(update_fields=["closed_at", "updated_at"])
    return campaign, True


@transaction.atomic
def campaign_reopen(*, workspace, campaign: Campaign, actor=None) -> Campaign:
    """Undo an early close: the status follows the dates again."""
    ensure_same_workspace(workspace, campaign=campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.closed_at is not None:
        campaign.closed_at = None
        campaign.updated_at = timezone.now()
        campaign.save(update_fields=["closed_at", "updated_at"])
    return campaign


@transaction.atomic
def campaign_delete(*, workspace, campaign: Campaign) -> None:
    """Delete a campaign that no touch names (otherwise it is part of history: close it)."""
    from django.core.exceptions import ValidationError

    from sync.models import Tombstone

    ensure_same_workspace(workspace, campaign=campaign)
    if campaign.touches.exists():
        raise ValidationError(
            f"Campaign '{campaign.name}' has touches, so it is part of the attribution history and cannot be "
            "deleted; close it instead."
        )
    Tombstone.objects.create(
        workspace=workspace,
        resource="campaigns",
        record_id=campaign.pk,
        external_id=campaign.external_id,
        kind="deleted",
    )
    campaign.delete()


# --- touches --------------------------------------------------------------------------------------


def touches_upsert(
    *,
    workspace,
    records: list,
    source: str = EventSource.API,
    pinned: Touch | None = None,
    clear_blanks: bool = False,
    actor=None,
    **_,
) -> BatchReport:
    """Create or update touches, matched on ``external_id``, or, without one, on lead, time,
    channel, type and campaign (so a resent touch is not recorded twice). The lead must exist.
    Then the product's rules run as for a touch logged in the browser: a touch older than
    anything known of its person is its entry into ``touched``, and the leads are rescored (and
    may become MQLs and be handed off)."""
    report = BatchReport(len(records))
    parsed = parse_batch(TOUCHES, records, workspace, report)
    fail_repeats(parsed, report, "external_id")
    for _ in range(2):  # a second pass takes the touches a concurrent batch recorded meanwhile
        if not report.open_indexes() or not _touches_pass(
            workspace, parsed, report, source, pinned, clear_blanks, actor
        ):
            break
    fail_open(report)
    return report


_EXISTING_TOUCH = ("id", "external_id", "lead_id", "account_id", "campaign_id", "channel_id", "type", "occurred_at")


@transaction.atomic
def _touches_pass(workspace, parsed, report, source, pinned, clear_blanks, actor) -> bool:
    from leads.models import Lead

    todo = report.open_indexes()
    by_external, by_email = leads_by_reference(
        external_ids=given(parsed, todo, "lead_external_id"),
        emails=given(parsed, todo, "lead_email"),
    )
    pinned_row = Touch.objects.filter(pk=pinned.pk).values(*_EXISTING_TOUCH).get() if pinned is not None else None
    # Lock the people touched first, in id order: touch batches of the same leads are then
    # serialized (no two rows of one natural key), as are stage moves and rescoring, and the
    # touches read next are the committed ones.
    lead_ids = {row["id"] for row in (*by_external.values(), *by_email.values())}
    if pinned_row is not None:
        lead_ids.add(pinned_row["lead_id"])
    accounts = dict(
        Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk").values_list("id", "account_id")
    )
    campaign_keys = given(parsed, todo, "campaign_external_id")
    campaigns = {
        external_id: (campaign_id, channel_id)
        for external_id, campaign_id, channel_id in Campaign.objects.filter(external_id__in=campaign_keys).values_list(
            "external_id", "id", "channel_id"
        )
    }
    channels = _channels()
    external_ids = given(parsed, todo, "external_id")
    existing = {
        row["external_id"]: row
        for row in Touch.objects.filter(external_id__in=external_ids).exclude(external_id="").values(*_EXISTING_TOUCH)
    }
    plans: dict[int, dict] = {}
    for i in todo:
        p = parsed[i]
        errors: dict[str, list[str]] = {}
        target = pinned_row if pinned is not None else existing.get(p.values.get("external_id"))
        other = existing.get(p.values.get("external_id"))
        if pinned is not None and other is not None and other["id"] != pinned.pk:
            errors["external_id"] = [
                f"external_id '{p.values['external_id']}' belongs to another touch (#{other['id']})."
            ]
        values = _touch_values(p, by_external, by_email, campaigns, channels, errors, target)
        if target is None:
            for name in ("type", "occurred_at"):
                if name not in values:
                    errors.setdefault(name, ["This field is required to create a record."])
            if "lead_id" not in values and not {"lead_external_id", "lead_email"} & errors.keys():
                errors["lead_external_id"] = ["A touch names its lead: lead_external_id or lead_email."]
            if "channel_id" not in values and "channel" not in errors:
                errors["channel"] = ["A touch needs a channel (or a campaign, whose channel it takes)."]
        if clear_blanks:
            for name in p.blanks:
                if name == "campaign_external_id":
                    values["campaign_id"] = None
                elif name == "external_id":
                    values["external_id"] = ""
                else:
                    errors[name] = [f"The {name} of a touch cannot be emptied."]
        if errors:
            report.fail(i, errors)
            continue
        # the account is the lead's when the touch is recorded (or moved to another lead)
        if "lead_id" in values and (target is None or values["lead_id"] != target["lead_id"]):
            values["account_id"] = accounts.get(values["lead_id"])
        plans[i] = {"target": target, "values": values}
    _match_natural_keys(plans, report)
    # An erased person takes no new touches; the ones they have are matched as any other, so a
    # resent batch or a re-imported export is unchanged.
    erased = {row["id"] for row in (*by_external.values(), *by_email.values()) if row["erased_at"] is not None}
    for i, plan in list(plans.items()):
        lead_id = plan["values"].get("lead_id")
        if lead_id in erased and (plan["target"] is None or plan["target"]["lead_id"] != lead_id):
            report.fail(i, {"lead_external_id": ["That lead's personal data was erased; it takes no new touches."]})
            del plans[i]
    now = timezone.now()
    creates, updates = [], []
    touched: dict[int, dt.datetime | None] = {}

    def note(lead_id: int, occurred_at: dt.datetime | None) -> None:
        earlier = touched.get(lead_id)
        touched[lead_id] = occurred_at if earlier is None else min(earlier, occurred_at or earlier)

    for i, plan in plans.items():
        target, values = plan["target"], plan["values"]
        if target is None:
            creates.append((i, values))
            continue
        changes = {k: v for k, v in values.items() if not values_equal(target.get(k), v)}
        if changes:
            updates.append(Touch(pk=target["id"], updated_at=now, **({k: target[k] for k in _TOUCH_FIELDS} | changes)))
            note(target["lead_id"], None)
            note(values.get("lead_id", target["lead_id"]), values.get("occurred_at", target["occurred_at"]))
        report.succeed(i, "updated" if changes else "unchanged", target["id"])
    raced = _insert_touches(workspace, creates, report, now)
    for i, values in creates:
        if report.results[i] is not None and not report.failed(i):
            note(values["lead_id"], values["occurred_at"])
    if updates:
        Touch.objects.bulk_update(updates, [*_TOUCH_FIELDS, "updated_at"], batch_size=500)
    if touched:
        touches_after_recording(workspace=workspace, recorded=touched, source=source, actor=actor)
    return raced


_TOUCH_FIELDS = ("external_id", "lead_id", "account_id", "campaign_id", "channel_id", "type", "occurred_at")


def _touch_values(p: Parsed, by_external, by_email, campaigns, channels, errors, target) -> dict:
    given = p.values
    values = {name: given[name] for name in ("external_id", "type", "occurred_at") if name in given}
    lead = referenced_lead(given, by_external, by_email, errors)
    if lead is not None:
        values["lead_id"] = lead["id"]
    if "campaign_external_id" in given:
        found = campaigns.get(given["campaign_external_id"])
        if found is None:
            errors["campaign_external_id"] = [
                f"No campaign with the external_id '{given['campaign_external_id']}' in this workspace."
            ]
        else:
            values["campaign_id"] = found[0]
            if "channel" not in given and (target is None or target["campaign_id"] != found[0]):
                values["channel_id"] = found[1]
    elif target is None:
        values["campaign_id"] = None
    if "channel" in given:
        channel = channels.get(given["channel"])
        if channel is None:
            errors["channel"] = _channel_error(given["channel"], channels)
        values["channel_id"] = channel
    return values


def _natural_key(values: dict) -> tuple:
    return (values["lead_id"], values["occurred_at"], values["channel_id"], values["type"], values.get("campaign_id"))


def _match_natural_keys(plans: dict[int, dict], report: BatchReport) -> None:
    """New touches without an external id are matched on their natural key: to a touch already
    recorded (then unchanged), or to an earlier record of this batch (then refused)."""
    keyless = {i: plan for i, plan in plans.items() if plan["target"] is None and not plan["values"].get("external_id")}
    if not keyless:
        return
    # One query for the batch (one Q() per record nests past SQLite's expression depth): the
    # leads' touches within the batch's time span, read off the (workspace, lead, occurred_at)
    # index; the natural key is matched here.
    times = [plan["values"]["occurred_at"] for plan in keyless.values()]
    candidates = Touch.objects.order_by().filter(
        lead_id__in={plan["values"]["lead_id"] for plan in keyless.values()},
        occurred_at__range=(min(times), max(times)),
    )
    known = {
        (row[0], row[1], row[2], row[3], row[4]): row[5]
        for row in candidates.values_list("lead_id", "occurred_at", "channel_id", "type", "campaign_id", "id")
    }
    first: dict[tuple, int] = {}
    for i, plan in keyless.items():
        key = _natural_key(plan["values"])
        if key in known:
            report.succeed(i, "unchanged", known[key])
            del plans[i]
        elif key in first:
            report.fail(
                i, {"occurred_at": [f"The same touch as record {first[key]} of this batch; send each touch once."]}
            )
            del plans[i]
        else:
            first[key] = i


def _insert_touches(workspace, creates: list[tuple[int, dict]], report: BatchReport, now) -> bool:
    """Insert the new touches; returns whether one lost a race to a concurrent batch."""
    if not creates:
        return False
    rows = []
    for _, values in creates:
        row = {"workspace_id": workspace.pk, "external_id": "", "campaign_id": None}
        rows.append(row | values | {"created_at": now, "updated_at": now, "sync_version": 0})
    keyed = [(i, row) for (i, _), row in zip(creates, rows, strict=True) if row["external_id"]]
    keyless = [(i, row) for (i, _), row in zip(creates, rows, strict=True) if not row["external_id"]]
    keyed.sort(key=lambda pair: pair[1]["external_id"])
    ids = insert_ignoring_conflicts(Touch, [row for _, row in keyed], key="external_id")
    raced = False
    for i, row in keyed:
        if row["external_id"] in ids:
            report.succeed(i, "created", ids[row["external_id"]])
        else:  # a concurrent batch recorded it first: it stays open for the next pass
            raced = True
    new_ids = insert_ignoring_conflicts(Touch, [row for _, row in keyless], key=None)
    for (i, _), new_id in zip(keyless, new_ids, strict=True):
        report.succeed(i, "created", new_id)
    return raced


def _capture_on_form_fill(workspace, lead_ids: set[int], actor) -> None:
    """A person reached but not captured (``touched``) who fills in a form has given their
    details: they enter ``lead`` at their first form fill (a rule of the product), and their
    touches may then make them an MQL as any lead's. One query finds them among the leads just
    touched; the entries go in as history, checked against the ledger like any other."""
    from funnel.services import HistoryEntry, ledger_import
    from leads.models import Lead

    if not lead_ids:
        return
    uncaptured = Lead.objects.filter(
        pk__in=lead_ids, stage=Stage.TOUCHED, erased_at__isnull=True, merged_into__isnull=True
    ).values("pk")
    first_fill = (
        Touch.objects.filter(lead_id__in=uncaptured, type=TouchType.FORM_FILL)
        .values_list("lead_id")
        .annotate(at=Min("occurred_at"))
        .order_by()
    )
    entries = [HistoryEntry(lead_id, Stage.LEAD, at) for lead_id, at in first_fill]
    if entries:
        ledger_import(workspace=workspace, entries=entries, source=EventSource.RULE, actor=actor)


def _backdate_first_touches(workspace, earliest: dict[int, dt.datetime], source: str, actor) -> None:
    """A person's first touch is their entry into ``touched``: where a touch just written is
    older than its lead's first ledger row, that entry is imported (history: ``ledger_import``).
    Only the touches just written are compared: every older one was, when it was written."""
    from funnel.models import StageEvent
    from funnel.services import HistoryEntry, ledger_import

    if not earliest:
        return
    first_event = dict(
        StageEvent.objects.filter(lead_id__in=earliest).values_list("lead_id").annotate(t=Min("entered_at")).order_by()
    )
    entries = [
        HistoryEntry(lead_id, Stage.TOUCHED, touched_at)
        for lead_id, touched_at in earliest.items()
        if lead_id in first_event and touched_at < first_event[lead_id]
    ]
    if entries:
        ledger_import(workspace=workspace, entries=entries, source=source, actor=actor)
