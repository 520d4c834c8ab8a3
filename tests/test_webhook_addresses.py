"""Where a webhook may be sent (sync/addresses.py): only globally routable addresses, judged
after unwrapping the IPv6 forms that carry an IPv4 address, at registration and at every
delivery, and each delivery connects to the address that was checked. Names resolve through a
patched getaddrinfo; receivers are real servers on 127.0.0.1."""

import ipaddress
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from funnel.services import lead_stage_move
from sync import addresses
from sync.models import WebhookDelivery
from sync.services import webhook_create, webhook_deliver, webhook_emit

from .api_helpers import Receiver
from .factories import LeadFactory

REFUSED = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # the usual cloud metadata address
    "100.100.100.200",  # Alibaba Cloud's metadata address
    "100.64.0.1",  # shared address space (carrier-grade NAT), 100.64.0.0/10
    "100.127.255.254",
    "0.0.0.0",  # noqa: S104
    "224.0.0.1",  # multicast
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "fec0::1",  # site-local (deprecated, and is_global before Python 3.13)
    "ff0e::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:100.100.100.200",
    "::a9fe:a9fe",  # IPv4-compatible (deprecated)
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # Teredo through server 10.0.0.1
]
ALLOWED = [
    "8.8.8.8",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",  # IPv4-mapped public
    "2002:808:808::1",  # 6to4 of a public address
    "64:ff9b::808:808",  # NAT64 of a public address
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: public server, public client 8.8.8.8
]


@pytest.fixture
def resolve(monkeypatch):
    """Patch the resolver: ``resolve.to[name] = [addresses...]``; counts lookups of each name."""

    class Resolver:
        to: dict[str, list[str]] = {}
        lookups: list[str] = []

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        Resolver.lookups.append(host)
        if host in Resolver.to:
            result = []
            for address in Resolver.to[host]:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
                result.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
            return result
        return real(host, port, *args, **kwargs)

    Resolver.to, Resolver.lookups = {}, []
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return Resolver


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False


@pytest.mark.parametrize("address", REFUSED)
def test_an_address_that_is_not_globally_routable_is_refused(address):
    assert not addresses.address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_a_globally_routable_address_is_allowed(address):
    assert addresses.address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", REFUSED)
def test_registering_a_webhook_whose_name_resolves_to_it_is_refused(scoped, production, resolve, address):
    resolve.to["hooks.example.test"] = ["8.8.8.8", address]  # one bad address among good ones is enough
    with pytest.raises(ValidationError, match="private address"):
        webhook_create(workspace=scoped, url="https://hooks.example.test/in", events=["lead.accepted"])


@pytest.mark.parametrize("address", ["100.100.100.200", "[2002:a9fe:a9fe::]", "[fec0::1]", "[::ffff:10.0.0.1]"])
def test_a_literal_address_in_the_url_is_judged_the_same(scoped, production, address):
    with pytest.raises(ValidationError, match="private address"):
        webhook_create(workspace=scoped, url=f"http://{address}/in", events=["lead.accepted"])


def test_a_public_name_registers(scoped, production, resolve):
    resolve.to["hooks.example.test"] = ["8.8.8.8", "2606:4700:4700::1111"]
    webhook = webhook_create(workspace=scoped, url="https://hooks.example.test/in", events=["lead.accepted"])
    assert webhook.pk


def test_private_hosts_are_allowed_when_the_setting_says_so(scoped, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    assert webhook_create(workspace=scoped, url="http://100.100.100.200/in", events=["lead.accepted"]).pk


def emit_one(workspace) -> WebhookDelivery:
    lead = LeadFactory(workspace=workspace, external_id="L-1")
    lead_stage_move(workspace=workspace, lead=lead, to_stage="mql")
    (delivery_id,) = webhook_emit(workspace=workspace, event="lead.accepted", payload={"id": "L-1"})
    return WebhookDelivery.objects.get(pk=delivery_id)


def test_a_delivery_checks_again_and_is_not_sent_when_the_name_now_resolves_privately(
    scoped, production, resolve, django_capture_on_commit_callbacks
):
    resolve.to["hooks.example.test"] = ["8.8.8.8"]
    webhook_create(workspace=scoped, url="http://hooks.example.test/in", events=["lead.accepted"])
    delivery = emit_one(scoped)
    resolve.to["hooks.example.test"] = ["169.254.169.254"]  # the DNS answer changed since
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert "private address (169.254.169.254)" in delivery.last_error


@pytest.fixture
def local_counts_as_public(monkeypatch):
    """127.0.0.1 passes the check, so a real local receiver can stand for a public one."""
    real = addresses.address_is_public
    monkeypatch.setattr(addresses, "address_is_public", lambda ip: str(ip) == "127.0.0.1" or real(ip))


def test_a_delivery_connects_to_the_address_it_checked_with_the_name_in_the_host_header(
    scoped, production, resolve, local_counts_as_public
):
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        resolve.to["hooks.example.test"] = ["127.0.0.1"]
        webhook_create(workspace=scoped, url=f"http://hooks.example.test:{port}/in?x=1", events=["lead.accepted"])
        delivery = emit_one(scoped)
        resolve.lookups.clear()
        assert webhook_deliver(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED, delivery.last_error
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.test:{port}"
    assert receiver.requests[0]["path"] == "/in?x=1"
    # the name was looked up once, by the check: the connection did not ask DNS again (a
    # rebinding answer in between could not redirect it)
    assert resolve.lookups.count("hooks.example.test") == 1


@pytest.fixture
def https_receiver(tmp_path, monkeypatch):
    """An HTTPS server on 127.0.0.1 whose certificate names only hooks.example.test, signed by
    a CA that requests is made to trust for the test."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=hooks.example.test", "-addext", "subjectAltName=DNS:hooks.example.test",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setattr("requests.adapters.DEFAULT_CA_BUNDLE_PATH", str(cert))
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(dict(self.headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def test_an_https_delivery_to_the_checked_address_verifies_the_certificate_by_name(
    scoped, production, resolve, local_counts_as_public, https_receiver
):
    port, received = https_receiver
    resolve.to["hooks.example.test"] = ["127.0.0.1"]
    webhook_create(workspace=scoped, url=f"https://hooks.example.test:{port}/in", events=["lead.accepted"])
    delivery = emit_one(scoped)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED, delivery.last_error
    assert received[0]["Host"] == f"hooks.example.test:{port}"
