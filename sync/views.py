from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from workspaces.decorators import workspace_view
from workspaces.permissions import Action, role_can
from workspaces.show_once import secret_keep, secret_take

from .csvio import export_csv
from .forms import ImportForm, WebhookForm
from .models import ImportJob, Webhook, WebhookDelivery
from .resources import RESOURCES
from .services import export_start, import_job_create, webhook_create, webhook_delete


def _messages_of(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {None: error.messages}


@workspace_view(Action.MANAGE_INTEGRATIONS)
def webhooks(request):
    """Webhooks: register a receiver for events (its signing secret is shown once), see the
    latest deliveries and their last status."""
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = webhook_create(workspace=request.workspace, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, problems in _messages_of(error).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(
                request, gettext("Webhook to %(url)s added. Copy its signing secret now.") % {"url": webhook.url}
            )
            secret_keep(request, page="webhooks", secret=webhook.secret)
            return redirect("webhooks", workspace_slug=request.workspace.slug)
    context = {
        "form": form,
        "new_secret": secret_take(request, page="webhooks"),
        "webhooks": Webhook.objects.order_by("-created_at"),
        "deliveries": WebhookDelivery.objects.select_related("webhook").order_by("-created_at", "-id")[:30],
    }
    return render(request, "sync/webhooks.html", context)


@workspace_view(Action.MANAGE_INTEGRATIONS)
@require_POST
def webhook_remove(request, webhook_id: int):
    webhook = get_object_or_404(Webhook.objects.all(), pk=webhook_id)
    webhook_delete(workspace=request.workspace, webhook=webhook, actor=request.user)
    messages.success(request, gettext("Webhook to %(url)s removed; it receives nothing more.") % {"url": webhook.url})
    return redirect("webhooks", workspace_slug=request.workspace.slug)


@workspace_view(Action.IMPORT_DATA)
def data(request):
    """Import a CSV (in the background, with progress) and export any resource as CSV."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_create(
                workspace=request.workspace,
                resource=form.cleaned_data["resource"],
                filename=upload.name,
                content=upload.read(),
                actor=request.user,
            )
        except ValidationError as error:
            for field, problems in _messages_of(error).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            return redirect("import-job", workspace_slug=request.workspace.slug, job_id=job.pk)
    jobs = ImportJob.objects.select_related("created_by").defer("content").order_by("-created_at")[:15]
    readable = [r for r in RESOURCES.values() if role_can(request.membership.role, r.read_action)]
    context = {"form": form, "jobs": jobs, "resources": readable}
    # the columns of each file the form takes, for the panel under it
    context["import_columns"] = [(name, RESOURCES[name].spec.names) for name, _label in form.fields["resource"].choices]
    return render(request, "sync/data.html", context)


def _job(job_id: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.defer("content").select_related("created_by"), pk=job_id)


@workspace_view(Action.IMPORT_DATA)
def import_job(request, job_id: int):
    return render(request, "sync/import_job.html", {"job": _job(job_id)})


@workspace_view(Action.IMPORT_DATA)
def import_job_progress(request, job_id: int):
    """The job's progress, polled by its page (htmx) until it is done."""
    return render(request, "sync/_import_progress.html", {"job": _job(job_id)})


@workspace_view(Action.EXPORT_DATA)
def export(request, resource: str):
    definition = RESOURCES.get(resource)
    if definition is None:
        raise Http404(f"No resource '{resource}'.")
    if not role_can(request.membership.role, definition.read_action):
        role = request.membership.get_role_display()
        raise PermissionDenied(
            gettext("Your role (%(role)s) may not %(action)s.") % {"role": role, "action": definition.read_action.label}
        )
    export_start(workspace=request.workspace, resource=definition.name, via="browser", actor=request.user)
    # The queryset is made here, in the request's workspace scope: the response streams after
    # the middleware has left it, and a scoped manager refuses to start a query outside one.
    response = StreamingHttpResponse(export_csv(definition, definition.rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-{resource}.csv"'
    return response
