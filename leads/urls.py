from django.urls import path

from . import scoring_views, views

urlpatterns = [
    path("leads/", views.lead_list_page, name="leads"),
    path("leads/new/", views.lead_create_page, name="lead-create"),
    path("leads/export/", views.lead_export, name="leads-export"),
    path("leads/bulk/", views.lead_bulk, name="leads-bulk"),
    path("leads/merge/", views.lead_merge_page, name="lead-merge"),
    path("leads/<int:pk>/", views.lead_page, name="lead"),
    path("leads/<int:pk>/edit/", views.lead_edit_page, name="lead-edit"),
    path("leads/<int:pk>/touch/", views.lead_touch_page, name="lead-touch"),
    path("scoring/", scoring_views.scoring, name="scoring"),
    path("scoring/jobs/<int:pk>/progress/", scoring_views.rescore_job_progress, name="scoring-job-progress"),
]
