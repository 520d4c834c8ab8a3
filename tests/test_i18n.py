"""Translations: the Chinese catalog covers every string the code marks, with no empty or fuzzy
entry; a member's language choice beats the browser's and survives logging out; the login page
follows the browser; the REST API answers in English whatever the browser asks for; amounts
follow the reader's language and the workspace's currency (docs/i18n.md)."""

import io
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from workspaces.models import Role
from workspaces.scoping import workspace_scope
from workspaces.templatetags.funnel_l10n import money

ROOT = Path(settings.BASE_DIR)
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SKIP_DIRS = {".venv", "var", "tests", "bench", "migrations", "locale", "static", "node_modules", ".git", "docs"}
# makemessages' keywords (django.core.management.commands.makemessages), with Babel's names
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*\w+\s*\}\}")
TAG = re.compile(r"</?\w+")
PASSWORD = "pw-for-tests-1"


def _sources(suffix: str):
    for path in sorted(ROOT.rglob(f"*{suffix}")):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def _extract(code: str):
    """(context, msgid) of each marked string in Python source."""
    for _lineno, funcname, message, _comments in extract_python(
        io.BytesIO(code.encode("utf-8")), KEYWORDS, [], {"encoding": "utf-8"}
    ):
        args = message if isinstance(message, tuple) else (message,)
        context = args[0] if funcname.startswith(("pgettext", "npgettext")) else None
        msgid = args[1] if context is not None else args[0]
        if msgid:
            yield context, msgid


def marked_strings() -> dict[tuple[str | None, str], str]:
    """Every (context, msgid) the code marks, and a file that marks it: Python through Babel's
    extractor, templates through Django's own ``templatize`` (what makemessages feeds xgettext),
    so the check needs no GNU gettext."""
    found: dict[tuple[str | None, str], str] = {}
    for path in _sources(".py"):
        for key in _extract(path.read_text(encoding="utf-8")):
            found.setdefault(key, str(path.relative_to(ROOT)))
    for suffix in (".html", ".txt"):
        for path in _sources(suffix):
            if "templates" in path.parts:
                # templatize's output is not Python, only strings among X's: its indentation means
                # nothing, and Babel's tokenizer would stop at an "unindent" (xgettext does not)
                code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
                for key in _extract("\n".join(line.lstrip() for line in code.splitlines())):
                    found.setdefault(key, str(path.relative_to(ROOT)))
    return found


def compiled_catalogs() -> None:
    """What ./run and ./test do first (pybabel compile), for a run of pytest alone: the .mo files
    are not in git. Only a catalog newer than its .mo is compiled again."""
    from babel.messages.mofile import write_mo

    for po in (ROOT / "locale").glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                parsed = read_po(source)
            # written aside and renamed: pytest-xdist's workers may compile at the same time
            partial = mo.with_suffix(f".{os.getpid()}.tmp")
            with partial.open("wb") as target:
                write_mo(target, parsed)
            os.replace(partial, mo)
            translation.trans_real._translations = {}  # Django caches the catalogs it loaded


@pytest.fixture(autouse=True, scope="module")
def _catalogs_compiled():
    compiled_catalogs()


def catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_Hans")


def test_the_catalog_says_how_chinese_counts():
    assert catalog().plural_forms == "nplurals=1; plural=0;"


def test_every_entry_of_the_catalog_is_translated_and_none_is_fuzzy():
    problems = []
    for message in catalog():
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if "fuzzy" in message.flags:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, "\n".join(problems)


