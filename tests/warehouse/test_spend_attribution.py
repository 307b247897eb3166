"""A declared shared route is split among its own members by their observational list cost, route by route;
an unknown route is nobody's; the total never moves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pipelines.services.reference import KINDS
from pipelines.services.warehouse import warehouse_params
from transforms.schema import USAGE_SCHEMA, conform
from warehouse.build import BuildInputs, IdentityConflictError, MartsTieOutError, build

DAY = date(2026, 3, 2)
TOKENS = {
    "uncached_input_tokens": 1000,
    "cache_read_tokens": 0,
    "cache_write_5m_tokens": 0,
    "cache_write_1h_tokens": 0,
    "output_tokens": 100,
}


def row(
    source: str, role: str, principal: tuple[str, str], spend: str | None, list_usd: str, **extra: object
) -> dict[str, object]:
    kind, value = principal
    return {
        "source": source,
        "spend_role": role,
        "provider": "openai",
        "model": "gpt-5",
        "billing_date": DAY,
        "usage_date": DAY,
        "period_start": datetime(2026, 3, 2, tzinfo=UTC),
        "principal_kind": kind,
        "principal_id": value,
        "scope_kind": "project",
        "scope_id": "p1",
        "record_id": f"{source}{value}{list_usd}",
        "list_cost_usd": Decimal(list_usd),
        "cost_basis": "allocated" if role == "metered" else None,
        "allocated_cost_usd": Decimal(spend) if spend else None,
        **TOKENS,
        **extra,
    }


Member = tuple[str, str, date | None, date | None]  # route principal_id, engineer_id, valid_from, valid_to
ROSTER = ("E1", "E2", "E3", "E4")


def warehouse(
    tmp_path: Path,
    rows: list[dict[str, object]],
    aliases: list[tuple[str, str, str]],
    members: list[Member] = (),  # type: ignore[assignment]
    roster: tuple[str, ...] = ROSTER,
) -> Path:
    lake = tmp_path / "lake" / f"billing_date={DAY}"
    lake.mkdir(parents=True)
    # the bill the metered rows' allocated dollars came from, all of it placed on them
    placed = sum(Decimal(str(r["allocated_cost_usd"])) for r in rows if r["spend_role"] == "metered")
    bill = {
        "source": "openai_costs",
        "spend_role": "billed",
        "provider": "openai",
        "billing_date": DAY,
        "usage_date": DAY,
        "scope_kind": "project",
        "scope_id": "p1",
        "record_id": "bill",
        "cost_basis": "billed",
        "billed_cost_usd": placed,
        "allocated_cost_usd": placed,
    }
    frame = conform(pl.DataFrame([*rows, bill], infer_schema_length=None)).collect()
    frame.drop("billing_date").write_parquet(lake / "part-0.parquet")
    refs = {k: s.to_frame() for k, s in KINDS.items()}
    refs["aliases"] = pl.DataFrame(
        {
            "engineer_id": [a[0] for a in aliases],
            "kind": [a[1] for a in aliases],
            "value": [a[2] for a in aliases],
            "valid_from": [None] * len(aliases),
            "valid_to": [None] * len(aliases),
        },
        schema=KINDS["aliases"],
    )
    refs["route_members"] = pl.DataFrame(
        {
            "provider": ["openai"] * len(members),
            "principal_kind": ["api_key_id"] * len(members),
            "principal_id": [m[0] for m in members],
            "engineer_id": [m[1] for m in members],
            "valid_from": [m[2] for m in members],
            "valid_to": [m[3] for m in members],
        },
        schema=KINDS["route_members"],
    )
    refs["roster"] = pl.DataFrame(
        [
            {"engineer_id": e, "email": f"{e.lower()}@x.example", "level": "L4", "valid_from": date(2024, 1, 1)}
            for e in roster
        ],
        schema=KINDS["roster"],
    )
    path = tmp_path / "w.duckdb"
    build(BuildInputs([lake / "part-0.parquet"], USAGE_SCHEMA, refs, warehouse_params("")), path)
    return path


def spend_by(path: Path) -> dict[tuple[str | None, str], Decimal]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            (e, a): s
            for e, a, s in con.sql(
                "select engineer_id, attribution, sum(spend_usd) from core.fct_spend group by all"
            ).fetchall()
        }


ALIASES = [("E1", "email", "ann@x.example"), ("E2", "email", "bo@x.example"), ("E3", "api_key_id", "key_ann")]


ANN_BO_CY = [("E1", "email", "ann@x.example"), ("E2", "email", "bo@x.example"), ("E3", "email", "cy@x.example")]
ANN_KEY = ("E1", "api_key_id", "key_ann")


def largest_remainder(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Plain-Python recomputation of the split: floor shares of 1e-12 units, leftovers by largest remainder."""
    units = int(total * 10**12)
    ints = {k: int(w * 10**12) for k, w in weights.items()}
    whole = sum(ints.values())
    floors = {k: units * w // whole for k, w in ints.items()}
    rest = sorted(ints, key=lambda k: (-(units * ints[k] % whole), k))
    for k in rest[: units - sum(floors.values())]:
        floors[k] += 1
    return {k: Decimal(v) / 10**12 for k, v in floors.items()}


def test_an_unknown_key_is_wholly_unattributed_even_when_logs_name_users_that_day(tmp_path: Path) -> None:
    rows = [
        # a key no alias and no route_members row names (a CI bot, a forgotten key)
        row("openai_usage", "metered", ("api_key_id", "key_bot"), "6.4", "8"),
        # Ann and Bo's gateway logs the same day and model must not claim any of it
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "3"),
        row("litellm_spend", "observational", ("email", "Bo@X.example"), None, "1"),
    ]
    spend = spend_by(warehouse(tmp_path, rows, ANN_BO_CY[:2]))
    assert spend == {(None, "unattributed"): Decimal("6.4")}


