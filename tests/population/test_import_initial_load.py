"""The initial load (``import_file(initial_load=True)``, ``--initial-load``): into an empty
registry, one transaction; on PostgreSQL the registry tables' secondary indexes and foreign
keys are dropped for the load and built again. Same rows and report as the chunked path;
a failure leaves the registry empty with every index and constraint as before."""

from __future__ import annotations

import random
import unicodedata

import pytest
from django.core.management import call_command
from django.db import connection

from dancu.core import bulk as core_bulk
from dancu.core.text import is_nfc, nfc, search_key
from dancu.population import bulk, validation
from dancu.population.bulk import PersonIndex, RegistryNotEmpty, import_file
from dancu.population.generator import generate_population
from dancu.population.io import _export_rows, export_file, read_rows
from dancu.population.models import Citizen, ImportBatch
from dancu.residence.models import Household, HouseholdMember, Registration
from tests.population.test_import_export import (
    AS_OF,
    by_pid,
    fail_on_call,
    person,
    pid,
    resident,
    wipe_population,
    write_csv,
)

TABLES = ["population_citizen", "residence_household", "residence_householdmember", "residence_registration"]


def schema() -> tuple[list[tuple], list[tuple]]:
    """Every index (definition, valid, ready) and constraint (definition, validated,
    deferrable) of the registry tables (PostgreSQL)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisready, i.indisunique, "
            "i.indisprimary FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = ANY(%s::regclass[]) ORDER BY 1", [TABLES])
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated, "
            "condeferrable, condeferred FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 2",
            [TABLES])
        constraints = cur.fetchall()
    return indexes, constraints


def registry_counts() -> tuple[int, int, int, int]:
    return (Citizen.objects.count(), Household.objects.count(), HouseholdMember.objects.count(),
            Registration.objects.count())


def mixed_file(geo, tmp_path):
    """A generated, exported population with problems spread over several chunks: a malformed
    ID, the same person twice (identical: skipped), an ID again with other data, an old ID
    number taken, a member whose household head never comes, links to people further down."""
    generate_population(size=150, seed=5, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    src = tmp_path / "all.csv"
    export_file(src, actor=bulk.system_actor("test"))
    rows = [row for _l, row in read_rows(src)]
    wipe_population()
    with_old = next(r for r in rows if r["old_id_number"])
    child, father = pid(1990, "F", 801), pid(1960, "M", 802)
    extra = [
        person(child, "Lê Thị Hoa", "1990-05-17", "F", father_id=father, marital_status="single"),
        person("03819012345", "Sai Số", "1990-01-01", "F"),
        dict(rows[3]),                                                         # identical: skipped
        {**rows[7], "full_name": "Người Khác"},                                # same ID, other data
        person(pid(1981, "M", 803), "Trùng Cmnd", "1981-01-01", "M",
               old_id_number=with_old["old_id_number"]),                       # old ID taken
        person(pid(1982, "F", 804), "Không Chủ Hộ", "1982-01-01", "F", **resident("H-NONE", "child")),
        person(father, "Lê Văn Nam", "1960", "M"),
    ]
    write_csv(src, [*rows[:60], *extra[:3], *rows[60:120], *extra[3:], *rows[120:]])
    settle()
    return src, len(rows) + len(extra)


def settle() -> None:
    """Run the foreign-key checks this test's transaction has deferred so far (PostgreSQL
    refuses to alter a table with pending checks; a real initial load is its own transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


def outcome(result) -> tuple:
    return (result.status, result.rows_read, result.created, result.skipped, result.rejected,
            result.households_created, result.links_set,
            sorted((i.line, i.personal_id, i.field, i.code) for i in result.issues))


# --- same result as the chunked path ---------------------------------------------------------

