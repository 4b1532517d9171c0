"""The bulk loader: many citizens with their household and residence, fast and all-or-row.

Used by ``dancu population import`` and by the synthetic population generator. It is the
one bulk path into the registry: instead of calling ``residence.services`` once per person it
hands each chunk's households, memberships and registrations to ``residence.bulk`` (the only
writer of those tables) in the same transaction; the rules it applies are those of the
services (see ``docs/import-export.md``).

How a file goes in:

1. *Pre-scan* — the file's SHA-256 and the set of personal IDs it holds (a sorted array of
   64-bit integers: 8 bytes a person), so a family link may name someone further down.
2. *Load* — rows are read in chunks; each row is validated by
   ``population.validation.clean_citizen`` (the single validator of console, API and import,
   so the import inherits every rule) plus the import's own checks (residence columns,
   duplicates); the good rows of a chunk are written in one transaction: a person, their
   household membership and their registrations go in together or not at all. PostgreSQL
   writes with ``COPY``; other databases with ``executemany``. Links to people already
   written are set at once, the others are kept in a temporary table. On PostgreSQL a writer
   thread (its own connection) writes a chunk while the next one is validated.
3. *Links* — one ``UPDATE … FROM`` sets the remaining father/mother/spouse links.

Each chunk's transaction and the links' send ``signals.citizens_loaded`` (the rows they wrote
are announced once, not one by one: the data-quality tallies are recounted after an import).

An *initial load* (``initial_load=True`` into an empty registry: a province migrating its
population into a fresh deployment) is one transaction instead of one per chunk; on
PostgreSQL it locks the registry tables, drops their secondary indexes and foreign keys
before step 2 and builds them again after step 3 (see ``_begin_initial_load``). The rows,
the checks and the report are those of the chunked path.

Python's cyclic garbage collector is paused during steps 2–3 (``core.bulk.gc_paused``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import socket
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TextIO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import system_actor
from dancu.audit import services as audit
from dancu.core.bulk import (
    LoadWindow,
    gc_paused,
    lock_exclusive,
    make_sink,
    non_empty,
    select_in,
    table_of,
)
from dancu.core.errors import FieldError
from dancu.core.progress import progress_bar
from dancu.core.text import is_nfc, nfc
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population import services, signals
from dancu.population.io import REQUIRED_COLUMNS, file_format, read_header, read_rows
from dancu.population.models import Citizen, ImportBatch
from dancu.population.validation import clean_citizen, is_canonical_text, parse_partial_date
from dancu.residence import bulk as residence_bulk
from dancu.residence.models import Relationship
from dancu.residence.services import add_years

CHUNK_ROWS = 2000
PG_CHUNK_ROWS = 25_000  # fewer, larger transactions: measured ~12 % faster than 10,000 (bench/)
LINK_FIELDS = ("father_id", "mother_id", "spouse_id")
RESIDENCE_FIELDS = ("household_number", "relationship", "permanent_commune", "permanent_address",
                    "permanent_since", "temporary_commune", "temporary_address", "temporary_since",
                    "temporary_expires")
CITIZEN_COLUMNS = ("id", "personal_id", "full_name", "name_key", "birth_year", "birth_month", "birth_day",
                   "sex", "ethnicity", "religion", "nationality", "birth_registration_unit_id",
                   "origin_unit_id", "marital_status", "father_id", "mother_id", "spouse_id",
                   "life_status", "death_date", "old_id_number", "current_commune_id",
                   "current_province_id", "import_batch_id", "version", "created_at", "updated_at",
                   "given_key")
LINKS_TABLE = "dancu_import_links"


@dataclass(frozen=True)
class Issue:
    """One line of the import report."""

    line: int
    personal_id: str
    field: str
    code: str
    message: str

    @property
    def is_warning(self) -> bool:
        return self.code.startswith("W_")


@dataclass
class ImportResult:
    batch_id: int | None
    file_name: str
    rows_read: int = 0
    created: int = 0
    skipped: int = 0
    rejected: int = 0
    status: str = "running"
    issues: list[Issue] = field(default_factory=list)
    links_set: int = 0
    households_created: int = 0
    strategy: str = "chunks"  # or "initial-load" (see import_file)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_warning]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.is_warning]


class ImportAborted(Exception):
    """Raised inside the all-or-nothing transaction to roll it back."""


class RegistryNotEmpty(ValueError):
    """An initial load found rows in the registry tables (written since it looked)."""


# --- pre-scan --------------------------------------------------------------------------------

class PersonIndex:
    """The personal IDs a file holds (or its old ID numbers: ``digits=9``), as a sorted array
    of integers (8 bytes a person), and the few that occur more than once."""

    def __init__(self, ids: Iterable[str] = (), *, digits: int = 12) -> None:
        self.digits = digits
        # isdecimal, not isdigit: int() refuses digits such as "²" (they are not IDs anyway)
        values = sorted(int(p) for p in ids if len(p) == digits and p.isdecimal())
        self._ids = array("q", values)
        self._repeated = frozenset(a for a, b in pairwise(values) if a == b)

    def __contains__(self, personal_id: object) -> bool:
        if not isinstance(personal_id, str) or len(personal_id) != self.digits \
                or not personal_id.isdecimal():
            return False
        value = int(personal_id)
        i = bisect_left(self._ids, value)
        return i < len(self._ids) and self._ids[i] == value

    def __len__(self) -> int:
        return len(self._ids)

    def unique(self, value: str) -> bool:
        """``value`` is plain ASCII digits and exactly one row of the file carries it (any
        other spelling of the same number — spaces around it, other Unicode digits — counts
        as another occurrence): no other row of the file can have written it."""
        return (len(value) == self.digits and value.isascii() and value.isdecimal()
                and int(value) not in self._repeated and value in self)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prescan(path: Path, *, old_ids: bool = False) -> tuple[PersonIndex, PersonIndex | None]:
    """The file's personal IDs and, when asked, its old ID numbers (one read of the file)."""
    if not old_ids:
        return PersonIndex(row.get("personal_id", "").strip() for _line, row in
                           read_rows(path, columns=("personal_id",))), None
    pids: list[str] = []
    olds: list[str] = []
    for _line, row in read_rows(path, columns=("personal_id", "old_id_number")):
        pids.append(row.get("personal_id", "").strip())
        old = row.get("old_id_number", "").strip()
        if old:
            olds.append(old)
    index = PersonIndex(pids)
    del pids
    return index, PersonIndex(olds, digits=9)


