"""The scoring page: every member reads the workspace's scoring rules; admins change them, after
a preview of how many leads the change would qualify, and watch the rescore that follows."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from workspaces.decorators import workspace_view
from workspaces.permissions import Action, role_can

from .models import RescoreJob
from .scoring import COUNTRY, EMPLOYEES, INDUSTRY, SEGMENT, SENIORITY, TOUCH, rules_of
from .scoring_forms import ScoringForm
from .scoring_services import scoring_preview, scoring_rules_save


@workspace_view(Action.VIEW_WORKSPACE)
def scoring(request):
    """GET: the rules. POST (admins): first a review, which shows how many leads the change
    would qualify; then, with the same rules, the save, which queues the rescore."""
    workspace = request.workspace
    editable = role_can(request.membership.role, Action.MANAGE_WORKSPACE)
    if request.method == "POST" and not editable:
        role = request.membership.get_role_display()
        raise PermissionDenied(f"Your role ({role}) may not {Action.MANAGE_WORKSPACE.label}.")
    rules = rules_of(workspace)
    form = ScoringForm(
        request.POST if request.method == "POST" else None,
        rules=rules,
        threshold=workspace.mql_threshold,
        editable=editable,
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        signature = form.signature()
        if "confirm" in request.POST and form.cleaned_data["reviewed"] == signature:
            try:
                job = scoring_rules_save(
                    workspace=workspace,
                    rules=form.rules(),
                    mql_threshold=form.cleaned_data["mql_threshold"],
                    actor=request.user,
                )
            except ValidationError as error:
                for problems in (
                    error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
                ).values():
                    for problem in problems:
                        form.add_error(None, problem)
            else:
                if job is None:
                    messages.info(request, gettext("Nothing changed: the rules are as they were."))
                else:
                    messages.success(request, gettext("Scoring rules saved. Every lead is being scored again."))
                return redirect("scoring", workspace_slug=workspace.slug)
        if form.is_valid():
            preview = scoring_preview(
                workspace=workspace, rules=form.rules(), mql_threshold=form.cleaned_data["mql_threshold"]
            )
            data = form.data.copy()
            data["reviewed"] = signature
            form.data = data
    context = {
        "form": form,
        "touch_rows": form.fixed_rows(TOUCH),
        "seniority_rows": form.fixed_rows(SENIORITY),
        "segment_rows": form.fixed_rows(SEGMENT),
        "industry_rows": form.free_rows(INDUSTRY),
        "country_rows": form.free_rows(COUNTRY),
        "employee_rows": form.free_rows(EMPLOYEES),
        "editable": editable,
        "preview": preview,
        "job": RescoreJob.objects.select_related("created_by").order_by("-created_at", "-id").first(),
    }
    return render(request, "leads/scoring.html", context)


@workspace_view(Action.VIEW_WORKSPACE)
def rescore_job_progress(request, pk: int):
    """A rescore job's progress, polled by the scoring page (htmx) until it is done."""
    job = get_object_or_404(RescoreJob.objects.select_related("created_by"), pk=pk)
    return render(request, "leads/_rescore_progress.html", {"job": job})
