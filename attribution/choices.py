from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# A new workspace's channels, stored with these English names (data: the API and CSV files show
# them as stored; a person may rename a channel). Pages show a default name in the reader's
# language through CHANNEL_LABELS ({{ channel|channel_name }}).
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
CHANNEL_LABELS = {
    "paid_search": pgettext_lazy("channel", "Paid search"),
    "paid_social": pgettext_lazy("channel", "Paid social"),
    "organic_search": pgettext_lazy("channel", "Organic search"),
    "email": pgettext_lazy("channel", "Email"),
    "events": pgettext_lazy("channel", "Events"),
    "webinar": pgettext_lazy("channel", "Webinar"),
    "content": pgettext_lazy("channel", "Content"),
    "partner": pgettext_lazy("channel", "Partner"),
    "referral": pgettext_lazy("channel", "Referral"),
    "outbound": pgettext_lazy("channel", "Outbound"),
    "direct": pgettext_lazy("channel", "Direct"),
}


class CampaignType(models.TextChoices):
    EVENT = "event", pgettext_lazy("campaign type", "Event")
    WEBINAR = "webinar", pgettext_lazy("campaign type", "Webinar")
    CONTENT = "content", pgettext_lazy("campaign type", "Content")
    PAID_ADS = "paid_ads", pgettext_lazy("campaign type", "Paid ads")
    EMAIL = "email", pgettext_lazy("campaign type", "Email")
    WEBSITE = "website", pgettext_lazy("campaign type", "Website")
    OUTBOUND = "outbound", pgettext_lazy("campaign type", "Outbound")
    PARTNER = "partner", pgettext_lazy("campaign type", "Partner")
    ABM = "abm", pgettext_lazy("campaign type", "ABM")


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
