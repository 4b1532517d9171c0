"""A synthetic population for demos, tests and benchmarks — deterministic for a seed.

People are made household by household (head, spouse, children, sometimes the head's
parents) in the 2025 communes of one province, with permanent residence, a few temporary
residences, family links, partial birth dates for old people, deaths, old 9-digit ID
numbers, and ID numbers consistent with birth year, sex and the province where the birth
was registered. Everything comes from one ``random.Random(seed)`` and our own name lists
(not Faker, whose output may change between its releases), so the same ``seed``, ``size``,
province and ``as_of`` date give the same people with the same ID numbers.

A small, documented share of realistic data-quality anomalies is injected so the quality
report has something to find (see ``ANOMALY_RATES`` and docs/import-export.md). None of
them breaks a validation rule (they are implausible, not malformed), so they go in through
the ordinary importer.

The generator writes rows in the file format of ``population.io``; into the database they
go through ``population.bulk.import_file`` — one path for generated and real data.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dancu.core.progress import progress_bar
from dancu.geo.models import AdminUnit, CodeSystem, Level, UnitConversion
from dancu.population import domain
from dancu.population.io import RowWriter, file_format
from dancu.population.models import Citizen

DEFAULT_PROVINCE = "38"  # Thanh Hóa
MERGER_DATE = dt.date(2025, 7, 1)

# Family names with approximate shares (%) in the Vietnamese population.
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5.1), ("Huỳnh", 2),
    ("Phan", 4.5), ("Vũ", 3.9), ("Võ", 2), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 1), ("Trịnh", 1), ("Mai", 0.7), ("Lương", 0.6),
)
MIDDLE_MALE = ("Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Thanh", "Quang", "Công", "Xuân", "Ngọc",
               "Đình", "Trọng", "Bá", "Mạnh", "Tiến")
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Thị", "Ngọc", "Thanh", "Thu", "Minh", "Kim", "Mai", "Phương",
                 "Hồng", "Bảo", "Khánh", "Diệu")
GIVEN_MALE = ("Anh", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
              "Khang", "Khánh", "Kiên", "Lâm", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân",
              "Quang", "Sơn", "Tài", "Thắng", "Thành", "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh")
GIVEN_FEMALE = ("An", "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hoà", "Hồng",
                "Huyền", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngọc", "Nhung",
                "Oanh", "Phương", "Quỳnh", "Thảo", "Thu", "Thủy", "Trang", "Tuyết", "Uyên", "Vân", "Yến")
STREETS = ("Lê Lợi", "Trần Phú", "Quang Trung", "Lê Lai", "Bà Triệu", "Nguyễn Trãi", "Hai Bà Trưng",
           "Phan Chu Trinh", "Lý Thường Kiệt", "Hàm Nghi", "Tống Duy Tân", "Đinh Tiên Hoàng")
# Minority groups plausible per 2025 province (ethnicity code, share %); Kinh takes the rest.
MINORITIES: dict[str, tuple[tuple[str, float], ...]] = {
    "38": (("06", 9.0), ("03", 5.5), ("08", 0.4), ("09", 0.2), ("29", 0.1)),   # Thanh Hóa
    "40": (("03", 8.0), ("29", 1.0), ("08", 0.8), ("37", 0.1)),                # Nghệ An
    "01": (("06", 0.9), ("02", 0.2), ("07", 0.1), ("09", 0.1)),                # Hà Nội
    "79": (("04", 4.5), ("05", 0.4), ("17", 0.1)),                             # TP Hồ Chí Minh
}
DEFAULT_MINORITIES = (("02", 1.0), ("06", 0.8), ("03", 0.6), ("04", 0.5), ("05", 0.4))
RELIGIONS = (("00", 86.0), ("01", 8.0), ("02", 4.5), ("03", 1.0), ("04", 0.3), ("05", 0.2))

# Share of the generated population carrying each anomaly (documented in docs/import-export.md).
ANOMALY_RATES: dict[str, float] = {
    "suspected_duplicate": 0.005,     # per child: a second record, same name + birth date + parents
    "deceased_head": 0.003,           # per household: the head is dead but still head, still resident
    "living_over_120": 0.002,         # per household: a living parent of the head born 1900–1905
    "parent_younger_than_child": 0.005,  # per household with children: the first child born before the head
}
TEMPORARY_RATE = 0.04          # per living adult: a temporary residence in another commune
TEMPORARY_EXPIRED_SHARE = 0.3  # of those, already expired (not renewed, not ended)
OLD_ID_RATE = 0.6              # adults born before 2000 who still carry a 9-digit CMND number


@dataclass
class ProvinceInfo:
    province: AdminUnit
    communes: list[tuple[str, str]]          # (qualified code, name) of 2025 communes
    legacy: list[tuple[str, str]]            # (qualified code, ID number code) of legacy provinces
    new_birth: tuple[str, str]               # (qualified code, ID code) for births from 1 July 2025


def province_info(province: AdminUnit) -> ProvinceInfo:
    """The units the generator draws from: the province's 2025 communes and the legacy
    provinces merged into it (by the conversion table; else the legacy province of the same code)."""
    if province.code_system != CodeSystem.V2025 or province.level != Level.PROVINCE:
        raise ValueError("the generator needs a 2025 province")
    communes = [(u.qualified_code, u.name) for u in AdminUnit.objects.filter(
        code_system=CodeSystem.V2025, level=Level.COMMUNE, province=province).order_by("code")]
    if not communes:
        raise ValueError(f"province {province.qualified_code} has no communes in the database")
    legacy_ids = (UnitConversion.objects.filter(new_unit__province=province)
                  .values_list("legacy_unit__province_id", flat=True).distinct())
    legacy_units = list(AdminUnit.objects.filter(pk__in=list(legacy_ids), level=Level.PROVINCE)
                        .exclude(id_number_code="").order_by("code"))
    if not legacy_units:
        legacy_units = list(AdminUnit.objects.filter(code_system=CodeSystem.LEGACY, level=Level.PROVINCE,
                                                     code=province.code).exclude(id_number_code=""))
    if not legacy_units:
        raise ValueError(f"no legacy province found for {province.qualified_code}")
    legacy = [(u.qualified_code, u.id_number_code) for u in legacy_units]
    return ProvinceInfo(province, communes, legacy, (province.qualified_code, f"0{province.code}"))


@dataclass
class GenerateResult:
    size: int
    seed: int
    province: str
    households: int = 0
    temporary: int = 0
    deceased: int = 0
    anomalies: dict[str, int] = field(default_factory=dict)
    path: str | None = None
    import_result: Any = None
    seconds: float = 0.0


@dataclass
class _Person:
    key: int
    sex: str
    year: int
    month: int | None
    day: int | None
    family: str
    name: str = ""
    pid: str = ""
    birth_unit: str = ""
    origin: str = ""
    ethnicity: str = "01"
    religion: str = "00"
    marital: str = "single"
    deceased_on: dt.date | None = None
    old_id: str = ""
    father: _Person | None = None
    mother: _Person | None = None
    spouse: _Person | None = None
    relationship: str = ""  # empty: not a member of the household (a dead relative)
    temporary: tuple[str, str, dt.date, dt.date] | None = None


class Generator:
    def __init__(self, *, seed: int, info: ProvinceInfo, as_of: dt.date,
                 taken_ids: set[str] | None = None, taken_old: set[str] | None = None,
                 taken_households: set[str] | None = None) -> None:
        self.rng = random.Random(seed)
        self.info = info
        self.as_of = as_of
        self.used_ids = set(taken_ids or ())
        self.used_old = set(taken_old or ())
        self.used_households = set(taken_households or ())
        self.household_seq: dict[str, int] = {}
        self.keys = 0
        self.result = GenerateResult(size=0, seed=seed, province=info.province.qualified_code,
                                     anomalies=dict.fromkeys(ANOMALY_RATES, 0))
        minorities = MINORITIES.get(info.province.code, DEFAULT_MINORITIES)
        self.ethnicities = [("01", 100 - sum(w for _c, w in minorities)), *minorities]
        self.family_weights = ([n for n, _w in FAMILY_NAMES], [w for _n, w in FAMILY_NAMES])

    # --- drawing ----------------------------------------------------------------------------
    def pick(self, weighted: list[tuple[str, float]] | tuple[tuple[str, float], ...]) -> str:
        return self.rng.choices([k for k, _w in weighted], [w for _k, w in weighted])[0]

    def person(self, sex: str, year: int, family: str | None = None) -> _Person:
        rng = self.rng
        self.keys += 1
        family = family or rng.choices(*self.family_weights)[0]
        p = _Person(self.keys, sex, year, None, None, family)
        p.month = rng.randint(1, 12)
        p.day = rng.randint(1, calendar.monthrange(year, p.month)[1])
        if dt.date(year, p.month, p.day) > self.as_of:
            p.month, p.day = self.as_of.month, min(p.day, self.as_of.day)
        age = self.as_of.year - year
        # Old paper records often kept only the year, or the month and year.
        roll = rng.random()
        if (age >= 75 and roll < 0.25) or (age >= 60 and roll < 0.06):
            p.month = p.day = None
        elif age >= 60 and roll < 0.15:
            p.day = None
        middle = rng.choice(MIDDLE_MALE if sex == "M" else MIDDLE_FEMALE)
        given = rng.choice(GIVEN_MALE if sex == "M" else GIVEN_FEMALE)
        p.name = f"{family} {middle} {given}"
        return p

    def birth_date(self, p: _Person) -> dt.date:
        return dt.date(p.year, p.month or 1, p.day or 1)

    def assign_ids(self, p: _Person) -> None:
        rng = self.rng
        if self.birth_date(p) >= MERGER_DATE:
            p.birth_unit, code = self.info.new_birth
        else:
            p.birth_unit, code = self.info.legacy[rng.randrange(len(self.info.legacy))]
        if rng.random() < 0.7:
            p.origin = self.info.legacy[rng.randrange(len(self.info.legacy))][0]
        while True:
            pid = domain.compose(code, p.year, p.sex, rng.randrange(1_000_000))
            if pid not in self.used_ids:
                break
        self.used_ids.add(pid)
        p.pid = pid
        if p.year < 2000 and self.as_of.year - p.year >= 18 and rng.random() < OLD_ID_RATE:
            while True:
                old = f"{rng.randrange(100_000_000, 200_000_000)}"  # 1xx…: northern central provinces
                if old not in self.used_old:
                    break
            self.used_old.add(old)
            p.old_id = old

    def household_number(self, commune_code: str) -> str:
        code = commune_code.split(":")[1]
        while True:
            n = self.household_seq.get(code, 0) + 1
            self.household_seq[code] = n
            number = f"{code}-{n:06d}"
            if number not in self.used_households:
                self.used_households.add(number)
                return number

    def address(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}"
        return f"Thôn {rng.randint(1, 15)}"

    def death(self, p: _Person, earliest: dt.date | None = None) -> None:
        start = max(self.birth_date(p), earliest or dt.date(1990, 1, 1))
        span = (self.as_of - start).days
        p.deceased_on = start + dt.timedelta(days=self.rng.randint(0, max(span, 0)))

    # --- households -------------------------------------------------------------------------
    def household(self) -> list[_Person]:
        rng = self.rng
        as_of_year = self.as_of.year
        head_age = min(int(rng.triangular(20, 85, 38)), 95)
        head_sex = "M" if rng.random() < 0.78 else "F"
        head = self.person(head_sex, as_of_year - head_age)
        head.relationship = "head"
        ethnicity = self.pick(self.ethnicities)
        religion = self.pick(RELIGIONS)
        members = [head]
        if head_age >= 22 and rng.random() < 0.82:
            gap = rng.randint(-3, 6)  # husbands are usually a few years older
            spouse_age = max(18, head_age - gap if head_sex == "M" else head_age + gap)
            spouse = self.person("F" if head_sex == "M" else "M", as_of_year - spouse_age)
            spouse.relationship = "spouse"
            head.spouse, spouse.spouse = spouse, head
            head.marital = spouse.marital = "married"
            members.append(spouse)
            father, mother = (head, spouse) if head_sex == "M" else (spouse, head)
            mother_age = as_of_year - mother.year
            n_children = min(rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4)), max(0, (mother_age - 18) // 2))
            for _i in range(n_children):
                child_age = rng.randint(0, max(0, min(mother_age - 19, 30)))
                child = self.person("M" if rng.random() < 0.51 else "F", as_of_year - child_age,
                                    family=father.family)
                child.father, child.mother = father, mother
                child.relationship = "child"
                members.append(child)
        elif head_age >= 40 and rng.random() < 0.5:
            head.marital = "widowed" if rng.random() < 0.6 else "divorced"
        # The head's parents: alive in the household, or dead (a record, not a resident).
        if head_age < 60 and rng.random() < 0.45:
            for sex in ("M", "F"):
                parent = self.person(sex, head.year - rng.randint(20, 35),
                                     family=head.family if sex == "M" else None)
                if (as_of_year - parent.year) > 100 or rng.random() < 0.25:
                    self.death(parent, earliest=self.birth_date(head))
                else:
                    parent.relationship = "parent"
                if sex == "M":
                    head.father = parent
                else:
                    head.mother = parent
                    if head.father is not None:
                        head.father.spouse, parent.spouse = parent, head.father
                        head.father.marital = parent.marital = "married"
                members.append(parent)
            for elder in (head.father, head.mother):
                if elder and elder.spouse and elder.spouse.deceased_on and not elder.deceased_on:
                    elder.marital = "widowed"
        for p in members:
            p.ethnicity, p.religion = ethnicity, religion
            if p.relationship == "child" and as_of_year - p.year >= 18:
                p.marital = "single"
            elif p.relationship == "child":
                p.marital = "unknown"
        self.anomalies(members)
        for p in members:
            self.assign_ids(p)
            if p.deceased_on and p.marital == "married" and p.spouse and not p.spouse.deceased_on:
                p.spouse.marital = "widowed"
        return members

    def anomalies(self, members: list[_Person]) -> None:
        rng, rates, count = self.rng, ANOMALY_RATES, self.result.anomalies
        head = members[0]
        children = [p for p in members if p.relationship == "child"]
        if children and rng.random() < rates["parent_younger_than_child"]:
            child = children[0]
            child.year = head.year - rng.randint(1, 5)
            child.month, child.day = rng.randint(1, 12), rng.randint(1, 28)
            count["parent_younger_than_child"] += 1
        if rng.random() < rates["deceased_head"]:
            self.death(head, earliest=dt.date(self.as_of.year - 3, 1, 1))
            count["deceased_head"] += 1
        if rng.random() < rates["living_over_120"]:
            elder = self.person("F", rng.randint(1900, 1905))
            elder.month = elder.day = None
            elder.relationship, elder.marital = "parent", "widowed"
            members.append(elder)
            count["living_over_120"] += 1
        for child in list(children):
            if rng.random() < rates["suspected_duplicate"]:
                twin = _Person(**{**child.__dict__, "pid": "", "old_id": ""})
                self.keys += 1
                twin.key = self.keys
                members.append(twin)
                count["suspected_duplicate"] += 1


    def rows(self, size: int) -> Iterator[dict[str, str]]:
        """Exactly ``size`` rows (the last household may be cut short)."""
        emitted = 0
        while emitted < size:
            members = self.household()
            members = members[:size - emitted]
            keep = {id(p) for p in members}
            commune = self.info.communes[self.rng.randrange(len(self.info.communes))][0]
            number, address = self.household_number(commune), self.address()
            head = members[0]
            since = max(self.birth_date(head) + dt.timedelta(days=18 * 365), dt.date(1995, 1, 1))
            since = min(since, self.as_of)
            self.result.households += 1
            for p in members:
                yield self.row(p, keep, commune, number, address, since)
            emitted += len(members)
        self.result.size = emitted

    def row(self, p: _Person, keep: set[int], commune: str, number: str, address: str,
            household_since: dt.date) -> dict[str, str]:
        rng = self.rng

        def link(other: _Person | None) -> str:
            return other.pid if other is not None and id(other) in keep else ""

        row = {
            "personal_id": p.pid, "full_name": p.name,
            "birth_date": _partial(p.year, p.month, p.day), "sex": p.sex, "ethnicity": p.ethnicity,
            "religion": p.religion, "nationality": "VN", "birth_registration_unit": p.birth_unit,
            "origin_unit": p.origin, "marital_status": p.marital,
            "life_status": "deceased" if p.deceased_on else "living",
            "death_date": p.deceased_on.isoformat() if p.deceased_on else "",
            "old_id_number": p.old_id, "father_id": link(p.father), "mother_id": link(p.mother),
            "spouse_id": link(p.spouse),
        }
        if p.deceased_on:
            self.result.deceased += 1
        resident = p.relationship and (not p.deceased_on or p.relationship == "head")
        if resident:
            since = max(household_since, self.birth_date(p))
            row.update(household_number=number, relationship=p.relationship, permanent_commune=commune,
                       permanent_address=address, permanent_since=since.isoformat())
            adult = self.as_of.year - p.year >= 18
            if adult and not p.deceased_on and rng.random() < TEMPORARY_RATE:
                other = self.info.communes[rng.randrange(len(self.info.communes))][0]
                if rng.random() < TEMPORARY_EXPIRED_SHARE:
                    start = self.as_of - dt.timedelta(days=rng.randint(400, 1400))
                    end = start + dt.timedelta(days=rng.randint(180, 365))
                else:
                    start = self.as_of - dt.timedelta(days=rng.randint(1, 300))
                    end = start + dt.timedelta(days=rng.randint(400, 720))
                start = max(start, since)
                end = max(end, start + dt.timedelta(days=30))
                row.update(temporary_commune=other, temporary_address=self.address(),
                           temporary_since=start.isoformat(), temporary_expires=end.isoformat())
                self.result.temporary += 1
        return row


def _partial(year: int, month: int | None, day: int | None) -> str:
    if day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if month:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def _taken(info: ProvinceInfo) -> tuple[set[str], set[str], set[str]]:
    """ID numbers, old ID numbers and household numbers already in the database that the
    generator could draw, so a run into a non-empty database draws again instead of clashing."""
    codes = sorted({code for _q, code in info.legacy} | {info.new_birth[1]})
    from django.db.models import Q

    from dancu.residence.models import Household

    q = Q()
    for code in codes:
        q |= Q(personal_id__startswith=code)
    ids = set(Citizen.objects.filter(q).values_list("personal_id", flat=True))
    old = {o for o in Citizen.objects.filter(old_id_number__startswith="1")
           .values_list("old_id_number", flat=True) if o is not None}
    prefixes = Q()
    for qualified, _name in info.communes:
        prefixes |= Q(number__startswith=qualified.split(":")[1] + "-")
    households = set(Household.objects.filter(prefixes).values_list("number", flat=True))
    return ids, old, households


def write_population(path: str | Path, *, size: int, seed: int, province: AdminUnit,
                     as_of: dt.date | None = None, check_database: bool = False,
                     progress: bool = False, stdout: TextIO | None = None) -> GenerateResult:
    """Generate ``size`` people into a CSV / CSV.gz / Parquet file (no database writes)."""
    started = time.perf_counter()
    file_format(path)
    info = province_info(province)
    taken = _taken(info) if check_database else (set(), set(), set())
    from django.utils import timezone

    gen = Generator(seed=seed, info=info, as_of=as_of or timezone.localdate(), taken_ids=taken[0],
                    taken_old=taken[1], taken_households=taken[2])
    bar = progress_bar(progress, stdout)
    task = bar.add_task("generate", total=size) if bar else None
    with RowWriter(path) as writer:
        for row in gen.rows(size):
            writer.write(row)
            if bar and writer.count % 1000 == 0:
                bar.update(task, completed=writer.count)
    if bar:
        bar.stop()
    gen.result.path = str(path)
    gen.result.seconds = time.perf_counter() - started
    return gen.result


def generate_population(*, size: int, seed: int, province: AdminUnit, progress: bool = True,
                        stdout: TextIO | None = None, as_of: dt.date | None = None) -> GenerateResult:
    """Generate ``size`` people into the configured database, through the bulk importer
    (an ImportBatch named ``generate:seed=…`` is their source). Loads the administrative
    units first if the database has none of the province's communes."""
    from dancu.population.bulk import import_file

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dancu-generate-") as tmp:
        path = Path(tmp) / "population.csv"
        result = write_population(path, size=size, seed=seed, province=province, as_of=as_of,
                                  check_database=True, progress=progress, stdout=stdout)
        result.import_result = import_file(
            path, actor_label="generator", progress=progress, stdout=stdout, today=as_of,
            file_label=f"generate:seed={seed},size={size},province={province.qualified_code}")
    result.path = None
    result.seconds = time.perf_counter() - started
    return result


def default_province(code: str = DEFAULT_PROVINCE) -> AdminUnit:
    """The 2025 province with this code, loading the unit tables first when it is missing."""
    unit = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE, code=code).first()
    if unit is None:
        from dancu.geo.services import load_admin_units

        load_admin_units()
        unit = AdminUnit.objects.get(code_system=CodeSystem.V2025, level=Level.PROVINCE, code=code)
    return unit


