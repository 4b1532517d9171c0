"""The portal's catalog and procedure pages: public, essential services first, searchable
without diacritics, Vietnamese by default and English on request."""

from __future__ import annotations


def test_catalog_lists_essential_services_first(client, db):
    page = client.get("/dich-vu-cong/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Đăng ký tạm trú" in html
    codes = [p.code for p in page.context["procedures"]]
    essential = [p.essential for p in page.context["procedures"]]
    assert essential == sorted(essential, reverse=True)  # all essential ones before the others
    assert len(codes) >= 27


def test_search_without_diacritics(client, db):
    page = client.get("/dich-vu-cong/", {"q": "tam tru"})
    names = [p.name_vi for p in page.context["procedures"]]
    assert "Đăng ký tạm trú" in names and "Gia hạn tạm trú" in names
    assert all("tạm trú" in n.lower() for n in names)
    assert client.get("/dich-vu-cong/", {"q": "1.004194"}).context["procedures"][0].slug == "dang-ky-tam-tru"
    empty = client.get("/dich-vu-cong/", {"q": "xyz không có"})
    assert empty.status_code == 200 and b'data-testid="no-results"' in empty.content


def test_procedure_page(client, db):
    page = client.get("/dich-vu-cong/thu-tuc/dang-ky-tam-tru/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1.004194" in html and "7.000 ₫" in html and "Luật Cư trú" in html
    assert "Giấy tờ chứng minh chỗ ở hợp pháp" in html
    assert client.get("/dich-vu-cong/thu-tuc/khong-co/").status_code == 404


def test_english(client, db):
    client.cookies["django_language"] = "en"
    page = client.get("/dich-vu-cong/thu-tuc/dang-ky-tam-tru/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Temporary residence registration" in page.content.decode()
