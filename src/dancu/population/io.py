"""Population files: the column spec, streaming readers and writers (CSV, CSV.gz, Parquet),
and the audited export. The import itself is in ``population.bulk``.

Every value in a file is text (Parquet columns are strings too), so CSV and Parquet carry
exactly the same content and a row looks the same to the validator whatever its source.
The columns are documented one by one in ``docs/import-export.md``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.geo.models import AdminUnit
from dancu.population.models import Citizen
from dancu.population.validation import format_partial_date

# Order of the columns in exported files. An imported file may order them freely and may
# omit optional ones; unknown columns are ignored.
COLUMNS: tuple[str, ...] = (
    "personal_id", "full_name", "birth_date", "sex", "ethnicity", "religion", "nationality",
    "birth_registration_unit", "origin_unit", "marital_status", "life_status", "death_date",
    "old_id_number", "father_id", "mother_id", "spouse_id",
    "household_number", "relationship", "permanent_commune", "permanent_address", "permanent_since",
    "temporary_commune", "temporary_address", "temporary_since", "temporary_expires",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("personal_id", "full_name", "birth_date", "sex", "ethnicity",
                                     "birth_registration_unit")
READ_CHUNK = 5000
Row = dict[str, str]


def file_format(path: str | Path) -> str:
    """'csv', 'csv.gz' or 'parquet', from the file name."""
    name = str(path).lower()
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"{path}: unknown file type (expected .csv, .csv.gz or .parquet)")


@contextmanager
def _open_text(path: Path, mode: str) -> Iterator[Any]:
    if file_format(path) == "csv.gz":
        with gzip.open(path, mode + "t", encoding="utf-8", newline="") as fh:
            yield fh
    else:
        with open(path, mode, encoding="utf-8-sig" if mode == "r" else "utf-8", newline="") as fh:
            yield fh


def read_rows(path: str | Path, columns: Iterable[str] | None = None) -> Iterator[tuple[int, Row]]:
    """``(line, row)`` pairs, streamed. ``line`` is the CSV line where the row starts (the
    header is line 1); for Parquet it is the row index + 2, so both read alike in reports.
    Empty cells become ''. ``columns`` restricts what is read (Parquet reads only those)."""
    path = Path(path)
    wanted = tuple(columns) if columns is not None else None
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        names = [n for n in pf.schema_arrow.names if wanted is None or n in wanted]
        line = 2
        for batch in pf.iter_batches(batch_size=READ_CHUNK, columns=names):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*cols, strict=True):
                yield line, {n: ("" if v is None else str(v)) for n, v in zip(names, values, strict=True)}
                line += 1
        return
    with _open_text(path, "r") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        index = [(i, h) for i, h in enumerate(header) if wanted is None or h in wanted]
        line = reader.line_num + 1
        for record in reader:
            if record:
                yield line, {h: (record[i] if i < len(record) else "") for i, h in index}
            line = reader.line_num + 1


def read_header(path: str | Path) -> list[str]:
    path = Path(path)
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    with _open_text(path, "r") as fh:
        return [h.strip() for h in next(csv.reader(fh), [])]


class RowWriter:
    """Writes rows (dicts keyed by ``COLUMNS``) to CSV, CSV.gz or Parquet, in chunks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = file_format(self.path)
        self.count = 0
        self._buffer: list[Row] = []
        self._fh: Any = None
        self._csv: Any = None
        self._pq: Any = None

    def __enter__(self) -> RowWriter:
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema([(c, pa.string()) for c in COLUMNS])
            self._pq = pq.ParquetWriter(self.path, self._schema, compression="zstd")
        else:
            self._fh = (gzip.open(self.path, "wt", encoding="utf-8", newline="")
                        if self.format == "csv.gz" else open(self.path, "w", encoding="utf-8", newline=""))
            self._csv = csv.writer(self._fh, lineterminator="\n")
            self._csv.writerow(COLUMNS)
        return self

    def write(self, row: Row) -> None:
        self._buffer.append(row)
        self.count += 1
        if len(self._buffer) >= READ_CHUNK * 4:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._pq is not None:
            import pyarrow as pa

            table = pa.table({c: [r.get(c) or None for r in self._buffer] for c in COLUMNS},
                             schema=self._schema)
            self._pq.write_table(table)
        else:
            self._csv.writerows([[r.get(c, "") or "" for c in COLUMNS] for r in self._buffer])
        self._buffer.clear()

    def __exit__(self, *exc: object) -> None:
        self._flush()
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            self._fh.close()


