from django.db.models import Q

from .models import Lead

REFERENCE_FIELDS = ("id", "email", "external_id", "account_id", "erased_at", "merged_into_id")


def leads_by_keys(*, emails, external_ids, fields=REFERENCE_FIELDS) -> tuple[dict[int, dict], dict, dict]:
    """The leads with these emails and external ids, in one query per key (the explicit
    non-empty test lets PostgreSQL use the partial unique indexes), plus the survivors of any
    merged among them: (rows by id, id by email, id by external id). Ids are the rows found,
    which may be tombstones: ``survivor`` follows them."""
    rows: dict[int, dict] = {}
    by_email: dict[str, int] = {}
    by_external: dict[str, int] = {}
    if emails:
        for row in Lead.objects.filter(email__in=set(emails)).exclude(email="").values(*fields):
            rows[row["id"]] = row
            by_email[row["email"]] = row["id"]
    if external_ids:
        for row in Lead.objects.filter(external_id__in=set(external_ids)).exclude(external_id="").values(*fields):
            rows[row["id"]] = row
            by_external[row["external_id"]] = row["id"]
    for _ in range(5):  # a survivor may itself have been merged later
        missing = {row["merged_into_id"] for row in rows.values() if row["merged_into_id"]} - set(rows)
        if not missing:
            break
        for row in Lead.objects.filter(pk__in=missing).values(*fields):
            rows[row["id"]] = row
    return rows, by_email, by_external


def survivor(rows: dict[int, dict], lead_id: int | None) -> dict | None:
    """The lead a (possibly merged) lead id leads to."""
    row = rows.get(lead_id) if lead_id else None
    while row is not None and row["merged_into_id"]:
        row = rows.get(row["merged_into_id"])
    return row


def leads_by_reference(*, external_ids, emails) -> tuple[dict[str, dict], dict[str, dict]]:
    """The leads that records name by ``lead_external_id`` or ``lead_email``, each followed to
    its survivor: (by external id, by email), each value a dict of ``REFERENCE_FIELDS``."""
    rows, by_email, by_external = leads_by_keys(emails=emails, external_ids=external_ids)
    return (
        {key: row for key, lead_id in by_external.items() if (row := survivor(rows, lead_id))},
        {key: row for key, lead_id in by_email.items() if (row := survivor(rows, lead_id))},
    )


def referenced_lead(given: dict, by_external: dict, by_email: dict, errors: dict) -> dict | None:
    """The lead a record names by ``lead_external_id`` and/or ``lead_email`` (both: the same
    one), or None with the reason in ``errors``."""
    lead = None
    if "lead_external_id" in given:
        lead = by_external.get(given["lead_external_id"])
        if lead is None:
            errors["lead_external_id"] = [
                f"No lead with the external_id '{given['lead_external_id']}' in this workspace."
            ]
    if "lead_email" in given:
        by_mail = by_email.get(given["lead_email"])
        if by_mail is None:
            errors["lead_email"] = [f"No lead with the email {given['lead_email']} in this workspace."]
        elif lead is not None and by_mail["id"] != lead["id"]:
            errors["lead_email"] = [
                f"{given['lead_email']} is lead #{by_mail['id']}, but lead_external_id names lead #{lead['id']}."
            ]
        lead = lead or by_mail
    return lead


def live_leads():
    """Leads that are still people of the workspace: not erased, not merged into another."""
    return Lead.objects.filter(erased_at__isnull=True, merged_into__isnull=True)


# --- the lead list and the lead page ------------------------------------------------------------


def lead_search(queryset, text: str):
    """Leads whose email, first name or last name starts with ``text`` (any case); with a space,
    a first and a last name (in either order: "Ann Lee", "Lee Ann"). Each test is a prefix of a
    lower-cased column, which PostgreSQL reads through the pattern indexes of migration 0006."""
    from django.db.models.functions import Lower

    text = " ".join(text.lower().split())
    if not text:
        return queryset
    queryset = queryset.alias(first_lower=Lower("first_name"), last_lower=Lower("last_name"))
    match = Q(email__startswith=text) | Q(first_lower__startswith=text) | Q(last_lower__startswith=text)
    if " " in text:
        head, tail = text.split(" ", 1)
        match |= Q(first_lower__startswith=head, last_lower__startswith=tail)
        match |= Q(last_lower__startswith=head, first_lower__startswith=tail)
    return queryset.filter(match)


def lead_list(*, workspace, filters: dict, search: str = ""):
    """The live leads of the lead list, filtered (the keys of ``leads.forms.LeadFilterForm``)
    and searched; the caller orders and pages them (``workspaces.listing``). The list's rows
    read the account and owner, so they are joined here."""
    queryset = live_leads().filter(workspace=workspace).select_related("account", "owner")
    lookups = {
        "stage": "stage",
        "owner": "owner_id",
        "segment": "account__segment",
        "score_min": "score__gte",
        "score_max": "score__lte",
        "first_touch_campaign": "first_touch_campaign_id",
        "first_touch_channel": "first_touch_channel_id",
        "created_from": "created_at__gte",
        "created_to": "created_at__lt",
    }
    for name, lookup in lookups.items():
        if name in filters:
            value = filters[name]
            queryset = queryset.filter(**{lookup: getattr(value, "pk", value)})
    if filters.get("unowned"):
        queryset = queryset.filter(owner__isnull=True)
    account = filters.get("account")
    if account:
        queryset = (
            queryset.filter(account_id=int(account)) if account.isdigit() else queryset.filter(account__domain=account)
        )
    return lead_search(queryset, search)


def lead_timeline(*, workspace, lead, limit: int = 200) -> list[dict]:
    """What happened to a lead, newest first: its touches (type, campaign, channel) and its stage
    entries (who moved it, why), each a dict with ``kind``, ``at`` and the record. Two queries,
    each capped at ``limit``."""
    from attribution.models import Touch
    from funnel.models import StageEvent

    touches = (
        Touch.objects.filter(workspace=workspace, lead=lead)
        .select_related("campaign", "channel")
        .order_by("-occurred_at", "-id")[:limit]
    )
    events = (
        StageEvent.objects.filter(workspace=workspace, lead=lead)
        .select_related("actor")
        .order_by("-entered_at", "-id")[:limit]
    )
    entries = [{"kind": "touch", "at": t.occurred_at, "touch": t} for t in touches]
    entries += [{"kind": "stage", "at": e.entered_at, "event": e} for e in events]
    # a touch and the stage entry it caused share the instant: the stage entry reads as newer
    entries.sort(key=lambda entry: (entry["at"], entry["kind"] == "stage"), reverse=True)
    return entries[:limit]
