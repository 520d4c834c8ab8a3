import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from workspaces.models import Membership, User, Workspace


def test_create_workspace_with_its_admin(db, capsys):
    call_command(
        "create_workspace",
        "--slug",
        "acme",
        "--name",
        "Acme",
        "--admin-email",
        "Boss@Acme.test",
        "--admin-password",
        "s3cret-pass",
    )
    assert "/w/acme/" in capsys.readouterr().out
    workspace = Workspace.objects.get(slug="acme")
    membership = Membership.objects.with_scopes_disabled().get(workspace=workspace)
    assert (membership.user.email, membership.role) == ("boss@acme.test", "admin")
    assert authenticate(username="boss@acme.test", password="s3cret-pass") == membership.user


def test_create_workspace_refuses_a_taken_slug_and_a_bad_time_zone(db):
    call_command("create_workspace", "--slug", "acme", "--name", "Acme")
    with pytest.raises(CommandError, match="slug 'acme' already exists"):
        call_command("create_workspace", "--slug", "acme", "--name", "Other")
    with pytest.raises(CommandError, match="'Mars/Base' is not a known time zone"):
        call_command("create_workspace", "--slug", "mars", "--name", "Mars", "--timezone", "Mars/Base")
    assert not Workspace.objects.filter(slug="mars").exists()


def test_add_member_creates_the_login_and_changes_a_role(db):
    call_command("create_workspace", "--slug", "acme", "--name", "Acme")
    call_command(
        "add_member",
        "--workspace",
        "acme",
        "--email",
        "rep@acme.test",
        "--role",
        "sales_rep",
        "--password",
        "pw-rep-123",
    )
    call_command("add_member", "--workspace", "acme", "--email", "rep@acme.test", "--role", "manager")
    membership = Membership.objects.with_scopes_disabled().get(user__email="rep@acme.test")
    assert membership.role == "manager"
    assert User.objects.filter(email="rep@acme.test").count() == 1


def test_add_member_to_a_missing_workspace_says_so(db):
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        call_command("add_member", "--workspace", "nope", "--email", "a@b.test", "--role", "admin")


def test_create_workspace_with_a_refused_admin_leaves_no_workspace(db):
    with pytest.raises(CommandError, match="email"):
        call_command(
            "create_workspace", "--slug", "acme", "--name", "Acme", "--admin-email", "not-an-email"
        )  # fmt: skip
    assert not Workspace.objects.filter(slug="acme").exists()


def test_create_workspace_refuses_a_weak_admin_password(db):
    with pytest.raises(CommandError, match="too short"):
        call_command(
            "create_workspace", "--slug", "acme", "--name", "Acme", "--admin-email", "a@acme.test",
            "--admin-password", "x",
        )  # fmt: skip
    assert not Workspace.objects.filter(slug="acme").exists()


def test_add_member_may_reset_the_password_of_an_existing_login(db):
    """The shell belongs to whoever runs the server: it may set a forgotten password."""
    call_command("create_workspace", "--slug", "acme", "--name", "Acme")
    call_command("add_member", "--workspace", "acme", "--email", "r@acme.test", "--role", "marketer",
                 "--password", "first-pass-1")  # fmt: skip
    call_command("add_member", "--workspace", "acme", "--email", "r@acme.test", "--role", "marketer",
                 "--password", "second-pass-2")  # fmt: skip
    assert authenticate(username="r@acme.test", password="second-pass-2") is not None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--workspace", "Bad_Slug!"], "slug"),
        (["--today", "2026-13-01"], "is not a date"),
    ],
)
def test_seed_demo_names_what_is_wrong_with_its_arguments(db, args, words):
    with pytest.raises(CommandError, match=words):
        call_command("seed_demo", "--leads", "10", *args)
    assert not Workspace.objects.exclude(slug="demo").exists()


def test_report_refuses_a_horizon_that_is_not_a_number_of_days(db):
    call_command("create_workspace", "--slug", "acme", "--name", "Acme")
    with pytest.raises(CommandError, match="not a number of days"):
        call_command("report", "funnel", "--workspace", "acme", "--horizon", "nan", "--format", "json")