def test_an_initial_load_gives_the_rows_and_report_of_the_chunked_path(geo, tmp_path) -> None:
    src, n = mixed_file(geo, tmp_path)
    before = schema() if connection.vendor == "postgresql" else None
    initial = import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    assert initial.strategy == "initial-load"
    loaded = by_pid(_export_rows(None))
    counts = registry_counts()
    wipe_population()
    settle()
    chunked = import_file(src, progress=False, today=AS_OF, chunk_rows=16, pipeline=False)
    assert chunked.strategy == "chunks"

    assert outcome(initial) == outcome(chunked)
    assert initial.rows_read == n and initial.created == n - 5 and initial.skipped == 1
    assert {i.code for i in initial.errors} == {"E_ID_NUMBER_FORMAT", "E_ID_DUPLICATE_IN_FILE",
                                                "E_OLD_ID_TAKEN", "E_HOUSEHOLD_UNKNOWN"}
    assert loaded == by_pid(_export_rows(None))  # every column, household and residence
    assert counts == registry_counts()
    assert Citizen.objects.get(personal_id=pid(1990, "F", 801)).father.personal_id == pid(1960, "M", 802)
    if before is not None:
        assert schema() == before  # every index and constraint back, valid


def test_an_initial_load_with_one_chunk_and_the_default_size(geo, tmp_path) -> None:
    src, n = mixed_file(geo, tmp_path)
    result = import_file(src, progress=False, today=AS_OF, initial_load=True)
    assert (result.strategy, result.status, result.created) == ("initial-load", "done", n - 5)
    assert ImportBatch.objects.get(pk=result.batch_id).rows_created == n - 5


def test_into_a_registry_that_holds_people_the_flag_falls_back_to_the_chunked_path(geo, tmp_path) -> None:
    src, n = mixed_file(geo, tmp_path)
    first = import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    again = import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    assert (first.strategy, again.strategy) == ("initial-load", "chunks")
    assert (again.created, again.skipped, again.status) == (0, n - 4, "done")  # idempotent


def test_the_command_flag(geo, tmp_path, capsys) -> None:
    src, n = mixed_file(geo, tmp_path)
    call_command("population", "import", str(src), "--no-progress", "--initial-load",
                 "--report", str(tmp_path / "report.csv"))
    assert "initial-load" in capsys.readouterr().out
    assert Citizen.objects.count() == n - 5
    assert len((tmp_path / "report.csv").read_text(encoding="utf-8").splitlines()) == 1 + 4


def test_all_or_nothing_initial_load_rolls_back_on_a_bad_row(geo, tmp_path) -> None:
    src, _n = mixed_file(geo, tmp_path)
    before = schema() if connection.vendor == "postgresql" else None
    result = import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True,
                         all_or_nothing=True)
    assert (result.status, result.created, result.rejected) == ("rejected", 0, 4)
    assert registry_counts() == (0, 0, 0, 0)
    if before is not None:
        assert schema() == before


# --- failures leave the registry as it was -----------------------------------------------------

def test_a_failure_mid_load_leaves_the_registry_empty_with_its_indexes(geo, tmp_path, monkeypatch) -> None:
    src, n = mixed_file(geo, tmp_path)
    before = schema() if connection.vendor == "postgresql" else None
    # the third chunk fails after its citizens were written
    fail_on_call(monkeypatch, bulk.Loader, "write_residences", 3, RuntimeError("disk full"))
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    assert registry_counts() == (0, 0, 0, 0)  # not even the first two chunks
    batch = ImportBatch.objects.latest("pk")
    assert (batch.status, batch.rows_created) == ("failed", 0)
    if before is not None:
        assert schema() == before
    monkeypatch.undo()
    result = import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    assert (result.strategy, result.created) == ("initial-load", n - 5)


