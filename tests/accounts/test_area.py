"""The jurisdiction rule (accounts.actor.Area) is defined once: its Python test, ORM filter and SQL
condition agree for every kind of area and place — and every reader of the rule uses it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from dancu.accounts.actor import Actor, Area
from dancu.population import selectors as population
from dancu.population.models import Citizen
from dancu.residence import services as residence
from tests.factories import citizen_raw


@pytest.fixture
def people(geo, ministry_admin) -> dict[str, Citizen]:
    def resident(commune, name):
        return residence.register_new_resident(
            ministry_admin, citizen_raw(full_name=name), commune=commune, address="1 Lê Lợi",
            started_on=dt.date(2025, 8, 1), reason="đăng ký thường trú").citizen

    out = {"hac_thanh": resident(geo.hac_thanh, "Lê Văn An"), "dong_son": resident(geo.dong_son, "Lê Văn Ba"),
           "hong_ha": resident(geo.hong_ha, "Lê Văn Ca")}
    nowhere = resident(geo.hac_thanh, "Lê Văn Da")
    Citizen.objects.filter(pk=nowhere.pk).update(current_commune=None, current_province=None)
    out["nowhere"] = Citizen.objects.get(pk=nowhere.pk)
    return out


def _areas(geo) -> list[Area]:
    return [Area(None), Area("commune", geo.hac_thanh.pk), Area("commune", geo.hong_ha.pk),
            Area("province", geo.thanh_hoa.pk), Area("province", geo.ha_noi.pk)]


def test_python_orm_and_sql_select_the_same_people(people, geo) -> None:
    place = {"commune": "current_commune_id", "province": "current_province_id"}
    for area in _areas(geo):
        by_python = {k for k, c in people.items() if area.covers(c.current_commune_id, c.current_province_id)}
        by_orm = {k for k, c in people.items() if Citizen.objects.filter(area.q(**place), pk=c.pk).exists()}
        condition, params = area.sql(commune="c.current_commune_id", province="c.current_province_id")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT c.id FROM population_citizen c WHERE {condition}", params)  # noqa: S608
            ids = {row[0] for row in cursor.fetchall()}
        by_sql = {k for k, c in people.items() if c.pk in ids}
        assert by_python == by_orm == by_sql, area
        assert "nowhere" not in by_python or area.is_national
    expected = {"commune": {"hac_thanh"}, "province": {"hac_thanh", "dong_son"}}
    assert {k for k, c in people.items()
            if Area("province", geo.thanh_hoa.pk).covers(c.current_commune_id, c.current_province_id)} \
        == expected["province"]


@pytest.mark.parametrize("level", ["commune", "province", None])
def test_every_reader_follows_the_actor_area(people, geo, level) -> None:
    """The ORM list, the look-up's SQL (one prepared statement on PostgreSQL) and the Python
    check of one actor agree."""
    unit = {"commune": geo.hac_thanh, "province": geo.thanh_hoa, None: None}[level]
    actor = Actor(label="x", role="commune_police" if level else "ministry_admin", source="officer",
                  jurisdiction_id=unit.pk if unit else None, jurisdiction_level=level)
    visible = set(population.visible_citizens(actor).values_list("personal_id", flat=True))
    looked_up = {c.personal_id for c in people.values()
                 if population.lookup_citizen_document(actor, c.personal_id) is not None}
    checked = {c.personal_id for c in people.values()
               if actor.covers(c.current_commune_id, c.current_province_id)}
    assert visible == looked_up == checked
