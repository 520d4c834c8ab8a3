from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from workspaces.models import Role, Workspace
from workspaces.services import membership_add

from .create_workspace import format_validation_error


class Command(BaseCommand):
    help = "Add a person to a workspace with a role, creating their login if needed, or change their role."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="the login's password (also replaces the password of an existing login)")

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug '{options['workspace']}'.")
        try:
            membership = membership_add(
                workspace=workspace,
                email=options["email"],
                role=options["role"],
                password=options["password"],
                reset_password=True,
            )
        except ValidationError as error:
            raise CommandError(format_validation_error(error)) from None
        self.stdout.write(f"{membership.user.email} is {membership.role} of '{workspace.slug}'.")
