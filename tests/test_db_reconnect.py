"""A connection that PostgreSQL dropped (a restart, a failover, a pooler's timeout) is noticed
at the start of the next request and replaced, so no request answers 500 for it: Django's
CONN_HEALTH_CHECKS on the kept connections (config/settings.py)."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, connections


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_query_of_a_request_after_the_server_dropped_the_connection_succeeds():
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # connections are kept between requests
    request_started.send(sender=None)
    dropped = backend_pid(connection)
    request_finished.send(sender=None)  # the connection is kept for the next request

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dropped])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()

    request_started.send(sender=None)  # the next request, as a gunicorn worker would serve it
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1
    assert backend_pid(connection) != dropped
    request_finished.send(sender=None)
