"""`tokencomp export` end to end on a demo company: every report in CSV, XLSX and Parquet ties to the warehouse to
the cent, the formats agree, snapshots version with the data, and text from the roster cannot run as a formula."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.config import load_settings
from pipelines.services.reference import load_reference
from pipelines.services.warehouse import build_and_publish
from tests.e2e.cli_kit import cents, run_cli, warehouse_rows
from warehouse.exports.files import parquet_metadata

MONTH = "2026-02"
CENT = Decimal("0.01")
REPORTS = ("chargeback", "engineers", "reconciliation", "unattributed")
FEB = "date_trunc('month', {col}) = date '2026-02-01'"
# Each report's money totals, computed by a different route than the export SQL: straight from the books.
EXPECTED_TOTALS = {
    "chargeback": {
        "spend_usd": f"select sum(spend_usd) from core.fct_spend where {FEB.format(col='usage_date')}",
        "unattributed_usd": f"select sum(spend_usd) from core.fct_spend where unattributed and "
        f"{FEB.format(col='usage_date')}",
        "list_cost_usd": f"select sum(list_cost_usd) from core.fct_spend where {FEB.format(col='usage_date')}",
    },
    "engineers": {
        "spend_usd": f"select sum(spend_usd) from core.fct_spend where engineer_id is not null and "
        f"{FEB.format(col='usage_date')}",
        "annualized_run_rate_usd": "select sum(annualized_run_rate_usd) from mart.engineer_monthly "
        "where month = date '2026-02-01'",
    },
    "reconciliation": {
        "billed_usd": f"select sum(billed_usd) from core.fct_billed_daily where {FEB.format(col='billing_date')}",
        "allocated_usd": f"select sum(allocated_cost_usd) from core.fct_usage_daily where cost_basis = 'allocated' "
        f"and spend_role = 'metered' and {FEB.format(col='billing_date')}",
        "list_usd": f"select sum(list_cost_usd) from core.fct_usage_daily where spend_role = 'metered' and "
        f"{FEB.format(col='billing_date')}",
    },
    "unattributed": {
        "spend_usd": f"select sum(spend_usd) from core.fct_spend where unattributed and {FEB.format(col='usage_date')}",
    },
}
INJECTION = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A small demo company (window 2026-01-25 … 2026-03-05, so February is the last complete month)."""
    root = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("DAGSTER_HOME", str(root / ".dagster"))
        mp.delenv("TOKENCOMP_CONFIG", raising=False)
        code, printed = run_cli(root, "demo", "--engineers", "10", "--days", "40", "--end", "2026-03-05", "--seed", "3")
        assert code == 0
        yield root, printed


