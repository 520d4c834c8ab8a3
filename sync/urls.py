from django.urls import path

from . import views

urlpatterns = [
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:webhook_id>/remove/", views.webhook_remove, name="webhook-remove"),
    path("data/", views.data, name="data"),
    path("data/imports/<int:job_id>/", views.import_job, name="import-job"),
    path("data/imports/<int:job_id>/progress/", views.import_job_progress, name="import-job-progress"),
    path("data/export/<slug:resource>.csv", views.export, name="export"),
]
