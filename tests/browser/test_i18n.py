"""A Chinese team's first look, in a real browser: an admin of a workspace seeded in Chinese logs
in with a Chinese browser, walks every page there is (tests/browser/walk.py finds them from the
URL resolver), and finds no English word that a person would read, at 1440 and 1024 pixels wide
and without anything running off the side; then they switch their profile to English and the
pages follow. Screenshots of every page in both languages land in var/screenshots/i18n/."""

import re

import pytest
from django.core.management import call_command

from workspaces.scoping import workspace_scope

from ..test_i18n import compiled_catalogs
from .conftest import SCREENSHOTS
from .session import log_in, open_page, overflow
from .walk import every_page

PASSWORD = "funnel-demo"  # seed_demo's
ADMIN = "admin@demo.test"
WIDTHS = (1440, 1024)
SHOTS = SCREENSHOTS / "i18n"
# The pages left out of the Chinese walk, each for its reason.
NOT_OURS = {"api-docs": "the Swagger UI of the REST API, which is English by design and has no Chinese"}

# Every text a person reads on the page: text nodes and the attributes a browser shows or reads
# aloud. Left out: <pre> (headers and bodies by design), scripts and styles. Text inside <code> or
# translate="no" (identifiers, and data as people typed it) comes marked with a NUL first and is
# held to a looser rule (english_words_in_data): an identifier is one token, so two English words
# in a row there are UI hiding from the check (the audit log once wrapped "via: browser" so).
VISIBLE_TEXT = """
() => {
  const skip = (el) => el.closest('script, style, pre, noscript');
  const asData = (el) => el.closest('code, [translate="no"]');
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || skip(node.parentElement)) continue;
    texts.push((asData(node.parentElement) ? '\\u0000' : '') + node.textContent.trim());
  }
  const labelled = '[title], [placeholder], [aria-label], [alt], input[type=submit][value]';
  for (const el of document.querySelectorAll(labelled)) {
    if (skip(el)) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt', 'value']) {
      if (el.hasAttribute(name) && (name !== 'value' || el.type === 'submit')) texts.push(el.getAttribute(name));
    }
  }
  texts.push(document.title);
  return texts;
}
"""
# A run of Latin letters, with what may hold it together in an identifier (an email, a domain, a
# URL, a time zone, a key's prefix, an event name such as lead.accepted).
LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@/:+\-]*[A-Za-z0-9]|[A-Za-z]")
ALLOWED_WORDS = {
    "Funnel",  # the product's name
    "English",  # the language picker names each language in itself
    "Webhook",  # the glossary keeps the word
    "Authorization",  # the HTTP header a client sends its key in: Authorization: Bearer <key>
    "Bearer",
}


QUOTED = re.compile(r"'[^'\s]+'|“[^”]+”")
COLUMN_LIST = re.compile(r"\b[a-z_]+(?:, [a-z_]+)+\b")
DATA_MARK = "\u0000"
ENGLISH_PHRASE = re.compile(r"\b[A-Za-z][a-z]+:?\s+[A-Za-z][a-z]+\b")


def english_words_in_data(text: str) -> list[str]:
    """Two English words in a row inside <code> or translate="no": a sentence or a "key: value"
    pair, which no identifier is (identifiers are single tokens: lead.accepted, external_id)."""
    return [m.group() for m in ENGLISH_PHRASE.finditer(text) if not set(m.group().split()) & ALLOWED_WORDS]


def chinese_check(text: str) -> list[str]:
    """english_words for the page's own text; english_words_in_data for data and identifiers."""
    if text.startswith(DATA_MARK):
        return english_words_in_data(text[1:])
    return english_words(text)


def english_words(text: str) -> list[str]:
    """The words of ``text`` that a Chinese page should not show: runs of Latin letters that are
    not acronyms (MQL, SAL, ABM, ROI, CSV, API, URL, UTM, ID, CNY...), identifiers (anything with
    a digit, @, dot, slash, underscore or colon: emails, domains, URLs, time zones, ids, file
    names) or the few allowed words."""
    # data and identifiers a message names: a quoted value ('mail', “not-an-email”) and a list of
    # CSV columns (external_id, email, first_name, ...)
    text = QUOTED.sub(" ", text)
    text = COLUMN_LIST.sub(lambda m: " " if "_" in m.group() else m.group(), text)
    found = []
    for match in LATIN_RUN.finditer(text):
        token = match.group()
        if text[max(match.start() - 1, 0) : match.start()] == ".":  # a file's extension: 线索.csv
            continue
        letters = re.sub(r"[^A-Za-z]", "", token)
        if not letters or token in ALLOWED_WORDS:
            continue
        if re.search(r"[0-9@._/:]", token) or (letters.isupper() and len(letters) <= 6):
            continue
        if re.search(r"[a-z][A-Z]", token):  # a key's random prefix (QQHhlKtC): no word is cased so
            continue
        found.append(token)
    return found