# --- caches ----------------------------------------------------------------------------------

class UnitCache:
    """Qualified code → AdminUnit, one query per new code (a file names few distinct units)."""

    def __init__(self) -> None:
        self._by_code: dict[str, AdminUnit | None] = {}

    def __call__(self, qualified: str) -> AdminUnit | None:
        if qualified not in self._by_code:
            self._by_code[qualified] = services.resolve_unit(qualified)
        return self._by_code[qualified]


# --- one row ---------------------------------------------------------------------------------

@dataclass
class Prepared:
    """A validated row: citizen values (model field names) and its residence."""

    line: int
    personal_id: str
    values: dict[str, Any]
    links: dict[str, str]  # "father" → personal ID
    household_number: str = ""
    relationship: str = ""
    permanent: tuple[AdminUnit, str, dt.date] | None = None
    temporary: tuple[AdminUnit, str, dt.date, dt.date] | None = None
    warnings: list[FieldError] = field(default_factory=list)
    # Initial load: no other row of the file carries this ID number or old ID number, so the
    # registry (empty at the start, locked since) cannot hold them: no look-up needed.
    unique_in_file: bool = False

    def comparable(self) -> tuple:
        v = self.values
        bru = v["birth_registration_unit"]
        origin = v.get("origin_unit")
        return (v["full_name"], v["birth_year"], v.get("birth_month"), v.get("birth_day"), v["sex"],
                v["ethnicity"], v["religion"], v["nationality"], bru.pk, origin.pk if origin else None,
                v.get("marital_status", "unknown"), v.get("life_status", "living"), v.get("death_date"),
                v.get("old_id_number"), self.links.get("father"), self.links.get("mother"),
                self.links.get("spouse"))


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_RELATIONSHIPS = frozenset(Relationship.values)


def _parse_day(text: str) -> dt.date:
    iso = _ISO_DAY.fullmatch(text)
    if iso:
        return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
    y, m, d = parse_partial_date(text)
    if not (m and d):
        raise ValueError("partial")
    return dt.date(y, m, d)


