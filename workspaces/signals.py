"""Signals others may listen to (the audit trail does); sent by this app, never acted on here."""

from django.dispatch import Signal

# An address was refused for API_KEY_FAILURE_LIMIT bad API keys within LOCKOUT_WINDOW.
# Arguments: request (the Django HttpRequest), ip_address (str).
api_key_lockout = Signal()

# A workspace was just created, inside workspace_create's transaction and the new workspace's
# scope: the domain apps give it their defaults (leads: the scoring rules) without this base app
# importing them. Arguments: workspace.
workspace_created = Signal()