def test_translations_keep_the_placeholders_and_markup_of_their_source():
    problems = []
    for message in catalog():
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(f"placeholders differ: {source!r} -> {text!r}")
            if sorted(TAG.findall(source)) != sorted(TAG.findall(text)):
                problems.append(f"markup differs: {source!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_every_string_marked_in_the_code_is_in_the_catalog():
    ids = {(message.context, message.id[0] if isinstance(message.id, tuple) else message.id) for message in catalog()}
    missing = [
        f"{where}: {msgid!r}" for (context, msgid), where in marked_strings().items() if (context, msgid) not in ids
    ]
    assert not missing, (
        "marked for translation but not in locale/zh_Hans/LC_MESSAGES/django.po (run makemessages, "
        "translate, see docs/i18n.md):\n" + "\n".join(sorted(missing))
    )


def test_the_extractor_finds_strings_in_python_and_in_templates():
    """The check above would pass on nothing if the extractor found nothing."""
    found = marked_strings()
    assert (None, "Log out") in found  # templates/base.html
    assert (None, "Lead") in found  # funnel/stages.py, gettext_lazy as _
    assert ("channel", "Paid search") in found  # attribution/choices.py, pgettext_lazy
    assert ("import count", "created") in found  # a template's translate ... context


@pytest.fixture
def member(member_factory, workspace):
    membership = member_factory(workspace, role=Role.ADMIN, email="chen@acme.test")
    membership.user.set_password(PASSWORD)
    membership.user.save()
    return membership.user


def test_a_member_who_chose_chinese_reads_chinese_whatever_the_browser_says(client, member, workspace):
    client.force_login(member)
    response = client.post(reverse("profile"), {"language": "zh-hans"}, HTTP_ACCEPT_LANGUAGE="en-US", follow=True)
    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "个人资料已保存" in response.content.decode()  # said in the new language already
    member.refresh_from_db()
    assert member.language == "zh-hans"
    page = client.get(reverse("home", args=[workspace.slug]), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "首页" in page and "退出登录" in page
    assert '<html lang="zh-hans">' in page


def test_the_choice_survives_logging_out_and_in_again(client, member, workspace):
    member.language = "zh-hans"
    member.save()
    client.post(reverse("login"), {"username": member.email, "password": PASSWORD})
    client.post(reverse("logout"))
    login_page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert ">Log in</h1>" in login_page  # logged out: the browser's language
    client.post(reverse("login"), {"username": member.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en-US")
    assert "首页" in client.get(reverse("home", args=[workspace.slug]), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()


def test_without_a_choice_pages_follow_the_browser_and_default_to_english(client, member, workspace):
    client.force_login(member)
    url = reverse("home", args=[workspace.slug])
    assert "首页" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert ">Home</a>" in client.get(url, HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert ">Home</a>" in client.get(url).content.decode()


def test_the_login_page_follows_the_browser(client):
    assert "登录" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert ">Log in</h1>" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_choosing_the_browsers_language_again_clears_the_choice(client, member, workspace):
    member.language = "zh-hans"
    member.save()
    client.force_login(member)
    client.post(reverse("profile"), {"language": ""})
    member.refresh_from_db()
    assert member.language == ""
    assert ">Home</a>" in client.get(reverse("home", args=[workspace.slug]), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_unknown_language_is_refused_on_the_profile(client, member):
    client.force_login(member)
    response = client.post(reverse("profile"), {"language": "xx"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.language == ""


def test_the_profile_is_offered_in_the_navigation(client, member, workspace):
    client.force_login(member)
    page = client.get(reverse("home", args=[workspace.slug])).content.decode()
    assert f'href="{reverse("profile")}"' in page


def test_the_api_answers_in_english_to_a_chinese_browser_and_a_chinese_member(client, member, workspace):
    member.language = "zh-hans"
    member.save()
    client.force_login(member)
    response = client.get("/api/v1/leads/?stage=nonsense", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r"[\u4e00-\u9fff]", body) is None, body
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize(
    ("language", "currency", "text"),
    [
        ("zh-hans", "CNY", "¥1,234.50"),
        ("en", "USD", "$1,234.50"),
        ("en", "EUR", "€1,234.50"),
        ("zh-hans", "USD", "US$1,234.50"),
        ("en", "CNY", "CN¥1,234.50"),
    ],
)
def test_money_follows_the_language_and_the_workspaces_currency(language, currency, text):
    with translation.override(language):
        assert money("1234.5", currency) == text


def test_money_leaves_nothing_for_no_amount():
    assert money(None, "USD") == ""


def test_stored_identifiers_are_shown_by_their_label_in_the_readers_language():
    from funnel.templatetags.funnel_labels import stage_reason
    from sync.templatetags.sync_labels import resource_label

    with translation.override("zh-hans"):
        assert (stage_reason("not_icp"), stage_reason("price"), resource_label("leads")) == (
            "不是理想客户",
            "价格",
            "线索",
        )
    assert (stage_reason("not_icp"), stage_reason(""), stage_reason("made_up")) == (
        "Not our ideal customer",
        "",
        "made_up",
    )
    assert resource_label("stage_events") == "Stage events"


def test_a_services_refusal_is_told_on_the_page_in_the_readers_language(client, member, workspace):
    """Services raise their messages with gettext: Chinese on the page of a Chinese member, English
    under the API (LanguageMiddleware)."""
    from workspaces.models import Membership

    member.language = "zh-hans"
    member.save()
    client.force_login(member)
    with workspace_scope(workspace):
        own = Membership.objects.get(user=member)
    page = client.post(reverse("member-change", args=[workspace.slug, own.pk]), {"role": "marketer"}, follow=True)
    assert "是Acme Inc的最后一位管理员" in page.content.decode()
