"""Callback URLs: who may receive a result, and delivery with its signature and retries (in process)."""
from __future__ import annotations

import ipaddress
import json

import pytest

from backend.endpoints.callbacks import CallbackRefused, address_refusal, check_callback_url, signature
from backend.endpoints.delivery import deliver
from backend.endpoints.models import CallbackDelivery, Endpoint
from backend.runs.models import Run

from ..endpoint_calls import record_endpoint_call
from .receiver import Receiver


@pytest.fixture
def defaults(settings):  # type: ignore[no-untyped-def]
    settings.PATCHBAY_CALLBACK_REQUIRE_HTTPS = True
    settings.PATCHBAY_CALLBACK_ALLOW_PRIVATE = False
    settings.PATCHBAY_CALLBACK_ALLOWED_NETWORKS = []
    return settings


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.0.1", "172.31.255.254",
                                     "192.168.1.1", "169.254.169.254", "fe80::1", "fc00::1", "100.64.0.1",
                                     "0.0.0.0", "::", "224.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                                     "192.0.2.1", "240.0.0.1"])
def test_non_public_addresses_are_refused_by_default(defaults, address: str) -> None:  # type: ignore[no-untyped-def]
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(defaults, address: str) -> None:  # type: ignore[no-untyped-def]
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_only_https_by_default_and_no_credentials(defaults) -> None:  # type: ignore[no-untyped-def]
    assert check_callback_url("https://93.184.215.14/hook").port == 443  # checked, not contacted
    for url, reason in (("http://93.184.215.14/hook", "https://"), ("ftp://93.184.215.14/", "https://"),
                        ("https://u:p@93.184.215.14/", "credentials"), ("https:///nohost", "no host"),
                        ("https://93.184.215.14/a b", "spaces"), ("https://localhost/", "loopback"),
                        ("https://127.0.0.1:8443/", "loopback"), ("https://[::1]/", "loopback"),
                        (42, "https://"),
                        ("https://93.184.215.14:99999/", "not a valid URL")):
        with pytest.raises(CallbackRefused, match=reason):
            check_callback_url(url)


def test_settings_can_allow_plain_http_a_network_or_every_private_address(defaults) -> None:  # type: ignore[no-untyped-def]
    defaults.PATCHBAY_CALLBACK_REQUIRE_HTTPS = False
    assert check_callback_url("http://93.184.215.14/hook").scheme == "http"
    defaults.PATCHBAY_CALLBACK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert check_callback_url("https://10.20.3.4/hook").addresses == (ipaddress.ip_address("10.20.3.4"),)
    with pytest.raises(CallbackRefused, match="private"):
        check_callback_url("https://10.21.0.1/hook")
    defaults.PATCHBAY_CALLBACK_ALLOW_PRIVATE = True
    assert check_callback_url("https://10.21.0.1/hook").host == "10.21.0.1"


def test_a_bad_allowed_network_setting_is_a_configuration_error(defaults) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ImproperlyConfigured

    defaults.PATCHBAY_CALLBACK_ALLOWED_NETWORKS = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="PATCHBAY_CALLBACK_ALLOWED_NETWORKS"):
        check_callback_url("https://93.184.215.14/")


def test_the_signature_is_an_hmac_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_x", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("whsec_x", 1700000000, b"{}") == f"t=1700000000,v1={expected}"


@pytest.fixture
def finished_run(alice, alice_api):  # type: ignore[no-untyped-def]
    from .conftest import create_graph, publish, tagged_spec

    graph_id = create_graph(alice_api, tagged_spec("one"))
    publish(alice_api, graph_id, "ask")
    endpoint = Endpoint.objects.get(slug="ask")
    run = Run.objects.create(workspace=endpoint.workspace, graph=endpoint.graph, graph_version=endpoint.version,
                             input={"text": "x"}, output={"reply": "hi", "version": "one"}, status="succeeded",
                             trace_id="t" * 32, source="endpoint", input_tokens=3,
                             output_tokens=4, cost_usd=0.001)
    record_endpoint_call(run.pk, request_id="req-9")
    return run, endpoint


@pytest.mark.django_db
def test_delivery_posts_the_signed_result_to_an_allowed_receiver(defaults, finished_run) -> None:  # type: ignore[no-untyped-def]
    defaults.PATCHBAY_CALLBACK_REQUIRE_HTTPS = False
    defaults.PATCHBAY_CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # test-only: a receiver on this machine
    run, endpoint = finished_run
    with Receiver("127.0.0.1") as receiver:
        CallbackDelivery.objects.create(run=run, endpoint=endpoint, url=f"{receiver.url}/in")
        assert deliver(run.pk).status == "delivered"
        got = receiver.wait()
    body = json.loads(got.body)
    assert body["run"]["output"] == {"reply": "hi", "version": "one"} and body["run"]["usage"]["tokens"] == 7
    stamp = int(got.headers["patchbay-signature"].split(",")[0][2:])
    assert got.headers["patchbay-signature"] == signature(endpoint.signing_secret, stamp, got.body)
    assert got.headers["x-request-id"] == "req-9" and got.headers["content-type"] == "application/json"
    delivery = CallbackDelivery.objects.get(run=run)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert deliver(run.pk).status == "delivered", "a second task for the same run sends nothing more"


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_backoff_then_given_up(defaults, finished_run) -> None:  # type: ignore[no-untyped-def]
    defaults.PATCHBAY_CALLBACK_REQUIRE_HTTPS = False
    defaults.PATCHBAY_CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    run, endpoint = finished_run
    with Receiver("127.0.0.1", statuses=[503, 500, 500, 500, 500]) as receiver:
        CallbackDelivery.objects.create(run=run, endpoint=endpoint, url=f"{receiver.url}/in")
        outcomes = [deliver(run.pk) for _ in range(5)]
    assert [o.retry_in_s for o in outcomes] == [2, 8, 32, 128, None]
    delivery = CallbackDelivery.objects.get(run=run)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 5, 500)


@pytest.mark.django_db
def test_a_receiver_refusing_with_4xx_is_not_retried(defaults, finished_run) -> None:  # type: ignore[no-untyped-def]
    defaults.PATCHBAY_CALLBACK_REQUIRE_HTTPS = False
    defaults.PATCHBAY_CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    run, endpoint = finished_run
    with Receiver("127.0.0.1", statuses=[410]) as receiver:
        CallbackDelivery.objects.create(run=run, endpoint=endpoint, url=f"{receiver.url}/in")
        assert deliver(run.pk).retry_in_s is None
    assert CallbackDelivery.objects.get(run=run).status == "failed"


@pytest.mark.django_db
def test_an_address_no_longer_allowed_at_delivery_time_is_refused_without_contact(defaults, finished_run) -> None:  # type: ignore[no-untyped-def]
    defaults.PATCHBAY_CALLBACK_REQUIRE_HTTPS = False
    run, endpoint = finished_run
    with Receiver("127.0.0.1") as receiver:
        CallbackDelivery.objects.create(run=run, endpoint=endpoint, url=f"{receiver.url}/in")
        assert deliver(run.pk).status == "refused"
        assert receiver.received.empty()
    assert "loopback" in CallbackDelivery.objects.get(run=run).last_error
