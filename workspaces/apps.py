from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"

    def ready(self):
        from . import schema  # noqa: F401 - registers the OpenAPI descriptions of our authentication
