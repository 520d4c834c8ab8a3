from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"

    def ready(self):
        from . import receivers, schema  # noqa: F401 - schema registers the OpenAPI descriptions of our authentication

        receivers.connect()  # the audit trail's receivers of login and lockout signals
