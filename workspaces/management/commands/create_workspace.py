from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from workspaces.models import Role
from workspaces.services import membership_add, workspace_create


def format_validation_error(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Create a workspace (with the default channels) and optionally its first admin."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--admin-email")
        parser.add_argument("--admin-password")

    def handle(self, *args, **options):
        if options["admin_password"] and not options["admin_email"]:
            raise CommandError("--admin-password needs --admin-email.")
        try:
            with transaction.atomic():  # a refused admin leaves no workspace behind
                workspace = workspace_create(
                    slug=options["slug"],
                    name=options["name"],
                    currency=options["currency"],
                    timezone=options["timezone"],
                )
                if options["admin_email"]:
                    membership_add(
                        workspace=workspace,
                        email=options["admin_email"],
                        role=Role.ADMIN,
                        password=options["admin_password"],
                        reset_password=True,
                    )
        except ValidationError as error:
            raise CommandError(format_validation_error(error)) from None
        self.stdout.write(f"Created workspace '{workspace.slug}' ({workspace.name}) at /w/{workspace.slug}/")
