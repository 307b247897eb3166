"""`tokencomp reference pull` and the identity service: the providers' key and user lists, served by a real HTTP
server on 127.0.0.1, land byte for byte as reference data and resolve usage to engineers with no hand alias."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.cli import main
from pipelines.clients.http import Page
from pipelines.config import Settings
from pipelines.services.identity import (
    IdentityPageError,
    land_identity_pages,
    manifest_path,
    read_identity_manifest,
)
from pipelines.services.reference import PULLED_IDENTITIES, USER_KINDS, ReferenceError, load_reference, reference_frame
from tests.conftest import SAMPLES

ANTHROPIC_KEY = "sk-ant-admin01-FAKE-identity-land-5c2e"
OPENAI_KEY = "sk-admin-FAKE-identity-land-81fd"
T1 = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


KEYS1, KEYS2 = sample("anthropic_api_keys_page1.json"), sample("anthropic_api_keys_page2.json")
A_USERS, O_USERS = sample("anthropic_users_example.json"), sample("openai_users_example.json")
PROJECTS1, PROJECTS2 = sample("openai_projects_page1.json"), sample("openai_projects_page2.json")
O_KEYS_Q, O_KEYS_S = sample("openai_project_api_keys_Q2m9x1.json"), sample("openai_project_api_keys_Svc77k.json")


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """The test server listens on loopback 127.0.0.1 only (any free port)."""
    return ("127.0.0.1", 0)


def _by_cursor(param: str, first: bytes, cursor: str, second: bytes) -> Callable[[Request], Response]:
    return lambda r: Response(second if r.args.get(param) == cursor else first, content_type="application/json")


def serve_lists(httpserver: HTTPServer) -> None:
    """Both providers' identity lists, as their Admin APIs page them."""
    expect = httpserver.expect_request
    expect("/v1/organizations/api_keys").respond_with_handler(
        _by_cursor("after_id", KEYS1, "apikey_01Rj2N8SVvo6BePZj99NhmiT", KEYS2)
    )
    expect("/v1/organizations/users").respond_with_data(A_USERS, content_type="application/json")
    expect("/v1/organization/users").respond_with_data(O_USERS, content_type="application/json")
    expect("/v1/organization/projects").respond_with_handler(_by_cursor("after", PROJECTS1, "proj_Q2m9x1", PROJECTS2))
    expect("/v1/organization/projects/proj_Q2m9x1/api_keys").respond_with_data(
        O_KEYS_Q, content_type="application/json"
    )
    expect("/v1/organization/projects/proj_Svc77k/api_keys").respond_with_data(
        O_KEYS_S, content_type="application/json"
    )


@pytest.fixture
def cli(
    settings: Settings, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """`tokencomp` against the local server with both admin keys set; returns (exit code, stdout, stderr)."""
    config = settings.data_dir.parent / "tokencomp.toml"
    config.write_text(
        "[clients]\ntimeout_seconds = 0.5\nmax_request_seconds = 1.5\nbackoff_initial_seconds = 0.01\n"
        f'backoff_max_seconds = 0.05\n[clients.anthropic]\nbase_url = "{httpserver.url_for("/")}"\n'
        f'[clients.openai]\nbase_url = "{httpserver.url_for("/v1")}"\n'
    )
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--data-dir", str(settings.data_dir), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reference_pull_keeps_every_list_byte_for_byte_with_when_it_was_pulled_and_never_the_key(
    settings: Settings, httpserver: HTTPServer, cli: Callable[..., tuple[int, str, str]]
) -> None:
    serve_lists(httpserver)
    code, out, err = cli("reference", "pull")
    assert (code, err) == (0, "")
    assert [line.split()[:4] for line in out.splitlines()] == [
        ["landed", "anthropic", "users", "1"],
        ["landed", "anthropic", "api_keys", "2"],
        ["landed", "openai", "users", "1"],
        ["landed", "openai", "api_keys", "2"],
    ]
    assert "parsed 2, loaded 1, filtered 1, rejected 0" in out.splitlines()[3]  # the service account's key
    manifest = read_identity_manifest(settings)
    pages = settings.reference / "identity" / "pages"
    stored = [(pages / f"{sha}.json").read_bytes() for sha in manifest["sha256"]]
    assert stored == [A_USERS, KEYS1, KEYS2, O_USERS, O_KEYS_Q, O_KEYS_S]
    assert manifest.select("provider", "list", "page").rows() == [
        ("anthropic", "users", 1),
        ("anthropic", "api_keys", 1),
        ("anthropic", "api_keys", 2),
        ("openai", "users", 1),
        ("openai", "api_keys", 1),
        ("openai", "api_keys", 2),
    ]
    assert json.loads(manifest["request"][2]) == {
        "path": "/v1/organizations/api_keys",
        "limit": "1000",
        "after_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
    }
    assert json.loads(manifest["request"][5])["path"] == "/organization/projects/proj_Svc77k/api_keys"
    # one instant per provider's pull, ISO 8601 in UTC
    assert manifest.group_by("provider").agg(pl.col("pulled_at").n_unique()).sort("provider").rows() == [
        ("anthropic", 1),
        ("openai", 1),
    ]
    assert manifest["pulled_at"].str.ends_with("+00:00").all()
    identities = reference_frame(settings, PULLED_IDENTITIES)
    assert identities.select("kind", "value", "email").sort(pl.all()).rows() == [
        ("anthropic_account_id", "user_01PxT6s3kVbN8mQ2rLz4HcYd", "bob@example.com"),
        ("anthropic_account_id", "user_01WCz1FkmYMm4gnmykNKUu3Q", "alice@example.com"),
        ("api_key_id", "apikey_01Kq7Lx1yG2sJcZp5d4RtWvB", "bob@example.com"),
        ("api_key_id", "apikey_01Rj2N8SVvo6BePZj99NhmiT", "alice@example.com"),
        ("api_key_id", "key_abc", "alice@example.com"),
        ("api_key_name", "alice-laptop", "alice@example.com"),
        ("api_key_name", "ci-shared", "bob@example.com"),
        ("openai_user_id", "user-abc123XyZ", "alice@example.com"),
        ("openai_user_id", "user-def456UvW", "bob@example.com"),
    ]
    written = files_of(settings.data_dir)
    assert [p for p, b in written.items() if ANTHROPIC_KEY.encode() in b or OPENAI_KEY.encode() in b] == []


