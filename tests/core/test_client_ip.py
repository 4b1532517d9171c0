"""The client's address behind reverse proxies (dancu.core.net): what the audit trail and the
login history record."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from dancu.core.net import client_ip
from dancu.eid.models import LoginEvent
from tests.core.test_cli import DANCU, _env
from tests.eid_helpers import PASSWORD, level1_account, person

PROXIES = "10.0.0.0/24, 2001:db8::1"


def _ip(remote: str, forwarded: str | None = None) -> str | None:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers))


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says(settings) -> None:
    settings.DANCU_TRUSTED_PROXIES = ""
    assert _ip("203.0.113.7", "198.51.100.1") == "203.0.113.7"
    assert _ip("10.0.0.2", "198.51.100.1") == "10.0.0.2"


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    ("10.0.0.2", "198.51.100.1", "198.51.100.1"),                # one proxy
    ("10.0.0.2", "198.51.100.1, 10.0.0.9", "198.51.100.1"),      # two proxies of ours
    ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),       # the client's own claim is ignored
    ("2001:db8::1", "2001:db8:5::7", "2001:db8:5::7"),           # IPv6
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),              # not a proxy of ours: header ignored
    ("10.0.0.2", "", "10.0.0.2"),                                # a proxy's own request
    ("10.0.0.2", None, "10.0.0.2"),
    ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),          # malformed: nothing left of it
    ("10.0.0.2", "10.0.0.7, 10.0.0.9", "10.0.0.7"),             # only proxies: the farthest
])
def test_behind_trusted_proxies_the_last_address_they_vouch_for(settings, remote, forwarded,
                                                                 client) -> None:
    settings.DANCU_TRUSTED_PROXIES = PROXIES
    assert _ip(remote, forwarded) == client


def test_a_bad_proxy_setting_stops_the_start_naming_the_entry(tmp_path: Path) -> None:
    proc = subprocess.run([*DANCU, "check"], env=_env(tmp_path, DANCU_TRUSTED_PROXIES="10.0.0.1, nginx"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "DANCU_TRUSTED_PROXIES: 'nginx' is not an IP address or network" in proc.stderr


def test_a_login_behind_the_proxy_records_the_citizens_address(client, settings, geo,
                                                               commune_officer, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DANCU_TRUSTED_PROXIES = PROXIES
    account = level1_account(person(commune_officer, geo.hac_thanh))
    response = client.post(reverse("eid:login"), {"personal_id": account.personal_id,
                                                  "password": PASSWORD},
                           REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": "198.51.100.1"})
    assert response.status_code == 302
    assert LoginEvent.objects.get(account=account).ip == "198.51.100.1"


def test_behind_a_tls_proxy_the_issuer_and_redirects_are_https(tmp_path: Path) -> None:
    """The served application (dancu.wsgi) takes the scheme from a trusted proxy's
    X-Forwarded-Proto, and from no one else."""
    code = """if True:
        import io, json, sys
        from dancu.wsgi import application

        def issuer(remote):
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/oidc/.well-known/openid-configuration",
                       "SERVER_NAME": "id.example.vn", "SERVER_PORT": "80", "HTTP_HOST": "id.example.vn",
                       "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
                       "REMOTE_ADDR": remote, "HTTP_X_FORWARDED_PROTO": "https"}
            return json.loads(b"".join(application(environ, lambda *a: None)))["issuer"]

        print(issuer("10.0.0.2"), issuer("203.0.113.7"))
    """
    proc = subprocess.run([*DANCU[:1], "-c", code], env=_env(tmp_path, DANCU_TRUSTED_PROXIES=PROXIES),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["https://id.example.vn/oidc", "http://id.example.vn/oidc"]
