"""The dashboards under /chi-so/ through the Django test client: where each officer lands,
jurisdiction (a commune officer cannot go up or sideways: 403 audited), the drill-down nation →
province → commune → procedure → dossiers (the list audited per person, with its purpose), the
charts (inline SVG, no script, no CDN URL, a table beside each), bad input (400/404, never 500),
English labels from the rule data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from dancu.audit.models import AuditEvent
from tests.factories import officer_login
from tests.kpi.dashboard_world import build

URL = "/chi-so/"
NAMESPACE_URLS = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture
def w(geo: Any, settings: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build(geo)


@pytest.fixture
def officers(geo: Any) -> Any:
    return build(geo, with_dossiers=False)


def get(client: Any, who: Any, url: str, **params: str) -> Any:
    officer_login(client, who)
    return client.get(url, params)


def html(response: Any) -> str:
    return response.content.decode()


def test_the_console_links_to_the_dashboards(client, officers) -> None:
    w = officers
    response = get(client, w.commune, reverse("counter:queue"))
    assert 'data-testid="nav-kpi"' in html(response) and f'href="{URL}"' in html(response)


def test_each_officer_lands_on_their_own_unit(client, w) -> None:
    page = html(get(client, w.ministry, URL))
    assert 'data-testid="kpi-title">Toàn quốc' in page
    page = html(get(client, w.province, URL))
    assert "Tỉnh Thanh Hóa" in page and 'data-testid="chart-ranking"' in page
    assert "Phường Hạc Thành" in page and "Phường Đông Sơn" in page and "Phường Hồng Hà" not in page
    page = html(get(client, w.commune, URL))
    assert 'data-testid="kpi-title">Phường Hạc Thành' in page
    # no way up: no link to the province or the nation (the crumb trail is the commune alone)
    assert "unit=2025%3A38" not in page and 'href="/chi-so/?period=' not in page
    assert 'data-testid="crumbs"' not in page
    page = html(get(client, w.ministry, URL, unit="2025:14758"))
    crumbs = re.search(r'data-testid="crumbs">(.*?)</nav>', page, re.S)
    assert crumbs and "Toàn quốc" in crumbs.group(1) and "Tỉnh Thanh Hóa" in crumbs.group(1)


@pytest.mark.parametrize("who, unit", [
    ("commune", "2025:38"),        # up: its province
    ("commune", "2025:14797"),     # sideways: another commune of the province
    ("commune", "2025:00097"),     # another province's commune
    ("province", "2025:01"),       # another province
    ("province", "2025:00097"),    # a commune of another province
    ("elsewhere", "2025:14758"),
])
def test_beyond_the_area_is_403_and_audited(client, officers, who: str, unit: str) -> None:
    w = officers
    before = AuditEvent.objects.filter(action__endswith=".denied").count()
    response = get(client, getattr(w, who), URL, unit=unit)
    assert response.status_code == 403
    assert 'data-testid="forbidden"' in html(response)
    assert AuditEvent.objects.filter(action__endswith=".denied").count() == before + 1
    for path in (reverse("kpi:procedure", args=["1.010123"]), reverse("kpi:dossiers")):
        response = get(client, getattr(w, who), path, unit=unit, metric="submitted")
        assert response.status_code == 403


def test_no_dashboard_for_service_accounts_citizens_or_visitors(client, officers) -> None:
    w = officers
    assert get(client, w.service, URL).status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("params, status", [
    ({"period": "2026-13"}, 400),
    ({"period": "x" * 500}, 400),
    ({"period": "2026-11-15..2026-11-01"}, 400),
    ({"unit": "2025:99999"}, 404),
    ({"unit": "nonsense\u00e9"}, 404),
])
def test_bad_input_is_a_4xx_naming_it(client, officers, params: dict, status: int) -> None:
    w = officers
    response = get(client, w.ministry, URL, **params)
    assert response.status_code == status


def test_bad_page_or_procedure_on_the_dossier_list(client, officers) -> None:
    w = officers
    for page in ("0", "-1", "abc", "10001", "9" * 40):
        assert get(client, w.ministry, reverse("kpi:dossiers"), metric="submitted",
                   page=page).status_code == 400
    assert get(client, w.ministry, reverse("kpi:procedure", args=["9.999999"])).status_code in (400, 404)


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


def test_charts_are_inline_svg_without_script_or_cdn_each_with_its_table(client, w) -> None:
    page = html(get(client, w.ministry, URL))
    svgs = _svgs(page)
    assert len(svgs) >= 3  # groups, trend, ranking
    for svg in svgs:
        assert "<script" not in svg and "pygal.js" not in svg
        assert set(re.findall(r"https?://[^\s\"'<>)]+", svg)) <= NAMESPACE_URLS
        assert 'role="img"' in svg and 'aria-label="' in svg
        assert "viewBox=" in svg and 'width="' not in svg.split(">", 1)[0]
    for key in ("groups", "trend", "ranking"):
        section = re.search(rf'data-testid="chart-{key}".*?</section>', page, re.S)
        assert section, key
        assert f'data-testid="chart-{key}-table"' in section.group(0) and "<svg" in section.group(0)
    # nothing on the page is fetched from another origin
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_drill_down_nation_province_commune_procedure_dossiers(client, w) -> None:
    officer_login(client, w.ministry)
    nation = html(client.get(URL))
    province_link = re.search(r'href="(/chi-so/\?unit=2025%3A38[^"]*)"', nation)
    assert province_link, "the ranking links each province"
    province = html(client.get(province_link.group(1).replace("&amp;", "&")))
    assert 'data-testid="kpi-title">Tỉnh Thanh Hóa' in province
    commune_link = re.search(r'href="(/chi-so/\?unit=2025%3A14758[^"]*)"', province)
    assert commune_link
    commune = html(client.get(commune_link.group(1).replace("&amp;", "&")))
    assert 'data-testid="kpi-title">Phường Hạc Thành' in commune
    procedure_link = re.search(r'href="(/chi-so/thu-tuc/1\.010123/[^"]*)"', commune)
    assert procedure_link, "a commune ranks its procedures"
    procedure = html(client.get(procedure_link.group(1).replace("&amp;", "&")))
    assert "1.010123" in procedure
    drill = re.search(r'href="(/chi-so/ho-so/\?[^"]*)" data-testid="drill-([a-z_]+)"', procedure)
    assert drill, "a figure counted from dossiers links its dossiers"
    before = AuditEvent.objects.filter(action="kpi.dossiers.view").count()
    listing = client.get(drill.group(1).replace("&amp;", "&"))
    assert listing.status_code == 200
    rows = re.findall(r'data-testid="dossier-row" data-code="([^"]+)"', html(listing))
    assert rows and set(rows) <= set(w.codes[:5])  # Hạc Thành's dossiers only
    for code in rows:
        assert f'href="/mot-cua/ho-so/{code}/"' in html(listing)
    events = AuditEvent.objects.filter(action="kpi.dossiers.view").order_by("pk")[before:]
    assert len(events) == len(rows)
    assert all(e.actor_label == "bo.quantri" and "Phường Hạc Thành" in e.reason and e.personal_id
               for e in events)


def test_a_commune_officer_drills_into_their_own_dossiers_only(client, w) -> None:
    response = get(client, w.commune, reverse("kpi:dossiers"), metric="submitted")
    assert response.status_code == 200
    rows = set(re.findall(r'data-testid="dossier-row" data-code="([^"]+)"', html(response)))
    assert rows and rows <= set(w.codes[:5])


def test_english_labels_from_the_rule_data(client, w) -> None:
    officer_login(client, w.ministry)
    client.post(reverse("set_language"), {"language": "en", "next": URL})
    page = html(client.get(URL))
    assert "Dossier digitisation" in page and "Số hóa hồ sơ" not in page
    assert 'lang="en"' in page


def test_numerator_and_denominator_lists(client, w) -> None:
    """Hạc Thành received five dossiers, three online: the online rate's numerator lists the
    three online ones, its denominator all five; a bad part is a 400."""
    officer_login(client, w.commune)
    page = html(client.get(URL))
    assert re.search(r'data-testid="value-online_dossiers"><strong>60,0\xa0%', page)

    def listed(part: str) -> set[str]:
        response = client.get(reverse("kpi:dossiers"), {"metric": "online_dossiers", "part": part})
        assert response.status_code == 200
        return set(re.findall(r'data-testid="dossier-row" data-code="([^"]+)"', html(response)))

    assert listed("numerator") == set(w.codes[:3])
    assert listed("denominator") == set(w.codes[:5])
    response = client.get(reverse("kpi:dossiers"), {"metric": "online_dossiers", "part": "all"})
    assert response.status_code == 400 and 'data-field="part"' in html(response)


def _trend_months(page: str) -> list[str]:
    table = re.search(r'data-testid="chart-trend-table".*?</table>', page, re.S)
    assert table
    return re.findall(r'data-label="Tháng">(\d\d/\d{4})<', table.group(0))


def test_the_trend_ends_with_the_selected_period(client, w) -> None:
    """A past period's trend is the twelve months up to it, not up to now; the current month's
    ends with this month and counts its dossiers."""
    from django.utils import timezone

    officer_login(client, w.ministry)
    page = html(client.get(URL, {"period": "2025-03", "metric": "submitted"}))
    months = _trend_months(page)
    assert len(months) == 12 and months[0] == "04/2024" and months[-1] == "03/2025"
    assert "12 tháng đến 03/2025" in page
    assert _trend_months(html(client.get(URL, {"period": "2024-Q2", "metric": "submitted"})))[-1] == "06/2024"
    today = timezone.localdate()
    page = html(client.get(URL, {"metric": "submitted"}))
    assert _trend_months(page)[-1] == f"{today:%m/%Y}"
    last = re.findall(r'<tr><td data-label="Tháng">[^<]+</td><td class="num" data-label="[^"]+">([^<]+)<',
                      page)
    assert last and last[-1] == "7"  # the seven dossiers of the world, all this month


def test_the_procedure_page_ranks_the_units_below_on_that_procedure(client, w) -> None:
    """Nation: the provinces on that procedure; province: its communes, each linking to the
    procedure's page one level down; a commune: no ranking, links up to the levels the officer
    may open (none for a commune officer)."""
    path = reverse("kpi:procedure", args=["1.010123"])
    officer_login(client, w.ministry)
    nation = html(client.get(path))
    section = re.search(r'data-testid="chart-ranking".*?</section>', nation, re.S)
    assert section and "Xếp hạng tỉnh/thành phố theo chỉ số của thủ tục" in section.group(0)
    assert "<svg" in section.group(0) and 'data-testid="chart-ranking-table"' in section.group(0)
    link = re.search(r'href="(/chi-so/thu-tuc/1\.010123/\?unit=2025%3A38[^"]*)"', section.group(0))
    assert link, "a province row opens the procedure in that province"
    province = html(client.get(link.group(1).replace("&amp;", "&")))
    section = re.search(r'data-testid="chart-ranking-table".*?</table>', province, re.S)
    assert section and "Phường Hạc Thành" in section.group(0) and "Phường Hồng Hà" not in section.group(0)
    rows = re.findall(r'<tr><td class="num" data-label="[^"]+">(\d+)</td><td data-label="[^"]+">'
                      r'<a href="/chi-so/thu-tuc/1\.010123/\?unit=([^&"]+)', section.group(0))
    # the two communes with dossiers of it first (ranked by index), then those without
    assert {code for _rank, code in rows[:2]} == {"2025%3A14758", "2025%3A14797"}
    # Hạc Thành received three of this procedure's dossiers (its two others are another one's)
    cells = re.search(r'2025%3A14758[^>]*>Phường Hạc Thành</a></td><td[^>]*>[^<]*</td><td[^>]*>(\d+)<',
                      section.group(0))
    assert cells and cells.group(1) == "3"
    commune = html(client.get(path, {"unit": "2025:14758"}))
    assert 'data-testid="chart-ranking"' not in commune
    levels = re.search(r'data-testid="procedure-levels">(.*?)</p>', commune, re.S)
    assert levels and 'href="/chi-so/thu-tuc/1.010123/?unit=2025%3A38' in levels.group(1)
    assert "Toàn quốc" in levels.group(1)
    page = html(get(client, w.commune, path))
    assert 'data-testid="procedure-levels"' not in page and 'data-testid="chart-ranking"' not in page


VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐ]", re.I)


def test_every_figure_label_and_rule_name_has_english(client, w) -> None:
    """The figures' labels (gettext, ``FIGURES``) and the rule data's names (``name_en``) are
    English on the English page: the figure table, the trend's menu and the procedure page."""
    import json

    from django.utils import translation

    from dancu.kpi import selectors
    from dancu.kpi.selectors.figures import RULES_DIR

    with translation.override("en"):
        english = {d.code: str(d.label) for d in selectors.FIGURES}
    with translation.override("vi"):
        vietnamese = {d.code: str(d.label) for d in selectors.FIGURES}
    for code, label in english.items():
        assert label != vietnamese[code] and not VIETNAMESE.search(label), code
    for path in RULES_DIR.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        named = [*data["groups"], *[i for g in data["groups"] for i in g["indicators"]], *data["grades"]]
        for item in named:
            assert item.get("name_en") and not VIETNAMESE.search(item["name_en"]), item["code"]
    officer_login(client, w.ministry)
    client.post(reverse("set_language"), {"language": "en", "next": URL})
    for path in (URL, reverse("kpi:procedure", args=["1.010123"])):
        page = html(client.get(path, {"unit": "2025:38"}))
        rows = dict(re.findall(r'<tr data-figure="([a-z_0-9]+)">\s*<td>([^<]+)</td>', page))
        assert rows and all(rows[code] == english[code] for code in rows), rows
        assert "Share of dossiers submitted online — 12 months to" in page
        menu = re.search(r'id="id_metric".*?</select>', page, re.S)
        assert menu
        for label in re.findall(r'<option value="[a-z_0-9]+"[^>]*>([^<]+)</option>', menu.group(0)):
            assert not VIETNAMESE.search(label), label
        assert "<h2>Figures</h2>" in page and "<th>Indicator</th>" in page and "<th>Figure</th>" in page
        indicators = re.findall(r'<tr data-indicator="[^"]+">\s*<td>([^<]+)<', page)
        assert indicators and not any(VIETNAMESE.search(i) for i in indicators), indicators
    assert re.search(r"Communes ranked by the procedure(&#x27;|')s index", page)