def test_the_same_pages_again_change_nothing_byte_for_byte(settings: Settings) -> None:
    pages = [
        Page(KEYS1, 1, {"path": "/v1/organizations/api_keys"}),
        Page(KEYS2, 2, {"path": "/v1/organizations/api_keys"}),
    ]
    users = [Page(A_USERS, 1, {"path": "/v1/organizations/users"})]
    land_identity_pages(settings, "anthropic", "users", users, T1)
    first = land_identity_pages(settings, "anthropic", "api_keys", pages, T1)
    assert (first.status, first.loaded, first.identities) == ("landed", 2, 6)
    before = files_of(settings.data_dir)
    again = land_identity_pages(settings, "anthropic", "api_keys", pages, T1)
    later = land_identity_pages(settings, "anthropic", "api_keys", pages, T1 + timedelta(days=1))
    assert (again.status, later.status) == ("unchanged", "unchanged")
    assert (later.loaded, later.identities) == (2, 6)
    assert files_of(settings.data_dir) == before


def test_a_key_gone_from_a_later_pull_ends_the_day_after_that_pull(settings: Settings) -> None:
    land_identity_pages(settings, "anthropic", "users", [Page(A_USERS, 1)], T1)
    land_identity_pages(settings, "anthropic", "api_keys", [Page(KEYS1, 1), Page(KEYS2, 2)], T1)
    only_ci = json.loads(KEYS2)
    only_ci["data"][0]["status"] = "archived"
    outcome = land_identity_pages(
        settings, "anthropic", "api_keys", [Page(json.dumps(only_ci).encode(), 1)], T1 + timedelta(days=2)
    )
    assert outcome.status == "landed"
    ends = dict(
        reference_frame(settings, PULLED_IDENTITIES)
        .filter(pl.col("kind") == "api_key_id")
        .select("value", "valid_to")
        .iter_rows()
    )
    # alice's key is missing from the 03-07 pull: hers through 03-07; ci-shared was already archived on 03-05
    assert ends == {
        "apikey_01Rj2N8SVvo6BePZj99NhmiT": date(2026, 3, 8),
        "apikey_01Kq7Lx1yG2sJcZp5d4RtWvB": date(2026, 3, 6),
    }


def test_a_page_that_is_not_a_list_lands_nothing(settings: Settings) -> None:
    with pytest.raises(IdentityPageError) as raised:
        land_identity_pages(settings, "anthropic", "api_keys", [Page(KEYS1, 1), Page(b"<html>502</html>", 2)], T1)
    assert str(raised.value) == (
        "anthropic api_keys: page 2 is not a JSON object with a 'data' list; nothing was written"
    )
    assert not manifest_path(settings).exists() and not (settings.reference / "identity" / "pages").exists()


