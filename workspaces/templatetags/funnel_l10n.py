"""Money in the reader's language: ``{% load funnel_l10n %}``.

``{{ amount|money:workspace.currency }}`` is the one place amounts become text: the currency is
the workspace's, the symbol, separators and pattern are the active language's (CLDR through
Babel), so a CNY workspace reads ``¥1,234.50`` in Chinese and ``CN¥1,234.50`` in English (where
``¥`` alone would also be the yen), a USD one ``$1,234.50`` and ``US$1,234.50``."""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()


def babel_locale() -> str:
    """The active Django language as a Babel locale (``zh-hans`` -> ``zh_Hans``)."""
    return to_locale(get_language() or "en")


@register.filter
def money(amount, currency: str = "USD") -> str:
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return format_currency(value, currency or "USD", locale=babel_locale())
