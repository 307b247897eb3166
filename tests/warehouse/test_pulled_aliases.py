"""Pulled identities in core.dim_alias: resolved through the roster email, effective-dated, bounded by the
roster (leavers), overridden by hand aliases and declared shared routes; conflicts still stop the build."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pipelines.services.reference import KINDS, PULLED_IDENTITIES
from pipelines.services.warehouse import warehouse_params
from transforms.schema import USAGE_SCHEMA, conform
from warehouse.build import BuildInputs, IdentityConflictError, build, run_sql, sql_text

D = date(2026, 3, 1)
Interval = tuple[date | None, date | None]


def roster(*people: tuple[str, str, date, date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"engineer_id": e, "email": m, "level": "L4", "valid_from": f, "valid_to": t} for e, m, f, t in people],
        schema=KINDS["roster"],
    )


def pulled(*rows: tuple[str, str, str, date | None, date | None]) -> pl.DataFrame:
    """(kind, value, owner email, valid_from, valid_to) as transforms.identity emits them."""
    return pl.DataFrame(
        [
            {"provider": "anthropic", "kind": k, "value": v, "email": m, "valid_from": f, "valid_to": t}
            for k, v, m, f, t in rows
        ],
        schema=KINDS[PULLED_IDENTITIES],
    )


def hand(*rows: tuple[str, str, str, date | None, date | None]) -> pl.DataFrame:
    """(engineer_id, kind, value, valid_from, valid_to) as the aliases reference holds them."""
    return pl.DataFrame(
        [{"engineer_id": e, "kind": k, "value": v, "valid_from": f, "valid_to": t} for e, k, v, f, t in rows],
        schema=KINDS["aliases"],
    )


def members(*rows: tuple[str, str, date | None, date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "provider": "anthropic",
                "principal_kind": "api_key_id",
                "principal_id": p,
                "engineer_id": e,
                "valid_from": f,
                "valid_to": t,
            }
            for p, e, f, t in rows
        ],
        schema=KINDS["route_members"],
    )


def references(**given: pl.DataFrame) -> dict[str, pl.DataFrame]:
    refs = {k: s.to_frame() for k, s in KINDS.items()}
    refs.update(given)
    return refs


def dim_alias(refs: dict[str, pl.DataFrame]) -> list[tuple[object, ...]]:
    """Build only core.dim_engineer and core.dim_alias from `refs`; their rows other than roster emails."""
    con = duckdb.connect()
    con.execute("create schema core")
    for kind, f in refs.items():
        con.register(f"src_{kind}", f)
    for model in ("core/dim_engineer", "core/dim_alias"):
        run_sql(con, sql_text(model), warehouse_params(""))
    return con.sql(
        "select engineer_id, kind, value, valid_from, valid_to, origin from core.dim_alias where origin <> 'roster'"
    ).fetchall()


ANN = ("E1", "ann@x.example", date(2025, 1, 1), None)
BO = ("E2", "bo@x.example", date(2025, 1, 1), None)


def test_a_pulled_key_belongs_to_its_owners_engineer_for_the_days_both_hold() -> None:
    got = dim_alias(
        references(
            roster=roster(ANN, ("E2", "bo@x.example", date(2025, 1, 1), date(2026, 3, 10))),  # Bo leaves on 03-10
            pulled_identities=pulled(
                ("api_key_id", "k_ann", "Ann@X.example", date(2026, 2, 1), date(2026, 3, 5)),
                ("api_key_name", "ann-laptop", "ann@x.example", date(2026, 2, 1), date(2026, 3, 5)),
                ("api_key_id", "k_bo", "bo@x.example", date(2026, 1, 1), None),
                ("api_key_id", "k_stranger", "someone@else.example", date(2026, 1, 1), None),  # not on the roster
            ),
        )
    )
    assert got == [
        ("E1", "api_key_id", "k_ann", date(2026, 2, 1), date(2026, 3, 5), "pulled"),
        ("E2", "api_key_id", "k_bo", date(2026, 1, 1), date(2026, 3, 10), "pulled"),  # bounded by leaving
        ("E1", "api_key_name", "ann-laptop", date(2026, 2, 1), date(2026, 3, 5), "pulled"),
    ]


def test_a_hand_alias_or_a_shared_route_cuts_its_days_out_of_a_pulled_alias() -> None:
    got = dim_alias(
        references(
            roster=roster(ANN, BO),
            pulled_identities=pulled(
                ("api_key_id", "k1", "ann@x.example", date(2026, 1, 1), None),
                ("api_key_id", "k2", "ann@x.example", date(2026, 1, 1), date(2026, 4, 1)),
            ),
            aliases=hand(("E2", "api_key_id", "k1", date(2026, 2, 1), date(2026, 3, 1))),
            route_members=members(("k2", "E1", date(2026, 3, 1), None), ("k2", "E2", date(2026, 3, 1), None)),
        )
    )
    assert got == [
        ("E1", "api_key_id", "k1", date(2026, 1, 1), date(2026, 2, 1), "pulled"),
        ("E2", "api_key_id", "k1", date(2026, 2, 1), date(2026, 3, 1), "hand"),
        ("E1", "api_key_id", "k1", date(2026, 3, 1), None, "pulled"),
        ("E1", "api_key_id", "k2", date(2026, 1, 1), date(2026, 3, 1), "pulled"),
    ]


def days(interval: Interval, horizon: date) -> set[date]:
    start, end = interval[0] or date(2025, 12, 1), interval[1] or horizon
    return {start + timedelta(n) for n in range(max(0, (end - start).days))}


day_st = st.integers(min_value=0, max_value=40).map(lambda n: date(2026, 1, 1) + timedelta(n))
interval_st = st.tuples(st.one_of(st.none(), day_st), st.one_of(st.none(), day_st)).filter(
    lambda i: i[0] is None or i[1] is None or i[0] < i[1]
)


@hyp_settings(max_examples=40, deadline=None)
@given(key=interval_st, employed=interval_st, cuts=st.lists(interval_st, max_size=3))
def test_a_pulled_alias_covers_exactly_the_owners_days_no_declaration_takes(
    key: Interval, employed: Interval, cuts: list[Interval]
) -> None:
    start = employed[0] or date(2025, 12, 1)
    got = dim_alias(
        references(
            roster=roster(("E1", "ann@x.example", start, employed[1])),
            pulled_identities=pulled(("api_key_id", "k", "ann@x.example", *key)),
            aliases=hand(*[("E2", "api_key_id", "k", f, t) for f, t in cuts]),
        )
    )
    horizon = date(2026, 3, 1)
    covered: set[date] = set()
    for engineer, *_, f, t, origin in got:
        if origin == "pulled":
            assert engineer == "E1"
            assert covered.isdisjoint(days((f, t), horizon))  # pieces never overlap
            covered |= days((f, t), horizon)
    declared = set().union(*(days(c, horizon) for c in cuts)) if cuts else set()
    assert covered == (days(key, horizon) & days((start, employed[1]), horizon)) - declared


# --- through a whole build: usage rows resolve, conflicts stop it -------------------------------------------


def usage(principal: tuple[str, str], day: date, list_usd: str) -> dict[str, object]:
    kind, value = principal
    return {
        "source": "anthropic_usage",
        "spend_role": "metered",
        "provider": "anthropic",
        "model": "claude-opus-5",
        "billing_date": day,
        "usage_date": day,
        "period_start": datetime(day.year, day.month, day.day, tzinfo=UTC),
        "principal_kind": kind,
        "principal_id": value,
        "scope_kind": "workspace",
        "scope_id": "default",
        "record_id": f"{value}{day}",
        "list_cost_usd": Decimal(list_usd),
        "cost_basis": "list",
        "uncached_input_tokens": 1000,
        "output_tokens": 10,
    }


def spend(tmp_path: Path, rows: list[dict[str, object]], refs: dict[str, pl.DataFrame]) -> list[tuple[object, ...]]:
    files = []
    for (day,), part in (
        conform(pl.DataFrame(rows, infer_schema_length=None))
        .collect()
        .partition_by("billing_date", as_dict=True)
        .items()
    ):
        folder = tmp_path / "lake" / f"billing_date={day}"
        folder.mkdir(parents=True)
        part.drop("billing_date").write_parquet(folder / "part-0.parquet")
        files.append(folder / "part-0.parquet")
    path = tmp_path / "w.duckdb"
    build(BuildInputs(files, USAGE_SCHEMA, refs, warehouse_params("")), path)
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(
            "select principal_id, usage_date, engineer_id, sum(spend_usd) from core.fct_spend group by all order by all"
        ).fetchall()


def test_pulled_keys_resolve_without_a_hand_alias_and_a_leaver_only_before_leaving(tmp_path: Path) -> None:
    refs = references(
        roster=roster(ANN, ("E2", "bo@x.example", date(2025, 1, 1), D + timedelta(2))),  # Bo's last day: 03-02
        pulled_identities=pulled(
            ("api_key_id", "k_ann", "ann@x.example", D + timedelta(1), None),  # created 03-02
            ("api_key_name", "ann-cli", "ann@x.example", D + timedelta(1), None),
            ("api_key_id", "k_bo", "bo@x.example", date(2026, 1, 1), None),
        ),
    )
    rows = [usage(("api_key_id", "k_ann"), D + timedelta(n), "1.5") for n in range(3)]
    rows += [usage(("api_key_name", "ann-cli"), D + timedelta(2), "0.25")]
    rows += [usage(("api_key_id", "k_bo"), D + timedelta(n), "2") for n in range(3)]
    assert spend(tmp_path, rows, refs) == [
        ("ann-cli", D + timedelta(2), "E1", Decimal("0.25")),
        ("k_ann", D, None, Decimal("1.5")),  # before the key was created: nobody's
        ("k_ann", D + timedelta(1), "E1", Decimal("1.5")),
        ("k_ann", D + timedelta(2), "E1", Decimal("1.5")),
        ("k_bo", D, "E2", Decimal("2")),
        ("k_bo", D + timedelta(1), "E2", Decimal("2")),
        ("k_bo", D + timedelta(2), None, Decimal("2")),  # after Bo left: unattributed, not Bo's
    ]


def test_two_owners_of_one_key_name_stop_the_build_until_a_hand_alias_settles_it(tmp_path: Path) -> None:
    both = pulled(
        ("api_key_name", "ci", "ann@x.example", date(2026, 1, 1), None),
        ("api_key_name", "ci", "bo@x.example", date(2026, 2, 1), None),
    )
    rows = [usage(("api_key_name", "ci"), D, "3")]
    refs = references(roster=roster(ANN, BO), pulled_identities=both)
    with pytest.raises(IdentityConflictError, match=r"api_key_name 'ci' names both E1 \(pulled\) and E2 \(pulled\)"):
        spend(tmp_path, rows, refs)
    refs["aliases"] = hand(("E2", "api_key_name", "ci", date(2026, 2, 1), None))
    assert spend(tmp_path / "settled", rows, refs) == [("ci", D, "E2", Decimal("3"))]