def test_a_shared_key_goes_to_its_members_only_in_proportion_to_their_list_cost(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "6.4", "8"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "3"),
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "1"),
        row("litellm_spend", "observational", ("email", "cy@x.example"), None, "4"),  # not a member
    ]
    members = [("key_gateway", "E1", None, None), ("key_gateway", "E2", None, None)]
    spend = spend_by(warehouse(tmp_path, rows, ANN_BO_CY, members))
    # no capping and no unclaimed remainder: the members' logs weigh 3 : 1 of the whole $6.40
    assert spend == {("E1", "shared_route"): Decimal("4.8"), ("E2", "shared_route"): Decimal("1.6")}


@pytest.mark.parametrize(
    ("ann_logs", "ann_report", "ann_share", "bo_share"),
    [("3", "3", "4.8", "1.6"), ("2", "3", "4.8", "1.6"), ("3", "1", "4.8", "1.6")],
    ids=["same-view", "report-larger", "logs-larger"],
)
def test_a_member_seen_by_two_observational_sources_claims_the_larger_view_not_the_sum(
    tmp_path: Path, ann_logs: str, ann_report: str, ann_share: str, bo_share: str
) -> None:
    # Claude Code logs and the Claude Code analytics report are two views of Ann's same sessions: her weight
    # is the larger of the two (3), never their sum, so Bo (logs only, 1) keeps his 1 : 3 share
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "6.4", "8"),
        row("claude_code_logs", "observational", ("email", "ann@x.example"), None, ann_logs),
        row("anthropic_claude_code", "observational", ("email", "ann@x.example"), None, ann_report),
        row("claude_code_logs", "observational", ("email", "bo@x.example"), None, "1"),
    ]
    members = [("key_gateway", "E1", None, None), ("key_gateway", "E2", None, None)]
    spend = spend_by(warehouse(tmp_path, rows, ANN_BO_CY, members))
    assert spend == {("E1", "shared_route"): Decimal(ann_share), ("E2", "shared_route"): Decimal(bo_share)}


def test_no_claim_crosses_from_one_shared_key_to_another(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_a"), "7", "8"),
        row("openai_usage", "metered", ("api_key_id", "key_b"), "3", "4"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "2"),
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "1"),
        row("litellm_spend", "observational", ("email", "cy@x.example"), None, "9"),  # heaviest, key B only
    ]
    members = [("key_a", "E1", None, None), ("key_a", "E2", None, None), ("key_b", "E3", None, None)]
    path = warehouse(tmp_path, rows, ANN_BO_CY, members)
    with duckdb.connect(str(path), read_only=True) as con:
        got = {
            (k, e): s
            for k, e, s in con.sql(
                "select principal_id, engineer_id, sum(spend_usd) from core.fct_spend group by all"
            ).fetchall()
        }
    expected = {("key_a", e): v for e, v in largest_remainder(Decimal(7), {"E1": Decimal(2), "E2": Decimal(1)}).items()}
    expected[("key_b", "E3")] = Decimal(3)
    assert got == expected
    assert got[("key_a", "E1")] == Decimal("4.666666666667") and got[("key_a", "E2")] == Decimal("2.333333333333")