@pytest.fixture
def chinese_workspace(transactional_db, settings):
    """A workspace seeded in Chinese (small: 200 leads), with a row for every page that names one:
    an API key, a webhook, an import job and a rescore after a change of the scoring rules, made
    through the services."""
    from leads.scoring import rules_of
    from leads.scoring_services import scoring_rules_save
    from sync.models import ImportJob
    from sync.services import import_job_create, webhook_create
    from workspaces.models import Workspace
    from workspaces.services import api_key_create

    compiled_catalogs()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    call_command("seed_demo", "--workspace", "zh", "--leads", "200", "--seed", "1", "--locale", "zh-hans")
    workspace = Workspace.objects.get(slug="zh")
    with workspace_scope(workspace):
        api_key_create(workspace=workspace, name="官网表单", scope="read")
        webhook_create(workspace=workspace, url="http://127.0.0.1:9/hook", events=["lead.accepted"])
        job = import_job_create(
            workspace=workspace, resource="leads", filename="线索.csv", content=b"external_id,email\nW-1,w@x.test\n"
        )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, rows_done=1, rows_total=1)
        scoring_rules_save(workspace=workspace, rules=rules_of(workspace), mql_threshold=workspace.mql_threshold + 1)
    return workspace


def _walk(page, pages, *, language: str, width: int, check):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, path in pages:
        response = page.goto(path)
        assert response is not None and response.status < 400, (name, path, response and response.status)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / f"{language}-{width}-{name}.png"), full_page=True)
        if (extra := overflow(page)) > 0:
            problems.append(f"{name} ({path}) at {width}px runs {extra}px off the right edge")
        problems += _english_on(page, name, path, check)
    return problems


def _english_on(page, name, path, check) -> list[str]:
    return [
        f"{name} ({path}): {word!r} in {text.lstrip(DATA_MARK)[:80]!r}"
        for text in page.evaluate(VISIBLE_TEXT)
        for word in check(text)
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_chinese_browser_sees_every_page_in_chinese(browser, live_server, chinese_workspace, width):
    pages = [(name, path) for name, path in every_page(chinese_workspace) if name not in NOT_OURS]
    assert {"home", "members", "workspace-settings", "profile", "data"} <= {n for n, _ in pages}
    context, page = open_page(browser, live_server, locale="zh-CN", width=width)
    try:
        page.goto("/login/")
        login_words = [w for t in page.evaluate(VISIBLE_TEXT) for w in chinese_check(t)]
        assert not login_words, f"the login page follows the browser: {login_words}"
        log_in(page, ADMIN, PASSWORD)
        problems = _walk(page, pages, language="zh", width=width, check=chinese_check)
    finally:
        context.close()
    assert not problems, "English on a Chinese page, or a page too wide:\n" + "\n".join(sorted(set(problems)))


HAN = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
# The page's own words in English, away from the workspace's data (which is Chinese here).
CHROME = "nav a, nav button, h2, th, label, legend, button, summary, .form-text, .card .small, [title]"


def test_switching_the_profile_to_english_switches_every_page(browser, live_server, chinese_workspace):
    pages = [(name, path) for name, path in every_page(chinese_workspace) if name not in NOT_OURS]
    context, page = open_page(browser, live_server, locale="zh-CN", width=1440)
    try:
        log_in(page, ADMIN, PASSWORD)
        page.goto("/profile/")
        assert page.locator("h1").inner_text() == "个人资料"
        page.locator("#id_language").select_option("en")
        page.locator("#profile-form button").click()
        page.wait_for_url("**/profile/")
        assert page.locator(".alert-success").inner_text() == "Your profile is saved."

        def chinese_in_chrome(_text):
            return []

        problems = _walk(page, pages, language="en", width=1440, check=chinese_in_chrome)
        for name, path in pages:
            page.goto(path)
            texts = page.eval_on_selector_all(
                CHROME,  # what people typed (names) is data, marked translate="no"
                "els => els.filter(e => !e.closest('[translate=no]')).map(e => (e.title || '') + ' ' + e.innerText)",
            )
            problems += [f"{name} ({path}): {t.strip()[:80]!r}" for t in texts if HAN.search(t.replace("演示公司", ""))]
            assert page.locator("html").get_attribute("lang") in ("en", None), name  # None: an htmx fragment
        # logged out, the login page follows the (Chinese) browser again; logged in, English again
        page.locator("nav button", has_text="Log out").click()
        page.goto("/login/")
        assert page.locator("h1").inner_text() == "登录"
        log_in(page, ADMIN, PASSWORD)
        assert page.locator("nav a", has_text="Home").count() == 1
    finally:
        context.close()
    assert not problems, "Chinese left on an English page:\n" + "\n".join(sorted(set(problems)))


def test_english_words_flags_words_and_allows_identifiers():
    assert english_words("首页 Home") == ["Home"]
    assert english_words("admin@demo.test yunfan-data.com.cn https://x.test/a MQL SAL ABM ROI CSV API 演示公司") == []
    assert english_words("Asia/Shanghai CNY leads.csv lead.accepted whsec_abc ¥1,234.50 Funnel") == []
    assert english_words("Import of leads") == ["Import", "of", "leads"]
    assert english_words("线索.csv") == []
    assert english_words("官网表单 (QQHhlKtC)") == []
    assert english_words("未知的列 'mail'。线索的列为：external_id, email, title。“not-an-email”不是") == []
    assert english_words("Save, email, title") == ["Save", "email", "title"]
    assert english_words_in_data("lead.accepted") == english_words_in_data("external_id") == []
    assert english_words_in_data("via: browser") == ["via: browser"]
    assert chinese_check(DATA_MARK + "Import of leads") == ["Import of"]


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"zh-refusals-{name}.png"), full_page=True)


