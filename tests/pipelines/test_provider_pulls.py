"""`tokencomp pull` for openai_usage, openai_costs and anthropic_claude_code, against a real HTTP server on
127.0.0.1 (pytest-httpserver) serving the providers' documented pages."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.cli import main
from pipelines.clients.openai import USAGE_GROUP_BY
from pipelines.config import ClientConfig, Settings
from pipelines.services.ingest import read_manifest
from tests.conftest import SAMPLES

OPENAI_KEY = "sk-admin-FAKE-do-not-leak-81c3"
ANTHROPIC_KEY = "sk-ant-admin01-FAKE-do-not-leak-2b77"
USAGE = "/v1/organization/usage/"
COSTS = "/v1/organization/costs"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
WINDOW = ("--from", "2026-03-02", "--to", "2026-03-04")

Handler = Callable[[Request], Response]


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


COMPLETIONS1 = _sample("openai_usage_completions_grouped_example.json")
COMPLETIONS2 = _sample("openai_usage_completions_grouped_page2.json")
SIBLINGS = {name: _sample(f"openai_usage_{name}_example.json") for name in USAGE_GROUP_BY if name != "completions"}
COSTS1, COSTS2 = _sample("openai_costs_page1.json"), _sample("openai_costs_page2.json")
CC1, CC2 = _sample("anthropic_claude_code_day1_page1.json"), _sample("anthropic_claude_code_day1_page2.json")
CC3 = _sample("anthropic_claude_code_day3.json")
EMPTY_DAY = b'{"data": [], "has_more": false, "next_page": null}'


def _json(body: bytes) -> Response:
    return Response(body, content_type="application/json")


def _fixed(body: bytes) -> Handler:
    return lambda r: _json(body)


def _by_cursor(first: bytes, second: bytes) -> Handler:
    cursor = json.loads(first)["next_page"]
    return lambda r: _json(second if r.args.get("page") == cursor else first)


def _claude_code_day(r: Request) -> Response:
    day = r.args["starting_at"]
    if day == "2026-03-02":
        return _by_cursor(CC1, CC2)(r)
    return _json(CC3 if day == "2026-03-04" else EMPTY_DAY)


# source -> (the path failures are injected on, its good answer, every other path's answer)
ROUTES: dict[str, tuple[str, Handler, dict[str, Handler]]] = {
    "openai_usage": (
        f"{USAGE}completions",
        _by_cursor(COMPLETIONS1, COMPLETIONS2),
        {f"{USAGE}{name}": _fixed(body) for name, body in SIBLINGS.items()},
    ),
    "openai_costs": (COSTS, _by_cursor(COSTS1, COSTS2), {}),
    "anthropic_claude_code": (CLAUDE_CODE, _claude_code_day, {}),
}


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """The test server listens on loopback 127.0.0.1 only (any free port)."""
    return ("127.0.0.1", 0)


@pytest.fixture
def pull(
    settings: Settings,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str, str]]:
    """Run `tokencomp` against the local server with tiny retry waits; returns (exit code, stdout, stderr)."""
    config = settings.data_dir.parent / "tokencomp.toml"
    config.write_text(
        "[clients]\ntimeout_seconds = 0.2\nmax_request_seconds = 1.5\nbackoff_initial_seconds = 0.01\n"
        f'backoff_max_seconds = 0.05\n[clients.anthropic]\nbase_url = "{httpserver.url_for("/")}"\n'
        f'[clients.openai]\nbase_url = "{httpserver.url_for("/v1")}"\n'
    )
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", ANTHROPIC_KEY)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--data-dir", str(settings.data_dir), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _serve(httpserver: HTTPServer, source: str, first: list[Handler], seen: list[Request]) -> None:
    """Serve `source`'s pages; requests to its main path are answered by `first` in turn, then by its good answer."""
    path, good, others = ROUTES[source]
    main_seen: list[Request] = []

    def handle(request: Request) -> Response:
        seen.append(request)
        main_seen.append(request)
        n = len(main_seen) - 1
        return first[n](request) if n < len(first) else good(request)

    httpserver.expect_request(path).respond_with_handler(handle)
    for other, answer in others.items():
        httpserver.expect_request(other).respond_with_handler(lambda r, a=answer: (seen.append(r), a(r))[1])


def _written(settings: Settings) -> list[Path]:
    return [p for p in settings.data_dir.rglob("*") if p.is_file()]


def _landed(settings: Settings) -> list[bytes]:
    return [(settings.raw / p).read_bytes() for p in read_manifest(settings)["raw_path"]]


