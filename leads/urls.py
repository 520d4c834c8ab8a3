from django.urls import path

from . import views

urlpatterns = [
    path("leads/merge/", views.lead_merge_page, name="lead-merge"),
]
