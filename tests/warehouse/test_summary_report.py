"""The visual report: six PNG charts, one self-contained HTML file, numbers equal to the warehouse's rounded
once, and the leaderboard under the privacy setting."""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.image import imread

from warehouse.exports.summary import cents_largest_remainder, pseudonym, write_html, write_png

MONTH = date(2026, 3, 1)
CHARTS = ["spend_by_provider", "share_of_base", "comp_mix", "leaderboard", "chargeback", "billed_vs_list"]
_DATA_URI = re.compile(r'src="data:image/png;base64,([^"]+)"')


def _section_rows(page: str, name: str) -> list[list[str]]:
    section = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert section is not None, name
    body = re.search(r"<tbody>(.*?)</tbody>", section.group(1), re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if body else []
    return [re.findall(r"<td>(.*?)</td>", row) for row in rows]


def _dollars(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def test_png_writes_six_charts_each_a_real_picture(focus_warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(focus_warehouse), read_only=True) as con:
        files = write_png(con, MONTH, tmp_path / "charts" / "2026-03", leaderboard="names")
    assert [f.name for f in files] == [f"{c}.png" for c in CHARTS]
    for f in files:
        pixels = imread(f)
        assert pixels.shape == (400, 800, 4), f.name
        assert pixels[..., :3].std() > 0.05, f.name  # not a blank canvas


def test_html_is_self_contained_and_its_charts_are_the_pngs(
    focus_warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOKENCOMP_PSEUDONYM_KEY", "test-key")
    with duckdb.connect(str(focus_warehouse), read_only=True) as con:
        out = write_html(con, MONTH, tmp_path / "deep" / "summary.html")
        pngs = write_png(con, MONTH, tmp_path / "png")
    page = out.read_text()
    images = _DATA_URI.findall(page)
    assert [base64.b64decode(i) for i in images] == [p.read_bytes() for p in pngs]
    text = _DATA_URI.sub("", page)
    assert "http://" not in text and "https://" not in text and "<script" not in text and "<link" not in text
    assert re.findall(r'<section id="(\w+)">', page) == CHARTS


def test_numbers_shown_equal_the_numbers_stored_rounded_once(focus_warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(focus_warehouse), read_only=True) as con:
        page = write_html(con, MONTH, tmp_path / "summary.html", leaderboard="names").read_text()
        month_usd = con.sql(
            "select sum(spend_usd) from core.fct_spend where usage_date >= '2026-03-01' and usage_date < '2026-04-01'"
        ).fetchall()[0][0]
        reconciliation = con.sql(
            "select provider, sum(billed_usd), sum(list_usd) from mart.reconciliation group by 1 order by 1"
        ).fetchall()
        e3 = con.sql("select spend_usd from mart.engineer_monthly where engineer_id = 'E3'").fetchall()[0][0]
        people = con.sql(
            "select engineer_id, name, spend_usd, spend_share_of_base from mart.engineer_monthly"
        ).fetchall()
        annualized = con.sql("select level, annualized_run_rate_usd from mart.engineer_monthly").fetchall()
    cent = Decimal("0.01")
    total = month_usd.quantize(cent, rounding=ROUND_HALF_UP)
    chargeback = _section_rows(page, "chargeback")
    assert chargeback[-1] == ["total", f"${total:,}"]
    assert sum(_dollars(r[1]) for r in chargeback[:-1]) == total  # largest remainder: the rows add up
    assert f"<b>${total:,}</b>" in page
    # Alice's seats and credits (team data) are part of data's line
    assert e3 == Decimal("6.05")
    billed = _section_rows(page, "billed_vs_list")
    assert [(r[0], _dollars(r[1]), _dollars(r[2])) for r in billed] == [
        (p, b.quantize(cent, rounding=ROUND_HALF_UP), lst.quantize(cent, rounding=ROUND_HALF_UP))
        for p, b, lst in reconciliation
    ]
    # the leaderboard and the comp mix, against mart.engineer_monthly read by hand
    assert _section_rows(page, "leaderboard") == [
        ["1", "Alice Ng (E3)", "L4", "$6.05", "0.7%"],
        ["2", "Bo Chen (E2)", "L4", "$1.74", "0.2%"],
        ["3", "Ann Lee (E1)", "L5", "$1.63", "0.1%"],
    ]
    shown = {(r[1], r[3], r[4]) for r in _section_rows(page, "leaderboard")}
    assert shown == {
        (f"{n} ({e})", f"${s.quantize(cent, rounding=ROUND_HALF_UP)}", f"{(sh * 100).quantize(Decimal('0.1'))}%")
        for e, n, s, sh in people
        if s > 0
    }
    l4_tokens = sum(r for lvl, r in annualized if lvl == "L4") / 3
    assert _section_rows(page, "comp_mix") == [
        ["L4", "3", "$110,000", "$20,000", "$10,000", f"${l4_tokens.quantize(Decimal(1), rounding=ROUND_HALF_UP)}"],
        ["L5", "1", "$220,000", "$120,000", "$20,000", "$199"],
    ]


def test_leaderboard_shows_pseudonyms_or_nothing_under_the_privacy_setting(
    focus_warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOKENCOMP_PSEUDONYM_KEY", raising=False)
    with duckdb.connect(str(focus_warehouse), read_only=True) as con:
        keyless = _DATA_URI.sub("", write_html(con, MONTH, tmp_path / "a.html").read_text())
        hidden = _DATA_URI.sub("", write_html(con, MONTH, tmp_path / "b.html", leaderboard="hidden").read_text())
        monkeypatch.setenv("TOKENCOMP_PSEUDONYM_KEY", "test-key")
        keyed = _DATA_URI.sub("", write_html(con, MONTH, tmp_path / "c.html").read_text())
        with pytest.raises(ValueError, match="pseudonyms, hidden, names"):
            write_html(con, MONTH, tmp_path / "d.html", leaderboard="everyone")
    for page in (keyless, hidden, keyed):
        assert _section_rows(page, "leaderboard") == [] or page is keyed
        for person in ("Ann Lee", "Bo Chen", "Alice Ng", "E1)", "E2)", "E3)", "acme.example"):
            assert person not in page
    assert "no pseudonym key ($TOKENCOMP_PSEUDONYM_KEY) is set" in keyless
    assert "privacy setting: hidden" in hidden
    board = _section_rows(keyed, "leaderboard")
    assert {r[1] for r in board} <= {pseudonym(e, "test-key") for e in ("E1", "E2", "E3")}
    assert len(board) >= 2


@given(st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=12, allow_nan=False), max_size=30))
def test_cents_by_largest_remainder_sum_to_the_rounded_total(values: list[Decimal]) -> None:
    cents = cents_largest_remainder(values)
    total = sum(values, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert sum(cents, Decimal(0)) == total
    assert all(abs(c - v) < Decimal("0.02") for c, v in zip(cents, values, strict=True))
