"""Money on API pages is read through each number's own decimal text, never through DuckDB's DOUBLE.

DuckDB's JSON reader holds a bare number as a DOUBLE: `8589934592.000001` would come back as
`8589934592.000002`. The pages reader keeps an exact twin of each page with numbers as their text.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.parser_kit import make_raw
from transforms.sources import parser

START = 1772409600
# a line item holding digits, an exponent, escaped quotes and a backslash: none of it may change
TRICKY = 'gpt-4.1-2025-04-14, "cached" input 1.5e3, -2 \\ 0.1'


def _bare(doc: object, numbers: list[str]) -> str:
    """`doc` as JSON text with each placeholder string "@<n>@" replaced by the bare number text numbers[n]."""
    text = json.dumps(doc)
    for n, number in enumerate(numbers):
        text = text.replace(f'"@{n}@"', number)
    return text


def _costs_page(amounts: list[str]) -> str:
    """An openai_costs page whose amounts (and quantities) are written as the given number text."""
    results = [
        {
            "object": "organization.costs.result",
            "amount": {"value": f"@{n}@", "currency": "usd"},
            "line_item": TRICKY,
            "project_id": f"proj_{n}",
            "api_key_id": None,
            "quantity": f"@{n}@",
            "quantity_unit": "tokens",
        }
        for n in range(len(amounts))
    ]
    bucket = {"object": "bucket", "start_time": START, "end_time": START + 86400, "results": results}
    return _bare({"object": "page", "data": [bucket], "has_more": False, "next_page": None}, amounts)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_dollar_amount_of_16_significant_digits_is_exact(tmp_path: Path) -> None:
    page = _write(tmp_path, "p.json", _costs_page(["8589934592.000001", "0.8023212500000001"]))
    result = parser("openai_costs")([make_raw(page, source="openai_costs")])
    assert result.rows["line_item"].unique().to_list() == [TRICKY]
    got = dict(result.rows.select("scope_id", "billed_cost_usd").rows())
    # the second is 16 decimals: rounded once, at 12 places, from its text
    assert got == {"proj_0": Decimal("8589934592.000001"), "proj_1": Decimal("0.802321250000")}
    assert dict(result.rows.select("scope_id", "quantity").rows())["proj_0"] == Decimal("8589934592.000001")


def test_claude_code_cents_of_16_significant_digits_are_exact(tmp_path: Path) -> None:
    record = {
        "date": "2026-03-02T00:00:00Z",
        "actor": {"type": "user_actor", "email_address": "alice@example.com"},
        "organization_id": "org",
        "customer_type": "api",
        "terminal_type": "vscode",
        "is_remote": False,
        "model_breakdown": [
            {
                "model": "claude-sonnet-4-5-20250929",
                "tokens": {"input": 1, "output": 2, "cache_read": 3, "cache_creation": 4},
                "estimated_cost": {"amount": "@0@", "currency": "USD"},
            }
        ],
    }
    text = _bare({"data": [record], "has_more": False, "next_page": None}, ["8589934592.000001"])
    page = _write(tmp_path, "cc.json", text)
    result = parser("anthropic_claude_code")([make_raw(page, source="anthropic_claude_code")])
    # cents to dollars: 85899345.92000001 exactly
    assert result.rows["amount_original"].to_list() == [Decimal("85899345.92000001")]


def test_anthropic_cost_cents_as_a_bare_number_are_exact(tmp_path: Path) -> None:
    bucket = {
        "starting_at": "2026-03-02T00:00:00Z",
        "ending_at": "2026-03-03T00:00:00Z",
        "results": [{"amount": "@0@", "currency": "USD", "workspace_id": None, "description": None}],
    }
    text = _bare({"data": [bucket], "has_more": False, "next_page": None}, ["8589934592.000001"])
    result = parser("anthropic_cost")([make_raw(_write(tmp_path, "c.json", text), source="anthropic_cost")])
    assert result.rows["amount_original"].to_list() == [Decimal("85899345.92000001")]


number_text = st.builds(
    lambda sign, whole, frac, exp: f"{sign}{whole}{'.' + frac if frac else ''}{exp}",
    st.sampled_from(["", "-"]),
    st.integers(min_value=0, max_value=10**10).map(str),
    st.text(alphabet="0123456789", min_size=0, max_size=10),
    st.sampled_from(["", "", "", "e0", "E-2", "e+1"]),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(number_text, min_size=1, max_size=20))
def test_any_number_text_reads_as_its_exact_decimal(amounts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        page = _write(Path(folder), "p.json", _costs_page(amounts))
        result = parser("openai_costs")([make_raw(page, source="openai_costs")])
    assert result.rejects.height == 0
    got = dict(result.rows.select("scope_id", "billed_cost_usd").rows())
    # plain Python's Decimal of the same text, at scale 12 (at most 10 decimals, shifted 2 at most: never rounded)
    expected = {f"proj_{n}": Decimal(a).quantize(Decimal("1e-12")) for n, a in enumerate(amounts)}
    assert got == expected
