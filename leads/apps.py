from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from workspaces.signals import workspace_created

        workspace_created.connect(_give_default_scoring_rules, dispatch_uid="leads.default_scoring_rules")


def _give_default_scoring_rules(sender, workspace, **kwargs) -> None:
    from .scoring_services import scoring_rules_create_defaults

    scoring_rules_create_defaults(workspace=workspace)
