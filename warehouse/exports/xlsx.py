"""Writing a report as an XLSX workbook finance can work in (xlsxwriter).

A cover sheet (report, month, provisional or closed, the warehouse build, tie-out status, the data sources and
their freshness), then one sheet per section: formatted headers, currency and percentage formats, frozen header
row, autofilter, and a totals row written as `SUBTOTAL` formulas (with their values cached, so readers that do
not calculate see the totals too). Strings are always written as strings, never as formulas or links, and text
a spreadsheet would run is neutralized as in CSV (`warehouse.exports.files.neutralize`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from warehouse.exports import MONEY_SUFFIX, Section
from warehouse.exports.files import neutralize

CURRENCY = "$#,##0.00;[Red]-$#,##0.00"
PERCENT = "0.00%"
INTEGER = "#,##0"
DATE = "yyyy-mm-dd"
MAX_WIDTH = 48


@dataclass(frozen=True)
class Cover:
    """What the cover sheet says about an export."""

    report: str
    description: str
    month: date
    status: str
    built_at: datetime
    warehouse: str
    sources: pl.DataFrame
    tie_out: list[tuple[str, str]] = field(default_factory=list)


def totalled(name: str) -> bool:
    """Whether a column gets a total: money and token counts (never days, counts of engineers or shares)."""
    return name.endswith((MONEY_SUFFIX, "_tokens", "_records"))


def _kind(name: str, dtype: pl.DataType) -> str:
    if name.endswith(MONEY_SUFFIX):
        return "currency"
    if name.endswith("_pct"):
        return "percent"
    if dtype == pl.Date:
        return "date"
    if dtype.is_integer():
        return "integer"
    return "number" if dtype.is_numeric() else "text"


def _cells(series: pl.Series) -> list[object]:
    """Values as xlsxwriter takes them: Decimal as float (Excel stores doubles), everything else as is."""
    if isinstance(series.dtype, pl.Decimal):
        return [None if v is None else float(v) for v in series.to_list()]
    return series.to_list()


def _width(frame: pl.DataFrame, column: str) -> int:
    longest = frame.select(pl.col(column).cast(pl.String).str.len_chars().max()).item() if frame.height else 0
    return min(MAX_WIDTH, max(len(column), int(longest or 0)) + 2)


class _Styles:
    def __init__(self, book: Workbook) -> None:
        self.header = book.add_format(
            {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "border": 1, "text_wrap": True}
        )
        self.by_kind = {
            "currency": book.add_format({"num_format": CURRENCY}),
            "percent": book.add_format({"num_format": PERCENT}),
            "integer": book.add_format({"num_format": INTEGER}),
            "number": book.add_format({"num_format": "0.00####"}),
            "date": book.add_format({"num_format": DATE}),
            "text": book.add_format({}),
        }
        self.total = {
            kind: book.add_format({"bold": True, "top": 2, **({"num_format": fmt} if fmt else {})})
            for kind, fmt in (("currency", CURRENCY), ("integer", INTEGER), ("number", "0.00####"), ("text", ""))
        }
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.label = book.add_format({"bold": True})
        self.warn = book.add_format({"bold": True, "font_color": "#C00000"})


def _table(sheet: Worksheet, styles: _Styles, frame: pl.DataFrame, top: int = 0) -> int:
    """Write `frame` with a header at row `top`; return the row after the table."""
    for col, (name, dtype) in enumerate(frame.schema.items()):
        kind = _kind(name, dtype)
        sheet.write_string(top, col, name, styles.header)
        sheet.write_column(top + 1, col, _cells(frame[name]), styles.by_kind[kind])
        sheet.set_column(col, col, _width(frame, name))
    return top + 1 + frame.height


def _data_sheet(book: Workbook, styles: _Styles, section: Section, frame: pl.DataFrame) -> None:
    sheet = book.add_worksheet(section.name[:31])
    safe = neutralize(frame)
    end = _table(sheet, styles, safe)
    sheet.freeze_panes(1, 0)
    last_col = max(frame.width - 1, 0)
    sheet.autofilter(0, 0, max(end - 1, 0), last_col)
    if frame.height == 0:
        sheet.write_string(end, 0, "no rows this month", styles.label)
        return
    sheet.write_string(end, 0, "Total", styles.total["text"])
    for col, (name, dtype) in enumerate(frame.schema.items()):
        if col == 0 or not totalled(name):
            continue
        kind = _kind(name, dtype)
        first, last = xl_rowcol_to_cell(1, col), xl_rowcol_to_cell(end - 1, col)
        value = frame[name].sum()
        cached = float(value) if isinstance(value, Decimal) else value
        sheet.write_formula(end, col, f"=SUBTOTAL(109,{first}:{last})", styles.total.get(kind), cached)


def _cover_sheet(book: Workbook, styles: _Styles, cover: Cover, sections: list[tuple[Section, pl.DataFrame]]) -> None:
    sheet = book.add_worksheet("Cover")
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 70)
    sheet.write_string(0, 0, f"tokencomp export: {cover.report}", styles.title)
    provisional = cover.status != "closed"
    rows: list[tuple[str, str]] = [
        ("Report", cover.description),
        ("Month", f"{cover.month:%Y-%m}"),
        (
            "Status",
            "PROVISIONAL: the month is not closed, figures may still change"
            if provisional
            else "closed (tokencomp close): figures are final",
        ),
        ("Warehouse built (UTC)", f"{cover.built_at:%Y-%m-%d %H:%M:%S}"),
        ("Warehouse", cover.warehouse),
        ("Money", "USD, rounded to cents by largest remainder within each column's total"),
        *cover.tie_out,
    ]
    for i, (label, value) in enumerate(rows, start=2):
        sheet.write_string(i, 0, label, styles.label)
        warn = (label == "Status" and provisional) or value.startswith("WARN")
        sheet.write_string(i, 1, value, styles.warn if warn else None)
    row = len(rows) + 3
    sheet.write_string(row, 0, "Sheets", styles.title)
    for i, (section, frame) in enumerate(sections, start=row + 1):
        sheet.write_string(i, 0, section.name, styles.label)
        sheet.write_string(i, 1, f"{section.title}: {frame.height} rows")
    row += len(sections) + 2
    sheet.write_string(row, 0, "Data sources (freshness)", styles.title)
    _table(sheet, styles, neutralize(cover.sources), top=row + 1)
    sheet.activate()


def write_xlsx(sections: list[tuple[Section, pl.DataFrame]], cover: Cover, out: Path) -> None:
    """Write the workbook: the cover sheet, then a sheet per section."""
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(out), options)
    book.set_properties(
        {"title": f"tokencomp {cover.report} {cover.month:%Y-%m}", "created": cover.built_at.replace(tzinfo=None)}
    )
    styles = _Styles(book)
    _cover_sheet(book, styles, cover, sections)
    for section, frame in sections:
        _data_sheet(book, styles, section, frame)
    book.close()
