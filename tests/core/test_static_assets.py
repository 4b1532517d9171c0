"""Pages work offline: the API documentation's assets are served here, and so is the icon."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client


def _body(answer) -> bytes:
    """The body of a response, streamed (static files) or not; the file is closed."""
    try:
        return b"".join(answer.streaming_content) if answer.streaming else answer.content
    finally:
        answer.close()


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.django_db
def test_the_api_docs_page_references_no_other_host_and_its_assets_answer() -> None:
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = _assets(html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), html
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url}: not served here"
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert _body(answer)
    body = _body(client.get(next(a for a in assets if a.endswith("swagger-ui-init.js")))).decode()
    assert "cdn" not in body.lower()
    assert client.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.django_db
def test_the_icon_is_served_and_pages_name_it() -> None:
    client = Client()
    answer = client.get("/favicon.ico", follow=True)
    assert answer.status_code == 200
    assert _body(answer)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login = client.get("/accounts/login/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', login)
    assert icon, login
    svg = client.get(icon.group(1))
    assert svg.status_code == 200 and _body(svg).startswith(b"<svg")
