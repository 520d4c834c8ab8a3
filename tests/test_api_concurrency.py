"""Two clients sending overlapping batches of new leads at the same moment (PostgreSQL: real
concurrent transactions): one lead per email, created by exactly one of the batches."""

import threading
from collections import Counter

import pytest
from django.db import connection

from funnel.models import StageEvent
from leads.models import Lead
from workspaces.scoping import workspace_scope

from .api_helpers import key_client, send_bulk
from .factories import WorkspaceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _send_together(batches: list[tuple], workspace) -> list:
    """Send each (client, records) from its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(batches))
    answers: list = [None] * len(batches)

    def worker(index: int, client, records):
        try:
            barrier.wait(timeout=30)
            answers[index] = send_bulk(client, "leads", records)
        except Exception as error:  # reported by the assertion below
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, *batch)) for i, batch in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.parametrize("second_differs", [False, True], ids=["identical", "second-changes-names"])
def test_two_overlapping_batches_sent_at_once_make_one_lead_per_email(second_differs):
    workspace = WorkspaceFactory(slug="race-bulk")
    first, second = key_client(workspace), key_client(workspace)
    emails = [f"person{i:04d}@acme.com" for i in range(900)]
    batch_a = [{"email": e, "first_name": "A"} for e in emails[:600]]
    # the overlap comes in the other order, and in other letter case, to meet the first batch head on
    batch_b = [{"email": e.upper(), "first_name": "B" if second_differs else "A"} for e in reversed(emails[300:])]

    answer_a, answer_b = _send_together([(first, batch_a), (second, batch_b)], workspace)

    for answer in (answer_a, answer_b):
        assert not isinstance(answer, Exception), answer
        assert answer.status_code == 200, answer.content[:500]
    with workspace_scope(workspace):
        per_email = Counter(Lead.objects.values_list("email", flat=True))
        first_rows = Counter(StageEvent.objects.values_list("lead_id", flat=True))
        lead_ids = dict(Lead.objects.values_list("email", "id"))
    assert set(per_email) == set(emails)
    assert set(per_email.values()) == {1}
    assert set(first_rows.values()) == {1}  # one first ledger row each, none twice

    outcome = {}
    for name, batch, answer in (("a", batch_a, answer_a), ("b", batch_b, answer_b)):
        for record, result in zip(batch, answer.json()["results"], strict=True):
            email = record["email"].lower()
            assert result["id"] == lead_ids[email], result
            outcome.setdefault(email, {})[name] = result["status"]
    later = {"updated"} if second_differs else {"unchanged"}
    for email in emails[300:600]:
        statuses = outcome[email]
        assert sorted(statuses.values()).count("created") == 1, (email, statuses)
        other = next(s for s in statuses.values() if s != "created")
        # the batch that came second either took the other's values as its own or changed them
        assert other in later | {"unchanged", "updated"}, (email, statuses)
        if not second_differs:
            assert other == "unchanged", (email, statuses)
    for email in emails[:300]:
        assert outcome[email] == {"a": "created"}
    for email in emails[600:]:
        assert outcome[email] == {"b": "created"}


def test_two_batches_with_the_same_idempotency_key_at_once_write_once():
    workspace = WorkspaceFactory(slug="race-key")
    client = key_client(workspace)
    records = [{"email": f"p{i}@acme.com"} for i in range(300)]
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def worker(index: int):
        try:
            barrier.wait(timeout=30)
            answers[index] = send_bulk(client, "leads", records, HTTP_IDEMPOTENCY_KEY="same")
        except Exception as error:
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not isinstance(a, Exception) and a.status_code == 200 for a in answers), answers
    assert answers[0].json() == answers[1].json()
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    with workspace_scope(workspace):
        assert Lead.objects.count() == 300
