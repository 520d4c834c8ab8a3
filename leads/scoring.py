"""Lead scoring: fit (seniority) plus engagement (touches in the workspace's engagement window),
out of 100. Pure: the services read the counts in bulk and call these."""

TOUCH_POINTS: dict[str, int] = {
    "meeting": 25,
    "event_attended": 20,
    "webinar_attended": 15,
    "form_fill": 15,
    "content_download": 10,
    "call": 10,
    "email_click": 5,
    "ad_click": 3,
    "web_visit": 2,
    "other": 1,
}
SENIORITY_POINTS: dict[str, int] = {"executive": 15, "director": 10, "manager": 5, "individual": 0}
MAX_SCORE = 100


def lead_score(seniority: str, touch_counts: dict[str, int]) -> int:
    engagement = sum(TOUCH_POINTS.get(kind, 0) * count for kind, count in touch_counts.items())
    return min(MAX_SCORE, SENIORITY_POINTS.get(seniority or "", 0) + engagement)
