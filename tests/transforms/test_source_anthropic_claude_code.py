"""anthropic_claude_code: Claude Code analytics pages → observational rows per actor, day, terminal and model."""

from __future__ import annotations

import copy
import json
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.parser_kit import LANDED, LANDED_LATER, make_raw, non_null, sample, write_json
from transforms.common import UnreadableFile
from transforms.schema import USAGE_SCHEMA
from transforms.sources import parser, spec

SRC = "anthropic_claude_code"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
DAY = datetime(2026, 3, 2, tzinfo=UTC)
NEXT = datetime(2026, 3, 3, tzinfo=UTC)


def _grouped() -> dict[str, Any]:
    return json.loads(sample("anthropic_claude_code_report_grouped_example.json").read_text())


def test_spec_states_the_design_natural_key_and_role() -> None:
    s = spec(SRC)
    assert (s.provider, s.format, s.default_role, s.catalog_provider, s.per_request) == (
        "anthropic",
        "pages",
        "observational",
        "anthropic",
        False,
    )
    assert s.natural_key == (
        "period_start",
        "principal_kind",
        "principal_id",
        "model_raw",
        "key_terminal_type",
        "key_is_remote",
    )


def test_verbatim_docs_example() -> None:
    raw = make_raw(sample("anthropic_claude_code_report_example.json"), source=SRC)
    result = parser(SRC)([raw])

    assert result.rows.schema == USAGE_SCHEMA
    rows = non_null(result.rows.sort("model_raw"))
    for row in rows:
        assert len(row.pop("record_id")) == 64
    common = {
        "billing_date": date(2025, 8, 8),
        "period_start": datetime(2025, 8, 8, tzinfo=UTC),
        "period_end": datetime(2025, 8, 9, tzinfo=UTC),
        "source": SRC,
        "provider": "anthropic",
        "publisher": "anthropic",
        "principal_kind": "email",
        "principal_id": "user@emaildomain.com",
        "cache_write_1h_tokens": 0,
        "billing_model": "metered_tokens",
        "charge_category": "usage",
        "currency": "USD",
        "raw_sha256": raw.sha256,
        "ingested_at": LANDED,
    }
    assert rows == [
        {
            **common,
            "model": "claude-opus-5",
            "model_raw": "claude-opus-5",
            "uncached_input_tokens": 45230,
            "cache_read_tokens": 8790,
            "cache_write_5m_tokens": 2340,
            "output_tokens": 12450,
            "amount_original": Decimal("1.86"),
        },
        {
            **common,
            "model": "claude-sonnet-5",
            "model_raw": "claude-sonnet-5",
            "uncached_input_tokens": 23100,
            "cache_read_tokens": 3420,
            "cache_write_5m_tokens": 890,
            "output_tokens": 5680,
            "amount_original": Decimal("0.42"),
        },
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (2, 2, 0)


def test_grouped_example_actor_kinds_remote_rows_and_half_cents() -> None:
    raw = make_raw(sample("anthropic_claude_code_report_grouped_example.json"), source=SRC)
    result = parser(SRC)([raw])

    got = result.rows.sort("principal_kind", "principal_id", "period_start", "model_raw", "output_tokens").select(
        "principal_kind", "principal_id", "model_raw", "output_tokens", "amount_original", "period_end"
    )
    assert got.rows() == [
        ("api_key_name", "ci-claude-code-bot", SONNET, 22103, Decimal("5.385"), NEXT),
        ("email", "alice@example.com", HAIKU, 1203, Decimal("0.04"), NEXT),
        ("email", "alice@example.com", SONNET, 9822, Decimal("2.12"), NEXT),
        ("email", "alice@example.com", SONNET, 90412, Decimal("19.31"), NEXT),
    ]
    # the local and the remote row of one user, model and day are two natural keys
    assert result.rows["record_id"].n_unique() == 4
    assert str(result.rows.filter(principal_id="ci-claude-code-bot")["amount_original"][0]) == "5.385000000000"
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (4, 4, 0)


@pytest.mark.parametrize(
    ("actor", "reason"),
    [
        (
            {"type": "user_actor", "email_address": "a@x.com", "api_key_name": "k"},
            "both email_address and api_key_name",
        ),
        ({"type": "api_actor"}, "neither email_address nor api_key_name"),
    ],
    ids=["both", "neither"],
)
def test_an_actor_with_both_or_neither_identity_is_rejected_at_its_line(
    actor: dict[str, str], reason: str, tmp_path: Path
) -> None:
    page = _grouped()
    page["data"][1]["actor"] = actor  # the second record: one model entry
    path = write_json(tmp_path / "cc.json", page)
    result = parser(SRC)([make_raw(path, source=SRC)])

    assert result.rejects.select("file", "line", "field", "reason").rows() == [("cc.json", 2, "actor", reason)]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (4, 3, 1)
    assert sorted(result.rows["output_tokens"].to_list()) == [1203, 22103, 90412]


def test_bad_cost_and_tokens_name_the_entry_field(tmp_path: Path) -> None:
    page = _grouped()
    page["data"][0]["model_breakdown"][1]["estimated_cost"]["amount"] = "lots"
    page["data"][1]["model_breakdown"][0]["tokens"]["output"] = -5
    page["data"][2]["is_remote"] = "no"
    path = write_json(tmp_path / "cc.json", page)
    result = parser(SRC)([make_raw(path, source=SRC)])

    assert result.rejects.select("line", "field", "reason").rows() == [
        (1, "model_breakdown[1].estimated_cost.amount", "not a number"),
        (2, "model_breakdown[0].tokens.output", "negative"),
        (3, "is_remote", "not a boolean"),
    ]
    # a rejected record is counted once, whatever its number of models
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (3, 0, 3)


def test_a_page_whose_data_is_not_a_list_is_unreadable(tmp_path: Path) -> None:
    path = write_json(tmp_path / "cc.json", {"data": {"actor": {}}, "has_more": False})
    with pytest.raises(UnreadableFile) as err:
        parser(SRC)([make_raw(path, source=SRC)])
    assert (err.value.name, err.value.field_name, err.value.reason) == ("cc.json", "data", "not a list")


def test_a_record_without_a_date_is_unreadable(tmp_path: Path) -> None:
    page = _grouped()
    del page["data"][2]["date"]
    path = write_json(tmp_path / "cc.json", page)
    with pytest.raises(UnreadableFile) as err:
        parser(SRC)([make_raw(path, source=SRC)])
    assert (err.value.name, err.value.field_name, err.value.reason) == ("cc.json", "data[2].date", "missing")


def test_a_redelivery_with_a_corrected_value_wins(tmp_path: Path) -> None:
    first = write_json(tmp_path / "a.json", _grouped())
    corrected = _grouped()
    corrected["data"][0]["model_breakdown"][0]["estimated_cost"]["amount"] = 2004.25
    corrected["data"][0]["model_breakdown"][0]["tokens"]["output"] = 93000
    second = write_json(tmp_path / "b.json", corrected)
    result = parser(SRC)([make_raw(first, source=SRC), make_raw(second, source=SRC, seq=2, landed_at=LANDED_LATER)])

    assert result.rows.height == 4
    local = result.rows.filter(principal_id="alice@example.com", model_raw=SONNET, output_tokens=93000)
    assert local.select("amount_original", "ingested_at").rows() == [(Decimal("20.0425"), LANDED_LATER)]
    # the untouched keys of the later page win too (latest delivery of each key), same values
    assert result.rows.filter(ingested_at=LANDED).height == 0
    assert sorted(result.rows["amount_original"].to_list()) == sorted(
        Decimal(x) for x in ("0.04", "2.12", "5.385", "20.0425")
    )


# Cent amounts of up to 15 significant digits (up to $10 million, to 1/10^6 cent). DuckDB's JSON reader
# holds a bare JSON number as a double and gives back its shortest text, which is the sent text exactly
# up to 15 significant digits; beyond that (no real cost estimate has 16 digits) the text itself moves.
cent_texts = st.builds(
    lambda units, frac: f"{units}.{frac}" if frac else str(units),
    st.integers(min_value=0, max_value=10**9 - 1),
    st.one_of(st.just(""), st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(cent_texts, min_size=1, max_size=10))
def test_cents_become_exact_dollars_through_their_decimal_text(cents: list[str]) -> None:
    # the amount is a bare JSON number, written from its text exactly as the API sends it
    base = _grouped()["data"][0]
    records = []
    for i in range(len(cents)):
        r = copy.deepcopy(base)
        r["actor"] = {"type": "user_actor", "email_address": f"u{i}@x.com"}
        r["model_breakdown"] = [r["model_breakdown"][0]]
        r["model_breakdown"][0]["estimated_cost"]["amount"] = f"@@{i}@@"
        records.append(r)
    text = json.dumps({"data": records, "has_more": False, "next_page": None})
    for i, c in enumerate(cents):
        text = text.replace(f'"@@{i}@@"', c)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cc.json"
        path.write_text(text)
        rows = parser(SRC)([make_raw(path, source=SRC)]).rows
    got = dict(zip(rows["principal_id"].to_list(), rows["amount_original"].to_list(), strict=True))
    assert got == {f"u{i}@x.com": (Decimal(c) / 100).quantize(Decimal("1e-12")) for i, c in enumerate(cents)}
