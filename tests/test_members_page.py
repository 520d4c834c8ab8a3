"""The Members page answers and lists the same whether or not an added address has a login
somewhere: the name shown is the one this workspace's admin typed (kept on the membership),
never the login's own name from elsewhere (issue 9 audit, item A)."""

import re

import pytest
from django.urls import reverse

from workspaces.models import Membership, User
from workspaces.services import membership_add, membership_change_role


@pytest.fixture
def admin_client(client, member_factory, workspace):
    client.force_login(member_factory(workspace, role="admin", email="boss@acme.test").user)
    return client


@pytest.fixture
def login_elsewhere(other_workspace):
    """A login made by another workspace, with its person's own name."""
    return membership_add(
        workspace=other_workspace, email="exists@globex.test", role="admin", full_name="Real Secret Name"
    ).user


def members_url(workspace) -> str:
    return reverse("members", kwargs={"workspace_slug": workspace.slug})


def add(client, workspace, email, **fields):
    data = {"email": email, "role": "marketer", **fields}
    return client.post(members_url(workspace), data, follow=True)


def row_of(page, email: str) -> str:
    html = page.content.decode()
    start = html.index(f'data-email="{email}"')
    return html[start : html.index("</tr>", start)]


@pytest.mark.usefixtures("login_elsewhere")
def test_an_existing_login_is_listed_with_the_typed_name_not_its_own(admin_client, workspace):
    page = add(admin_client, workspace, "exists@globex.test", full_name="Typed Name")
    row = row_of(page, "exists@globex.test")
    assert "Typed Name" in row and "Real Secret Name" not in row
    assert "Real Secret Name" not in page.content.decode()


@pytest.mark.usefixtures("login_elsewhere")
def test_an_existing_login_added_without_a_name_shows_no_name(admin_client, workspace):
    page = add(admin_client, workspace, "exists@globex.test")
    assert "Real Secret Name" not in page.content.decode()
    assert "—" in row_of(page, "exists@globex.test")


@pytest.mark.usefixtures("login_elsewhere")
@pytest.mark.parametrize("full_name", ["Typed Name", ""])
def test_the_page_reads_the_same_whether_or_not_the_address_has_a_login(admin_client, workspace, full_name):
    def answer(email):
        page = add(admin_client, workspace, email, full_name=full_name)
        said = [str(m).replace(email, "EMAIL") for m in page.context["messages"]]
        cells = re.findall(r"<td>([^<]*)</td>", row_of(page, email).replace(email, "EMAIL"))
        return page.redirect_chain, said, cells

    has_login, has_none = answer("exists@globex.test"), answer("nobody@globex.test")
    assert has_login == has_none
    assert has_login[2] == ["EMAIL", full_name or "—"]


def test_the_login_keeps_its_own_name_and_a_new_login_gets_the_typed_one(admin_client, workspace, login_elsewhere):
    add(admin_client, workspace, "exists@globex.test", full_name="Typed Name")
    add(admin_client, workspace, "nobody@globex.test", full_name="Typed Name")
    login_elsewhere.refresh_from_db()
    assert login_elsewhere.full_name == "Real Secret Name"
    assert User.objects.get(email="nobody@globex.test").full_name == "Typed Name"
    names = dict(
        Membership.objects.with_scopes_disabled()
        .filter(workspace=workspace, user__email__in=["exists@globex.test", "nobody@globex.test"])
        .values_list("user__email", "display_name")
    )
    assert names == {"exists@globex.test": "Typed Name", "nobody@globex.test": "Typed Name"}


def test_each_workspace_keeps_its_own_name_for_the_same_login(workspace, other_workspace, login_elsewhere):
    membership_add(workspace=workspace, email="exists@globex.test", role="marketer", full_name="Our Contact")
    names = dict(
        Membership.objects.with_scopes_disabled()
        .filter(user=login_elsewhere)
        .values_list("workspace__slug", "display_name")
    )
    assert names == {"globex": "Real Secret Name", "acme": "Our Contact"}


def test_a_role_change_keeps_the_name_and_adding_again_with_a_name_renames(workspace):
    membership = membership_add(workspace=workspace, email="rep@acme.test", role="marketer", full_name="First")
    membership = membership_change_role(membership=membership, role="sales_rep")
    assert membership.display_name == "First"
    membership = membership_add(workspace=workspace, email="rep@acme.test", role="sales_rep", full_name="Second")
    assert membership.display_name == "Second"
    assert User.objects.get(email="rep@acme.test").full_name == "First"  # the login's own name stays


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_login_its_name_in_its_first_workspace_only():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("workspaces", "0006_user_email_verbose_name")], [("workspaces", "0007_membership_display_name")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Workspace, User, Membership = (old.get_model("workspaces", name) for name in ("Workspace", "User", "Membership"))
    first, second = (
        Workspace.objects.create(slug="first", name="First"),
        Workspace.objects.create(slug="second", name="Second"),
    )
    person = User.objects.create(email="p@first.test", full_name="Pat Own")
    Membership.objects.create(workspace=first, user=person, role="admin")
    Membership.objects.create(workspace=second, user=person, role="marketer")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("workspaces", "Membership")
    names = dict(new.objects.filter(user_id=person.pk).values_list("workspace__slug", "display_name"))
    assert names == {"first": "Pat Own", "second": ""}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
