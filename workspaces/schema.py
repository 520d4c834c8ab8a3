"""How drf-spectacular documents our authentication (imported by the app's ready())."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.api_auth.BearerAPIKeyAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "a workspace API key"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.api_auth.WorkspaceSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "a member's browser session; name the workspace in an X-Workspace header",
        }
