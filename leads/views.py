from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from workspaces.decorators import workspace_view
from workspaces.permissions import Action

from .forms import MergeForm
from .selectors import live_leads
from .services import lead_merge


def _summary(lead):
    """What a person compares before merging two records (one query for the counts)."""
    counted = (
        live_leads()
        .filter(pk=lead.pk)
        .annotate(
            n_touches=Count("touches", distinct=True),
            n_events=Count("stage_events", distinct=True),
            n_opportunities=Count("opportunities", distinct=True),
        )
        .values("n_touches", "n_events", "n_opportunities")
        .get()
    )
    return {"lead": lead} | counted


@workspace_view(Action.MERGE_LEADS)
def lead_merge_page(request):
    """Merge two records of one person: compare them, then confirm."""
    data = request.POST if request.method == "POST" else (request.GET if "survivor" in request.GET else None)
    form = MergeForm(data)
    compared = None
    if data is not None and form.is_valid():
        survivor, loser = form.cleaned_data["survivor"], form.cleaned_data["loser"]
        if request.method == "POST" and "confirm" in request.POST:
            try:
                merge = lead_merge(workspace=request.workspace, survivor=survivor, loser=loser, actor=request.user)
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                moved = merge.moved
                messages.success(
                    request,
                    gettext(
                        "%(merged)s is merged into %(survivor)s: %(touches)s touches, %(events)s stage events "
                        "and %(opportunities)s opportunities moved."
                    )
                    % {
                        "merged": merge.loser_email or gettext("Lead #%(id)s") % {"id": loser.pk},
                        "survivor": survivor.email,
                        "touches": moved["touches"],
                        "events": moved["stage_events"],
                        "opportunities": moved["opportunities"],
                    },
                )
                return redirect("lead-merge", workspace_slug=request.workspace.slug)
        if form.is_valid():
            compared = [_summary(survivor), _summary(loser)]
    return render(request, "leads/merge.html", {"form": form, "compared": compared})
