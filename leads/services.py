import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from funnel.services import lead_first_event
from funnel.stages import EventSource, Stage
from workspaces.scoping import ensure_same_workspace

from .models import Lead
from .normalize import normalize_email


@transaction.atomic
def lead_create(
    *,
    workspace,
    email: str,
    stage: str = Stage.LEAD,
    entered_at: dt.datetime | None = None,
    account=None,
    owner=None,
    actor=None,
    source: str = EventSource.UI,
    external_id: str = "",
    **fields,
) -> Lead:
    """Create a person in their first stage (``lead`` when captured, ``touched`` when only
    reached) and write that first ledger row. The email is normalized; a second lead with the
    same email in the workspace is refused with a message naming it."""
    email = normalize_email(email)
    ensure_same_workspace(workspace, account=account)
    if stage not in (Stage.TOUCHED, Stage.LEAD):
        raise ValidationError(
            {"stage": f"A new person starts in 'touched' or 'lead', not '{stage}'; later stages are moves."}
        )
    if Lead.objects.filter(email=email).exists():
        raise ValidationError({"email": f"A lead with the email {email} already exists in this workspace."})
    entered_at = entered_at or timezone.now()
    lead = Lead(
        workspace=workspace,
        email=email,
        account=account,
        owner=owner,
        stage=stage,
        stage_entered_at=entered_at,
        external_id=external_id,
        created_at=entered_at,
        updated_at=timezone.now(),
        **fields,
    )
    lead.full_clean(exclude=["workspace", "account", "owner"], validate_constraints=False)
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        # A concurrent request created the same email or external_id between the check and the insert.
        raise ValidationError(
            {"email": f"A lead with the email {email} (or external id '{external_id}') already exists."}
        ) from None
    lead_first_event(workspace=workspace, lead=lead, source=source, actor=actor)
    return lead
