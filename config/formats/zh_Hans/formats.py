"""Simplified Chinese as Django writes it, but counts grouped by thousands with a comma:
Django's zh_Hans formats group by ten thousand with no separator (1234567), while amounts,
written through Babel's CLDR data (``money``), read ¥1,234,567.00; a page showing both must
count the same way. Grouping applies where a template asks for it (``intcomma``,
``floatformat:"0g"``); USE_THOUSAND_SEPARATOR stays off so ids and form values are never grouped."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
