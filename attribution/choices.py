from django.db import models

DEFAULT_CHANNELS: tuple[tuple[str, str], ...] = (
    ("paid_search", "Paid search"),
    ("paid_social", "Paid social"),
    ("organic_search", "Organic search"),
    ("email", "Email"),
    ("events", "Events"),
    ("webinar", "Webinar"),
    ("content", "Content"),
    ("partner", "Partner"),
    ("referral", "Referral"),
    ("outbound", "Outbound"),
    ("direct", "Direct"),
)


class CampaignType(models.TextChoices):
    EVENT = "event", "Event"
    WEBINAR = "webinar", "Webinar"
    CONTENT = "content", "Content"
    PAID_ADS = "paid_ads", "Paid ads"
    EMAIL = "email", "Email"
    WEBSITE = "website", "Website"
    OUTBOUND = "outbound", "Outbound"
    PARTNER = "partner", "Partner"
    ABM = "abm", "ABM"


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class TouchType(models.TextChoices):
    AD_CLICK = "ad_click", "Ad click"
    FORM_FILL = "form_fill", "Form fill"
    EMAIL_CLICK = "email_click", "Email click"
    EVENT_ATTENDED = "event_attended", "Event attended"
    WEBINAR_ATTENDED = "webinar_attended", "Webinar attended"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    WEB_VISIT = "web_visit", "Web visit"
    MEETING = "meeting", "Meeting"
    CALL = "call", "Call"
    OTHER = "other", "Other"
