"""The shared list machinery (workspaces/listing.py): keyset pages, cursors, the capped count."""

import pytest
from django.test import RequestFactory

from leads.models import Lead
from workspaces import listing
from workspaces.listing import (
    CappedCount,
    ListQuery,
    Sort,
    capped_count,
    decode_cursor,
    encode_cursor,
    keyset_page,
    list_query,
)

from .factories import LeadFactory

SORTS = [
    Sort("score", "Score", ("-score",)),
    Sort("name", "Name", ("last_name", "first_name")),
]


def _query(sort="score", after="", before=""):
    request = RequestFactory().get("/", {"sort": sort, "after": after, "before": before})
    return list_query(request, SORTS)


def _walk(queryset, sort, size):
    """Every row, page by page following next; then back again following previous."""
    pages, query = [], _query(sort)
    while True:
        page = keyset_page(queryset, query, size=size)
        pages.append([row.pk for row in page.rows])
        if not page.next_cursor:
            break
        query = _query(sort, after=page.next_cursor)
    back = [[row.pk for row in page.rows]]
    while page.previous_cursor:
        page = keyset_page(queryset, _query(sort, before=page.previous_cursor), size=size)
        back.append([row.pk for row in page.rows])
    return pages, back[::-1]


@pytest.fixture
def leads(scoped):
    # scores with many ties, so the primary key decides the order within a score
    for i in range(23):
        lead = LeadFactory(workspace=scoped, last_name=f"N{i % 4}", first_name=f"F{i % 3}")
        Lead.objects.filter(pk=lead.pk).update(score=(i * 7) % 3)
    return Lead.objects.all()


@pytest.mark.parametrize("sort", ["score", "name"])
def test_keyset_pages_cover_every_row_once_in_order_and_back(leads, sort):
    ordering = next(s for s in SORTS if s.key == sort).ordering()
    expected = list(leads.order_by(*ordering).values_list("pk", flat=True))
    forward, backward = _walk(leads, sort, size=5)
    assert [pk for page in forward for pk in page] == expected
    assert [len(page) for page in forward] == [5, 5, 5, 5, 3]
    assert backward == forward


def test_first_page_has_no_previous_and_last_has_no_next(leads):
    first = keyset_page(leads, _query(), size=50)
    assert len(first.rows) == 23
    assert first.next_cursor is None and first.previous_cursor is None


def test_unreadable_cursor_shows_the_first_page(leads):
    first = keyset_page(leads, _query(), size=5)
    for token in ["garbage", encode_cursor(("x", 1)), encode_cursor((1,)), encode_cursor((1, 2**70)), "=" * 3000]:
        page = keyset_page(leads, _query(after=token), size=5)
        assert [r.pk for r in page.rows] == [r.pk for r in first.rows], token


def test_cursor_is_parsed_by_the_model_fields(db):
    ordering = ("-created_at", "-pk")
    token = encode_cursor(("2026-01-02T03:04:05+00:00", 7))
    created, pk = decode_cursor(token, Lead, ordering)
    assert created.year == 2026 and pk == 7


def test_next_links_keep_filters_and_drop_the_old_cursor():
    request = RequestFactory().get("/", {"stage": "mql", "q": "ann", "before": "abc", "sort": "name"})
    query = list_query(request, SORTS)
    assert isinstance(query, ListQuery)
    assert query.sort.key == "name" and query.search == "ann"
    assert query.url(after="XYZ") == "?stage=mql&q=ann&sort=name&after=XYZ"
    assert query.sort_url("score") == "?stage=mql&q=ann&sort=score"


def test_unknown_sort_falls_back_to_the_default():
    request = RequestFactory().get("/", {"sort": "password"})
    assert list_query(request, SORTS, default="name").sort.key == "name"


def test_count_is_exact_to_the_cap_then_capped(leads):
    assert capped_count(leads, cap=23) == CappedCount(23, False)
    assert capped_count(leads, cap=22) == CappedCount(22, True)
    assert CappedCount(22, True).shown == "22+"
    assert CappedCount(1234, False).shown == "1,234"


def test_count_reads_through_a_limited_subquery(leads):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        capped_count(leads, cap=10)
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 11" in counts[0]


@pytest.mark.postgres
def test_a_slow_count_stops_at_its_time_limit_and_says_what_is_known(leads, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(listing, "COUNT_TIME_LIMIT_MS", 20)
    slow = leads.extra(where=["pg_sleep(0.01) IS NOT NULL"])  # 10 ms a row: 23 rows take 230 ms
    assert capped_count(slow, at_least=6) == CappedCount(6, True)
    assert CappedCount(6, True).shown == "6+"
    with connection.cursor() as cursor:  # the limit does not outlive the count
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
    assert capped_count(leads) == CappedCount(23, False)
