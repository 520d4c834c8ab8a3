from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from sync.bulk import PlainUpsert, given
from sync.interchange import Parsed
from workspaces.scoping import ensure_same_workspace
from workspaces.selectors import member_ids_by_email

from .interchange import ACCOUNTS
from .models import Account, TargetList, TargetListMember, Tier
from .normalize import normalize_domain


@transaction.atomic
def account_create(*, workspace, name: str, domain: str = "", external_id: str = "", **fields) -> Account:
    """Create a company; its domain is normalized and unique in the workspace."""
    domain = normalize_domain(domain)
    if domain and Account.objects.filter(domain=domain).exists():
        raise ValidationError({"domain": f"An account with the domain {domain} already exists in this workspace."})
    account = Account(workspace=workspace, name=name, domain=domain, external_id=external_id, **fields)
    account.full_clean(exclude=["workspace", "owner"], validate_constraints=False)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        raise ValidationError(
            {"domain": f"An account with the domain {domain} (or external id '{external_id}') already exists."}
        ) from None
    return account


@transaction.atomic
def target_list_add_account(*, workspace, target_list: TargetList, account: Account, tier: int) -> TargetListMember:
    """Put an account on an ABM target list at a tier (moving it to that tier if already there)."""
    ensure_same_workspace(workspace, target_list=target_list, account=account)
    member, _ = TargetListMember.objects.update_or_create(
        workspace=workspace,
        target_list=target_list,
        account=account,
        defaults={"tier": tier},
        create_defaults={"tier": tier, "added_at": timezone.now()},
    )
    member.full_clean(exclude=["workspace", "target_list", "account"], validate_constraints=False)
    return member


# --- the bulk upsert (the API and the CSV import) ----------------------------------------------


def _account_references(parsed: list[Parsed], indexes: list[int]) -> dict:
    return {"owners": member_ids_by_email(given(parsed, indexes, "owner_email"))}


def _account_values(parsed: Parsed, refs: dict, errors: dict) -> dict:
    given = parsed.values
    values = {name: given[name] for name in ("external_id", "name", "domain", "industry", "segment") if name in given}
    if "employees" in given:
        values["employee_count"] = given["employees"]
    if "country" in given:
        country = given["country"].upper()
        if len(country) != 2 or not country.isalpha():
            errors["country"] = [f"'{given['country']}' is not a two-letter country code (ISO 3166-1, such as US)."]
        values["country"] = country
    if "owner_email" in given:
        owner = refs["owners"].get(given["owner_email"])
        if owner is None:
            errors["owner_email"] = [f"{given['owner_email']} is not a member of this workspace."]
        values["owner_id"] = owner
    return values


def _new_account(workspace, values: dict, now) -> dict:
    row = {
        "workspace_id": workspace.pk,
        "external_id": "",
        "domain": "",
        "industry": "",
        "employee_count": None,
        "country": "",
        "segment": "",
        "owner_id": None,
    }
    return row | values | {"created_at": now, "updated_at": now, "sync_version": 0}


ACCOUNT_UPSERT = PlainUpsert(
    model=Account,
    spec=ACCOUNTS,
    keys=("external_id", "domain"),
    fields=("external_id", "name", "domain", "industry", "employee_count", "country", "segment", "owner_id"),
    resolve=_account_references,
    values=_account_values,
    new_row=_new_account,
    required=("name",),
    label="account",
    renamed={"employees": "employee_count"},
)


def accounts_upsert(*, workspace, records: list, pinned: Account | None = None, clear_blanks: bool = False, **_):
    """Create or update accounts matched on ``external_id``, then on normalized domain."""
    return ACCOUNT_UPSERT.run(workspace=workspace, records=records, pinned=pinned, clear_blanks=clear_blanks)


@transaction.atomic
def account_delete(*, workspace, account: Account) -> None:
    """Delete an account nobody refers to any more (its leads, touches, deals and contracts
    keep it otherwise); the change feed shows a tombstone."""
    from sync.models import Tombstone

    ensure_same_workspace(workspace, account=account)
    in_use = [
        label
        for label, related in (
            ("leads", "leads"),
            ("touches", "touches"),
            ("opportunities", "opportunities"),
            ("contracts", "contracts"),
            ("stage events", "stage_events"),
        )
        if getattr(account, related).exists()
    ]
    if in_use:
        raise ValidationError(
            f"Account '{account.name}' still has {', '.join(in_use)}; it cannot be deleted. Move or erase those first."
        )
    TargetListMember.objects.filter(account=account).delete()
    Tombstone.objects.create(
        workspace=workspace, resource="accounts", record_id=account.pk, external_id=account.external_id, kind="deleted"
    )
    account.delete()


@transaction.atomic
def target_list_add_accounts(*, workspace, target_list: TargetList, account_ids, tier: int) -> dict[str, int]:
    """Put many accounts on a target list at a tier at once (the lead list's bulk action adds
    the selected leads' accounts): those not yet on it are added, those on it at another tier
    move to this one, as ``target_list_add_account`` does for one. Set-based: one read, one
    insert, one update. Returns how many were added, moved and already there at that tier."""
    ensure_same_workspace(workspace, target_list=target_list)
    if tier not in Tier.values:
        raise ValidationError({"tier": f"Tier must be one of 1, 2, 3, not {tier}."})
    given_ids = {pk for pk in account_ids if pk}
    ids = set(Account.objects.filter(workspace=workspace, pk__in=given_ids).values_list("pk", flat=True))
    existing = {
        member.account_id: member
        for member in TargetListMember.objects.filter(workspace=workspace, target_list=target_list, account_id__in=ids)
    }
    now = timezone.now()
    TargetListMember.objects.bulk_create(
        [
            TargetListMember(workspace=workspace, target_list=target_list, account_id=pk, tier=tier, added_at=now)
            for pk in sorted(ids - set(existing))
        ]
    )
    moved = [member for member in existing.values() if member.tier != tier]
    for member in moved:
        member.tier = tier
    TargetListMember.objects.bulk_update(moved, ["tier"])
    return {"added": len(ids - set(existing)), "moved": len(moved), "unchanged": len(existing) - len(moved)}
