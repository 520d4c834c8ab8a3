from django.contrib import admin

from workspaces.admin_scoping import ReadOnlyScopedAdmin

from .models import IdempotencyRecord, ImportJob, Tombstone, Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyScopedAdmin):
    """Added and removed on the workspace's Webhooks page (which checks the URL)."""

    list_display = ["url", "events", "active", "created_at", "workspace"]
    search_fields = ["url"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "event", "webhook", "status", "attempts", "last_status_code", "workspace"]
    list_filter = ["status", "event"]
    search_fields = ["event_id", "webhook__url", "last_error"]
    list_select_related = ["workspace", "webhook"]
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "resource", "filename", "status", "rows_done", "rows_total", "workspace"]
    list_filter = ["status", "resource"]
    search_fields = ["filename"]
    exclude = ["content"]


@admin.register(Tombstone)
class TombstoneAdmin(ReadOnlyScopedAdmin):
    list_display = ["occurred_at", "resource", "record_id", "external_id", "kind", "merged_into_id", "workspace"]
    list_filter = ["resource", "kind"]
    search_fields = ["external_id"]
    show_full_result_count = False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "key", "principal", "method", "path", "status_code", "workspace"]
    search_fields = ["key", "path"]
    exclude = ["response"]
    show_full_result_count = False
