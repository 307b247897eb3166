"""Identity list pages -> effective-dated identities (transforms.identity), on the providers' own page shapes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from tests.conftest import SAMPLES
from transforms import identity
from transforms.identity import PAGES_SCHEMA, identities_of, parse_identity_pages

T1 = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
Pull = tuple[str, str, datetime, list[str]]  # provider, list, pulled_at, page bodies


def frame(*pulls: Pull) -> pl.DataFrame:
    rows = [
        (provider, lst, at, n, f"{provider}-{lst}-{at:%m%d}-{n}.json", body)
        for provider, lst, at, bodies in pulls
        for n, body in enumerate(bodies, start=1)
    ]
    return pl.DataFrame(rows, schema=PAGES_SCHEMA, orient="row")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def anthropic_key(key_id: str, *, created: str = "2026-01-10T09:00:00Z", **extra: object) -> dict[str, object]:
    return {
        "type": "api_key",
        "id": key_id,
        "name": f"name-{key_id}",
        "created_at": created,
        "created_by": {"id": "user_A", "type": "user"},
        "partial_key_hint": "sk-ant-api03-R2D...igAA",
        "status": "active",
        "workspace_id": None,
        **extra,
    }


def page(*records: dict[str, object]) -> str:
    return json.dumps({"data": list(records), "has_more": False, "first_id": None, "last_id": None})


USERS = page({"type": "user", "id": "user_A", "email": "Ann@Example.com", "added_at": "2025-01-01T00:00:00Z"})


def rows(identities: pl.DataFrame, kind: str | None = None) -> list[tuple[object, ...]]:
    picked = identities if kind is None else identities.filter(pl.col("kind") == kind)
    return picked.select("kind", "value", "email", "valid_from", "valid_to").rows()


def test_the_providers_sample_pages_become_identities_owned_by_an_email() -> None:
    parsed = parse_identity_pages(
        frame(
            (
                "anthropic",
                "api_keys",
                T1,
                [sample("anthropic_api_keys_page1.json"), sample("anthropic_api_keys_page2.json")],
            ),
            ("anthropic", "users", T1, [sample("anthropic_users_example.json")]),
            ("openai", "users", T1, [sample("openai_users_example.json")]),
            (
                "openai",
                "api_keys",
                T1,
                [sample("openai_project_api_keys_Q2m9x1.json"), sample("openai_project_api_keys_Svc77k.json")],
            ),
        )
    )
    got = parsed.identities.select("provider", "kind", "value", "email", "valid_from", "valid_to").rows()
    gone = date(2026, 3, 6)  # ci-shared is archived in the first pull ever made: it ends the day after that pull
    assert got == [
        (
            "anthropic",
            "anthropic_account_id",
            "user_01PxT6s3kVbN8mQ2rLz4HcYd",
            "bob@example.com",
            date(2024, 12, 1),
            None,
        ),
        (
            "anthropic",
            "anthropic_account_id",
            "user_01WCz1FkmYMm4gnmykNKUu3Q",
            "alice@example.com",
            date(2025, 1, 10),
            None,
        ),
        ("anthropic", "api_key_id", "apikey_01Kq7Lx1yG2sJcZp5d4RtWvB", "bob@example.com", date(2025, 6, 20), gone),
        ("anthropic", "api_key_id", "apikey_01Rj2N8SVvo6BePZj99NhmiT", "alice@example.com", date(2025, 11, 3), None),
        ("anthropic", "api_key_name", "alice-laptop", "alice@example.com", date(2025, 11, 3), None),
        ("anthropic", "api_key_name", "ci-shared", "bob@example.com", date(2025, 6, 20), gone),
        # 1711471533 = 2024-03-26T16:45:33Z, 1714063533 = 2024-04-25T16:45:33Z
        ("openai", "api_key_id", "key_abc", "alice@example.com", date(2024, 3, 26), None),
        ("openai", "openai_user_id", "user-abc123XyZ", "alice@example.com", date(2024, 3, 26), None),
        ("openai", "openai_user_id", "user-def456UvW", "bob@example.com", date(2024, 4, 25), None),
    ]
    outcomes = parsed.outcomes
    assert outcomes.group_by("outcome").len().sort("outcome").rows() == [("filtered", 1), ("loaded", 7)]
    assert outcomes.filter(pl.col("outcome") == "filtered").select("id", "reason").rows() == [
        ("key_svc", "owned by service_account, not a person")
    ]


def test_a_key_ends_the_day_after_the_first_pull_that_shows_it_gone_for_good() -> None:
    t2, t3 = T1 + timedelta(days=3), T1 + timedelta(days=6)
    k = anthropic_key
    pulls = [
        ("anthropic", "users", T1, [USERS]),
        # gone: missing from t2 on; archived: at t2; back: missing at t2, listed again at t3; inactive: may come back
        ("anthropic", "api_keys", T1, [page(k("gone"), k("archived"), k("back"), k("inactive"))]),
        ("anthropic", "api_keys", t2, [page(k("archived", status="archived"), k("inactive", status="inactive"))]),
        (
            "anthropic",
            "api_keys",
            t3,
            [page(k("archived", status="archived"), k("back"), k("inactive", status="inactive"))],
        ),
        # expiring: expires before it would otherwise end; late: created after t1, listed only at t3
        (
            "anthropic",
            "api_keys",
            t3 + timedelta(hours=1),
            [
                page(
                    k("archived", status="archived"),
                    k("back"),
                    k("inactive", status="inactive"),
                    k("expiring", status="expired", expires_at="2026-02-01T12:00:00Z"),
                    k("late", created="2026-03-10T00:00:00Z"),
                )
            ],
        ),
    ]
    ids = rows(parse_identity_pages(frame(*pulls)).identities, "api_key_id")
    start = date(2026, 1, 10)
    assert ids == [
        ("api_key_id", "archived", "ann@example.com", start, date(2026, 3, 9)),  # t2 is 2026-03-08
        ("api_key_id", "back", "ann@example.com", start, None),
        ("api_key_id", "expiring", "ann@example.com", start, date(2026, 2, 2)),
        ("api_key_id", "gone", "ann@example.com", start, date(2026, 3, 9)),
        ("api_key_id", "inactive", "ann@example.com", start, None),
        ("api_key_id", "late", "ann@example.com", date(2026, 3, 10), None),
    ]


def test_bad_records_are_rejected_one_by_one_naming_file_record_and_field() -> None:
    bad = page(
        anthropic_key("ok"),
        {**anthropic_key("x"), "id": None},
        anthropic_key("when", created="last tuesday"),
        {"type": "user", "id": "user_B", "email": None, "added_at": "2025-01-01T00:00:00Z"},
        {"type": "workspace", "id": "wrkspc_1"},
    )
    parsed = parse_identity_pages(frame(("anthropic", "users", T1, [USERS]), ("anthropic", "api_keys", T1, [bad])))
    keys = parsed.outcomes.filter(pl.col("list") == "api_keys")
    assert keys.select("file", "record_no", "outcome", "field", "reason").rows() == [
        ("anthropic-api_keys-0305-1.json", 1, "loaded", None, None),
        ("anthropic-api_keys-0305-1.json", 2, "rejected", "id", "missing"),
        ("anthropic-api_keys-0305-1.json", 3, "rejected", "created_at", "not a timestamp"),
        ("anthropic-api_keys-0305-1.json", 4, "filtered", None, "a users record in the api_keys list"),
        ("anthropic-api_keys-0305-1.json", 5, "filtered", None, "not an API key or user record"),
    ]
    assert [v for _, v, *_ in rows(parsed.identities, "api_key_id")] == ["ok"]


STATES = ("absent", "active", "inactive", "archived")


def expected_end(states: list[str], days: list[date]) -> tuple[bool, date | None]:
    """Plain-Python model of the dating rule: (listed at all, valid_to)."""
    seen = [i for i, s in enumerate(states) if s != "absent"]
    if not seen:
        return False, None
    live = [i for i, s in enumerate(states) if s in ("active", "inactive")]
    end = live[-1] + 1 if live else seen[0]
    return True, days[end] + timedelta(days=1) if end < len(states) else None


@hyp_settings(max_examples=40, deadline=None)
@given(
    histories=st.lists(st.lists(st.sampled_from(STATES), min_size=4, max_size=4), min_size=1, max_size=6),
    gaps=st.lists(st.integers(min_value=1, max_value=20), min_size=3, max_size=3),
    per_page=st.integers(min_value=1, max_value=4),
)
def test_dating_follows_the_rule_however_the_records_are_paged(
    histories: list[list[str]], gaps: list[int], per_page: int
) -> None:
    times = [T1]
    for gap in gaps:
        times.append(times[-1] + timedelta(days=gap, hours=gap))
    pulls: list[Pull] = [("anthropic", "users", T1, [USERS])]
    for n, at in enumerate(times):
        listed = [
            anthropic_key(f"k{i}", created="2025-12-31T23:59:59Z", status=h[n])
            for i, h in enumerate(histories)
            if h[n] != "absent"
        ]
        # an empty list is still one page; otherwise `per_page` records a page
        chunks = [listed[i : i + per_page] for i in range(0, len(listed), per_page)] or [[]]
        pulls.append(("anthropic", "api_keys", at, [page(*c) for c in chunks]))
    got = {v: (f, t) for _, v, _, f, t in rows(parse_identity_pages(frame(*pulls)).identities, "api_key_id")}
    days = [t.date() for t in times]
    want = {}
    for i, h in enumerate(histories):
        listed, end = expected_end(h, days)
        if listed:
            want[f"k{i}"] = (date(2025, 12, 31), end)
    assert got == want


def test_parsing_page_by_page_gives_the_same_identities(monkeypatch: pytest.MonkeyPatch) -> None:
    pulls = frame(
        ("anthropic", "users", T1, [USERS]),
        ("anthropic", "api_keys", T1, [page(anthropic_key("a")), page(anthropic_key("b"))]),
        ("anthropic", "api_keys", T1 + timedelta(days=1), [page(anthropic_key("a"))]),
    )
    together = identities_of(pulls)
    monkeypatch.setattr(identity, "BATCH_BYTES", 1)  # every page its own batch
    assert identities_of(pulls).equals(together)
    assert together.height == 5  # ann's account; keys a and b by id and name, b ending after the second pull
