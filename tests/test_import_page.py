"""The import page's "Columns of each file" panel lists the columns of every file it takes."""

import re
from html import unescape

from django.urls import reverse

from sync.resources import IMPORTABLE, RESOURCES
from workspaces.models import Role


def test_the_columns_panel_lists_each_importable_resources_columns(client, workspace, member_factory):
    client.force_login(member_factory(workspace, role=Role.ADMIN).user)
    page = client.get(reverse("data", kwargs={"workspace_slug": workspace.slug}))
    assert page.status_code == 200
    panel = re.search(r'<dl class="mt-2" id="import-columns">(.*?)</dl>', page.content.decode(), re.S).group(1)
    listed = dict(re.findall(r"<dt>(.*?)</dt><dd><code>(.*?)</code></dd>", panel))
    assert IMPORTABLE, "no importable resources"
    assert {name: unescape(columns) for name, columns in listed.items()} == {
        name: ", ".join(RESOURCES[name].spec.names) for name in IMPORTABLE
    }
    offered = {value for value, _label in page.context["form"].fields["resource"].choices}
    assert set(listed) == offered
