from django.urls import path

from . import scoring_views, views

urlpatterns = [
    path("leads/merge/", views.lead_merge_page, name="lead-merge"),
    path("scoring/", scoring_views.scoring, name="scoring"),
    path("scoring/jobs/<int:pk>/progress/", scoring_views.rescore_job_progress, name="scoring-job-progress"),
]
