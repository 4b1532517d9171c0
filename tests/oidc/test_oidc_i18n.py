"""The OIDC consent screen in English (language cookie read by LanguageChoiceMiddleware)."""

from __future__ import annotations

from tests.oidc_helpers import authorize_params, make_client, pkce_pair, sign_in


def test_consent_screen_in_english(client, account) -> None:
    rp = make_client()
    sign_in(client, account)
    client.cookies["django_language"] = "en"
    _verifier, challenge = pkce_pair()
    response = client.get(
        "/oidc/authorize/", authorize_params(rp.client_id, challenge, scope="openid identity profile address")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Bệnh viện Hữu nghị requests access to your information" in page
    assert "Purpose of use" in page and "Information to be shared" in page
    for label in (
        "Sign in with electronic identification",  # openid
        "Personal ID number and electronic identification account level",  # identity
        "Full name, date of birth, sex",  # profile
        "Current place of residence",  # address
    ):
        assert f"<strong>{label}</strong>" in page, label
    for vietnamese in ("Mục đích sử dụng", "Họ và tên, ngày sinh, giới tính", "Đồng ý chia sẻ"):
        assert vietnamese not in page
