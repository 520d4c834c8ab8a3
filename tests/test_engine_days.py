import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from funnel.engine import _local_days


def test_local_days_are_days_since_the_epoch_in_the_workspace_time_zone():
    # 2026-03-10 23:30 UTC is already 2026-03-11 in Berlin, still 2026-03-10 in New York
    instant = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC)
    ms = np.array([int(instant.timestamp() * 1000)])
    epoch = dt.date(1970, 1, 1)
    assert _local_days(ms, ZoneInfo("Europe/Berlin")).tolist() == [(dt.date(2026, 3, 11) - epoch).days]
    assert _local_days(ms, ZoneInfo("America/New_York")).tolist() == [(dt.date(2026, 3, 10) - epoch).days]
