"""When things may have happened, and which days a plan may name: the ranges the product takes,
held in this one place for every path (the interchange columns of the API, bulk, CSV and
history imports; the services the browser, the demo and tests call; the admin's date fields).

An event's instant (a touch, a stage entry, a lead's creation, a deal's creation and close) lies
between 1970-01-01 and a few minutes ahead of now: the past of a company's records, with room
for a sender's clock running a little fast. The doors through which records come from outside
hold the whole range (the interchange columns, so the API, bulk and CSV imports; the history
import). The services that take a model instance and a time (``lead_create``, ``touch_record``,
the stage moves) hold 1970 only: a person in the browser gives them no time (the move is now),
and code that calls them may lay out a calendar ahead of today (the engine's test histories).

A calendar date that may lie ahead (a campaign's dates, a contract's start and end, a deal's
expected close) lies between 1900-01-01 and 2200-01-01. Messages are English, as every API
message is; the admin's is translated.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

EARLIEST_EVENT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Past a small skew between the sender's clock and ours, a time is in the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2200, 1, 1)

EVENT_RANGE = "from 1970-01-01T00:00:00Z to five minutes ahead of now"
DATE_RANGE = "from 1900-01-01 to 2200-01-01"


def event_time_error(
    name: str, moment: dt.datetime, now: dt.datetime | None = None, *, ahead: bool = False
) -> str | None:
    """Why ``moment`` cannot be the instant of the event field ``name``, or None when it can;
    ``ahead``: any time from 1970 on (the services, see above)."""
    if moment < EARLIEST_EVENT:
        allowed = "from 1970-01-01T00:00:00Z on" if ahead else EVENT_RANGE
        return f"{moment.isoformat()} is before 1970: {name} takes times {allowed}."
    if not ahead and moment > (now or timezone.now()) + CLOCK_SKEW:
        return f"{moment.isoformat()} is in the future: {name} takes times {EVENT_RANGE}."
    return None


def date_error(name: str, day: dt.date) -> str | None:
    """Why ``day`` cannot be the calendar date field ``name``, or None when it can."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return f"{day.isoformat()} is outside the years 1900 to 2200: {name} takes dates {DATE_RANGE}."
    return None


def check_event_times(*, ahead: bool = False, **moments: dt.datetime | None) -> None:
    """Refuse, naming each field, the given event instants outside the range (None is not given)."""
    now = timezone.now()
    errors = {
        name: [message]
        for name, moment in moments.items()
        if moment is not None and (message := event_time_error(name, moment, now, ahead=ahead))
    }
    if errors:
        raise ValidationError(errors)


def check_plan_dates(**days: dt.date | None) -> None:
    """Refuse, naming each field, the given calendar dates outside the range (None is not given)."""
    errors = {name: [message] for name, day in days.items() if day is not None and (message := date_error(name, day))}
    if errors:
        raise ValidationError(errors)


def validate_plan_date(day: dt.date) -> None:
    """A model field validator for the calendar dates that may lie ahead: the admin's forms (a
    person reads this one, so it is translated; the API's messages are English)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            gettext("%(day)s is outside the years 1900 to 2200: dates run from 1900-01-01 to 2200-01-01."),
            code="out_of_range",
            params={"day": day.isoformat()},
        )
