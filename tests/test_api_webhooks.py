"""Webhook deliveries: signed with the webhook's secret, retried with backoff until they give
up, never sent twice, and only for changes that committed. A real HTTP receiver on 127.0.0.1;
time moves by a patched clock, never by sleeping."""

import datetime as dt
import hashlib
import hmac

import pytest
from django.db import transaction
from django.utils import timezone

from funnel.services import lead_accept, lead_reject, lead_stage_move
from sync import services as webhook_services
from sync.models import WebhookDelivery
from sync.services import webhook_create
from sync.tasks import deliver_due_webhooks, deliver_webhook
from workspaces.scoping import workspace_scope

from .api_helpers import Receiver
from .factories import LeadFactory


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    with Receiver() as server:
        yield server


@pytest.fixture
def mql(scoped):
    lead = LeadFactory(workspace=scoped, external_id="L-1", email="pat@acme.test")
    lead_stage_move(workspace=scoped, lead=lead, to_stage="mql")
    return lead


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() under the test's control (model defaults keep the real clock, so this one
    starts a second ahead of it: rows written now are due at once)."""

    class Clock:
        now = timezone.now() + dt.timedelta(seconds=1)

        def advance(self, seconds: float) -> None:
            self.now += dt.timedelta(seconds=seconds)

    state = Clock()
    monkeypatch.setattr(timezone, "now", lambda: state.now)
    return state


def subscribe(workspace, receiver, events=("lead.accepted",)):
    return webhook_create(workspace=workspace, url=receiver.url, events=list(events))


def accept(workspace, lead, member_factory, on_commit):
    rep = member_factory(workspace, role="sales_rep", email="rep@acme.test")
    with on_commit(execute=True):
        lead_accept(workspace=workspace, lead=lead, actor=rep.user)


def test_a_delivery_is_signed_with_the_webhooks_secret(
    scoped, mql, receiver, member_factory, django_capture_on_commit_callbacks
):
    webhook = subscribe(scoped, receiver)
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    (request,) = receiver.requests
    delivery = WebhookDelivery.objects.get()
    expected = "sha256=" + hmac.new(webhook.secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Funnel-Signature"], expected)
    assert request["headers"]["X-Funnel-Event"] == "lead.accepted"
    assert request["headers"]["X-Funnel-Delivery"] == str(delivery.event_id)
    assert request["headers"]["Content-Type"] == "application/json"
    body = receiver.json()
    assert (body["id"], body["event"], body["workspace"]) == (str(delivery.event_id), "lead.accepted", "acme")
    assert body["data"]["lead"] == {"id": mql.pk, "external_id": "L-1", "email": "pat@acme.test", "stage": "sal"}
    assert body["data"]["accepted_by"] == "rep@acme.test"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.delivered_at is not None


def test_a_signature_made_with_another_secret_does_not_match(
    scoped, mql, receiver, member_factory, django_capture_on_commit_callbacks
):
    subscribe(scoped, receiver)
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    (request,) = receiver.requests
    forged = "sha256=" + hmac.new(b"whsec_other", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Funnel-Signature"] != forged


def test_a_failed_delivery_is_retried_with_backoff_until_it_gives_up(
    scoped, mql, receiver, member_factory, clock, django_capture_on_commit_callbacks
):
    subscribe(scoped, receiver)
    receiver.answers = [500] * webhook_services.MAX_ATTEMPTS
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "answered 500"
    waits = []
    for attempt in range(2, webhook_services.MAX_ATTEMPTS + 1):
        previous = WebhookDelivery.objects.get()
        waits.append(round((previous.next_attempt_at - clock.now).total_seconds()))
        clock.advance(waits[-1] - 1)
        assert deliver_due_webhooks() == 0  # not due yet: nothing is sent early
        clock.advance(1)
        assert deliver_due_webhooks() == 1
        assert WebhookDelivery.objects.get().attempts == attempt
    first = webhook_services.FIRST_RETRY_SECONDS
    assert waits == [first * 2**n for n in range(webhook_services.MAX_ATTEMPTS - 1)]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "failed",
        webhook_services.MAX_ATTEMPTS,
        500,
    )
    assert delivery.delivered_at is None
    assert len(receiver.requests) == webhook_services.MAX_ATTEMPTS
    assert {r["headers"]["X-Funnel-Delivery"] for r in receiver.requests} == {str(delivery.event_id)}
    clock.advance(10**7)
    assert deliver_due_webhooks() == 0  # given up: never sent again


def test_a_retry_that_succeeds_marks_the_delivery_delivered(
    scoped, mql, receiver, member_factory, clock, django_capture_on_commit_callbacks
):
    subscribe(scoped, receiver)
    receiver.answers = [503]
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    clock.advance(webhook_services.FIRST_RETRY_SECONDS)
    assert deliver_due_webhooks() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "succeeded",
        2,
        200,
        "",
    )
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]  # the same event, byte for byte


def test_an_unreachable_receiver_counts_as_a_failed_attempt(
    scoped, mql, settings, member_factory, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    with Receiver() as gone:
        url = gone.url
    webhook_create(workspace=scoped, url=url, events=["lead.accepted"])
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "ConnectionError" in delivery.last_error


def test_a_delivered_event_is_not_sent_again_when_its_task_runs_twice(
    scoped, mql, receiver, member_factory, django_capture_on_commit_callbacks
):
    subscribe(scoped, receiver)
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert deliver_webhook.apply(args=(delivery.pk,)).get() == "done"
    assert deliver_webhook.apply(args=(delivery.pk,)).get() == "done"
    assert deliver_due_webhooks() == 0
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().attempts == 1


def test_one_event_is_one_delivery_per_subscribed_webhook(
    scoped, mql, receiver, member_factory, django_capture_on_commit_callbacks
):
    subscribe(scoped, receiver)
    subscribe(scoped, receiver, events=("lead.accepted", "lead.rejected"))
    subscribe(scoped, receiver, events=("opportunity.won",))
    inactive = subscribe(scoped, receiver)
    type(inactive).objects.filter(pk=inactive.pk).update(active=False)
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    deliveries = list(WebhookDelivery.objects.values_list("event", "event_id"))
    assert len(deliveries) == 2
    assert len({event_id for _, event_id in deliveries}) == 1
    assert len(receiver.requests) == 2


def test_a_rolled_back_accept_emits_nothing(scoped, mql, receiver, member_factory, django_capture_on_commit_callbacks):
    subscribe(scoped, receiver)
    rep = member_factory(scoped, role="sales_rep", email="rep@acme.test")

    class Undo(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Undo), transaction.atomic():
        lead_accept(workspace=scoped, lead=mql, actor=rep.user)
        assert WebhookDelivery.objects.count() == 1  # written with the change, inside its transaction
        raise Undo
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []
    mql.refresh_from_db()
    assert mql.stage == "mql"


def test_an_event_is_sent_only_once_its_transaction_commits(
    scoped, mql, receiver, member_factory, django_capture_on_commit_callbacks
):
    subscribe(scoped, receiver, events=("lead.rejected",))
    rep = member_factory(scoped, role="sales_rep", email="rep@acme.test")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead_reject(workspace=scoped, lead=mql, actor=rep.user, reason="timing")
        assert receiver.requests == []  # not before the commit
    assert len(callbacks) == 1
    assert [r["headers"]["X-Funnel-Event"] for r in receiver.requests] == ["lead.rejected"]
    assert receiver.json()["data"]["reason"] == "timing"


def test_a_webhook_url_on_a_private_network_is_refused_in_production(scoped, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="private address"):
        webhook_create(workspace=scoped, url="http://127.0.0.1:8000/hook", events=["lead.accepted"])


def test_a_webhook_of_another_workspace_gets_none_of_these_events(
    scoped, mql, other_workspace, receiver, member_factory, django_capture_on_commit_callbacks
):
    with workspace_scope(other_workspace):
        webhook_create(workspace=other_workspace, url=receiver.url, events=["lead.accepted"])
    accept(scoped, mql, member_factory, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 0
