"""`tokencomp reference load invoices`: provider invoices with optional lines, validated, accumulating by invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.services.reference import ReferenceError, load_reference, reference_frame

HEADER = "provider,invoice_id,period,currency,total,kind,amount,description\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER, name: str = "inv.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body)
    return path


def test_lines_and_totals_are_stored_exactly_and_a_reload_replaces_the_invoice(
    settings: Settings, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "anthropic,INV-1,2026-02,usd,1123.456789012345,usage,1000.456789012345,API\n"
        "anthropic,INV-1,2026-02,USD,1123.456789012345,Tax,123,VAT 20%\n"
        "openai,OA-7,2026-02,USD,50,,,\n",
    )
    assert load_reference(settings, "invoices", [path]) == 3
    stored = reference_frame(settings, "invoices")
    assert stored.rows() == [
        ("anthropic", "INV-1", date(2026, 2, 1), "USD", Decimal("1123.456789012345"), "tax", Decimal(123), "VAT 20%"),
        (
            "anthropic",
            "INV-1",
            date(2026, 2, 1),
            "USD",
            Decimal("1123.456789012345"),
            "usage",
            Decimal("1000.456789012345"),
            "API",
        ),
        ("openai", "OA-7", date(2026, 2, 1), "USD", Decimal(50), None, None, None),
    ]
    # a corrected INV-1 replaces the stored one; OA-7 stays
    again = _csv(tmp_path, "anthropic,INV-1,2026-02,USD,99,,,\n", name="again.csv")
    assert load_reference(settings, "invoices", [again]) == 1
    assert reference_frame(settings, "invoices").select("invoice_id", "total").rows() == [
        ("INV-1", Decimal(99)),
        ("OA-7", Decimal(50)),
    ]


def test_the_line_columns_are_optional(settings: Settings, tmp_path: Path) -> None:
    path = _csv(tmp_path, "openai,OA-1,2026-03,USD,12.5\n", header="provider,invoice_id,period,currency,total\n")
    assert load_reference(settings, "invoices", [path]) == 1
    assert reference_frame(settings, "invoices")["line_kind"].to_list() == [None]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("anthropic,INV-1,2026-2,USD,10,,,\n", "inv.csv:2: field 'period': not a month YYYY-MM: '2026-2'"),
        (
            "anthropic,INV-1,2026-02,EUR,10,,,\n",
            "inv.csv:2: field 'currency': only USD invoices can be tied out: 'EUR'",
        ),
        ("anthropic,INV-1,2026-02,USD,1.5e3,,,\n", "inv.csv:2: field 'total': not a decimal amount: '1.5e3'"),
        (",INV-1,2026-02,USD,10,,,\n", "inv.csv:2: field 'provider': missing: None"),
        (
            "anthropic,INV-1,2026-02,USD,10,usage,8,\nanthropic,INV-1,2026-02,USD,10,vat,2,\n",
            "inv.csv:3: field 'kind': expected one of usage, tax, credit, refund, fee, other: 'vat'",
        ),
        (
            "anthropic,INV-1,2026-02,USD,10,usage,8,\nanthropic,INV-1,2026-02,USD,10,tax,1,\n",
            "inv.csv:2: field 'amount': the lines of invoice 'INV-1' sum to 9.000000000000, not its total "
            "10.000000000000",
        ),
        (
            "anthropic,INV-1,2026-02,USD,10,usage,10,\nanthropic,INV-1,2026-02,USD,11,tax,1,\n",
            "inv.csv:3: field 'total': differs from the invoice's first row (one total per invoice): '11'",
        ),
    ],
)
def test_a_bad_cell_names_file_line_and_field(settings: Settings, tmp_path: Path, body: str, error: str) -> None:
    with pytest.raises(ReferenceError) as exc:
        load_reference(settings, "invoices", [_csv(tmp_path, body)])
    assert str(exc.value).endswith(error)
    assert not (settings.reference / "invoices.parquet").exists()
