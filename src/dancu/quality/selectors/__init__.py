"""Reading data quality: the report from its tallies, the live scan behind them, the drill-down.

- ``report``: ``quality_report`` (the console report), ``tallies`` / ``tallies_breakdown`` (the one
  place other contexts read data-quality figures from), ``differences`` (tallies vs live).
- ``scan``: the live grouped scan of a province (what ``services.recompute`` stores).
- ``drilldown``: the records behind a count, live, every person audited.
- ``scope``: who sees which part (``Actor.area``).
"""

from dancu.quality.selectors.drilldown import (
    DRILL_CSV_HEADER,
    DRILLDOWN_PAGE_SIZE,
    EXPORT_AUDIT_CHUNK,
    DrillPage,
    DrillRow,
    drill_unit,
    drilldown,
    drilldown_export,
    get_check,
)
from dancu.quality.selectors.report import (
    Cell,
    Difference,
    QualityFigures,
    Report,
    ReportRow,
    differences,
    quality_report,
    report_csv_rows,
    tallies,
    tallies_breakdown,
)
from dancu.quality.selectors.scan import TALLY_CODES, UNPLACED, provinces, scan
from dancu.quality.selectors.scope import Scope, report_scope

__all__ = [
    "DRILLDOWN_PAGE_SIZE", "DRILL_CSV_HEADER", "EXPORT_AUDIT_CHUNK", "TALLY_CODES", "UNPLACED",
    "Cell", "Difference", "DrillPage", "DrillRow", "QualityFigures", "Report", "ReportRow", "Scope",
    "differences", "drill_unit", "drilldown", "drilldown_export", "get_check", "provinces",
    "quality_report", "report_csv_rows", "report_scope", "scan", "tallies", "tallies_breakdown",
]