def test_without_a_key_a_provider_is_skipped_with_a_warning_or_exits_2_when_named(
    settings: Settings,
    httpserver: HTTPServer,
    cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_lists(httpserver)
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    code, out, err = cli("reference", "pull")
    assert code == 0
    assert err == "warning: openai: OPENAI_ADMIN_KEY is not set; its key and user lists were skipped\n"
    assert [line.split()[1] for line in out.splitlines()] == ["anthropic", "anthropic"]
    code, out, err = cli("reference", "pull", "--provider", "openai")
    assert (code, out) == (2, "")
    assert err == "tokencomp: openai identity: no credentials: set OPENAI_ADMIN_KEY to pull it\n"


def test_a_refused_key_exits_2_and_writes_nothing(
    settings: Settings, httpserver: HTTPServer, cli: Callable[..., tuple[int, str, str]]
) -> None:
    httpserver.expect_request("/v1/organizations/users").respond_with_data("no", status=401)
    code, out, err = cli("reference", "pull", "--provider", "anthropic")
    assert (code, out) == (2, "")
    assert err == (
        "tokencomp: anthropic_users: the provider refused the key in ANTHROPIC_ADMIN_API_KEY (HTTP 401); "
        "nothing was written\n"
    )
    assert not (settings.reference / "identity").exists()


USAGE_DAY = "2026-03-03"


def usage_page() -> bytes:
    """One day of the Anthropic messages usage report: Alice's key, Bob's account, Bob's (later archived) key."""
    base = {
        "uncached_input_tokens": 1000,
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "cache_read_input_tokens": 0,
        "output_tokens": 100,
        "server_tool_use": {"web_search_requests": 0},
        "model": "claude-opus-4-1-20250805",
        "account_id": None,
        "api_key_id": None,
        "service_account_id": None,
        "workspace_id": None,
        "service_tier": None,
        "context_window": None,
        "inference_geo": None,
    }
    results = [
        {**base, "api_key_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT"},
        {**base, "account_id": "user_01PxT6s3kVbN8mQ2rLz4HcYd"},
        {**base, "api_key_id": "apikey_01Kq7Lx1yG2sJcZp5d4RtWvB", "output_tokens": 7},
        {**base, "api_key_id": "apikey_nobody_knows", "output_tokens": 3},
    ]
    bucket = {"starting_at": f"{USAGE_DAY}T00:00:00Z", "ending_at": "2026-03-04T00:00:00Z", "results": results}
    return json.dumps({"data": [bucket], "has_more": False, "next_page": None}).encode()


def test_a_whole_run_resolves_pulled_keys_and_users_to_engineers_with_no_hand_alias(
    settings: Settings,
    httpserver: HTTPServer,
    cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    monkeypatch.delenv("OPENAI_ADMIN_KEY")  # the run pulls every source with a key: Anthropic's only here
    serve_lists(httpserver)
    httpserver.expect_request("/v1/organizations/usage_report/messages").respond_with_data(
        usage_page(), content_type="application/json"
    )
    empty = b'{"data": [], "has_more": false, "next_page": null}'
    for path in ("/v1/organizations/cost_report", "/v1/organizations/usage_report/claude_code"):
        httpserver.expect_request(path).respond_with_data(empty, content_type="application/json")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,email,name,team,cost_centre,level,title,location,valid_from,valid_to\n"
        'E1,alice@example.com,Alice,core,CC1,L5,Engineer,"Austin, TX",2024-01-01,\n'
        'E2,bob@example.com,Bob,core,CC1,L5,Engineer,"Austin, TX",2024-01-01,\n'
    )
    assert cli("reference", "load", "roster", str(roster))[0] == 0
    assert cli("reference", "pull", "--provider", "anthropic")[0] == 0
    assert cli("pull", "anthropic_usage", "--from", USAGE_DAY, "--to", USAGE_DAY)[0] == 0
    code, _, err = cli("run", "--date", USAGE_DAY)
    assert code == 0, err
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        resolved = con.sql(
            "select principal_kind, principal_id, engineer_id, sum(output_tokens)::bigint from core.fct_usage_daily "
            "group by all order by all"
        ).fetchall()
        origins = con.sql("select distinct origin from core.dim_alias order by 1").fetchall()
    assert resolved == [
        ("anthropic_account_id", "user_01PxT6s3kVbN8mQ2rLz4HcYd", "E2", 100),
        ("api_key_id", "apikey_01Kq7Lx1yG2sJcZp5d4RtWvB", "E2", 7),  # archived later: still Bob's that day
        ("api_key_id", "apikey_01Rj2N8SVvo6BePZj99NhmiT", "E1", 100),
        ("api_key_id", "apikey_nobody_knows", None, 3),
    ]
    assert origins == [("pulled",), ("roster",)]
    everything = [p for p in settings.data_dir.parent.rglob("*") if p.is_file()]
    assert [p for p in everything if ANTHROPIC_KEY.encode() in p.read_bytes()] == []


def test_pulled_identities_are_not_a_kind_to_load_by_hand(settings: Settings, tmp_path: Path) -> None:
    csv = tmp_path / "ids.csv"
    csv.write_text("provider,kind,value,email,valid_from,valid_to\nanthropic,api_key_id,k,a@x.example,,\n")
    with pytest.raises(ReferenceError, match=r"^pulled_identities comes from the providers' key and user lists"):
        load_reference(settings, PULLED_IDENTITIES, [csv])
    assert PULLED_IDENTITIES not in USER_KINDS
