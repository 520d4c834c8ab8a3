"""What a Chinese reader meets beyond the pages' own words: the error pages, Django's messages
that its bundled catalog lacks, refusals of forms and imports, the audit log's details, numbers
and the pages' titles (issue 10's audit, docs/i18n.md)."""

import html

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from workspaces.models import Role

from .test_i18n import compiled_catalogs

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


@pytest.fixture(autouse=True, scope="module")
def _catalogs_compiled():
    compiled_catalogs()


@pytest.fixture
def admin(member_factory, workspace):
    return member_factory(workspace, role=Role.ADMIN, email="admin@acme.test").user


@pytest.fixture
def rep(member_factory, workspace):
    return member_factory(workspace, role=Role.SALES_REP, email="rep@acme.test").user


# --- error pages ---------------------------------------------------------------------------------


def test_a_refused_page_is_chinese_with_the_way_back(client, settings, rep, workspace):
    settings.DEBUG = False
    client.force_login(rep)
    response = client.get(reverse("members", args=[workspace.slug]), **ZH)
    assert response.status_code == 403
    page = response.content.decode()
    assert "您无权打开此页面" in page
    assert "您的角色（销售代表）不能管理成员。" in page
    assert "<title>无权访问 · Acme Inc · Funnel</title>" in page
    assert f'href="{reverse("home", args=[workspace.slug])}"' in page  # back to the workspace
    assert '<html lang="zh-hans">' in page


def test_a_missing_page_is_chinese_with_the_way_back(client, settings, rep, workspace, other_workspace):
    settings.DEBUG = False
    client.force_login(rep)
    for path in (f"/w/{workspace.slug}/no-such-page/", f"/w/{other_workspace.slug}/", "/no-such-page/"):
        response = client.get(path, **ZH)
        assert response.status_code == 404, path
        page = response.content.decode()
        assert "页面不存在" in page and "Not Found" not in page, path
        assert f'href="{reverse("workspace-switch")}?all=1"' in page, path


def test_the_server_error_and_bad_request_pages_need_no_context_and_are_chinese():
    with translation.override("zh-hans"):
        assert "出错了" in render_to_string("500.html")
        assert "请求无效" in render_to_string("400.html")


# --- Django's own messages that its zh_Hans catalog lacks ----------------------------------------

TOO_SHORT = "密码太短。密码必须包含至少 8 个字符。"


def _set_password_page(client, url: str) -> str:
    """Django's reset-confirm views answer the token URL by redirecting to a URL without it."""
    return client.get(url, follow=True, **ZH).redirect_chain[-1][0]


def test_a_too_short_password_is_refused_in_chinese_wherever_one_is_set(client, admin, workspace):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from workspaces.invitations import invitation_token_generator

    client.force_login(admin)
    pages = {}
    pages["members add"] = client.post(
        reverse("members", args=[workspace.slug]),
        {"email": "new@acme.test", "role": Role.MARKETER, "password": "short"},
        **ZH,
    )
    pages["password change"] = client.post(
        reverse("password_change"),
        {"old_password": "pw-for-tests-1", "new_password1": "short", "new_password2": "short"},
        **ZH,
    )
    client.logout()
    uidb64 = urlsafe_base64_encode(force_bytes(admin.pk))
    for name, generator, url_name in (
        ("invitation accept", invitation_token_generator, "invitation-accept"),
        ("reset confirm", default_token_generator, "password-reset-confirm"),
    ):
        url = reverse(url_name, args=[uidb64, generator.make_token(admin)])
        pages[name] = client.post(
            _set_password_page(client, url), {"new_password1": "short", "new_password2": "short"}, **ZH
        )
    for name, response in pages.items():
        page = response.content.decode()
        assert response.status_code == 200, name
        assert TOO_SHORT in page, name
        assert "too short" not in page, name


# --- refusals of forms ---------------------------------------------------------------------------


def test_an_unknown_time_zone_is_refused_in_chinese_on_the_settings_page(client, admin, workspace):
    from workspaces.forms import WorkspaceSettingsForm

    client.force_login(admin)
    data = {name: getattr(workspace, name) for name in WorkspaceSettingsForm.Meta.fields}
    data = {name: value for name, value in data.items() if value is not False} | {"timezone": "Mars/Base"}
    page = client.post(reverse("workspace-settings", args=[workspace.slug]), data, **ZH).content.decode()
    assert "“Mars/Base”不是已知的时区" in page
    assert "not a known time zone" not in page


def test_a_wrong_password_at_the_login_names_the_email_in_chinese(client, admin):
    page = client.post(reverse("login"), {"username": admin.email, "password": "wrong"}, **ZH).content.decode()
    assert "请输入一个正确的邮箱和密码" in page


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_counts_are_grouped_by_thousands_with_a_comma_as_amounts_are(language):
    from django.template import Context, Template

    from workspaces.templatetags.funnel_l10n import money

    template = Template('{% load humanize %}{{ n|intcomma }} {{ x|floatformat:"0g" }} {{ n }}')
    with translation.override(language):
        assert template.render(Context({"n": 1234567, "x": 1234567.4})) == "1,234,567 1,234,567 1234567"
        assert money("1234567", "CNY").endswith("1,234,567.00")


# --- imports -------------------------------------------------------------------------------------


def _upload(client, workspace, content: bytes, name="leads.csv", follow=True):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("data", args=[workspace.slug]),
        {"resource": "leads", "file": SimpleUploadedFile(name, content, content_type="text/csv")},
        follow=follow,
        **ZH,
    )


