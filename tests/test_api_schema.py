"""The OpenAPI schema builds, documents every routed endpoint with its bodies, and the Swagger
UI is served from local assets only."""

import inspect
import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders

from sync.resources import RESOURCES

from .api_helpers import api_endpoints

ENDPOINTS = api_endpoints()


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/")
    assert response.status_code == 200, response.content[:500]
    return yaml.safe_load(response.content)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        node = schema["components"]["schemas"][name]
    return node


def test_the_schema_is_openapi_3_and_lists_exactly_the_routed_endpoints(schema):
    assert schema["openapi"].startswith("3.")
    documented = {(path, method) for path, item in schema["paths"].items() for method in item if method != "parameters"}
    routed = {(e.path, e.method) for e in ENDPOINTS}
    assert routed, "no endpoints found in the router"
    assert documented == routed


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.label)
def test_every_endpoint_documents_a_success_response_with_a_body_schema(schema, endpoint):
    operation = schema["paths"][endpoint.path][endpoint.method]
    successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
    assert successes, f"{endpoint.label} documents no success response"
    for code, answer in successes.items():
        if code == "204":
            assert "content" not in answer
            continue
        (media,) = answer["content"].values()
        assert _resolve(schema, media["schema"]), f"{endpoint.label} {code} has an empty schema"
    assert operation.get("summary"), f"{endpoint.label} has no summary"


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.method in ("post", "patch")], ids=lambda e: e.label)
def test_every_write_documents_its_json_request_body(schema, endpoint):
    operation = schema["paths"][endpoint.path][endpoint.method]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    properties = _resolve(schema, body).get("properties")
    assert properties, f"{endpoint.label} documents a request body without fields"


def _success_schema(schema: dict, path: str, method: str, code: str = "200") -> dict:
    return _resolve(schema, schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"])


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_a_record_is_documented_with_the_interchange_columns(schema, name):
    resource = RESOURCES[name]
    item = _success_schema(schema, f"/api/v1/{resource.url}/{{id}}/", "get")
    assert list(item["properties"]) == list(resource.spec.output_names)


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_a_list_is_documented_as_one_feed_page_object(schema, name):
    resource = RESOURCES[name]
    page = _success_schema(schema, f"/api/v1/{resource.url}/", "get")
    # the list answers one page object (the change feed), not an array of pages
    assert page.get("type") == "object", page
    assert set(page["properties"]) == {"results", "tombstones", "cursor", "has_more", "next"}
    assert list(_resolve(schema, page["properties"]["results"]["items"])["properties"]) == list(
        resource.spec.output_names
    )


@pytest.mark.parametrize("name", sorted(n for n, r in RESOURCES.items() if r.upsert is not None))
def test_a_bulk_upsert_documents_its_records_and_its_per_record_answer(schema, name):
    resource = RESOURCES[name]
    path = f"/api/v1/{resource.url}/bulk/"
    batch = _resolve(schema, schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"])
    record = _resolve(schema, batch["properties"]["records"]["items"])
    assert list(record["properties"]) == list(resource.spec.names)
    answer = _success_schema(schema, path, "post")
    assert set(answer["properties"]) == {"results", "counts"}
    result = _resolve(schema, answer["properties"]["results"]["items"])
    assert set(result["properties"]) == {"index", "status", "id", "errors"}


def test_a_read_only_resource_documents_no_writes(schema):
    assert set(schema["paths"]["/api/v1/contracts/"]) == {"get"}
    assert set(schema["paths"]["/api/v1/contracts/{id}/"]) == {"get"}
    assert set(schema["paths"]["/api/v1/stage-events/{id}/"]) == {"get"}


def test_the_feed_parameters_and_the_idempotency_header_are_documented(schema):
    listing = schema["paths"]["/api/v1/leads/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"updated_since", "cursor", "page_size"}
    bulk = schema["paths"]["/api/v1/leads/bulk/"]["post"]
    assert {(p["in"], p["name"]) for p in bulk["parameters"]} >= {("header", "Idempotency-Key")}


@pytest.mark.parametrize("operation", ["", "export/"])
def test_lists_and_exports_document_their_filters(schema, operation):
    documented = {p["name"] for p in schema["paths"][f"/api/v1/touches/{operation}"]["get"]["parameters"]}
    assert documented >= {"external_id", "lead_external_id", "lead_email", "channel", "occurred_after"}
    leads = {p["name"] for p in schema["paths"][f"/api/v1/leads/{operation}"]["get"]["parameters"]}
    assert "email" in leads


def test_every_endpoint_names_the_bearer_key_as_its_security(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": "a workspace API key"}
    for endpoint in ENDPOINTS:
        assert {"bearer": []} in schema["paths"][endpoint.path][endpoint.method]["security"], endpoint.label


def test_swagger_ui_renders_with_local_assets_only(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    assert not re.search(r"https?://", html), re.findall(r"https?://\S+", html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    # its start-up script is a file of its own (no inline script under the CSP), served by the view
    (start_up,) = [a.replace("&amp;", "&") for a in assets if a.startswith("/api/docs/")]
    script = client.get(start_up)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "<script>" not in html
    assets = [a for a in assets if not a.startswith("/api/docs/")]
    for asset in assets:
        assert asset.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        )
        relative = asset.split("/static/", 1)[1]
        assert finders.find(relative), f"{asset} is not served by this deployment"


def test_no_operation_is_described_by_an_internal_class_docstring(schema):
    """Swagger UI shows the description to API users: it must not be the docstring of a mixin
    or base class the view happens to be built from."""
    offenders = {}
    for endpoint in ENDPOINTS:
        description = schema["paths"][endpoint.path][endpoint.method].get("description", "").strip()
        internal = {inspect.getdoc(cls) for cls in endpoint.view.__mro__[1:] if cls.__module__ != "builtins"}
        if description and description in internal:
            offenders[endpoint.label] = description.splitlines()[0]
    assert not offenders, f"{len(offenders)} of {len(ENDPOINTS)} operations: {offenders}"


def test_every_operation_documents_the_answers_any_call_may_get(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert {"401", "403", "429"} <= set(operation["responses"]), f"{method} {path}"
    assert "Retry-After" in schema["paths"]["/api/v1/leads/"]["get"]["responses"]["429"]["headers"]
    errors = schema["components"]["schemas"]["Errors"]
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_the_funnel_metrics_answer_documents_its_exits_and_headline(schema):
    answer = _success_schema(schema, "/api/v1/metrics/funnel/", "get")
    assert {"rows", "exits", "headline", "computed_at", "filters"} <= set(answer["properties"])


def test_every_operation_offers_the_x_workspace_header(schema):
    """Swagger's "Try it out" with a browser session needs a field for the workspace."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            named = [p for p in operation.get("parameters", []) if (p["in"], p["name"]) == ("header", "X-Workspace")]
            assert len(named) == 1, f"{method} {path}"
            (header,) = named
            assert header["required"] is False, f"{method} {path}"  # an API key names its workspace
            assert header["schema"] == {"type": "string"}
            assert "slug" in header["description"] and "session" in header["description"]
