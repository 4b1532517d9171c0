"""Data of the dashboard tests: two provinces, three communes, officers of each level, and
dossiers that went through the real services (online and at the counter; accepted, approved,
refused, rated), so every figure is born from events as in production."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from dancu.accounts.actor import Actor, system_actor
from dancu.eid.services import citizen_actor
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.residence import services as residence
from tests.factories import citizen_raw, officer_actor

SEED = system_actor("test:seed")
CONFIRM = "1.010123"    # residence information confirmation: commune police, no fee
ID_CONFIRM = "1.003666"  # old ID number confirmation: commune police
_n = itertools.count(1)


@dataclass
class DashboardWorld:
    geo: Any
    ministry: Actor
    province: Actor      # province police of Thanh Hóa
    commune: Actor       # commune police of Hạc Thành
    elsewhere: Actor     # commune police of Hồng Hà (Hà Nội)
    counter: Actor       # one-stop counter of Hạc Thành
    service: Actor
    codes: list[str]


def _resident(commune: Any, name: str) -> Citizen:
    return residence.register_new_resident(
        SEED, citizen_raw(full_name=name), commune=commune, address=f"Số {next(_n)} Lê Lợi",
        started_on=dt.date(2020, 1, 1), reason="Dữ liệu thử").citizen


def build(geo: Any, *, with_dossiers: bool = True) -> DashboardWorld:
    """The officers, and (``with_dossiers``) the dossiers: the tests of refusals and bad input
    need only the officers."""
    ministry = officer_actor("bo.quantri", "ministry_admin", None)
    province = officer_actor("ca.thanhhoa", "province_police", geo.thanh_hoa)
    commune = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    dongson = officer_actor("ca.dongson", "commune_police", geo.dong_son)
    elsewhere = officer_actor("ca.hongha", "commune_police", geo.hong_ha)
    counter = officer_actor("mc.hacthanh", "counter", geo.hac_thanh)
    service = officer_actor("dv.api", "service", None)
    if not with_dossiers:
        return DashboardWorld(geo, ministry, province, commune, elsewhere, counter, service, [])
    names = ["Trần Thị Lan", "Lê Văn Bình", "Nguyễn Thị Hoà", "Phạm Minh Đức", "Vũ Thị Ngọc Ánh"]
    codes: list[str] = []
    # Hạc Thành: three online (two approved, one rated 5), two at the counter (one refused)
    hac = [_resident(geo.hac_thanh, n) for n in names]
    for i, person in enumerate(hac):
        if i < 3:
            d = services.submit(citizen_actor(person.personal_id, channel="web"), procedure_code=CONFIRM,
                                applicant_personal_id=person.personal_id, data={"purpose": "Xin việc"})
        else:
            d = services.submit(counter, procedure_code=ID_CONFIRM, applicant_personal_id=person.personal_id,
                                relation="self", data={"purpose": "Vay vốn"}, components={},
                                channel="counter")
        codes.append(d.code)
    for code in codes[:2]:
        services.accept(commune, code)
        services.approve(commune, code)
    services.rate(citizen_actor(hac[0].personal_id, channel="web"), codes[0], 5)
    services.refuse(commune, codes[3], reason="Không đủ điều kiện")
    # Đông Sơn: one online, approved; Hồng Hà: one at the counter
    ds = _resident(geo.dong_son, "Đỗ Văn Sơn")
    d = services.submit(citizen_actor(ds.personal_id, channel="web"), procedure_code=CONFIRM,
                        applicant_personal_id=ds.personal_id, data={"purpose": "Xin việc"})
    services.accept(dongson, d.code)
    services.approve(dongson, d.code)
    codes.append(d.code)
    hh = _resident(geo.hong_ha, "Hoàng Thị Hà")
    d = services.submit(SEED, procedure_code=CONFIRM, applicant_personal_id=hh.personal_id, relation="self",
                        data={"purpose": "Xin việc"}, components={}, channel="counter")
    codes.append(d.code)
    return DashboardWorld(geo, ministry, province, commune, elsewhere, counter, service, codes)
