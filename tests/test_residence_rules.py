"""Residence rules of issue #11: the console's arrival check-in, temporary absence at the
commune of permanent residence, expiry of temporary residence, household numbering."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dancu.audit.models import AuditEvent
from dancu.population.models import Citizen
from dancu.residence import services as residence
from tests.factories import citizen_raw


def _resident(actor, commune, **overrides) -> Citizen:
    reg = residence.register_new_resident(actor, citizen_raw(**overrides), commune=commune,
                                          address="12 Lê Lợi", started_on=dt.date(2024, 1, 5),
                                          reason="Dữ liệu thử")
    return reg.citizen


@pytest.fixture
def officer_client(client, commune_officer):
    """Signed in as the commune police officer of Phường Hạc Thành."""
    client.force_login(get_user_model().objects.get(username=commune_officer.label))
    return client


@pytest.mark.parametrize(("number", "message"), [
    ("03819000000", "Số định danh phải gồm đúng 12 chữ số."),
    ("03819000000x", "Số định danh phải gồm đúng 12 chữ số."),
    ("999190000001", "Mã tỉnh 999 trong số định danh không có trong danh mục."),
    ("038190999999", "Không tìm thấy công dân."),
])
def test_arrival_with_a_bad_or_unknown_number_says_so_beside_the_field(officer_client, geo,
                                                                        number, message) -> None:
    response = officer_client.get(reverse("residence:arrival"),
                                  {"personal_id": number, "kind": "temporary"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-field-error="personal_id"' in page and message in page
    assert f'value="{number}"' in page  # the number stays in the field to be corrected
    if message == "Không tìm thấy công dân.":  # the look-up by card number is audited
        assert AuditEvent.objects.filter(action="citizen.view.not_found", subject_id=number,
                                         actor_label="ca.hacthanh").exists()


def test_arrival_of_a_known_person_goes_to_the_form(officer_client, geo, ministry_admin) -> None:
    newcomer = _resident(ministry_admin, geo.hong_ha)
    response = officer_client.get(reverse("residence:arrival"),
                                  {"personal_id": newcomer.personal_id, "kind": "stay"})
    assert response.status_code == 302
    assert response["Location"] == reverse("residence:stay", args=[newcomer.personal_id])
    missing_kind = officer_client.get(reverse("residence:arrival"),
                                      {"personal_id": newcomer.personal_id})
    assert missing_kind.status_code == 400 and 'data-field-error="kind"' in missing_kind.content.decode()