def write_rows(path: str | Path, rows: Iterable[Row]) -> int:
    with RowWriter(path) as writer:
        for row in rows:
            writer.write(row)
    return writer.count


# --- export ----------------------------------------------------------------------------------

EXPORT_CHUNK = 2000
_REL_ORDER = {"head": 0, "spouse": 1, "parent": 2, "child": 3, "grandchild": 4, "sibling": 5, "other": 6}


def _export_rows(province: AdminUnit | None) -> Iterator[Row]:
    """Citizens with their active household membership and current registrations, streamed
    in primary-key order (so file order is creation order and re-imports keep heads first
    within a household when they were first before)."""
    from dancu.residence.models import HouseholdMember, Registration

    codes = {pk: f"{system}:{code}" for pk, system, code in
             AdminUnit.objects.values_list("id", "code_system", "code")}
    qs = Citizen.objects.order_by("pk")
    if province is not None:
        qs = qs.filter(current_province=province)
    membership = HouseholdMember.objects.filter(citizen=OuterRef("pk"), left_on__isnull=True)
    permanent = Registration.objects.filter(citizen=OuterRef("pk"), kind="permanent",
                                            ended_on__isnull=True).order_by("-started_on", "-pk")
    temporary = Registration.objects.filter(citizen=OuterRef("pk"), kind="temporary",
                                            ended_on__isnull=True).order_by("-started_on", "-pk")
    qs = qs.annotate(
        hh_number=Subquery(membership.values("household__number")[:1]),
        hh_rel=Subquery(membership.values("relationship")[:1]),
        p_commune=Subquery(permanent.values("commune_id")[:1]),
        p_address=Subquery(permanent.values("address")[:1]),
        p_since=Subquery(permanent.values("started_on")[:1]),
        t_commune=Subquery(temporary.values("commune_id")[:1]),
        t_address=Subquery(temporary.values("address")[:1]),
        t_since=Subquery(temporary.values("started_on")[:1]),
        t_expires=Subquery(temporary.values("expires_on")[:1]),
    )
    fields = ("personal_id", "full_name", "birth_year", "birth_month", "birth_day", "sex", "ethnicity",
              "religion", "nationality", "birth_registration_unit_id", "origin_unit_id", "marital_status",
              "life_status", "death_date", "old_id_number", "father__personal_id", "mother__personal_id",
              "spouse__personal_id", "hh_number", "hh_rel", "p_commune", "p_address", "p_since",
              "t_commune", "t_address", "t_since", "t_expires")

    def d(value: Any) -> str:
        return value.isoformat() if value else ""

    for r in qs.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        (pid, name, by, bm, bd, sex, eth, rel, nat, bru, ou, ms, ls, dd, old, fa, mo, sp,
         hh, hrel, pc, pa, ps, tc, ta, ts, te) = r
        yield {
            "personal_id": pid, "full_name": name, "birth_date": format_partial_date(by, bm, bd),
            "sex": sex, "ethnicity": eth, "religion": rel, "nationality": nat,
            "birth_registration_unit": codes[bru], "origin_unit": codes[ou] if ou else "",
            "marital_status": ms, "life_status": ls, "death_date": d(dd), "old_id_number": old or "",
            "father_id": fa or "", "mother_id": mo or "", "spouse_id": sp or "",
            "household_number": hh or "", "relationship": hrel or "",
            "permanent_commune": codes[pc] if pc else "", "permanent_address": pa or "",
            "permanent_since": d(ps),
            "temporary_commune": codes[tc] if tc else "", "temporary_address": ta or "",
            "temporary_since": d(ts), "temporary_expires": d(te),
        }


def export_file(path: str | Path, *, actor: Actor, province: AdminUnit | None = None) -> int:
    """Write every citizen (or those currently living in ``province``) to ``path``; returns the
    row count. Streams from the database. One audit event ``population.export``: an export
    is a bulk read of personal data."""
    path = Path(path)
    count = write_rows(path, _export_rows(province))
    audit.record(actor, "population.export", subject_type="population_file",
                 subject_id=path.name, reason="export",
                 details={"file": str(path), "format": file_format(path),
                          "province": province.qualified_code if province else None,
                          "rows": count, "at": timezone.now().isoformat()})
    return count


def rows_to_csv_text(rows: Iterable[Row]) -> str:
    """Rows as CSV text with the standard header (tests and small tools)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return buf.getvalue()
