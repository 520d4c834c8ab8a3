from django.urls import path

from . import views

urlpatterns = [
    path("", views.workspace_switch, name="workspace-switch"),
    path("<slug:workspace_slug>/", views.home, name="home"),
    path("<slug:workspace_slug>/members/", views.members, name="members"),
    path("<slug:workspace_slug>/members/<int:membership_id>/", views.member_change, name="member-change"),
    path("<slug:workspace_slug>/settings/", views.workspace_settings, name="workspace-settings"),
]
