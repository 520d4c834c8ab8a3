import django_filters

from sync.api import EmailFilter, identifiers, resource_viewset
from sync.resources import RESOURCES
from workspaces.choices import Segment

from .models import Account


class AccountFilter(django_filters.FilterSet):
    external_id = django_filters.CharFilter()
    domain = django_filters.CharFilter()
    owner_email = EmailFilter(field_name="owner__email")

    segment = django_filters.ChoiceFilter(choices=identifiers(Segment))

    class Meta:
        model = Account
        fields: list[str] = []


AccountViewSet = resource_viewset(RESOURCES["accounts"], filterset_class=AccountFilter)
