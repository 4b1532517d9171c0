"""A report's files, rendered from its snapshot alone (never from live data): the PDF (fpdf2
with DejaVu Sans, ``documents.render.new_pdf``) and the XLSX (openpyxl). Official documents are
in Vietnamese whatever the officer's language, as the results of ``documents``."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from dancu.core.text import nfc
from dancu.documents.render import new_pdf

NATIONAL_HEADING = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SOURCE_LABELS = {"events": "sự kiện nghiệp vụ",
                 "snapshot": "ảnh chụp định kỳ", "quality": "kiểm tra chất lượng dữ liệu"}
FIGURE_HEAD = ("Mã", "Chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ", "Nguồn", "Số liệu tính lúc")
TASK_HEAD = ("Kế hoạch", "Loại", "Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn", "Chỉ tiêu", "Trạng thái",
             "Kết quả, minh chứng")
MANUAL_HEAD = ("Mã", "Số liệu", "Kỳ", "Giá trị", "Ghi chú nhập tay")
NO_FIGURES = "Chưa có số liệu nghiệp vụ cho kỳ này (nguồn chỉ tiêu chưa sẵn sàng)."


def _d(iso: str | None) -> str:
    """dd/mm/yyyy of an ISO date or datetime (already local)."""
    if not iso:
        return ""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" + (f" {iso[11:16]}" if len(iso) > 10 else "")


def _ratio(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.2f}%".replace(".", ",")


def figure_rows(snapshot: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for f in snapshot["figures"].get("figures", []):
        rows.append((f["code"], f["label"], "" if f.get("numerator") is None else str(f["numerator"]),
                     "" if f.get("denominator") is None else str(f["denominator"]), _ratio(f.get("ratio")),
                     SOURCE_LABELS.get(f.get("source", ""), f.get("source", "")), _d(f.get("freshness"))))
    return rows


def index_lines(snapshot: dict[str, Any]) -> list[str]:
    index = snapshot["figures"].get("index")
    if not index:
        return []
    head = "Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg)"
    if index.get("total") is None:
        return [f"{head}: chưa có số liệu để tính trong kỳ."]
    lines = [f"{head}: {index['total']} điểm — {index.get('grade_label', '')}"]
    lines += [f"  {g['label']}: {g['points']}/{g['max_points']}" for g in index.get("groups", [])]
    return lines


def task_rows(snapshot: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for t in snapshot["tasks"]["rows"]:
        deadline = _d(t.get("deadline")) or ("Thường xuyên" if t.get("recurring") else "")
        target = ""
        if t.get("target_code"):
            target = f"{t['target_code']} ≥ {t.get('target_value') or ''}"
            if t.get("target_procedure"):
                target += f" ({t['target_procedure']})"
            if t.get("target_actual") is not None:
                target += f"; đạt {t['target_actual']}"
        status = t["status_label"] + (" ⚠ TRỄ HẠN" if t.get("late") else "") \
            + (" (hoàn thành sau hạn)" if t.get("done_late") else "") \
            + (" (đạt chỉ tiêu)" if t.get("by_target") else "")
        result = t.get("evidence") or ""
        if t.get("done_at"):
            result = f"{result} — {t.get('done_by', '')}, {_d(t['done_at'])}".strip(" —")
        rows.append((t["plan"], t["kind_label"], t["title"], t["owner_agency"],
                     deadline, target, status, result))
    return rows


def manual_rows(snapshot: dict[str, Any]) -> list[tuple[str, ...]]:
    return [(m["code"], m["label"], f"{_d(m['period_start'])}–{_d(m['period_end'])}",
             f"{m['value']} {m.get('unit_label') or ''}".strip(), m["marker"])
            for m in snapshot["manual"]]


def correction_lines(snapshot: dict[str, Any]) -> list[str]:
    """What a corrected report says of itself: its version, the report it replaces and why
    (nothing for a first version)."""
    correction = snapshot.get("correction")
    if not correction:
        return []
    old = correction["replaces"]
    return [f"BÁO CÁO THAY THẾ — PHIÊN BẢN {correction['version']}",
            f"Thay thế Báo cáo số {old['number']} (phiên bản {old['version']}) ban hành lúc "
            f"{_d(old['issued_at'])} bởi {old['issued_by']}.",
            f"Lý do đính chính: {correction['reason']}"]


def _heading_lines(snapshot: dict[str, Any]) -> list[str]:
    return [snapshot["title"], f"Số: {snapshot['number']}", f"Kỳ báo cáo: {snapshot['period']['label']}",
            *correction_lines(snapshot)]


def render_pdf(snapshot: dict[str, Any]) -> bytes:
    issued_at = dt.datetime.fromisoformat(snapshot["issued_at"])
    group = snapshot["group"]
    pdf = new_pdf(title=snapshot["title"], author=group["name"], created_at=issued_at,
                  orientation="landscape")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(value: str, size: int = 10, bold: bool = False, align: str = "L") -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(width, size * 0.5 + 1, nfc(value), align=align, new_x="LMARGIN", new_y="NEXT")

    def table(head: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[int, ...]) -> None:
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=widths, line_height=4.5, first_row_as_headings=True,
                       headings_style=_heading_style()) as tbl:
            for row in [head, *rows]:
                r = tbl.row()
                for cell in row:
                    r.cell(nfc(str(cell)))

    text(group["name"].upper(), 11, bold=True)
    text(f"{group['unit']}" + (f" — {group['decision_ref']}" if group.get("decision_ref") else ""), 9)
    text(NATIONAL_HEADING, 11, bold=True, align="C")
    text(MOTTO, 10, align="C")
    pdf.ln(4)
    text(snapshot["title"].upper(), 14, bold=True, align="C")
    text(f"Số: {snapshot['number']} — Kỳ báo cáo: {snapshot['period']['label']}", 10, align="C")
    text(f"Ban hành lúc {_d(snapshot['issued_at'])} bởi {snapshot['issued_by']}", 9, align="C")
    correction = correction_lines(snapshot)
    if correction:
        pdf.ln(2)
        text(correction[0], 11, bold=True, align="C")
        for line in correction[1:]:
            text(line, 10, align="C")
    pdf.ln(4)

    text("I. CÁC CHỈ TIÊU TÍNH TỪ DỮ LIỆU NGHIỆP VỤ", 11, bold=True)
    rows = figure_rows(snapshot)
    if rows:
        table(FIGURE_HEAD, rows, (32, 88, 18, 18, 16, 36, 30))
    else:
        text(NO_FIGURES, 9)
    for line in index_lines(snapshot):
        text(line, 9)
    pdf.ln(3)

    counts = snapshot["tasks"]["counts"]
    text("II. TÌNH HÌNH THỰC HIỆN NHIỆM VỤ", 11, bold=True)
    text(f"Tính đến ngày {_d(snapshot['tasks']['as_of'])}: hoàn thành {counts['done']}, thường xuyên "
         f"{counts['regular']}, đang thực hiện {counts['in_progress']}, trễ hạn {counts['late']}.", 9)
    if snapshot["tasks"]["rows"]:
        table(TASK_HEAD, task_rows(snapshot), (30, 18, 62, 30, 20, 30, 30, 50))
    pdf.ln(3)

    text("III. SỐ LIỆU NHẬP TAY (KHÔNG CÓ NGUỒN NGHIỆP VỤ)", 11, bold=True)
    if snapshot["manual"]:
        table(MANUAL_HEAD, manual_rows(snapshot), (22, 70, 40, 30, 108))
    else:
        text("Không có.", 9)
    pdf.ln(4)
    text("Báo cáo được lập tự động từ số liệu nghiệp vụ tại thời điểm ban hành và lưu nguyên trạng; "
         "bản tải về sau này giống hệt bản ban hành.", 8)
    return bytes(pdf.output())


def _heading_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family="DejaVu", emphasis="BOLD", fill_color=(230, 233, 240))


def render_xlsx(snapshot: dict[str, Any]) -> bytes:
    issued_at = dt.datetime.fromisoformat(snapshot["issued_at"])
    wb = Workbook()
    wb.properties.creator = "dancu"
    wb.properties.title = snapshot["title"]
    # Fixed timestamps: the file says when the report was issued, not when it was rendered.
    wb.properties.created = wb.properties.modified = issued_at.replace(tzinfo=None)
    bold = Font(bold=True)
    first_data_row = len(_heading_lines(snapshot)) + 3  # the heading lines, a blank row, the head

    def sheet(ws: Any, head: tuple[str, ...], rows: list[tuple[Any, ...]], widths: tuple[int, ...]) -> None:
        for line in _heading_lines(snapshot):
            ws.append([line])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([])
        ws.append(list(head))
        for cell in ws[ws.max_row]:
            cell.font = bold
        for row in rows:
            ws.append(list(row))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        for row in ws.iter_rows(min_row=first_data_row - 1):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    ws = wb.active
    ws.title = "Chỉ tiêu"
    # numbers as numbers (the ratio as a percentage) for whoever computes with the sheet
    figure_data: list[tuple[Any, ...]] = [
        (f["code"], f["label"], f.get("numerator"), f.get("denominator"), f.get("ratio"),
         SOURCE_LABELS.get(f.get("source", ""), f.get("source", "")), _d(f.get("freshness")))
        for f in snapshot["figures"].get("figures", [])] or [("", NO_FIGURES, None, None, None, "", "")]
    sheet(ws, FIGURE_HEAD, figure_data, (18, 50, 12, 12, 10, 24, 18))
    for row in ws.iter_rows(min_row=first_data_row, min_col=5, max_col=5):
        for cell in row:
            cell.number_format = "0.00%"
    for line in index_lines(snapshot):
        ws.append([line])
    sheet(wb.create_sheet("Nhiệm vụ"), TASK_HEAD, task_rows(snapshot), (24, 14, 50, 24, 14, 24, 24, 40))
    sheet(wb.create_sheet("Số liệu nhập tay"), MANUAL_HEAD, manual_rows(snapshot), (14, 40, 24, 16, 60))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
