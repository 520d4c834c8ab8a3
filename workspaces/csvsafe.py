"""CSV cells a spreadsheet will not run: the one formula guard of every export (the CSV exports
of ``sync.csvio``, the ``report`` command of ``funnel``), here in the base app so that each of
them imports it from below and none copies it.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and some a tab or
carriage return) as a formula. OWASP's CSV injection rule: prefix ``'`` to a text cell that
begins with one of those or with ``'`` itself; an import strips exactly that prefix again."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def formula_guarded(text: str) -> str:
    """A text cell as an export writes it: ``'`` before a cell a spreadsheet would run."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def formula_unguarded(text: str) -> str:
    """A text cell as an import reads it: the one ``'`` an export put before it taken off."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