@pytest.fixture
def copy(demo: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo's data dir, for tests that change it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    shutil.copytree(demo[0] / "data", tmp_path / "data")
    return tmp_path


def _csv_frame(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _xlsx_rows(path: Path, sheet: str) -> tuple[list[str], list[list[Any]], list[Any], list[Any]]:
    """(header, data rows, totals row formulas, totals row cached values) of one data sheet."""
    formulas = openpyxl.load_workbook(path)[sheet]
    values = openpyxl.load_workbook(path, data_only=True)[sheet]
    rows = [list(r) for r in values.iter_rows(values_only=True)]
    header, data, totals = rows[0], rows[1:-1], rows[-1]
    return header, data, [c.value for c in formulas[formulas.max_row]], totals  # type: ignore[return-value]


def test_demo_ends_by_writing_the_last_complete_month_and_naming_the_files(demo: tuple[Path, str]) -> None:
    root, printed = demo
    folder = root / "data" / "exports" / MONTH / "v1-provisional"
    assert f"Month-end exports of {MONTH} (provisional) in data/exports/{MONTH}/v1-provisional:" in printed
    names = [f"{r}.{fmt}" for r in REPORTS for fmt in ("csv", "xlsx", "parquet")]
    lines = printed.splitlines()
    start = lines.index(f"Month-end exports of {MONTH} (provisional) in data/exports/{MONTH}/v1-provisional:")
    assert lines[start + 1 : start + 5] == [f"  {r}.csv {r}.xlsx {r}.parquet" for r in REPORTS]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "provisional" and manifest["version"] == 1 and manifest["month"] == MONTH
    assert sorted(manifest["files"]) == sorted(names)
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    built = manifest["reports"]["chargeback"]["warehouse"]
    assert built["sha256"] == hashlib.sha256((root / "data" / "warehouse.duckdb").read_bytes()).hexdigest()


@pytest.mark.parametrize("name", REPORTS)
def test_every_format_ties_to_the_warehouse_to_the_cent_and_the_formats_agree(
    demo: tuple[Path, str], name: str
) -> None:
    root, _ = demo
    folder = root / "data" / "exports" / MONTH / "v1-provisional"
    parquet = pl.read_parquet(folder / f"{name}.parquet")
    text = _csv_frame(folder / f"{name}.csv")
    header, rows, formulas, totals = _xlsx_rows(folder / f"{name}.xlsx", name)
    assert parquet.height > 0 and text.height == parquet.height == len(rows)
    assert text.columns == parquet.columns == header
    assert set(parquet["status"]) == {"provisional"} and set(text["status"]) == {"provisional"}
    for column, sql in EXPECTED_TOTALS[name].items():
        expected = cents(warehouse_rows(root, sql)[0][0])
        assert parquet[column].sum() == expected, column
        assert sum((Decimal(v) for v in text[column].to_list() if v is not None), Decimal(0)) == expected, column
        col = header.index(column)
        assert cents(Decimal(str(totals[col]))) == expected, column  # the totals row's cached value
        letter = openpyxl.utils.get_column_letter(col + 1)
        assert formulas[col] == f"=SUBTOTAL(109,{letter}2:{letter}{len(rows) + 1})"
        cells = sum((Decimal(str(r[col])) for r in rows if r[col] is not None), Decimal(0))
        assert cents(cells) == expected, column
    # the same report in each format: every value, row by row (CSV text as written, XLSX numbers as doubles)
    for column, dtype in parquet.schema.items():
        values = parquet[column].to_list()
        if dtype == pl.String:
            assert text[column].to_list() == values
            assert [r[header.index(column)] for r in rows] == values
        elif isinstance(dtype, pl.Decimal) or dtype.is_integer():
            assert [None if v is None else Decimal(v) for v in text[column].to_list()] == values
            exponent = Decimal(1).scaleb(-dtype.scale) if isinstance(dtype, pl.Decimal) else Decimal(1)
            xlsx = [r[header.index(column)] for r in rows]
            assert [None if v is None else Decimal(str(v)).quantize(exponent) for v in xlsx] == values
    assert parquet_metadata(folder / f"{name}.parquet") == {"report": name, "month": MONTH, "status": "provisional"}


def test_xlsx_has_a_cover_frozen_headers_filters_and_formats(demo: tuple[Path, str]) -> None:
    root, _ = demo
    path = root / "data" / "exports" / MONTH / "v1-provisional" / "reconciliation.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Cover", "reconciliation", "invoices"]
    cover = {r[0]: r[1] for r in book["Cover"].iter_rows(values_only=True) if r[0]}
    assert cover["Month"] == MONTH
    assert cover["Status"].startswith("PROVISIONAL")
    assert cover["Warehouse tie-out"].startswith("passed")
    assert cover["Invoice tie-out"].startswith("no invoice loaded")
    assert "Warehouse built (UTC)" in cover and "Data sources (freshness)" in cover
    assert {"anthropic_usage", "openai_costs"} <= set(cover)  # the sources table, one row per source
    sheet = book["reconciliation"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:L{sheet.max_row - 1}"
    header = [c.value for c in sheet[1]]
    formats = {h: c.number_format for h, c in zip(header, sheet[2], strict=True)}
    assert formats["billed_usd"] == "$#,##0.00;[Red]-$#,##0.00"
    assert formats["diff_pct"] == "0.00%"
    assert formats["billing_date"] == "yyyy-mm-dd"
    assert sheet["A1"].font.b


def test_a_roster_name_that_is_a_formula_comes_out_inert_in_csv_and_xlsx(copy: Path) -> None:
    settings = load_settings(data_dir=copy / "data")
    roster = pl.read_parquet(settings.reference / "roster.parquet")
    first = roster["engineer_id"].sort()[0]
    csv_path = copy / "roster.csv"
    roster.with_columns(
        pl.when(pl.col("engineer_id") == first).then(pl.lit(INJECTION)).otherwise("name").alias("name"),
        pl.when(pl.col("engineer_id") == first).then(pl.lit("@SUM(1+1)")).otherwise("team").alias("team"),
    ).write_csv(csv_path)
    load_reference(settings, "roster", [csv_path])
    build_and_publish(settings)
    out = copy / "out"
    assert (
        run_cli(copy, "export", "engineers", "--month", MONTH, "--format", "csv", "--out", str(out / "e.csv"))[0] == 0
    )
    assert (
        run_cli(copy, "export", "engineers", "--month", MONTH, "--format", "xlsx", "--out", str(out / "e.xlsx"))[0] == 0
    )
    with (out / "e.csv").open(newline="") as f:
        rows = {r["engineer_id"]: r for r in csv.DictReader(f)}
    assert rows[first]["name"] == "'" + INJECTION and rows[first]["team"] == "'@SUM(1+1)"
    raw = (out / "e.csv").read_text()
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in raw
    sheet = openpyxl.load_workbook(out / "e.xlsx")["engineers"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("engineer_id")].value == first)
    cell = row[header.index("name")]
    assert cell.data_type == "s" and cell.value == "'" + INJECTION
    formulas = [c.coordinate for r in sheet.iter_rows(max_row=sheet.max_row - 1) for c in r if c.data_type == "f"]
    assert formulas == []  # the only formulas are the totals row's SUBTOTALs


def test_snapshots_version_with_the_data_and_out_is_used_exactly(copy: Path) -> None:
    exports = copy / "data" / "exports" / MONTH
    out = copy / "deep" / "new" / "folder" / "chargeback.data"  # no such folders yet, an odd suffix: kept
    code, printed = run_cli(copy, "export", "chargeback", "--month", MONTH, "--format", "csv", "--out", str(out))
    assert code == 0 and out.read_bytes() == (exports / "v1-provisional" / "chargeback.csv").read_bytes()
    assert "(unchanged)" in printed
    assert sorted(p.name for p in exports.iterdir()) == ["v1-provisional"]

    # closing the month: the same figures, now closed -> a new version, its folder no longer provisional
    assert run_cli(copy, "close", "--month", MONTH)[0] == 0
    code, printed = run_cli(copy, "export", "chargeback", "--month", MONTH, "--format", "parquet", "--out", str(out))
    assert code == 0 and "new version; no figure changed since v1" in printed
    assert sorted(p.name for p in exports.iterdir()) == ["v1-provisional", "v2"]
    assert parquet_metadata(out)["status"] == "closed"
    assert set(pl.read_parquet(out)["status"]) == {"closed"}
    assert json.loads((exports / "v2" / "manifest.json").read_text())["status"] == "closed"
    code, _ = run_cli(copy, "export", "chargeback", "--month", MONTH, "--format", "xlsx", "--out", str(copy / "c.xlsx"))
    cover = {r[0]: r[1] for r in openpyxl.load_workbook(copy / "c.xlsx")["Cover"].iter_rows(values_only=True) if r[0]}
    assert cover["Status"].startswith("closed")
    manifest = json.loads((exports / "v2" / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["chargeback.diff.csv", "chargeback.parquet", "chargeback.xlsx"]


INVOICE_HEADER = "provider,invoice_id,period,currency,total,kind,amount,description\n"


def _billed(root: Path, provider: str) -> Decimal:
    return warehouse_rows(
        root,
        f"select sum(billed_usd) from core.fct_billed_daily where provider = '{provider}' and "
        f"{FEB.format(col='billing_date')}",
    )[0][0]


def test_an_invoice_that_differs_by_a_tax_line_is_reported_with_exactly_that_difference(copy: Path) -> None:
    billed = _billed(copy, "anthropic")
    path = copy / "invoices.csv"
    total = billed + Decimal("123.45")
    path.write_text(
        INVOICE_HEADER
        + f"anthropic,INV-1,{MONTH},USD,{total},usage,{billed},API usage\n"
        + f"anthropic,INV-1,{MONTH},USD,{total},tax,123.45,VAT\n"
    )
    code, printed = run_cli(copy, "reference", "load", "invoices", str(path))
    assert code == 0 and printed.startswith("loaded invoices: 2 rows")
    settings = load_settings(data_dir=copy / "data")
    build_and_publish(settings)
    out = copy / "inv.csv"
    assert run_cli(copy, "export", "invoices", "--month", MONTH, "--format", "csv", "--out", str(out))[0] == 0
    rows = {r["provider"]: r for r in csv.DictReader(out.open(newline=""))}
    assert rows["anthropic"]["difference_usd"] == "123.45"
    assert rows["anthropic"]["tax_usd"] == "123.45"
    assert rows["anthropic"]["unexplained_usd"] == "0.00"
    assert (rows["anthropic"]["tie_out"], rows["anthropic"]["cause"]) == ("explained", "tax 123.45")
    assert rows["openai"]["tie_out"] == "no_invoice"
    # the same tie-out in Parquet and on the XLSX sheet, totals to the cent
    for fmt in ("parquet", "xlsx"):
        assert (
            run_cli(copy, "export", "invoices", "--month", MONTH, "--format", fmt, "--out", str(copy / f"i.{fmt}"))[0]
            == 0
        )
    parquet = pl.read_parquet(copy / "i.parquet")
    header, sheet_rows, _, totals = _xlsx_rows(copy / "i.xlsx", "invoices")
    billed_total = cents(billed + _billed(copy, "openai"))
    assert parquet["billed_usd"].sum() == billed_total
    assert cents(Decimal(str(totals[header.index("billed_usd")]))) == billed_total
    assert [r[header.index("difference_usd")] for r in sheet_rows] == [123.45, None]
    code, printed = run_cli(copy, "status")
    assert code == 0 and "Invoice tie-out: 1 of 1 invoice(s) per provider and month tie out" in printed

    # a second invoice version with $5 nobody explains: a WARN above the $1.00 tolerance, and a new snapshot
    path.write_text(INVOICE_HEADER + f"anthropic,INV-1,{MONTH},USD,{billed + 5},,,\n")
    assert run_cli(copy, "reference", "load", "invoices", str(path))[0] == 0
    build_and_publish(settings)
    code, printed = run_cli(copy, "export", "invoices", "--month", MONTH, "--format", "csv", "--out", str(out))
    assert code == 0 and "new version; 6 cell(s) changed since v1: difference_usd -118.45, invoice_usd" in printed
    rows = {r["provider"]: r for r in csv.DictReader(out.open(newline=""))}
    assert (rows["anthropic"]["difference_usd"], rows["anthropic"]["tie_out"]) == ("5.00", "gap")
    assert rows["anthropic"]["cause"] == "unexplained 5.00"
    code, printed = run_cli(copy, "status")
    assert f"WARN invoice tie-out {MONTH} anthropic: invoice" in printed
    assert "difference $5.00 above tolerance $1.00 (unexplained 5.00)" in printed
    diff = pl.read_csv(copy / "data" / "exports" / MONTH / "v2-provisional" / "invoices.diff.csv", infer_schema=False)
    changed = diff.filter(pl.col("column") == "difference_usd").select("change", "provider", "before", "after", "delta")
    assert changed.rows() == [("changed", "anthropic", "123.45", "5.00", "-118.450000")]


def test_an_invoice_for_a_month_the_data_does_not_cover_yet_names_the_missing_days(copy: Path) -> None:
    # the demo's data ends on 2026-03-05: March has 5 billed days, 26 without billed data
    march = warehouse_rows(
        copy,
        "select sum(billed_usd) from core.fct_billed_daily where billing_date >= date '2026-03-01' "
        "and provider = 'openai'",
    )[0][0]
    path = copy / "march.csv"
    path.write_text(INVOICE_HEADER + f"openai,OA-3,2026-03,USD,{march + 1000},,,\n")
    assert run_cli(copy, "reference", "load", "invoices", str(path))[0] == 0
    build_and_publish(load_settings(data_dir=copy / "data"))
    out = copy / "march-inv.csv"
    assert run_cli(copy, "export", "invoices", "--month", "2026-03", "--format", "csv", "--out", str(out))[0] == 0
    row = next(r for r in csv.DictReader(out.open(newline="")) if r["provider"] == "openai")
    assert (row["billed_days"], row["missing_days"], row["difference_usd"]) == ("5", "26", "1000.00")
    assert (row["tie_out"], row["cause"]) == ("gap", "26 day(s) without billed data; unexplained 1000.00")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2026-13", "--format", "csv"], "tokencomp: not a month (YYYY-MM): '2026-13'"),
        (["--month", "2025-01", "--format", "csv"], "tokencomp: the warehouse has no data for 2025-01 (it holds"),
        (["--month", MONTH, "--format", "html"], "tokencomp: report 'chargeback' is written as csv, xlsx, parquet"),
    ],
)
def test_export_errors_are_one_line_with_exit_1(
    copy: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["--data-dir", str(copy / "data"), "export", "chargeback", *argv, "--out", str(copy / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith(message)
