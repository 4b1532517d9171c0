"""Shared set-up of the working-group tests: a commune group with a plan and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest


@pytest.fixture
def group(geo, province_officer):
    from dancu.workgroups import services

    return services.create_group(province_officer, unit=geo.hac_thanh,
                                 name="Tổ công tác Đề án 06 phường Hạc Thành",
                                 decision_ref="Quyết định 12/QĐ-UBND")


@pytest.fixture
def fake_figures(monkeypatch):
    """The kpi context's figures for any unit and period, as the adapter returns them: a ratio
    figure and a count (replaced per test through the returned dict)."""
    from dancu.workgroups import figures

    state: dict[str, Any] = {"figures": [
        {"code": "online_dossiers", "label": "Tỷ lệ hồ sơ trực tuyến", "numerator": 45, "denominator": 50,
         "ratio": 0.9, "source": "events", "freshness": "2026-11-30T23:59:00+07:00"},
        {"code": "submitted", "label": "Hồ sơ tiếp nhận", "numerator": 120,
         "denominator": None, "ratio": None, "source": "snapshot", "freshness": "2026-11-30T02:00:00+07:00"},
    ], "index": {"total": 82.5, "grade": "good", "grade_label": "Tốt", "groups": [
        {"code": "progress", "label": "Tiến độ, kết quả giải quyết", "points": 18.0, "max_points": 20}]},
        "calls": []}

    def live(actor, *, unit, start, end, procedure=None, with_index=True, language=None):
        state["calls"].append((unit.pk, start, end, procedure))
        return {"available": True, "figures": [dict(f) for f in state["figures"]],
                "index": dict(state["index"]) if with_index else None}

    monkeypatch.setattr(figures, "live_figures", live)
    return state


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)
