"""Real files for the document tests: a PDF (fpdf2), a JPEG and a PNG (Pillow), made here; a
working-group report's snapshot (tests/documents/test_pdf_fonts.py, bench/bench_pdf.py)."""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import Any

from fpdf import FPDF
from PIL import Image


def pdf_bytes(text: str = "Giấy tờ thử") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(40, 10, text.encode("ascii", "replace").decode())
    return bytes(pdf.output())


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def jpeg_bytes() -> bytes:
    return image_bytes("JPEG")


def png_bytes() -> bytes:
    return image_bytes("PNG")


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), input=stdin, capture_output=True, timeout=60, check=False)


def report_snapshot() -> dict[str, Any]:
    """A working-group report's snapshot as ``workgroups.services`` freezes it (tables, both faces)."""
    task = {"plan": "Kế hoạch 2026", "kind_label": "Nhiệm vụ", "title": "Làm sạch dữ liệu dân cư",
            "owner_agency": "Công an phường", "deadline": "2026-11-20", "recurring": False,
            "target_code": "online_dossiers", "target_value": "0.8", "target_procedure": "",
            "target_actual": 0.9, "status_label": "Hoàn thành", "late": False, "done_late": True,
            "by_target": True, "evidence": "Biên bản số 7", "done_at": "2026-11-25T10:00:00+07:00",
            "done_by": "Trần Văn Bình"}
    return {
        "issued_at": "2026-12-01T08:00:00+07:00", "title": "Báo cáo kết quả thực hiện Đề án 06",
        "number": "01/BC-TCT", "period": {"label": "Tháng 11/2026"}, "issued_by": "Lê Thị Cúc",
        "group": {"name": "Tổ công tác Đề án 06 phường Hạc Thành", "unit": "Phường Hạc Thành",
                  "decision_ref": "Quyết định 12/QĐ-UBND"},
        "figures": {"figures": [
            {"code": "online_dossiers", "label": "Tỷ lệ hồ sơ trực tuyến", "numerator": 45, "denominator": 50,
             "ratio": 0.9, "source": "events", "freshness": "2026-11-30T23:59:00+07:00"}],
            "index": {"total": 82.5, "grade_label": "Tốt", "groups": [
                {"label": "Tiến độ, kết quả giải quyết", "points": 18.0, "max_points": 20}]}},
        "tasks": {"as_of": "2026-11-30", "counts": {"done": 1, "regular": 0, "in_progress": 0, "late": 0},
                  "rows": [task]},
        "manual": [{"code": "pilot_models", "label": "Số mô hình điểm", "period_start": "2026-11-01",
                    "period_end": "2026-11-30", "value": "3", "unit_label": "mô hình",
                    "marker": "nhập tay — nguồn: Báo cáo của UBND phường số 45"}],
    }