def test_a_heavy_user_with_a_personal_key_still_gets_their_share_of_the_shared_key(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_ann"), "2", "2.5"),  # Ann's own key, outside the logs
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "4", "5"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "2.5"),
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "5"),
    ]
    members = [("key_gateway", "E1", None, None), ("key_gateway", "E2", None, None)]
    spend = spend_by(warehouse(tmp_path, rows, [*ANN_BO_CY[:2], ANN_KEY], members))
    # her own route explains nothing away: she weighs 2.5 of 7.5 on the shared key
    shares = largest_remainder(Decimal(4), {"E1": Decimal("2.5"), "E2": Decimal(5)})
    assert spend == {
        ("E1", "alias"): Decimal(2),
        ("E1", "shared_route"): shares["E1"],
        ("E2", "shared_route"): shares["E2"],
    }
    assert shares["E1"] == Decimal("1.333333333333")
    assert sum(spend.values()) == Decimal(6)


def test_a_shared_key_none_of_whose_members_logged_that_model_stays_unattributed(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "4", "5"),
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "1", "1", model="gpt-4.1"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "5", model="gpt-4.1"),
        row("litellm_spend", "observational", ("email", "cy@x.example"), None, "5"),  # not a member
    ]
    members = [("key_gateway", "E1", None, None), ("key_gateway", "E2", None, None)]
    path = warehouse(tmp_path, rows, ANN_BO_CY, members)
    with duckdb.connect(str(path), read_only=True) as con:
        got = set(con.sql("select model, engineer_id, attribution, spend_usd from core.fct_spend").fetchall())
        reasons = con.sql("select reason, spend_usd from mart.unattributed").fetchall()
    assert got == {("gpt-4.1", "E1", "shared_route", Decimal(1)), ("gpt-5", None, "unattributed", Decimal(4))}
    assert reasons == [("shared_route_unclaimed", Decimal(4))]


def test_route_membership_follows_its_effective_dates(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "6", "6"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "1"),
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "1"),
        row("litellm_spend", "observational", ("email", "cy@x.example"), None, "1"),
    ]
    members = [
        ("key_gateway", "E1", date(2026, 1, 1), DAY + timedelta(days=1)),  # in force on DAY
        ("key_gateway", "E2", date(2026, 1, 1), DAY),  # left the day before (valid_to is exclusive)
        ("key_gateway", "E3", DAY + timedelta(days=1), None),  # joins the day after
    ]
    spend = spend_by(warehouse(tmp_path, rows, ANN_BO_CY, members))
    assert spend == {("E1", "shared_route"): Decimal(6)}


def test_a_principal_both_aliased_and_shared_stops_the_build(tmp_path: Path) -> None:
    rows = [row("openai_usage", "metered", ("api_key_id", "key_ann"), "2", "2.5")]
    members = [("key_ann", "E2", date(2026, 3, 1), None)]
    with pytest.raises(IdentityConflictError) as exc:
        warehouse(tmp_path, rows, [ANN_KEY], members)
    assert str(exc.value) == (
        "identity conflict: openai api_key_id 'key_ann' is an alias of E1 and a shared route with member E2 "
        "from 2026-03-01 (1 conflict(s) in all); keep one of the two and rerun"
    )


def test_spend_on_an_engineer_the_monthly_mart_does_not_list_stops_the_build(tmp_path: Path) -> None:
    rows = [row("openai_usage", "metered", ("api_key_id", "key_ann"), "2", "2.5")]
    # E1 is aliased but not on the roster: engineer_monthly has no row for her, so the marts would lose $2
    with pytest.raises(MartsTieOutError) as exc:
        warehouse(tmp_path, rows, [ANN_KEY], roster=("E2",))
    assert str(exc.value) == (
        "marts do not sum to core.fct_spend: engineer E1 in 2026-03: marts 0E-12 != core.fct_spend 2.000000000000 "
        "(1 gap(s) in all); is every engineer with spend on the roster that month?"
    )
    assert exc.value.check == "marts_tie_out"
    # every blocking check was evaluated on the build: the one that failed says why, the others passed
    assert [(o.name, o.passed, o.metadata) for o in exc.value.outcomes] == [
        ("identity_conflicts", True, {"route_conflicts": 0, "identity_conflicts": 0}),
        ("tie_out", True, exc.value.outcomes[1].metadata),
        ("marts_tie_out", False, {"gaps": 1}),
    ]
    assert exc.value.outcomes[2].description == str(exc.value)
    assert exc.value.outcomes[1].metadata["fct_spend_usd"] == "2.000000000000"