def test_openai_usage_pulls_every_endpoint_with_its_group_by_to_the_last_page(
    settings: Settings,
    httpserver: HTTPServer,
    pull: Callable[..., tuple[int, str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Request] = []
    _serve(httpserver, "openai_usage", [], seen)
    with caplog.at_level(logging.DEBUG):
        code, out, err = pull("pull", "openai_usage", *WINDOW)
    assert (code, err) == (0, "")
    # completions (2 pages), then each sibling endpoint in turn, numbered through the pull
    assert [line.split()[0] for line in out.splitlines()] == ["landed"] * 9
    assert [line.split()[2] for line in out.splitlines()] == [
        f"openai_usage_2026-03-02_2026-03-04_page{n:03d}.json" for n in range(1, 10)
    ]
    assert [r.path.removeprefix(USAGE) for r in seen] == ["completions", "completions", *SIBLINGS]
    for request in seen:
        endpoint = request.path.removeprefix(USAGE)
        assert request.args.getlist("group_by") == list(USAGE_GROUP_BY[endpoint])
        assert (request.args["start_time"], request.args["end_time"], request.args["bucket_width"]) == (
            "1772409600",
            "1772668800",
            "1d",
        )
        assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert seen[1].args["page"] == json.loads(COMPLETIONS1)["next_page"]
    assert _landed(settings) == [COMPLETIONS1, COMPLETIONS2, *SIBLINGS.values()]
    requests = [json.loads(r) for r in read_manifest(settings)["request"]]
    assert requests[2] == {
        "path": "/organization/usage/embeddings",
        "start_time": "1772409600",
        "end_time": "1772668800",
        "bucket_width": "1d",
        "limit": "31",
        "group_by": ["project_id", "user_id", "api_key_id", "model"],
    }
    # 4 + 2 completions rows, 2 + 1 + 2 + 1 + 1 + 1 + 1 sibling rows; the empty buckets add none
    assert sum(int(line.split("parsed ")[1].split(",")[0]) for line in out.splitlines()) == 15

    leaked = [p for p in _written(settings) if OPENAI_KEY.encode() in p.read_bytes()]
    assert leaked == [] and OPENAI_KEY not in caplog.text


def test_openai_costs_groups_by_project_and_line_item(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    seen: list[Request] = []
    _serve(httpserver, "openai_costs", [], seen)
    code, out, err = pull("pull", "openai_costs", *WINDOW)
    assert (code, err) == (0, "")
    name = "openai_costs_2026-03-02_2026-03-04_page"
    assert out.splitlines() == [
        f"landed       openai_costs  {name}001.json  parsed 5, loaded 5, rejected 0",
        f"landed       openai_costs  {name}002.json  parsed 2, loaded 2, rejected 0",
    ]
    assert [r.args.getlist("group_by") for r in seen] == [["project_id", "line_item"]] * 2
    assert [(r.args["bucket_width"], r.args["limit"], r.args.get("page")) for r in seen] == [
        ("1d", "180", None),
        ("1d", "180", "page_AAAAAGmqsYA_costs2"),
    ]
    assert _landed(settings) == [COSTS1, COSTS2]


def test_claude_code_is_asked_one_day_at_a_time_and_paged_within_the_day(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    seen: list[Request] = []
    _serve(httpserver, "anthropic_claude_code", [], seen)
    code, out, err = pull("pull", "anthropic_claude_code", *WINDOW)
    assert (code, err) == (0, "")
    assert [(r.args["starting_at"], r.args.get("page")) for r in seen] == [
        ("2026-03-02", None),
        ("2026-03-02", "page_MjAyNi0wMy0wMlQwMDowMDowMFo="),
        ("2026-03-03", None),
        ("2026-03-04", None),
    ]
    assert {r.args["limit"] for r in seen} == {"1000"} and "group_by[]" not in seen[0].args
    assert seen[0].headers["x-api-key"] == ANTHROPIC_KEY and seen[0].headers["anthropic-version"] == "2023-06-01"
    name = "anthropic_claude_code_2026-03-02_2026-03-04_page"
    # one row per (record, model): 3 + 1; the empty day has none; the last day's estimate 312.5 cents
    assert out.splitlines() == [
        f"landed       anthropic_claude_code  {name}001.json  parsed 3, loaded 3, rejected 0",
        f"landed       anthropic_claude_code  {name}002.json  parsed 1, loaded 1, rejected 0",
        f"landed       anthropic_claude_code  {name}003.json  parsed 0, loaded 0, rejected 0",
        f"landed       anthropic_claude_code  {name}004.json  parsed 1, loaded 1, rejected 0",
    ]
    assert _landed(settings) == [CC1, CC2, EMPTY_DAY, CC3]


SOURCES = sorted(ROUTES)
FAILURES = [
    pytest.param(lambda r: Response("slow down", status=429, headers={"retry-after": "1"}), id="429-retry-after"),
    pytest.param(lambda r: Response('{"error": {"message": "overloaded"}}', status=500), id="500"),
    pytest.param(lambda r: (time.sleep(0.5), Response(b"{}"))[1], id="timeout"),
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("failure", FAILURES)
def test_a_retryable_failure_then_success_lands_every_page(
    source: str, failure: Handler, settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    seen: list[Request] = []
    _serve(httpserver, source, [failure], seen)
    code, out, err = pull("pull", source, *WINDOW)
    assert (code, err) == (0, "")
    # the retried request lands once, like every other page
    expected = {"openai_usage": 9, "openai_costs": 2, "anthropic_claude_code": 4}[source]
    assert len(read_manifest(settings)) == expected == len(out.splitlines())
    assert len(seen) >= expected + 1


@pytest.mark.parametrize("source", SOURCES)
def test_a_refused_key_is_one_line_naming_source_and_variable_and_writes_nothing(
    source: str, settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    # the refusal comes on the second request, after a good page: nothing of the pull is kept
    ok = ROUTES[source][1]
    _serve(httpserver, source, [ok, lambda r: Response('{"error": {"message": "invalid key"}}', status=401)], [])
    code, out, err = pull("pull", source, *WINDOW)
    env = "ANTHROPIC_ADMIN_API_KEY" if source.startswith("anthropic") else "OPENAI_ADMIN_KEY"
    assert (code, out) == (2, "")
    assert err == f"tokencomp: {source}: the provider refused the key in {env} (HTTP 401); nothing was written\n"
    assert [p.name for p in _written(settings)] == [".tokencomp.lock"]


@pytest.mark.parametrize("source", SOURCES)
def test_a_repeating_cursor_is_an_error_and_writes_nothing(
    source: str, settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    looping = json.dumps({"object": "page", "data": [], "has_more": True, "next_page": "page_same"}).encode()
    seen: list[Request] = []
    _serve(httpserver, source, [lambda r: _json(looping)] * 3, seen)
    code, out, err = pull("pull", source, *WINDOW)
    path = ROUTES[source][0].removeprefix("/v1") if source.startswith("openai") else ROUTES[source][0]
    assert (code, out) == (2, "")
    assert (
        err == f"tokencomp: {source}: {path} repeated the cursor 'page_same' after page 2; stopped rather than loop\n"
    )
    assert len(seen) == 2
    assert [p.name for p in _written(settings)] == [".tokencomp.lock"]


def test_openai_base_url_default(settings: Settings) -> None:
    assert settings.clients["openai"] == ClientConfig("https://api.openai.com/v1", 30.0, 300.0, 1.0, 60.0)


def _costs_lake(settings: Settings) -> pl.DataFrame:
    return (
        pl.scan_parquet(settings.lake / "usage" / "**" / "*.parquet", hive_partitioning=True)
        .filter(pl.col("source") == "openai_costs")
        .select("billing_date", "scope_id", "line_item", "billed_cost_usd", "record_id")
        .collect()
        .sort(pl.all())
    )


def _warehouse_billed(settings: Settings) -> tuple[int, Decimal]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        [(records, billed)] = con.sql(
            "select sum(records)::bigint, sum(billed_cost_usd) from core.fct_usage_daily where source = 'openai_costs'"
        ).fetchall()
    return int(records), billed


def test_a_re_pull_of_costs_with_one_corrected_value_changes_exactly_that_value_in_lake_and_warehouse(
    settings: Settings,
    httpserver: HTTPServer,
    pull: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    _serve(httpserver, "openai_costs", [], [])
    assert pull("pull", "openai_costs", *WINDOW)[0] == 0
    # `tokencomp run` pulls every source (and identity list) whose key is set; here the pulls are the explicit ones
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY")
    assert pull("run", *WINDOW)[0] == 0
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    before, (records, billed) = _costs_lake(settings), _warehouse_billed(settings)
    # the warehouse holds what the pages say, summed by plain Python from the served text (each amount
    # rounded once at 12 places: 0.8023212500000001 has 16)
    served = [
        r["amount"]["value"].quantize(Decimal("1e-12"))
        for page in (COSTS1, COSTS2)
        for b in json.loads(page, parse_float=Decimal)["data"]
        for r in b["results"]
    ]
    assert (before.height, records, billed) == (7, 7, sum(served))

    # OpenAI corrects one line of 2026-03-03; the overlapping re-pull of 03..04 delivers it
    corrected = json.loads(COSTS2)
    corrected["data"][0]["results"][0]["amount"]["value"] = 1.2346
    httpserver.clear()
    _serve(httpserver, "openai_costs", [lambda r: _json(json.dumps(corrected).encode())], [])
    code, out, _ = pull("pull", "openai_costs", "--from", "2026-03-03", "--to", "2026-03-04")
    assert code == 0 and out.startswith("landed")
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    assert pull("run", *WINDOW)[0] == 0
    after = _costs_lake(settings)
    assert _warehouse_billed(settings) == (7, billed + Decimal("0.0001"))
    expected = before.with_columns(
        pl.when(pl.col("billed_cost_usd") == Decimal("1.2345"))
        .then(pl.lit(Decimal("1.2346"), pl.Decimal(38, 12)))
        .otherwise(pl.col("billed_cost_usd"))
        .alias("billed_cost_usd")
    )
    assert before.filter(pl.col("billed_cost_usd") == Decimal("1.2345")).height == 1
    assert after.equals(expected.sort(pl.all()))
    everything = [p for p in settings.data_dir.parent.rglob("*") if p.is_file()]
    assert [p for p in everything if OPENAI_KEY.encode() in p.read_bytes()] == []
