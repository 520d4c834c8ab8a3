from django.urls import path

from . import audit_views, views

urlpatterns = [
    path("", views.workspace_switch, name="workspace-switch"),
    path("<slug:workspace_slug>/", views.home, name="home"),
    path("<slug:workspace_slug>/members/", views.members, name="members"),
    path("<slug:workspace_slug>/members/<int:membership_id>/", views.member_change, name="member-change"),
    path("<slug:workspace_slug>/settings/", views.workspace_settings, name="workspace-settings"),
    path("<slug:workspace_slug>/api-keys/", views.api_keys, name="api-keys"),
    path("<slug:workspace_slug>/audit-log/", audit_views.audit_log, name="audit-log"),
    path("<slug:workspace_slug>/api-keys/<str:key_prefix>/revoke/", views.api_key_revoke_view, name="api-key-revoke"),
]