def test_a_failure_while_rebuilding_the_indexes_restores_them(geo, tmp_path, monkeypatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("indexes are dropped and rebuilt on PostgreSQL only")
    src, _n = mixed_file(geo, tmp_path)
    before = schema()
    original = core_bulk.LoadWindow.close

    def half_then_fail(self) -> None:
        self.restore = self.restore[: len(self.restore) // 2]
        original(self)
        raise RuntimeError("out of memory")

    monkeypatch.setattr(core_bulk.LoadWindow, "close", half_then_fail)
    with pytest.raises(RuntimeError, match="out of memory"):
        import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    assert registry_counts() == (0, 0, 0, 0)
    assert schema() == before


def test_a_registry_filled_meanwhile_fails_the_initial_load(geo, tmp_path, monkeypatch) -> None:
    """Between the first look and the lock, someone else loaded people: refused, nothing written."""
    src, _n = mixed_file(geo, tmp_path)
    import_file(src, progress=False, today=AS_OF, chunk_rows=16)
    settle()
    counts = registry_counts()
    looks = {"n": 0}
    original = bulk.non_empty

    def empty_at_first_look(tables):
        looks["n"] += 1
        return [] if looks["n"] == 1 else original(tables)

    monkeypatch.setattr(bulk, "non_empty", empty_at_first_look)
    with pytest.raises(RegistryNotEmpty, match="population_citizen"):
        import_file(src, progress=False, today=AS_OF, chunk_rows=16, initial_load=True)
    assert registry_counts() == counts
    assert ImportBatch.objects.latest("pk").status == "failed"


# --- the pieces ------------------------------------------------------------------------------

def test_the_person_index_knows_which_numbers_occur_once() -> None:
    index = PersonIndex(["038190000001", "038190000002", "038190000002", " 038190000003".strip(),
                         "０３８１９００００００４", "038190000004", "03819000000²"])
    assert index.unique("038190000001") and index.unique("038190000003")
    assert not index.unique("038190000002")              # twice
    assert not index.unique("038190000004")              # once more in other digits
    assert not index.unique("038190000009")              # not in the file
    assert not index.unique(" 038190000001") and not index.unique("０３８１９００００００１")
    old = PersonIndex(["171234567", "171234567", "171234568"], digits=9)
    assert not old.unique("171234567") and old.unique("171234568")


NAMES = ["Nguyễn Văn An", "Đặng Thị Ngọc Ánh", "ĐỖ ĐỨC ĐẠT", "Hồ Thị Mai", "Lê", "Ông Ích Khiêm",
         "Nguyễn Thị Ngọc Hân", "ΟΔΥΣΣΕΑΣ ΣΑΣ", "Mạc Ĳ ǅan", "İlker Ağa", "Ngô ̀Bảo", "A ̀ B",
         unicodedata.normalize("NFD", "Trần Thị Thuỷ")]


def test_the_name_key_is_search_key() -> None:
    rng = random.Random(7)
    words = [w for name in NAMES for w in name.split(" ")] + ["ǈ", "ß", "ﬁ", "Σ", "σΣ", "ǰ", "ᾼ"]
    names = NAMES + [" ".join(rng.choice(words) for _ in range(rng.randint(1, 5))) for _ in range(3000)]
    for name in names:
        canonical = nfc(name)
        assert validation.name_key(canonical) == search_key(canonical), canonical


def test_canonical_text_is_its_own_nfc() -> None:
    rng = random.Random(11)
    alphabet = ["a", "Đ", "ệ", " ", "  ", "\t", "\u00a0", "\u2028", "e\u0301", "\x1f", "x", "Ư", "\u200b"]
    for _ in range(5000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        if validation.is_canonical_text(value):
            assert nfc(value) == value and is_nfc(value), repr(value)
    assert validation.is_canonical_text("Số 5 đường Lê Lợi")


def test_an_initial_load_in_its_own_transaction(transactional_db, geo, tmp_path, monkeypatch) -> None:
    """As the command runs it (no caller's transaction): a failure rolls back the real
    transaction, DDL included; then the load commits its rows and every index and constraint."""
    if connection.vendor != "postgresql":
        pytest.skip("indexes are dropped and rebuilt on PostgreSQL only")
    src, n = mixed_file(geo, tmp_path)
    before = schema()
    fail_on_call(monkeypatch, bulk.Loader, "write_citizens", 2, RuntimeError("connection lost"))
    with pytest.raises(RuntimeError, match="connection lost"):
        import_file(src, progress=False, today=AS_OF, chunk_rows=40, initial_load=True)
    assert registry_counts() == (0, 0, 0, 0) and schema() == before
    monkeypatch.undo()
    result = import_file(src, progress=False, today=AS_OF, chunk_rows=40, initial_load=True)
    assert (result.strategy, result.status, result.created) == ("initial-load", "done", n - 5)
    assert schema() == before
    with connection.cursor() as cur:  # ANALYZE ran: the planner knows the new size
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'population_citizen'")
        assert cur.fetchone()[0] == n - 5