def prepare_row(line: int, raw: dict[str, str], *, units: Callable[[str], AdminUnit | None],
                person_known: Callable[[str], bool], today: dt.date) -> tuple[Prepared | None,
                                                                               list[FieldError]]:
    """Validate one file row. Returns (prepared or None, errors + warnings)."""
    def resolve_person(pid: str) -> str | None:
        return pid if person_known(pid) else None

    cleaned = clean_citizen(raw, resolve_unit=units, resolve_person=resolve_person, today=today)
    errors = list(cleaned.errors)
    values = cleaned.values
    pid = nfc(raw.get("personal_id") or "")
    if not pid:
        errors.append(FieldError("E_REQUIRED", _("Trường bắt buộc."), "personal_id"))
    services._check_birth_place(values, errors)  # the services' own rule: ID code vs birth place
    links: dict[str, str] = {k: values.pop(k) for k in ("father", "mother", "spouse") if k in values}
    prepared = Prepared(line, pid, values, links, warnings=list(cleaned.warnings))

    text: dict[str, str] = {}
    for key in RESIDENCE_FIELDS:
        value = raw.get(key) or ""
        if value and not is_canonical_text(value):
            if not is_nfc(value):
                prepared.warnings.append(FieldError(
                    "W_NOT_NFC", _("Văn bản chưa chuẩn Unicode NFC; đã chuẩn hoá."), key))
            value = nfc(value)
        text[key] = value

    def commune(key: str) -> AdminUnit | None:
        unit = units(text[key])
        if unit is None:
            errors.append(FieldError("E_UNIT_UNKNOWN", _("Mã đơn vị hành chính không tồn tại: %(code)s.")
                                     % {"code": text[key]}, key))
        elif unit.code_system != CodeSystem.V2025 or unit.level != Level.COMMUNE:
            errors.append(FieldError("E_UNIT_LEVEL",
                                     _("Nơi cư trú phải là xã/phường theo danh mục từ 2025."), key))
            return None
        return unit

    def day(key: str) -> dt.date | None:
        try:
            value = _parse_day(text[key])
        except ValueError:
            errors.append(FieldError("E_DATE_INVALID", _("Ngày không hợp lệ (YYYY-MM-DD)."), key))
            return None
        if key != "temporary_expires" and value > today:
            errors.append(FieldError("E_DATE_RANGE", _("Ngày không được ở tương lai."), key))
            return None
        return value

    def required(*keys: str) -> bool:
        missing = [k for k in keys if not text[k]]
        for k in missing:
            errors.append(FieldError("E_REQUIRED", _("Trường bắt buộc."), k))
        return not missing

    if any(text[k] for k in RESIDENCE_FIELDS[:5]) and required(
            "household_number", "relationship", "permanent_commune", "permanent_address", "permanent_since"):
        unit, since = commune("permanent_commune"), day("permanent_since")
        if text["relationship"] not in _RELATIONSHIPS:
            errors.append(FieldError("E_CHOICE_INVALID", _("Quan hệ với chủ hộ không hợp lệ."),
                                     "relationship"))
        elif len(text["household_number"]) > 20:
            errors.append(FieldError("E_HOUSEHOLD_NUMBER", _("Số hộ dài tối đa 20 ký tự."),
                                     "household_number"))
        elif unit is not None and since is not None:
            prepared.household_number = text["household_number"]
            prepared.relationship = text["relationship"]
            prepared.permanent = (unit, text["permanent_address"][:255], since)
    if any(text[k] for k in RESIDENCE_FIELDS[5:]) and required(
            "temporary_commune", "temporary_address", "temporary_since", "temporary_expires"):
        unit, since, expires = (commune("temporary_commune"), day("temporary_since"),
                                day("temporary_expires"))
        if since and expires and expires <= since:
            errors.append(FieldError("E_DATE_ORDER", _("Ngày hết hạn phải sau ngày bắt đầu."),
                                     "temporary_expires"))
        elif since and expires and expires > add_years(since, 2):
            errors.append(FieldError("E_TEMPORARY_TOO_LONG", _("Tạm trú có thời hạn tối đa 2 năm."),
                                     "temporary_expires"))
        elif unit is not None and since and expires:
            prepared.temporary = (unit, text["temporary_address"][:255], since, expires)
    if errors:
        return None, errors + prepared.warnings
    return prepared, prepared.warnings


# --- writers ---------------------------------------------------------------------------------

_PIDS_SQL = "SELECT personal_id FROM population_citizen"
_IDS_SQL = "SELECT personal_id, id FROM population_citizen"
_OLD_IDS_SQL = "SELECT old_id_number, personal_id FROM population_citizen"
_EXISTING_SQL = (
    "SELECT c.personal_id, c.full_name, c.birth_year, c.birth_month, c.birth_day, c.sex, c.ethnicity, "
    "c.religion, c.nationality, c.birth_registration_unit_id, c.origin_unit_id, c.marital_status, "
    "c.life_status, c.death_date, c.old_id_number, f.personal_id, m.personal_id, s.personal_id, "
    "c.import_batch_id FROM population_citizen c "
    "LEFT JOIN population_citizen f ON f.id = c.father_id "
    "LEFT JOIN population_citizen m ON m.id = c.mother_id "
    "LEFT JOIN population_citizen s ON s.id = c.spouse_id")


def _comparable_from_db(row: tuple) -> tuple:
    """(personal_id, *Prepared.comparable(), import_batch_id) from a raw row of _EXISTING_SQL."""
    values = list(row)
    if isinstance(values[13], str):  # SQLite returns dates as text to raw SQL
        values[13] = dt.date.fromisoformat(values[13])
    return tuple(values)


# --- the loader ------------------------------------------------------------------------------

