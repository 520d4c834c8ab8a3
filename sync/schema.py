"""A drf-spectacular postprocessing hook: what every operation may answer besides its own
documented responses, the shape of an error, and the header that names the workspace of a
browser session."""

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "What was wrong: {field: [messages]} for the fields that were (per record in a bulk answer), "
        'or {"detail": message} (a list of messages for a refused metrics question).'
    ),
    "properties": {"detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}
COMMON_RESPONSES = {
    "401": {"description": "No key or session, or the key was revoked.", "content": _ERROR},
    "403": {"description": "The key's scope or the member's role may not do this.", "content": _ERROR},
    "429": {
        "description": "Too many requests for this key: wait the seconds of Retry-After.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
        "content": _ERROR,
    },
}


# A key names its workspace; a member's session (the docs page's "Try it out") must name it here,
# so every operation offers the field (workspaces.api.resolve_workspace reads it).
WORKSPACE_HEADER = {
    "name": "X-Workspace",
    "in": "header",
    "required": False,
    "description": (
        "The workspace's slug, when you are logged in with a browser session (required then). "
        "With an API key leave it out: the key names its workspace (another slug answers 404)."
    ),
    "schema": {"type": "string"},
}


def document_common_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Errors"] = ERROR_SCHEMA
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                for code, response in COMMON_RESPONSES.items():
                    operation.setdefault("responses", {}).setdefault(code, response)
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name") == "X-Workspace" for p in parameters):
                    parameters.append(WORKSPACE_HEADER)
    return result
