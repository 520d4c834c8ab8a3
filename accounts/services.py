from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from workspaces.scoping import ensure_same_workspace

from .models import Account, TargetList, TargetListMember
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