class Loader:
    """Validates and writes chunks of rows for one ImportBatch.

    ``file_ids`` — an initial load (see ``import_file``): the file's personal IDs and old ID
    numbers. The registry was empty at the start and its tables are locked, so whoever is in
    the database comes from this file: no query is needed to know a linked person, rows whose
    numbers occur once in the file (``unique_in_file``) are not looked up before the write
    (the unique indexes on those numbers, kept during the load, still stand guard), and
    primary keys are reserved a block at a time."""

    def __init__(self, batch: ImportBatch, result: ImportResult, *, in_file: Callable[[str], bool],
                 today: dt.date | None = None, file_ids: tuple[PersonIndex, PersonIndex] | None = None
                 ) -> None:
        self.batch = batch
        self.result = result
        self.in_file = in_file
        self.today = today or timezone.localdate()
        self.units = UnitCache()
        self.file_ids = file_ids
        self.initial = file_ids is not None
        self.sink = make_sink(exclusive=self.initial)
        self.now = timezone.now()
        self.deferred: list[Prepared] = []  # members whose household head comes later
        self._fill_links: list[tuple] = []
        self.rows_read = 0
        self.prep_rejected = 0
        self.prep_issues: list[Issue] = []

    # reporting
    def issue(self, line: int, pid: str, err: FieldError) -> None:
        self.result.issues.append(Issue(line, pid, err.field or "", err.code, str(err.message)))

    def reject(self, p: Prepared, code: str, message: Any, fld: str) -> None:
        self.issue(p.line, p.personal_id, FieldError(code, message, fld))
        self.result.rejected += 1

    # chunks
    def load_chunk(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Validate and write one chunk; the writes are one transaction (a savepoint inside
        an all-or-nothing import). Retried once when a concurrent writer took an ID meanwhile."""
        self.write(self.prepare_chunk(rows))

    def prepare_chunk(self, rows: list[tuple[int, dict[str, str]]]) -> list[Prepared]:
        """Validation of a chunk (at most one read query). Keeps its own issue list and counter,
        so it may run in another thread than ``write`` (the pipelined import)."""
        self.rows_read += len(rows)
        wanted = set()
        if self.file_ids is None:
            for _line, raw in rows:
                wanted.add((raw.get("personal_id") or "").strip())
                wanted.update((raw.get(k) or "").strip() for k in LINK_FIELDS)
            wanted.discard("")
        in_db = {r[0] for r in select_in(_PIDS_SQL, "personal_id", wanted)}

        def known(pid: str) -> bool:
            return pid in in_db or self.in_file(pid)

        prepared: list[Prepared] = []
        for line, raw in rows:
            p, issues = prepare_row(line, raw, units=self.units, person_known=known, today=self.today)
            pid = (raw.get("personal_id") or "").strip()
            for err in issues:
                self.prep_issues.append(Issue(line, pid, err.field or "", err.code, str(err.message)))
            if p is None:
                self.prep_rejected += 1
            else:
                prepared.append(p)
        if self.file_ids is not None:
            ids, old_ids = self.file_ids
            for p in prepared:
                old = p.values.get("old_id_number")
                p.unique_in_file = ids.unique(p.personal_id) and (not old or old_ids.unique(old))
        return prepared

    def merge_counts(self) -> None:
        """Fold the validation side's issues and counts into the result (after the run)."""
        self.result.rows_read += self.rows_read
        self.result.rejected += self.prep_rejected
        self.result.issues = sorted([*self.prep_issues, *self.result.issues], key=lambda i: i.line)
        self.rows_read, self.prep_rejected, self.prep_issues = 0, 0, []

    def write(self, prepared: list[Prepared], *, retry: bool = True) -> None:
        before = (len(self.result.issues), self.result.rejected, self.result.skipped, self.result.created,
                  self.result.households_created, list(self.deferred))
        try:
            with transaction.atomic():
                self._write(prepared)
                # progress, committed with the chunk: how far a batch got, and that it is alive
                ImportBatch.objects.filter(pk=self.batch.pk).update(
                    heartbeat_at=timezone.now(), rows_created=self.result.created)
                signals.citizens_loaded.send(sender=ImportBatch, batch=self.batch)
        except IntegrityError:
            if not retry:
                raise
            # Someone else wrote one of these IDs (or an old ID / household number) meanwhile:
            # forget this attempt's verdicts and check the chunk again against the database.
            del self.result.issues[before[0]:]
            (self.result.rejected, self.result.skipped, self.result.created,
             self.result.households_created, self.deferred) = before[1:]
            self.write(prepared, retry=False)

    def _write(self, prepared: list[Prepared]) -> None:
        # Members still waiting for their head are checked again with this chunk, so a later
        # row with the same ID number is seen as a duplicate of theirs.
        candidates, self.deferred = [*self.deferred, *prepared], []
        self._fill_links = []
        accepted = self._check_against_db(candidates)
        accepted = self._attach_households(accepted)
        if accepted:
            self._insert(accepted)
        self.sink.insert(LINKS_TABLE, ("line", "pid", "father", "mother", "spouse"), self._fill_links)

    def _check_against_db(self, prepared: list[Prepared]) -> list[Prepared]:
        looked_up = [p for p in prepared if not p.unique_in_file] if self.initial else prepared
        pids = [p.personal_id for p in looked_up]
        old_ids = [p.values["old_id_number"] for p in looked_up if p.values.get("old_id_number")]
        existing = {row[0]: _comparable_from_db(row)
                    for row in select_in(_EXISTING_SQL, "c.personal_id", pids)}
        old_taken = dict(select_in(_OLD_IDS_SQL, "old_id_number", old_ids))
        accepted: list[Prepared] = []
        in_chunk: dict[str, tuple] = {}
        old_in_chunk: set[str] = set()
        for p in prepared:
            if self.initial and p.unique_in_file:  # nobody else has these numbers: no comparison
                old = p.values.get("old_id_number")
                if old:
                    old_in_chunk.add(old)
                accepted.append(p)
                continue
            mine = p.comparable()
            if p.personal_id in existing or p.personal_id in in_chunk:
                theirs = in_chunk.get(p.personal_id) or tuple(existing[p.personal_id][1:-1])
                if theirs == mine:
                    self.result.skipped += 1
                elif theirs[:-3] == mine[:-3] and all(t in (m, None) for t, m in zip(theirs[-3:], mine[-3:],
                                                                                      strict=True)):
                    # The same person, loaded by an import that stopped before setting the links
                    # to people further down its file: counted as present, the links completed.
                    self.result.skipped += 1
                    self._fill_links.append((p.line, p.personal_id, *(m or "" for m in mine[-3:])))
                elif p.personal_id in in_chunk or existing[p.personal_id][-1] == self.batch.pk:
                    self.reject(p, "E_ID_DUPLICATE_IN_FILE",
                                _("Số định danh đã xuất hiện ở dòng trước trong tệp với dữ liệu khác."),
                                "personal_id")
                else:
                    self.reject(p, "E_ID_NUMBER_TAKEN",
                                _("Số định danh đã có trong cơ sở dữ liệu với dữ liệu khác."), "personal_id")
                continue
            old = p.values.get("old_id_number")
            if old and (old in old_in_chunk or old_taken.get(old, p.personal_id) != p.personal_id):
                self.reject(p, "E_OLD_ID_TAKEN", _("Số CMND cũ đã gắn với người khác."), "old_id_number")
                continue
            if old:
                old_in_chunk.add(old)
            in_chunk[p.personal_id] = mine
            accepted.append(p)
        return accepted

    def _attach_households(self, accepted: list[Prepared]) -> list[Prepared]:
        """Heads found new households; members join a household in the database or founded in
        this chunk, else wait (deferred) for their head further down the file."""
        numbers = {p.household_number for p in accepted if p.household_number}
        in_db = {n: (pk, commune_id) for n, pk, commune_id in residence_bulk.households_by_number(numbers)}
        founded: dict[str, int] = {}  # household number → commune id, founded in this chunk
        out: list[Prepared] = []
        members: list[Prepared] = []
        for p in accepted:
            if not p.household_number:
                out.append(p)
            elif p.relationship == Relationship.HEAD:
                if p.household_number in in_db or p.household_number in founded:
                    self.reject(p, "E_HOUSEHOLD_HAS_HEAD", _("Hộ đã có chủ hộ."), "relationship")
                    continue
                assert p.permanent is not None  # a household number comes with a permanent residence
                founded[p.household_number] = p.permanent[0].pk
                out.append(p)
            else:
                members.append(p)
        for p in members:
            commune_id = founded.get(p.household_number) or in_db.get(p.household_number, (0, None))[1]
            if commune_id is None:
                self.deferred.append(p)
            elif p.permanent is None or commune_id != p.permanent[0].pk:
                self.reject(p, "E_HOUSEHOLD_COMMUNE", _("Hộ này thuộc xã/phường khác."), "permanent_commune")
            else:
                out.append(p)
        self._household_ids = {n: v[0] for n, v in in_db.items()}
        return out

    def flush_deferred(self) -> None:
        """End of file: members whose household never got a head are rejected."""
        for p in self.deferred:
            self.reject(p, "E_HOUSEHOLD_UNKNOWN",
                        _("Không có hộ số %(number)s và tệp không có chủ hộ của hộ này.")
                        % {"number": p.household_number}, "household_number")
        self.deferred = []

    def _insert(self, accepted: list[Prepared]) -> None:
        ids = self.sink.reserve_ids(Citizen, len(accepted))
        id_of = {p.personal_id: pk for p, pk in zip(accepted, ids, strict=True)}
        link_targets = {pid for p in accepted for pid in p.links.values()} - set(id_of)
        if link_targets:
            id_of.update(select_in(_IDS_SQL, "personal_id", link_targets))
        heads = [p for p in accepted if p.household_number and p.relationship == Relationship.HEAD]
        hh_ids = dict(self._household_ids)
        hh_ids.update(zip([p.household_number for p in heads],
                          residence_bulk.reserve_household_ids(self.sink, len(heads)), strict=True))
        now, today = self.now, self.today
        citizens: list[tuple] = []
        households: list[tuple] = []
        members: list[tuple] = []
        registrations: list[tuple] = []
        pending: list[tuple] = []
        for p, pk in zip(accepted, ids, strict=True):
            v = p.values
            linked = {k: id_of.get(pid) for k, pid in p.links.items()}
            if any(value is None for value in linked.values()):
                pending.append((p.line, p.personal_id, p.links.get("father", ""),
                                p.links.get("mother", ""), p.links.get("spouse", "")))
            current = None
            if p.temporary and p.temporary[3] >= today:
                current = p.temporary[0]
            elif p.permanent:
                current = p.permanent[0]
            citizens.append((
                pk, p.personal_id, v["full_name"], v["name_key"], v["birth_year"], v.get("birth_month"),
                v.get("birth_day"), v["sex"], v["ethnicity"], v["religion"], v["nationality"],
                v["birth_registration_unit"].pk, v["origin_unit"].pk if v.get("origin_unit") else None,
                v.get("marital_status", "unknown"), linked.get("father"), linked.get("mother"),
                linked.get("spouse"), v.get("life_status", "living"), v.get("death_date"),
                v.get("old_id_number"), current.pk if current else None,
                current.province_id if current else None, self.batch.pk, 1, now, now, v["given_key"]))
            if p.permanent:
                unit, address, since = p.permanent
                hh = hh_ids[p.household_number]
                if p.relationship == Relationship.HEAD:
                    households.append((hh, p.household_number, unit.pk, address, pk, now))
                members.append((hh, pk, p.relationship, since, None))
                registrations.append((pk, "permanent", unit.pk, address, hh, since, None, None, "", "", "",
                                      None, now))
            if p.temporary:
                unit, address, since, expires = p.temporary
                registrations.append((pk, "temporary", unit.pk, address, None, since, expires, None, "",
                                      "", "", None, now))
        self.write_citizens(citizens)
        self.write_residences(households, members, registrations)
        if pending:
            self.sink.insert(LINKS_TABLE, ("line", "pid", "father", "mother", "spouse"), pending)
        self.result.created += len(citizens)
        self.result.households_created += len(households)

    # Separate methods so a test can make one of them fail (fault injection at an edge).
    def write_citizens(self, rows: list[tuple]) -> None:
        self.sink.insert(table_of(Citizen), CITIZEN_COLUMNS, self.sink.adapt(rows, (18,), (24, 25)))

    def write_residences(self, households: list[tuple], members: list[tuple],
                         registrations: list[tuple]) -> None:
        residence_bulk.insert_residences(self.sink, households, members, registrations)


# --- pending links ---------------------------------------------------------------------------

def _create_linkstable_of() -> None:
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {LINKS_TABLE} (line integer, pid varchar(12), "
                    "father varchar(12), mother varchar(12), spouse varchar(12))")
        cur.execute(f"DELETE FROM {LINKS_TABLE}")  # noqa: S608


def _resolve_links(batch: ImportBatch, loader: Loader) -> int:
    """Set the links that named people further down the file; report those whose target was
    rejected (the person stays loaded, without that link)."""
    table = table_of(Citizen)
    done = 0
    with connection.cursor() as cur:
        for col in ("father", "mother", "spouse"):
            cur.execute(
                f"UPDATE {table} SET {col}_id = t.id FROM {LINKS_TABLE} l "  # noqa: S608
                f"JOIN {table} t ON t.personal_id = l.{col} "
                f"WHERE {table}.personal_id = l.pid AND l.{col} <> '' AND {table}.{col}_id IS NULL")
            done += max(cur.rowcount, 0)
            cur.execute(
                f"SELECT l.line, l.pid, l.{col} FROM {LINKS_TABLE} l "  # noqa: S608
                f"LEFT JOIN {table} t ON t.personal_id = l.{col} WHERE l.{col} <> '' AND t.id IS NULL "
                "ORDER BY l.line")
            for line, pid, target in cur.fetchall():
                loader.issue(line, pid, FieldError(
                    "W_LINK_UNRESOLVED",
                    _("Người được liên kết (%(id)s) không được nhập; bỏ trống liên kết.") % {"id": target},
                    f"{col}_id"))
        cur.execute(f"DELETE FROM {LINKS_TABLE}")  # noqa: S608
    signals.citizens_loaded.send(sender=ImportBatch, batch=batch)
    return done


# --- entry points ----------------------------------------------------------------------------

Numbered = tuple[int, dict[str, str]]


def chunks(rows: Iterable[Numbered], size: int) -> Iterator[list[Numbered]]:
    chunk: list[Numbered] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def registry_tables() -> list[str]:
    """The tables an import writes: the citizens and the residence tables."""
    return [table_of(Citizen), *residence_bulk.TABLES]


def import_file(path: str | Path, *, all_or_nothing: bool = False, actor_label: str = "cli",
                progress: bool = True, report: str | Path | None = None, file_label: str | None = None,
                chunk_rows: int | None = None, today: dt.date | None = None,
                stdout: TextIO | None = None, pipeline: bool | None = None,
                initial_load: bool = False) -> ImportResult:
    """Load a population file (CSV, CSV.gz or Parquet; see docs/import-export.md).

    Good rows load and bad ones are reported (line, field, code, message); with
    ``all_or_nothing`` nothing loads if any row is rejected. Importing the same file again
    creates nothing (rows identical to the database are counted as skipped).
    ``pipeline`` (default: on PostgreSQL outside a transaction, not all-or-nothing) writes
    from a second thread while the next chunk is validated.

    ``initial_load``: when the registry tables are empty (a province's first load into a
    fresh deployment), the whole import is one transaction; on PostgreSQL it locks the
    registry tables, drops their secondary indexes and foreign keys, loads, and builds them
    again (``_begin_initial_load``). The same rows and reports as the chunked path; a failure
    leaves the registry empty again, with every index and constraint. When the registry is
    not empty the flag is ignored (``result.strategy`` says which path ran), so a re-run of
    the same file is still idempotent.
    """
    path = Path(path)
    file_format(path)
    name = file_label or path.name
    header = read_header(path)
    result = ImportResult(batch_id=None, file_name=name)
    if initial_load and not non_empty(registry_tables()):
        result.strategy = "initial-load"
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    sha = file_sha256(path)
    close_abandoned_batches()
    now = timezone.now()
    batch = ImportBatch.objects.create(file_name=name[:255], file_sha256=sha, started_at=now,
                                       all_or_nothing=all_or_nothing, actor_label=actor_label[:150],
                                       host=socket.gethostname()[:255], pid=os.getpid(), heartbeat_at=now)
    result.batch_id = batch.pk
    actor = system_actor(actor_label, source="import", source_ref=f"import_batch:{batch.pk}")
    if missing:
        for col in missing:
            result.issues.append(Issue(1, "", col, "E_COLUMN_MISSING",
                                       str(_("Thiếu cột bắt buộc trong dòng tiêu đề."))))
        result.status = "failed"
        _finish(batch, result, actor, report)
        return result

    initial = result.strategy == "initial-load"
    index, old_index = prescan(path, old_ids=initial)
    loader = Loader(batch, result, in_file=index.__contains__, today=today,
                    file_ids=(index, old_index) if old_index is not None else None)
    size = chunk_rows or (PG_CHUNK_ROWS if connection.vendor == "postgresql" else CHUNK_ROWS)
    one_transaction = all_or_nothing or initial
    if one_transaction:
        # One connection holds the whole transaction (and an initial load's locks). (A second
        # process validating while this one writes was tried for the initial load: no faster
        # on two cores, see bench/README.md.)
        pipeline = False
    elif pipeline is None:
        # Another connection is needed for the writer thread: not when the caller holds a
        # transaction (its rows would be invisible).
        pipeline = connection.vendor == "postgresql" and not connection.in_atomic_block
    bar = progress_bar(progress, stdout)
    try:
        with gc_paused():
            if one_transaction:
                try:
                    with transaction.atomic():
                        windows = _begin_initial_load() if initial else []
                        _run(loader, path, size, bar, len(index))
                        if all_or_nothing and result.rejected:
                            raise ImportAborted
                        for window in windows:
                            window.close()
                except ImportAborted:
                    result.status = "rejected"
                    _nothing_written(result)
            elif pipeline:
                _run_pipelined(loader, path, size, bar, len(index))
            else:
                _run(loader, path, size, bar, len(index))
        if result.status == "running":
            result.status = "done"
    except Exception:
        loader.merge_counts()
        result.status = "failed"
        if one_transaction:
            _nothing_written(result)
        _finish(batch, result, actor, report)
        raise
    finally:
        if bar is not None:
            bar.stop()
    _finish(batch, result, actor, report)
    return result


STALE_AFTER = dt.timedelta(hours=6)  # a batch of another host with no chunk committed for so long


def close_abandoned_batches() -> list[int]:
    """Batches left 'running' by a process that died without a word (kill -9, a power loss):
    marked ``failed`` with the number of people they committed, and audited like any finished
    import. A batch is abandoned when its process is gone (same host: the pid no longer runs, or
    now runs another program) or, from another host, when no chunk was committed for
    ``STALE_AFTER``. A batch whose row is locked (an initial load's one transaction) is alive.
    Run at the start of every import and hourly by the worker (``population.tasks``)."""
    closed = []
    host = socket.gethostname()
    for batch_id in ImportBatch.objects.filter(status="running").values_list("pk", flat=True):
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked).filter(
                pk=batch_id, status="running").first()
            if batch is None or _batch_alive(batch, host):
                continue
            created = Citizen.objects.filter(import_batch_id=batch.pk).count()
            batch.status, batch.finished_at, batch.rows_created = "failed", timezone.now(), created
            batch.save(update_fields=["status", "finished_at", "rows_created"])
            actor = system_actor(batch.actor_label, source="import", source_ref=f"import_batch:{batch.pk}")
            audit.record(actor, "population.import", subject_type="import_batch", subject_id=batch.pk,
                         reason="import interrupted",
                         details={"file": batch.file_name, "sha256": batch.file_sha256,
                                  "status": "failed", "interrupted": True, "created": created,
                                  "host": batch.host, "pid": batch.pid,
                                  "last_chunk_at": batch.heartbeat_at.isoformat()
                                  if batch.heartbeat_at else None})
            closed.append(batch.pk)
    return closed


