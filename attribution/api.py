import django_filters

from sync.api import EmailFilter, TimestampFilter, identifiers, resource_viewset
from sync.resources import RESOURCES

from .choices import CampaignStatus, CampaignType, TouchType
from .models import Campaign, Touch


class CampaignFilter(django_filters.FilterSet):
    external_id = django_filters.CharFilter()
    channel = django_filters.CharFilter(field_name="channel__slug")

    type = django_filters.ChoiceFilter(choices=identifiers(CampaignType))
    status = django_filters.ChoiceFilter(choices=identifiers(CampaignStatus))

    class Meta:
        model = Campaign
        fields: list[str] = []


class TouchFilter(django_filters.FilterSet):
    external_id = django_filters.CharFilter()
    lead_external_id = django_filters.CharFilter(field_name="lead__external_id")
    lead_email = EmailFilter(field_name="lead__email")
    campaign_external_id = django_filters.CharFilter(field_name="campaign__external_id")
    channel = django_filters.CharFilter(field_name="channel__slug")
    occurred_after = TimestampFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = TimestampFilter(field_name="occurred_at", lookup_expr="lt")

    type = django_filters.ChoiceFilter(choices=identifiers(TouchType))

    class Meta:
        model = Touch
        fields: list[str] = []


CampaignViewSet = resource_viewset(RESOURCES["campaigns"], filterset_class=CampaignFilter)
TouchViewSet = resource_viewset(RESOURCES["touches"], filterset_class=TouchFilter)
