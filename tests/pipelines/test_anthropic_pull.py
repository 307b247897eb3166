"""`tokencomp pull` for the Anthropic Admin API, against a real HTTP server on 127.0.0.1 (pytest-httpserver)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.cli import main
from pipelines.config import ClientConfig, ConfigError, Settings, load_settings
from pipelines.services.ingest import read_manifest
from tests.conftest import SAMPLES

FAKE_KEY = "sk-ant-admin01-FAKE-do-not-leak-4f2a9c"
USAGE = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"
PAGE1 = (SAMPLES / "anthropic_usage_report_messages_grouped_page1.json").read_bytes()
PAGE2 = (SAMPLES / "anthropic_usage_report_messages_grouped_page2.json").read_bytes()
CURSOR = json.loads(PAGE1)["next_page"]

Handler = Callable[[Request], Response]


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
    """Run `tokencomp pull` against the local server with tiny retry waits; returns (exit code, stdout, stderr)."""
    config = settings.data_dir.parent / "tokencomp.toml"
    config.write_text(
        "[clients]\ntimeout_seconds = 0.2\nmax_request_seconds = 1.5\nbackoff_initial_seconds = 0.01\n"
        f'backoff_max_seconds = 0.05\n[clients.anthropic]\nbase_url = "{httpserver.url_for("/")}"\n'
    )
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--data-dir", str(settings.data_dir), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _serve(httpserver: HTTPServer, path: str, answers: list[Handler | bytes], seen: list[Request]) -> None:
    """Answer requests to `path` in turn from `answers` (the last one repeats); keep every request in `seen`."""

    def handle(request: Request) -> Response:
        seen.append(request)
        answer = answers[min(len(seen) - 1, len(answers) - 1)]
        return answer(request) if callable(answer) else Response(answer, content_type="application/json")

    httpserver.expect_request(path).respond_with_handler(handle)


def _by_cursor(request: Request) -> Response:
    return Response(PAGE2 if request.args.get("page") == CURSOR else PAGE1, content_type="application/json")


def _written(settings: Settings) -> list[Path]:
    return [p for p in settings.data_dir.rglob("*") if p.is_file()]


def test_usage_pull_follows_every_page_and_lands_the_bytes_with_their_request(
    settings: Settings,
    httpserver: HTTPServer,
    pull: Callable[..., tuple[int, str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Request] = []
    _serve(httpserver, USAGE, [_by_cursor], seen)
    with caplog.at_level(logging.DEBUG):
        code, out, err = pull("pull", "anthropic_usage", "--from", "2026-03-02", "--to", "2026-03-04")
    assert (code, err) == (0, "")
    name = "anthropic_usage_2026-03-02_2026-03-04_page"
    assert out.splitlines() == [
        f"landed       anthropic_usage  {name}001.json  parsed 3, loaded 3, rejected 0",
        f"landed       anthropic_usage  {name}002.json  parsed 1, loaded 1, rejected 0",
    ]
    first = seen[0]
    assert first.headers["x-api-key"] == FAKE_KEY
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert first.headers["anthropic-beta"] == "fast-mode-2026-02-01"
    assert first.args.getlist("group_by[]") == [
        "account_id",
        "api_key_id",
        "service_account_id",
        "workspace_id",
        "model",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    ]
    assert (first.args["starting_at"], first.args["ending_at"], first.args["bucket_width"]) == (
        "2026-03-02T00:00:00Z",
        "2026-03-05T00:00:00Z",
        "1d",
    )
    assert [r.args.get("page") for r in seen] == [None, CURSOR]

    manifest = read_manifest(settings)
    assert [(settings.raw / p).read_bytes() for p in manifest["raw_path"]] == [PAGE1, PAGE2]
    requests = [json.loads(r) for r in manifest["request"]]
    assert [r.get("page") for r in requests] == [None, CURSOR]
    assert requests[0]["bucket_width"] == "1d" and requests[0]["path"] == USAGE
    assert requests[0]["group_by"] == first.args.getlist("group_by[]")
    assert (manifest["min_date"].to_list()[0].isoformat(), manifest["max_date"].to_list()[1].isoformat()) == (
        "2026-03-02",
        "2026-03-04",
    )

    # the same bytes pulled again change nothing
    code, out, _ = pull("pull", "anthropic_usage", "--from", "2026-03-02", "--to", "2026-03-04")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["duplicate", "duplicate"]
    assert read_manifest(settings).height == 2

    leaked = [p for p in _written(settings) if FAKE_KEY.encode() in p.read_bytes()]
    assert leaked == [] and FAKE_KEY not in caplog.text and FAKE_KEY not in out + err


def test_cost_pull_groups_by_workspace_and_description_without_the_beta_header(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    body = (SAMPLES / "anthropic_cost_report_grouped_example.json").read_bytes()
    seen: list[Request] = []
    _serve(httpserver, COST, [body], seen)
    code, out, err = pull("pull", "anthropic_cost", "--from", "2026-03-02", "--to", "2026-03-03")
    assert (code, err) == (0, "")
    assert out.startswith("landed       anthropic_cost  anthropic_cost_2026-03-02_2026-03-03_page001.json")
    assert seen[0].args.getlist("group_by[]") == ["workspace_id", "description"]
    assert "anthropic-beta" not in seen[0].headers
    assert (settings.raw / read_manifest(settings)["raw_path"][0]).read_bytes() == body


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda r: Response("slow down", status=429, headers={"retry-after": "1"}), id="429-retry-after"),
        pytest.param(lambda r: Response('{"error": {"message": "overloaded"}}', status=500), id="500"),
        pytest.param(lambda r: (time.sleep(0.5), Response(PAGE2))[1], id="timeout"),
    ],
)
def test_a_retryable_failure_then_success_lands_the_page(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]], failure: Handler
) -> None:
    seen: list[Request] = []
    _serve(httpserver, USAGE, [failure, PAGE2], seen)
    code, _, err = pull("pull", "anthropic_usage", "--from", "2026-03-04", "--to", "2026-03-04")
    assert (code, err) == (0, "")
    # a single-threaded server answers a timed-out request late, so a timeout may cost more than one retry
    assert len(seen) >= 2
    assert [(settings.raw / p).read_bytes() for p in read_manifest(settings)["raw_path"]] == [PAGE2]


def test_a_refused_key_is_one_line_naming_source_and_variable_and_writes_nothing(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    _serve(httpserver, USAGE, [lambda r: Response('{"error": {"type": "authentication_error"}}', status=401)], [])
    code, out, err = pull("pull", "anthropic_usage", "--from", "2026-03-02", "--to", "2026-03-04")
    assert (code, out) == (2, "")
    assert err == (
        "tokencomp: anthropic_usage: the provider refused the key in ANTHROPIC_ADMIN_API_KEY (HTTP 401); "
        "nothing was written\n"
    )
    assert [p.name for p in _written(settings)] == [".tokencomp.lock"]


def test_a_repeating_cursor_is_an_error_and_writes_nothing(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    looping = json.dumps({"data": [], "has_more": True, "next_page": "page_same"}).encode()
    seen: list[Request] = []
    _serve(httpserver, USAGE, [looping], seen)
    code, out, err = pull("pull", "anthropic_usage", "--from", "2026-03-02", "--to", "2026-03-04")
    assert (code, out) == (2, "")
    assert err == (
        "tokencomp: anthropic_usage: /v1/organizations/usage_report/messages repeated the cursor 'page_same' "
        "after page 2; stopped rather than loop\n"
    )
    assert len(seen) == 2
    assert [p.name for p in _written(settings)] == [".tokencomp.lock"]


def test_a_failure_that_outlasts_the_request_budget_exits_2_naming_the_source(
    settings: Settings, httpserver: HTTPServer, pull: Callable[..., tuple[int, str, str]]
) -> None:
    _serve(httpserver, USAGE, [lambda r: Response("down", status=503)], [])
    code, out, err = pull("pull", "anthropic_usage", "--from", "2026-03-02", "--to", "2026-03-04")
    assert (code, out) == (2, "")
    assert err == (
        "tokencomp: anthropic_usage: /v1/organizations/usage_report/messages still failing after retrying "
        "for up to 1.5 s: HTTP 503\n"
    )


def test_no_key_in_the_environment_is_one_line_naming_the_variable(
    settings: Settings,
    httpserver: HTTPServer,
    pull: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY")
    code, out, err = pull("pull", "anthropic_cost", "--from", "2026-03-02", "--to", "2026-03-04")
    assert (code, out, err) == (
        2,
        "",
        "tokencomp: anthropic_cost: no credentials: set ANTHROPIC_ADMIN_API_KEY to pull it\n",
    )
    assert len(httpserver.log) == 0


def _lake(settings: Settings) -> pl.DataFrame:
    columns = [
        "billing_date",
        "model_raw",
        "principal_id",
        "uncached_input_tokens",
        "output_tokens",
        "cache_read_tokens",
    ]
    return (
        pl.scan_parquet(settings.lake / "usage" / "**" / "*.parquet", hive_partitioning=True)
        .filter(pl.col("source") == "anthropic_usage")
        .select(columns)
        .collect()
        .sort(pl.all())
    )


def _warehouse_tokens(settings: Settings) -> tuple[int, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        [(records, output)] = con.sql(
            "select sum(records)::bigint, sum(output_tokens)::bigint from core.fct_usage_daily"
        ).fetchall()
    return int(records), int(output)


def test_a_re_pull_with_one_corrected_value_changes_exactly_that_value_in_lake_and_warehouse(
    settings: Settings,
    httpserver: HTTPServer,
    pull: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    seen: list[Request] = []
    _serve(httpserver, USAGE, [_by_cursor], seen)
    assert pull("pull", "anthropic_usage", "--from", "2026-03-02", "--to", "2026-03-04")[0] == 0
    # `tokencomp run` pulls every source whose key is set; here the pulls are the explicit ones above
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY")
    assert pull("run", "--from", "2026-03-02", "--to", "2026-03-04")[0] == 0
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    before, tokens_before = _lake(settings), _warehouse_tokens(settings)
    assert before.height == 4
    # the warehouse holds what the pages say, summed by plain Python from the served bytes
    served = [r for page in (PAGE1, PAGE2) for b in json.loads(page)["data"] for r in b["results"]]
    assert tokens_before == (len(served), sum(r["output_tokens"] for r in served))

    # the provider corrects one output count of 2026-03-03..04; the overlapping re-pull delivers it
    corrected = json.loads(PAGE2)
    corrected["data"][0]["results"][0]["output_tokens"] = 20999
    httpserver.clear()
    _serve(httpserver, USAGE, [json.dumps(corrected).encode()], [])
    code, out, _ = pull("pull", "anthropic_usage", "--from", "2026-03-04", "--to", "2026-03-04")
    assert code == 0 and out.startswith("landed")
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY")
    assert pull("run", "--from", "2026-03-02", "--to", "2026-03-04")[0] == 0
    after = _lake(settings)
    records, output = _warehouse_tokens(settings)
    assert (records, output - tokens_before[1]) == (tokens_before[0], 20999 - 20331)

    expected = before.with_columns(
        pl.when(pl.col("output_tokens") == 20331).then(20999).otherwise(pl.col("output_tokens")).alias("output_tokens")
    )
    assert before.filter(pl.col("output_tokens") == 20331).height == 1
    assert after.equals(expected.sort(pl.all()))
    # nothing the pulls and runs wrote (raw, manifest, lake, warehouse, Dagster's event log) holds the key
    everything = [p for p in settings.data_dir.parent.rglob("*") if p.is_file()]
    assert [p for p in everything if FAKE_KEY.encode() in p.read_bytes()] == []


def test_client_config_defaults_and_overrides(settings: Settings, tmp_path: Path) -> None:
    assert settings.clients["anthropic"] == ClientConfig("https://api.anthropic.com", 30.0, 300.0, 1.0, 60.0)
    config = tmp_path / "override.toml"
    config.write_text('[clients]\nmax_request_seconds = 60\n[clients.anthropic]\nbase_url = "http://127.0.0.1:9/"\n')
    assert load_settings(config).clients["anthropic"] == ClientConfig("http://127.0.0.1:9", 30.0, 60.0, 1.0, 60.0)
    config.write_text('[clients.anthropic]\nbase_url = "ftp://proxy"\n')
    with pytest.raises(ConfigError, match=r"clients\.anthropic\.base_url must be an http\(s\) URL, not .ftp://proxy."):
        load_settings(config)