def _batch_alive(batch: ImportBatch, host: str) -> bool:
    if batch.host == host and batch.pid:
        return _process_alive(batch.pid, batch.started_at)
    return timezone.now() - (batch.heartbeat_at or batch.started_at) < STALE_AFTER


def _process_alive(pid: int, since: dt.datetime) -> bool:
    """Is ``pid`` still the process that started the batch at ``since``? (Linux's /proc tells
    a zombie and a reused pid apart; elsewhere a running pid counts as alive.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, another user's
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, IndexError, ValueError):
        return True
    if stat[0] in ("Z", "X"):
        return False  # killed, not yet reaped by its parent
    started = boot + int(stat[19]) / os.sysconf("SC_CLK_TCK")
    return started <= since.timestamp() + 2  # a later process has taken the pid: the batch's is gone


def _nothing_written(result: ImportResult) -> None:
    result.skipped = result.created = result.households_created = result.links_set = 0


def _begin_initial_load() -> list[LoadWindow]:
    """Inside the import's transaction: make sure the registry is (still) empty and, on
    PostgreSQL, lock its tables (ACCESS EXCLUSIVE: nobody reads or writes them until the end)
    and drop their foreign keys and secondary indexes, following PostgreSQL's "Populating a
    Database". Kept during the load: the primary keys and the unique indexes the loader looks
    rows up by (ID number, old ID number, household number), so the checks of the chunked path
    still find what this load wrote and uniqueness is still enforced row by row. The returned
    windows build the rest again at the end, from the definitions read in ``pg_catalog``
    (``core.bulk.LoadWindow``). On SQLite the one transaction is all."""
    tables = registry_tables()
    postgres = connection.vendor == "postgresql"
    if postgres:
        lock_exclusive(tables)
    taken = non_empty(tables)
    if taken:
        raise RegistryNotEmpty(f"initial load: {', '.join(taken)} already hold rows")
    if not postgres:
        return []
    citizens = table_of(Citizen)
    windows = [LoadWindow([citizens], keep_unique={citizens: ("personal_id", "old_id_number")}),
               residence_bulk.load_window()]
    for window in windows:
        window.open()
    return windows


def _run(loader: Loader, path: Path, size: int, bar: Any, total: int) -> None:
    _create_linkstable_of()
    task = bar.add_task("import", total=total) if bar is not None else None
    for chunk in chunks(read_rows(path), size):
        loader.load_chunk(chunk)
        if bar is not None:
            bar.advance(task, len(chunk))
    _finish_links(loader)


def _finish_links(loader: Loader) -> None:
    with transaction.atomic():
        loader.flush_deferred()
        loader.result.links_set = _resolve_links(loader.batch, loader)
    loader.merge_counts()


_DONE = object()


def _run_pipelined(loader: Loader, path: Path, size: int, bar: Any, total: int) -> None:
    """Validation in this thread, writing in another with its own connection, a bounded queue
    (one chunk) between them: the database's work (COPY, index and foreign-key checks at
    commit) overlaps the Python work instead of following it. Same transactions, same results."""
    import queue
    import threading

    from django.db import connections

    work: queue.Queue[Any] = queue.Queue(maxsize=1)
    failure: list[BaseException] = []

    def writer() -> None:
        done = False
        try:
            _create_linkstable_of()
            while not (done := (item := work.get()) is _DONE):
                loader.write(item)
            with transaction.atomic():
                loader.flush_deferred()
                loader.result.links_set = _resolve_links(loader.batch, loader)
        except BaseException as exc:  # handed to the main thread
            failure.append(exc)
            while not done:  # drain so the producer never blocks
                done = work.get() is _DONE
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer, name="dancu-import-writer", daemon=True)
    thread.start()
    task = bar.add_task("import", total=total) if bar is not None else None
    try:
        for chunk in chunks(read_rows(path), size):
            if failure:
                break
            work.put(loader.prepare_chunk(chunk))
            if bar is not None:
                bar.advance(task, len(chunk))
    finally:
        work.put(_DONE)
        thread.join()
    loader.merge_counts()
    if failure:
        raise failure[0]


def _finish(batch: ImportBatch, result: ImportResult, actor: Any, report: str | Path | None) -> None:
    batch.rows_read = result.rows_read
    batch.rows_created = result.created
    batch.rows_skipped = result.skipped
    batch.rows_rejected = result.rejected
    batch.status = result.status
    batch.finished_at = timezone.now()
    batch.save()
    audit.record(actor, "population.import", subject_type="import_batch", subject_id=batch.pk,
                 reason="import", details={"file": result.file_name, "sha256": batch.file_sha256,
                                           "status": result.status, "rows_read": result.rows_read,
                                           "created": result.created, "skipped": result.skipped,
                                           "rejected": result.rejected,
                                           "warnings": len(result.warnings)})
    if report is not None:
        write_report(report, result.issues)


def write_report(path: str | Path, issues: Iterable[Issue]) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("line", "personal_id", "field", "code", "message"))
        for i in sorted(issues, key=lambda i: (i.line, i.field, i.code)):
            writer.writerow((i.line, i.personal_id, i.field, i.code, i.message))
