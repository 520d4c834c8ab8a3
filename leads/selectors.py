from .models import Lead

_REFERENCE_FIELDS = ("id", "email", "external_id", "account_id", "erased_at", "merged_into_id")


def leads_by_reference(*, external_ids, emails) -> tuple[dict[str, dict], dict[str, dict]]:
    """The leads that records name by ``lead_external_id`` or ``lead_email``, in one query per
    key, each followed to its survivor when it was merged: (by external id, by email), each
    value a dict of ``_REFERENCE_FIELDS``."""
    rows: dict[int, dict] = {}
    by_external: dict[str, int] = {}
    by_email: dict[str, int] = {}
    if external_ids:
        for row in (
            Lead.objects.filter(external_id__in=set(external_ids)).exclude(external_id="").values(*_REFERENCE_FIELDS)
        ):
            rows[row["id"]] = row
            by_external[row["external_id"]] = row["id"]
    if emails:
        for row in Lead.objects.filter(email__in=set(emails)).exclude(email="").values(*_REFERENCE_FIELDS):
            rows[row["id"]] = row
            by_email[row["email"]] = row["id"]
    for _ in range(5):  # a survivor may itself have been merged later
        missing = {row["merged_into_id"] for row in rows.values() if row["merged_into_id"]} - set(rows)
        if not missing:
            break
        for row in Lead.objects.filter(pk__in=missing).values(*_REFERENCE_FIELDS):
            rows[row["id"]] = row

    def survivor(lead_id: int) -> dict | None:
        row = rows.get(lead_id)
        while row is not None and row["merged_into_id"]:
            row = rows.get(row["merged_into_id"])
        return row

    return (
        {key: row for key, lead_id in by_external.items() if (row := survivor(lead_id))},
        {key: row for key, lead_id in by_email.items() if (row := survivor(lead_id))},
    )


def live_leads():
    """Leads that are still people of the workspace: not erased, not merged into another."""
    return Lead.objects.filter(erased_at__isnull=True, merged_into__isnull=True)