def test_a_refused_file_is_told_in_chinese_on_the_import_page(client, admin, workspace):
    client.force_login(admin)
    for content, text in (
        (b"mail,name\na@b.com,A\n", "未知的列 'mail', 'name'。线索的列为：external_id,"),
        (b"\xff\xfe\x00bad", "该文件不是 UTF-8 文本"),
        (b"email,email\na@b.com,c@d.com\n", "列 email 出现了两次。"),
    ):
        page = html.unescape(_upload(client, workspace, content).content.decode())
        assert text in page, text


def test_refused_rows_are_told_in_the_language_of_whoever_started_the_import(
    client, admin, workspace, django_capture_on_commit_callbacks
):
    """The rows are checked by a worker with no request: it speaks the starter's language."""
    client.force_login(admin)
    content = b"external_id,email\nA-1,not-an-email\nA-2,\nA-3,ok@acme.test,extra\n"
    with django_capture_on_commit_callbacks(execute=True):
        job_page = _upload(client, workspace, content, follow=False)["Location"]
    page = html.unescape(client.get(job_page, **ZH).content.decode())
    assert "“not-an-email”不是有效的邮箱地址。" in page
    assert "创建线索需要邮箱。" in page
    assert "此行比表头多 1 个单元格。" in page
    assert "not a valid email" not in page and "is required" not in page


def test_the_api_door_still_refuses_rows_in_english(admin, workspace, django_capture_on_commit_callbacks):
    from sync.models import ImportJob
    from sync.services import import_job_create
    from workspaces.scoping import workspace_scope

    with workspace_scope(workspace), translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            workspace=workspace,
            resource="leads",
            filename="x.csv",
            content=b"external_id,email\nA-1,bad\n",
            actor=admin,
        )
    with workspace_scope(workspace):
        job = ImportJob.objects.get(pk=job.pk)
    assert job.language == "en"
    assert job.errors[0]["errors"]["email"] == ["'bad' is not a valid email address."]


# --- wording -------------------------------------------------------------------------------------


def test_names_sit_in_chinese_sentences_without_spaces_and_merges_transfer():
    values = {"merged": "张伟", "survivor": "李娜", "touches": 6, "events": 2, "opportunities": 1}
    values |= {"email": "a@x.cn", "workspace": "演示公司"}
    with translation.override("zh-hans"):
        merged = translation.gettext(
            "%(merged)s is merged into %(survivor)s: %(touches)s touches, %(events)s stage events and "
            "%(opportunities)s opportunities moved."
        )
        last_admin = translation.gettext("%(email)s is the last admin of %(workspace)s; make someone else admin first.")
    assert (merged % values).startswith("张伟已合并到李娜：转移了 6 个触点")
    assert "是演示公司的最后一位管理员" in last_admin % values


def test_a_webhook_shows_its_events_by_their_label_and_an_import_its_records_in_lower_case(client, admin, workspace):
    from sync.services import webhook_create
    from workspaces.scoping import workspace_scope

    with workspace_scope(workspace):
        webhook_create(workspace=workspace, url="https://hooks.example.com/in", events=["lead.handed_off"])
    client.force_login(admin)
    page = client.get(reverse("webhooks", args=[workspace.slug]), **ZH).content.decode()
    assert '线索移交销售 <code class="small" translate="no">lead.handed_off</code>' in page
    page = client.get(reverse("webhooks", args=[workspace.slug]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Lead handed off to sales" in page


# --- titles --------------------------------------------------------------------------------------


def test_every_workspace_page_has_its_own_translated_title(client, admin, workspace):
    import re

    workspace.name = "演示公司"
    workspace.save()
    client.force_login(admin)
    expected = {
        "home": "首页",
        "members": "成员",
        "workspace-settings": "设置",
        "api-keys": "API 密钥",
        "webhooks": "Webhook",
        "data": "导入与导出",
        "lead-merge": "合并线索",
        "audit-log": "审计日志",
    }
    for name, title in expected.items():
        page = client.get(reverse(name, args=[workspace.slug]), **ZH).content.decode()
        assert re.search(r"<title>(.*?)</title>", page).group(1) == f"{title} · 演示公司 · Funnel", name


# --- the audit log's details ---------------------------------------------------------------------


def test_the_audit_log_tells_known_details_in_the_readers_words_and_keeps_data_as_stored():
    from workspaces.audit_views import payload_lines

    with translation.override("zh-hans"):
        lines = {
            line.label: (line.text, line.kind)
            for payload in (
                {"email": "rep@acme.test", "role": "sales_rep"},
                {"changes": {"currency": ["CNY", "ZZZ"], "reassign_when_overdue": [False, True]}},
                {"resource": "leads", "via": "browser", "filters": {}},
                {"survivor": {"id": 7, "external_id": "W-7"}, "loser": {"id": 9, "external_id": ""}},
                {"moved": {"touches": 6, "stage_events": 2, "opportunities": 1}, "source": "ui"},
                {"name": "官网表单", "scope": "read", "mystery": "as stored"},
            )
            for line in payload_lines(payload)
        }
    assert lines["邮箱"] == ("rep@acme.test", "data")
    assert lines["角色"] == ("销售代表", "text")
    assert lines["货币"] == ("CNY → ZZZ", "data")
    assert lines["SLA 超时后重新分配线索"] == ("否 → 是", "text")
    assert lines["记录类型"] == ("leads", "code")
    assert lines["途径"] == ("浏览器", "text")
    assert lines["保留的线索"] == ("#7 (W-7)", "data") and lines["被合并的线索"] == ("#9", "data")
    assert lines["转移"] == ("6 个触点、2 条阶段记录、1 个商机", "text")
    assert lines["权限范围"] == ("只读", "text")
    assert lines["名称"] == ("官网表单", "data")
    assert lines["mystery"] == ("as stored", "data")