@pytest.mark.parametrize("spend_total", ["0.000000000001", "1", "123456.789012345678"[:18]])
def test_the_split_never_changes_the_total(tmp_path: Path, spend_total: str) -> None:
    rows = [row("openai_usage", "metered", ("api_key_id", "key_gateway"), spend_total, "7")]
    rows += [
        row("litellm_spend", "observational", ("email", e), None, "1")
        for e in ("ann@x.example", "bo@x.example", "cy@x.example")
    ]
    members = [("key_gateway", e, None, None) for e in ("E1", "E2", "E3")]
    spend = spend_by(warehouse(tmp_path, rows, ANN_BO_CY, members))
    assert sum(spend.values()) == Decimal(spend_total)
    assert spend == {
        (e, "shared_route"): v
        for e, v in largest_remainder(Decimal(spend_total), dict.fromkeys(("E1", "E2", "E3"), Decimal(1))).items()
    }


@pytest.mark.slow  # one real warehouse build per example
@hyp_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    total=st.decimals(min_value=Decimal("0.000000000001"), max_value=Decimal(10**6), places=12),
    weights=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2), min_size=1, max_size=3),
)
def test_a_shared_route_split_is_exact_and_proportional(
    tmp_path_factory: pytest.TempPathFactory, total: Decimal, weights: list[Decimal]
) -> None:
    emails = ("ann@x.example", "bo@x.example", "cy@x.example")
    rows = [row("openai_usage", "metered", ("api_key_id", "key_gateway"), str(total), "1")]
    rows += [row("litellm_spend", "observational", ("email", emails[i]), None, str(w)) for i, w in enumerate(weights)]
    members = [("key_gateway", e, None, None) for e in ("E1", "E2", "E3")]
    spend = spend_by(warehouse(tmp_path_factory.mktemp("split"), rows, ANN_BO_CY, members))
    expected = largest_remainder(total, {f"E{i + 1}": w for i, w in enumerate(weights)})
    assert spend == {(e, "shared_route"): v for e, v in expected.items()}
    assert sum(spend.values()) == total


def test_a_shared_route_pool_at_the_documented_maxima_splits_exactly_without_overflow(tmp_path: Path) -> None:
    # docs/ingest-limits.md: a record holds at most 10^10 tokens per field and costs at most $1.2e7 (o1-pro).
    # A thousand such records on one shared key in a day is a $1.2e10 pool; units x weight used to be ~10^44
    # in HUGEINT (the limit was a pool of about $1.3e7).
    maxed = dict.fromkeys(TOKENS, 10**10)
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "10799999.999999999999", "12000000", **maxed)
        | {"record_id": f"m{i}"}
        for i in range(1000)
    ]
    logged = {
        "ann@x.example": (600, "11999999.99999999"),
        "bo@x.example": (300, "11999999.5"),
        "cy@x.example": (7, "3"),
    }
    rows += [
        row("litellm_spend", "observational", ("email", email), None, cost) | {"record_id": f"{email}{i}"}
        for email, (count, cost) in logged.items()
        for i in range(count)
    ]
    members = [("key_gateway", e, None, None) for e in ("E1", "E2", "E3")]
    path = warehouse(tmp_path, rows, ANN_BO_CY, members)
    with duckdb.connect(str(path), read_only=True) as con:
        got = {
            e: (s, lc, t)
            for e, s, lc, t in con.sql(
                "select engineer_id, sum(spend_usd), sum(list_cost_usd), sum(output_tokens) from core.fct_spend "
                "where principal_id = 'key_gateway' group by all"
            ).fetchall()
        }
    pool, list_pool = Decimal("10799999.999999999999") * 1000, Decimal(12000000) * 1000
    weights = {f"E{n}": count * Decimal(cost) for n, (count, cost) in enumerate(logged.values(), start=1)}
    spend, listed = largest_remainder(pool, weights), largest_remainder(list_pool, weights)
    assert {e: (s, lc) for e, (s, lc, _) in got.items()} == {e: (spend[e], listed[e]) for e in weights}
    assert sum(s for s, _, _ in got.values()) == pool and sum(lc for _, lc, _ in got.values()) == list_pool
    assert sum(t for _, _, t in got.values()) == 1000 * 10**10
    assert spend == {
        "E1": Decimal("7200000085.999999026556"),
        "E2": Decimal("3599999893.000000721611"),
        "E3": Decimal("21.000000250833"),
    }
