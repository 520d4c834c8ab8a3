"""The API's JSON parser: DRF's, refusing with a 400 what would otherwise fail the request.

No body of this API nests deeper than a handful of levels (a batch is an object holding a list
of objects of values); JSON nested a thousand deep makes Python's parser (and every later
re-encoding, such as the idempotency digest) raise ``RecursionError``, a 500. So a body nested
deeper than ``MAX_DEPTH`` is a parse error, whatever its depth.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def nested_deeper_than(data, limit: int) -> bool:
    """Whether ``data`` (parsed JSON) nests lists and objects more than ``limit`` levels deep;
    walked without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        refused = ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels; no request needs that.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise refused from None
        if nested_deeper_than(data, MAX_DEPTH):
            raise refused
        return data