def test_a_chinese_browser_meets_refusals_and_error_pages_in_chinese(browser, live_server, chinese_workspace, tmp_path):
    """What the page walk cannot see: forms sent with bad values (their errors come from Django,
    the models and the services), a page a sales rep may not open, a page that is not there,
    an import's refused file and rows, and the wrong password at the login."""
    slug = chinese_workspace.slug
    context, page = open_page(browser, live_server, locale="zh-CN", width=1024)
    problems = []
    try:
        page.goto("/login/")
        page.locator("#id_username").fill(ADMIN)
        page.locator("#id_password").fill("wrong-password")
        page.locator("button[type=submit]").click()
        assert "请输入一个正确的邮箱和密码" in page.locator(".alert-danger").inner_text()
        problems += _english_on(page, "login refused", "/login/", chinese_check)
        log_in(page, ADMIN, PASSWORD)

        page.goto(f"/w/{slug}/settings/")
        page.locator("#id_timezone").fill("Mars/Base")
        with page.expect_navigation():
            page.locator("form.settings-form button").click()
        assert "不是已知的时区" in page.content()
        _shot(page, "settings")
        problems += _english_on(page, "settings refused", "settings", chinese_check)

        page.goto(f"/w/{slug}/members/")
        page.locator("#id_email").fill("new-member@demo.test")
        page.locator("#id_password").fill("short")
        with page.expect_navigation():
            page.locator("#id_email").evaluate("el => el.form.submit()")
        assert "密码太短" in page.content()
        _shot(page, "members")
        problems += _english_on(page, "members refused", "members", chinese_check)

        for name, content in (
            ("columns", b"mail,name\na@b.com,A\n"),
            ("rows", b"external_id,email\nB-1,not-an-email\nB-2,\n"),
        ):
            upload = tmp_path / f"{name}.csv"
            upload.write_bytes(content)
            page.goto(f"/w/{slug}/data/")
            page.locator("#id_resource").select_option("leads")
            page.locator("#id_file").set_input_files(str(upload))
            with page.expect_navigation():
                page.locator("#id_file").evaluate("el => el.form.submit()")
            page.wait_for_load_state("networkidle")
            if name == "rows":
                page.wait_for_selector("text=不是有效的邮箱地址", timeout=30_000)
            _shot(page, f"import-{name}")
            problems += _english_on(page, f"import {name}", "data", chinese_check)

        response = page.goto(f"/w/{slug}/no-such-page/")
        assert response.status == 404 and page.locator("h1").inner_text() == "页面不存在"
        problems += _english_on(page, "404", "no-such-page", chinese_check)
        _shot(page, "404")
    finally:
        context.close()

    from workspaces.models import Membership, Role
    from workspaces.scoping import scopes_disabled

    with scopes_disabled():
        rep = Membership.objects.filter(workspace=chinese_workspace, role=Role.SALES_REP).select_related("user")[0]
    context, page = open_page(browser, live_server, locale="zh-CN", width=1024)
    try:
        log_in(page, rep.user.email, PASSWORD)
        response = page.goto(f"/w/{slug}/members/")
        assert response.status == 403 and page.locator("h1").inner_text() == "您无权打开此页面"
        _shot(page, "403")
        problems += _english_on(page, "403", "members", chinese_check)
    finally:
        context.close()
    assert not problems, "English on a Chinese page:\n" + "\n".join(sorted(set(problems)))


def test_the_home_page_fits_a_phone(browser, live_server, chinese_workspace):
    """390 pixels wide: the navigation folds behind its button, the activity table scrolls inside
    its own box, and a Chinese company name is not broken one character a line."""
    context, page = open_page(browser, live_server, locale="zh-CN", width=390)
    try:
        log_in(page, ADMIN, PASSWORD)
        page.goto(f"/w/{chinese_workspace.slug}/")
        page.wait_for_load_state("networkidle")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "zh-390-home.png"), full_page=True)
        assert overflow(page) == 0
        assert not page.locator("#main-nav").is_visible()
        page.locator(".navbar-toggler").click()
        page.locator("#main-nav").wait_for(state="visible")
        assert page.locator("#main-nav a", has_text="成员").is_visible()
        page.screenshot(path=str(SHOTS / "zh-390-home-menu.png"), full_page=True)
        heights = page.eval_on_selector_all("#activity tr", "rows => rows.map(row => row.offsetHeight)")
        assert heights and max(heights) <= min(heights) * 1.5, heights  # every row one line high
    finally:
        context.close()
