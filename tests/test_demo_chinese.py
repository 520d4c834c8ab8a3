"""The Chinese demo (``seed_demo --locale zh-hans``): the English demo's history in Chinese words,
deterministic for a seed, with Chinese companies, people, domains, cities and free-mail leads."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from funnel.demo.chinese import CITIES, FREE_MAIL
from funnel.demo.shape import demo_shape
from leads.models import Lead
from workspaces.models import Membership, Workspace
from workspaces.scoping import workspace_scope

TODAY = dt.date(2026, 11, 22)
HAN = re.compile(r"[\u4e00-\u9fff]")
NUMBERS = {
    "accounts": ["employee_count", "segment", "owner", "external_id", "created_at"],
    "leads": ["account", "owner", "seniority", "stage", "stage_entered_at", "score", "external_id"],
    "campaigns": ["channel", "type", "status", "budget", "actual_cost", "utm_campaign"],
    "opportunities": ["lead", "account", "amount", "kind", "stage", "created_at", "closed_at"],
    "events": ["lead", "stage", "entered_at", "reason"],
    "touches": None,
    "contracts": None,
}


@pytest.fixture(scope="module")
def shapes():
    return demo_shape(leads=600, seed=5, today=TODAY), demo_shape(leads=600, seed=5, today=TODAY, locale="zh-hans")


def test_the_chinese_demo_is_the_same_history_in_other_words(shapes):
    english, chinese = shapes
    for name, columns in NUMBERS.items():
        left, right = getattr(english, name), getattr(chinese, name)
        pd.testing.assert_frame_equal(
            left if columns is None else left[columns], right if columns is None else right[columns]
        )


def test_the_same_seed_gives_the_same_chinese_demo(shapes):
    again = demo_shape(leads=600, seed=5, today=TODAY, locale="zh-hans")
    pd.testing.assert_frame_equal(shapes[1].leads, again.leads)
    pd.testing.assert_frame_equal(shapes[1].accounts, again.accounts)
    other = demo_shape(leads=600, seed=6, today=TODAY, locale="zh-hans")
    assert not shapes[1].accounts["name"].equals(other.accounts["name"])


def test_companies_are_chinese_named_after_a_city_with_pinyin_domains_in_china(shapes):
    accounts = shapes[1].accounts
    assert all(name.endswith("有限公司") and name.startswith(CITIES) for name in accounts["name"])
    assert accounts["domain"].is_unique and accounts["name"].is_unique
    assert all(re.fullmatch(r"[a-z0-9-]+\.(cn|com\.cn|com)", domain) for domain in accounts["domain"])
    assert set(accounts["country"]) == {"CN"}
    assert all(HAN.search(industry) for industry in accounts["industry"])


def test_people_have_chinese_names_and_work_or_free_mail_addresses(shapes):
    _, chinese = shapes
    leads = chinese.leads
    assert all(HAN.fullmatch(name) for name in leads["last_name"])
    assert all(
        HAN.search(title) and HAN.search(department)
        for title, department in zip(leads["title"], leads["department"], strict=True)
    )
    assert leads["email"].is_unique
    hosts = leads["email"].str.split("@").str[1]
    company = hosts.to_numpy() == chinese.accounts["domain"].to_numpy()[leads["account"].to_numpy()]
    free = hosts.isin(FREE_MAIL).to_numpy()
    assert (company | free).all()
    assert 0.1 < free.mean() < 0.3
    assert set(hosts[free]) == set(FREE_MAIL)
    qq = leads["email"][hosts == "qq.com"].str.split("@").str[0]
    assert qq.str.fullmatch(r"\d{8,10}").all()
    assert all(email.isascii() and email == email.lower() for email in leads["email"])


def test_campaigns_deals_and_notes_are_in_chinese(shapes):
    _, chinese = shapes
    assert all(HAN.search(name) for name in chinese.campaigns["name"])
    assert all(HAN.search(name) for name in chinese.opportunities["name"])
    notes = chinese.events["note"][chinese.events["note"] != ""]
    assert len(notes) and set(notes) == {chinese.other_note} and HAN.search(chinese.other_note)
    assert HAN.search(chinese.target_list["name"])


def test_an_unknown_demo_language_is_refused():
    with pytest.raises(ValueError, match="No demo in the language"):
        demo_shape(leads=10, seed=1, today=TODAY, locale="fr")


@pytest.mark.django_db
def test_seed_demo_in_chinese_makes_a_cny_workspace_in_shanghai_with_chinese_people(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command(
        "seed_demo", "--workspace", "zh", "--leads", "120", "--seed", "2", "--today", str(TODAY), "--locale", "zh-hans"
    )
    workspace = Workspace.objects.get(slug="zh")
    assert (workspace.name, workspace.currency, workspace.timezone) == ("演示公司", "CNY", "Asia/Shanghai")
    with workspace_scope(workspace):
        assert all(HAN.search(m.user.full_name) for m in Membership.objects.select_related("user"))
        lead = Lead.objects.order_by("pk").first()
        assert Lead.objects.count() == 120
        assert lead.full_name == lead.last_name + lead.first_name  # family name first, no space
        assert np.mean([bool(HAN.search(name)) for name in Lead.objects.values_list("last_name", flat=True)]) == 1


def test_a_western_name_keeps_its_order_and_space():
    assert Lead(first_name="Ada", last_name="Lovelace").full_name == "Ada Lovelace"
    assert Lead(first_name="伟", last_name="王").full_name == "王伟"


def test_a_companys_name_says_the_trade_of_its_industry(shapes):
    """上海恒通机器人有限公司 is in manufacturing, never in healthcare."""
    from funnel.demo.chinese import INDUSTRY_NAMES, TRADE_WORDS

    english, chinese = shapes
    by_label = {INDUSTRY_NAMES[industry]: words for industry, words in TRADE_WORDS.items()}
    for name, domain, industry in chinese.accounts[["name", "domain", "industry"]].itertuples(index=False):
        words = by_label[industry]
        assert any(word in name and f"-{pinyin}" in domain for word, pinyin in words), (name, domain, industry)
    assert (chinese.accounts["industry"] == english.accounts["industry"].map(INDUSTRY_NAMES)).all()
