from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Stored as the channel's name in English (data, as the API shows it); marked so that a page may
# show a default name in the reader's language with gettext (a renamed channel stays as named).
DEFAULT_CHANNELS: tuple[tuple[str, str], ...] = (
    ("paid_search", gettext_noop("Paid search")),
    ("paid_social", gettext_noop("Paid social")),
    ("organic_search", gettext_noop("Organic search")),
    ("email", gettext_noop("Email")),
    ("events", gettext_noop("Events")),
    ("webinar", gettext_noop("Webinar")),
    ("content", gettext_noop("Content")),
    ("partner", gettext_noop("Partner")),
    ("referral", gettext_noop("Referral")),
    ("outbound", gettext_noop("Outbound")),
    ("direct", gettext_noop("Direct")),
)


class CampaignType(models.TextChoices):
    EVENT = "event", _("Event")
    WEBINAR = "webinar", _("Webinar")
    CONTENT = "content", _("Content")
    PAID_ADS = "paid_ads", _("Paid ads")
    EMAIL = "email", _("Email")
    WEBSITE = "website", _("Website")
    OUTBOUND = "outbound", _("Outbound")
    PARTNER = "partner", _("Partner")
    ABM = "abm", _("ABM")


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class TouchType(models.TextChoices):
    AD_CLICK = "ad_click", _("Ad click")
    FORM_FILL = "form_fill", _("Form fill")
    EMAIL_CLICK = "email_click", _("Email click")
    EVENT_ATTENDED = "event_attended", _("Event attended")
    WEBINAR_ATTENDED = "webinar_attended", _("Webinar attended")
    CONTENT_DOWNLOAD = "content_download", _("Content download")
    WEB_VISIT = "web_visit", _("Web visit")
    MEETING = "meeting", _("Meeting")
    CALL = "call", _("Call")
    OTHER = "other", _("Other")
