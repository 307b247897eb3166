"""The nightly run pulls by itself: `tokencomp run` against a real HTTP server on 127.0.0.1 (pytest-httpserver)
serving the Anthropic Admin API's documented pages, through real Dagster runs in a real instance."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.cli import main
from pipelines.config import ConfigError, Settings, load_settings
from pipelines.definitions import build_definitions
from pipelines.defs.automation import build_after_pull, build_request, nightly_job, pull_job
from pipelines.defs.pull import PROVIDER_STEPS, pull_identity_lists
from pipelines.runner import dagster_instance, last_pull, run_nightly
from tests.conftest import SAMPLES, land_sample

FAKE_KEY = "sk-ant-admin01-FAKE-nightly-7d1e"
USAGE = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"
PAGE1 = (SAMPLES / "anthropic_usage_report_messages_grouped_page1.json").read_bytes()
PAGE2 = (SAMPLES / "anthropic_usage_report_messages_grouped_page2.json").read_bytes()
COSTS = (SAMPLES / "anthropic_cost_report_grouped_example.json").read_bytes()
CURSOR = json.loads(PAGE1)["next_page"]
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
EMPTY = b'{"data": [], "has_more": false, "next_page": null}'
NO_KEY = "no credentials (set ANTHROPIC_ADMIN_API_KEY)"
NO_OPENAI_KEY = "no credentials (set OPENAI_ADMIN_KEY)"

Handler = Callable[[Request], Response]
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """The test server listens on loopback 127.0.0.1 only (any free port)."""
    return ("127.0.0.1", 0)


def _config(settings: Settings, base_url: str, extra: str = "") -> Path:
    """Tiny retry waits (client and Dagster), the local server as the Anthropic API, a 2-day re-pull window."""
    config = settings.data_dir.parent / "tokencomp.toml"
    config.write_text(
        "[clients]\ntimeout_seconds = 0.5\nmax_request_seconds = 0.3\nbackoff_initial_seconds = 0.01\n"
        f'backoff_max_seconds = 0.02\n[clients.anthropic]\nbase_url = "{base_url}"\n'
        f'[clients.openai]\nbase_url = "{base_url.rstrip("/")}/v1"\n'
        f"[pull]\nrepull_days = 2\nretry_delay_seconds = 0.01\n{extra}"
    )
    return config


@pytest.fixture
def cli(
    settings: Settings, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """`tokencomp --config … --data-dir … ARGS` in process, in a test Dagster home; (exit code, stdout, stderr)."""
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    _config(settings, httpserver.url_for("/"))

    def run(*argv: str) -> tuple[int, str, str]:
        config = settings.data_dir.parent / "tokencomp.toml"
        code = main(["--config", str(config), "--data-dir", str(settings.data_dir), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _serve(
    httpserver: HTTPServer, path: str | re.Pattern[str], answers: list[Handler | bytes], seen: list[Request]
) -> None:
    """Answer requests to `path` in turn from `answers` (the last one repeats); keep every request in `seen`."""

    def handle(request: Request) -> Response:
        seen.append(request)
        answer = answers[min(len(seen) - 1, len(answers) - 1)]
        return answer(request) if callable(answer) else Response(answer, content_type="application/json")

    httpserver.expect_request(path).respond_with_handler(handle)


def _serve_anthropic_lists(httpserver: HTTPServer, usage: bytes | None = None) -> None:
    """What every Anthropic run also asks for: the Claude Code report (an empty day each day, unless a test
    serves its own) and the identity lists (the pages test_identity_pull.py serves)."""
    from tests.pipelines.test_identity_pull import A_USERS, KEYS1, KEYS2

    httpserver.expect_request(CLAUDE_CODE).respond_with_data(EMPTY, content_type="application/json")
    httpserver.expect_request("/v1/organizations/users").respond_with_data(A_USERS, content_type="application/json")
    keys = KEYS1, "apikey_01Rj2N8SVvo6BePZj99NhmiT", KEYS2
    httpserver.expect_request("/v1/organizations/api_keys").respond_with_handler(
        lambda r: Response(keys[2] if r.args.get("after_id") == keys[1] else keys[0], content_type="application/json")
    )
    if usage is not None:
        httpserver.expect_request(USAGE).respond_with_data(usage, content_type="application/json")
        httpserver.expect_request(COST).respond_with_data(EMPTY, content_type="application/json")


def _by_cursor(request: Request) -> Response:
    return Response(PAGE2 if request.args.get("page") == CURSOR else PAGE1, content_type="application/json")


def _one(warehouse: Path, sql: str) -> object:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()[0][0]


def _served_cost_usd() -> Decimal:
    """The cost page summed by hand: amounts are decimal strings in cents."""
    return sum((Decimal(r["amount"]) for b in json.loads(COSTS)["data"] for r in b["results"]), Decimal(0)) / Decimal(
        100
    )


def test_a_whole_run_with_credentials_pulls_loads_and_publishes_what_the_api_served(
    settings: Settings, httpserver: HTTPServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    usage, cost = [], []
    _serve_anthropic_lists(httpserver)
    _serve(httpserver, USAGE, [_by_cursor], usage)
    _serve(httpserver, COST, [COSTS], cost)

    code, _, err = cli("run", "--date", "2026-03-04")

    assert code == 0, err
    lines = err.splitlines()
    assert "pulled       anthropic_usage  2026-03-02 … 2026-03-04: 2 page(s)" in lines
    assert "pulled       anthropic_cost  2026-03-02 … 2026-03-04: 1 page(s)" in lines
    assert "re-pulled pages cover 2026-03-02 … 2026-03-03: the build covers them too" in lines
    assert lines[-1].endswith("succeeded (2026-03-02 … 2026-03-04)")
    assert [r.args.get("page") for r in usage] == [None, CURSOR] and len(cost) == 1
    wh = settings.warehouse_path
    # the days the cost page bills are spent at exactly the billed dollars; 03-04 has no bill yet (list price)
    billed_days = "provider = 'anthropic' and billing_date < '2026-03-04'"
    spend = _one(wh, f"select sum(spend_usd) from core.fct_spend where {billed_days}")
    assert spend == _served_cost_usd() == Decimal("370.9535094")
    basis = _one(wh, "select string_agg(distinct cost_basis) from core.fct_spend where billing_date = '2026-03-04'")
    assert basis == "list"
    served = [r for page in (PAGE1, PAGE2) for b in json.loads(page)["data"] for r in b["results"]]
    output = _one(wh, "select sum(output_tokens)::bigint from core.fct_usage_daily where source = 'anthropic_usage'")
    assert output == sum(r["output_tokens"] for r in served) == 172538

    # the daemon's path: the sensor's build request after this pull run covers the re-pulled days too
    instance = dagster_instance()
    pull_run = instance.get_runs(filters=dg.RunsFilter(job_name="pull"), limit=1)[0]
    success = instance.all_logs(pull_run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0].dagster_event
    context = dg.build_run_status_sensor_context(
        sensor_name="build_after_pull", dagster_event=success, dagster_instance=instance, dagster_run=pull_run
    )
    request = build_after_pull(context)
    assert request.run_key == f"after-{pull_run.run_id}" and request == build_request(instance, pull_run)
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2026-03-02",
        "2026-03-04",
    )
    # the key is in no file the run wrote: raw, manifest, lake, warehouse, Dagster's event log
    everything = [p for p in settings.data_dir.parent.rglob("*") if p.is_file()]
    assert [p for p in everything if FAKE_KEY.encode() in p.read_bytes()] == []


@pytest.mark.parametrize(
    ("failure", "reason", "tries"),
    [
        pytest.param(
            lambda r: Response("overloaded", status=500),
            "{path} still failing after retrying for up to 0.3 s: HTTP 500",
            3,  # the first try and Dagster's two retries, each with the client's own retries inside
            id="500-every-time",
        ),
        pytest.param(
            lambda r: Response('{"error": {"type": "authentication_error"}}', status=401),
            "the provider refused the key in ANTHROPIC_ADMIN_API_KEY (HTTP 401); nothing was written",
            1,  # a refused key is not retried
            id="401",
        ),
    ],
)
def test_one_provider_failing_fails_its_pulls_and_the_rest_still_publishes_with_exit_2(
    settings: Settings,
    httpserver: HTTPServer,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    failure: Handler,
    reason: str,
    tries: int,
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    land_sample(settings, "openai_usage", "openai_usage_completions_grouped_example.json")
    usage, cost = [], []
    _serve_anthropic_lists(httpserver)
    _serve(httpserver, USAGE, [failure], usage)
    _serve(httpserver, COST, [failure], cost)

    code, _, err = cli("run", "--date", "2026-03-02")

    assert code == 2
    lines = err.splitlines()
    assert f"warning: pull failed: anthropic_usage: {reason.format(path=USAGE)}" in lines
    assert f"warning: pull failed: anthropic_cost: {reason.format(path=COST)}" in lines
    assert lines[-1].startswith("tokencomp: run ") and lines[-1].endswith(
        # the Claude Code days landed (new pages): the build covers the re-pull window
        " published 2026-02-28 … 2026-03-02, but the pull failed for anthropic_cost, anthropic_usage: "
        "the warehouse holds its last good data (`tokencomp status`)"
    )
    # a 401 is asked once per source; a 500 on the first try and on Dagster's two retries (each with the
    # client's own retries inside, so at least three requests)
    if tries == 1:
        assert (len(usage), len(cost)) == (1, 1)
    else:
        assert min(len(usage), len(cost)) >= tries
    instance = dagster_instance()
    last = last_pull(instance)
    assert last is not None
    retried = instance.all_logs(last[0].run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert sorted(e.step_key for e in retried) == sorted(
        ["pull__anthropic_cost", "pull__anthropic_usage"] * (tries - 1)
    )
    # the other provider's dropped page was published
    output = _one(
        settings.warehouse_path, "select sum(output_tokens)::bigint from core.fct_usage_daily where provider = 'openai'"
    )
    assert output == 90211 + 30121 + 410233 + 7003

    code, out, _ = cli("status")
    assert code == 0
    assert f"Warning: pull failed: anthropic_cost: {reason.format(path=COST)}" in out.splitlines()
    assert "Warning: anthropic_cost is stale: the warehouse holds its last good data (through never)" in out


def test_a_failed_pull_keeps_the_last_good_data_published(
    settings: Settings, httpserver: HTTPServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    _serve_anthropic_lists(httpserver)
    _serve(httpserver, USAGE, [_by_cursor], [])
    _serve(httpserver, COST, [COSTS], [])
    assert cli("run", "--date", "2026-03-02")[0] == 0
    httpserver.clear()
    _serve_anthropic_lists(httpserver)
    _serve(httpserver, USAGE, [_by_cursor], [])
    _serve(httpserver, COST, [lambda r: Response("down", status=503)], [])

    code, _, err = cli("run", "--date", "2026-03-03")

    assert code == 2 and "the pull failed for anthropic_cost:" in err.splitlines()[-1]
    spend = _one(settings.warehouse_path, "select sum(spend_usd) from core.fct_spend where provider = 'anthropic'")
    assert spend == _served_cost_usd()  # the cost page the first night pulled, still published
    out = cli("status")[1]
    assert "Warning: anthropic_cost is stale: the warehouse holds its last good data (through 2026-03-02)" in out


def test_without_credentials_every_pull_is_skipped_with_a_warning_status_shows_and_exit_0(
    settings: Settings, httpserver: HTTPServer, cli: Cli
) -> None:
    land_sample(settings, "openai_usage", "openai_usage_completions_grouped_example.json")

    code, _, err = cli("run", "--date", "2026-03-02")

    assert code == 0, err
    skipped = "anthropic_claude_code, anthropic_cost, anthropic_usage, anthropic_identity"
    assert f"warning: not pulled: {skipped}: {NO_KEY}" in err.splitlines()
    assert len(httpserver.log) == 0
    code, out, _ = cli("status")
    assert code == 0
    assert f"Warning: not pulled: {skipped}: {NO_KEY}" in out.splitlines()
    assert "Last pull: run " in out


def test_a_429_with_retry_after_is_retried_to_success_inside_the_run(
    settings: Settings, httpserver: HTTPServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    usage: list[Request] = []
    _serve_anthropic_lists(httpserver)
    _serve(
        httpserver,
        USAGE,
        [lambda r: Response("slow down", status=429, headers={"retry-after": "0"}), _by_cursor],
        usage,
    )
    _serve(httpserver, COST, [COSTS], [])

    code, _, err = cli("run", "--date", "2026-03-04")

    assert code == 0, err
    assert [r.args.get("page") for r in usage] == [None, None, CURSOR]
    assert "pulled       anthropic_usage  2026-03-02 … 2026-03-04: 2 page(s)" in err.splitlines()


def test_a_run_for_day_d_re_pulls_the_trailing_window_configured_per_source(
    settings: Settings, httpserver: HTTPServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    _config(settings, httpserver.url_for("/"), "[pull.anthropic_cost]\nrepull_days = 0\n")
    config = settings.data_dir.parent / "tokencomp.toml"
    config.write_text(config.read_text().replace("repull_days = 2\n", "repull_days = 3\n", 1))
    usage, cost = [], []
    _serve_anthropic_lists(httpserver)
    _serve(httpserver, USAGE, [_by_cursor], usage)
    _serve(httpserver, COST, [COSTS], cost)

    assert cli("run", "--date", "2026-03-05")[0] == 0

    asked = [(r.args["starting_at"], r.args["ending_at"]) for r in (usage[0], cost[0])]
    assert asked == [
        ("2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"),  # D-3 … D
        ("2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"),  # [pull.anthropic_cost] repull_days = 0
    ]


def test_the_demo_never_pulls_whatever_credentials_are_set(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    config = _config(settings, "http://127.0.0.1:9")  # nothing listens there: a pull would fail
    argv = ["--config", str(config), "--data-dir", str(settings.data_dir), "demo", "--engineers", "4", "--days", "2"]

    assert main([*argv, "--end", "2026-03-04"]) == 0
    err = capsys.readouterr().err
    assert "pulling" not in err and "not pulled" not in err
    assert last_pull(dagster_instance()) is None


def test_pull_assets_follow_the_registry_with_pools_retries_and_the_provider_step_hook(
    settings: Settings, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance
) -> None:
    from pipelines.clients import provider_api, pullable
    from pipelines.defs.resources import TokencompResource

    calls: list[tuple[str, str]] = []

    def identity(s: Settings, provider: str) -> str:
        calls.append((str(s.data_dir), provider))
        return "3 keys"

    config = _config(settings, httpserver.url_for("/"))
    resource = TokencompResource(config_path=str(config), data_dir=str(settings.data_dir))
    defs = build_definitions(resource, {"identity": identity})
    pulls = {k.to_user_string() for k in defs.resolve_job_def("pull").asset_layer.executable_asset_keys}
    assert pulls == {*(f"pull/{s}" for s in pullable()), *(f"pull/{provider_api(s)}_identity" for s in pullable())}
    for source in pullable():
        node = defs.resolve_assets_def(dg.AssetKey(["pull", source])).node_def
        assert node.pool == f"pull_{provider_api(source)}"
        assert (node.retry_policy.max_retries, node.retry_policy.delay) == (2, 0.01)
    built = {k.to_user_string() for k in defs.resolve_job_def("nightly").asset_layer.executable_asset_keys}
    assert not {k for k in built if k.startswith("pull/")}
    assert (pull_job.name, nightly_job.name) == ("pull", "nightly")

    # without a key the hook is skipped; with one it runs once per provider API, in that API's pool
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    _serve_anthropic_lists(httpserver)
    _serve(httpserver, USAGE, [_by_cursor], [])
    _serve(httpserver, COST, [COSTS], [])
    day = date(2026, 3, 2)
    outcome = run_nightly(
        day,
        day,
        config_path=config,
        data_dir=settings.data_dir,
        instance=instance,
        pull=True,
        provider_steps={"identity": identity},
        say=lambda line: None,
    )
    assert outcome.pull is not None and outcome.pull.skipped == {
        "anthropic_claude_code": NO_KEY,
        "anthropic_cost": NO_KEY,
        "anthropic_usage": NO_KEY,
        "openai_costs": NO_OPENAI_KEY,
        "openai_usage": NO_OPENAI_KEY,
        "anthropic_identity": NO_KEY,
        "openai_identity": NO_OPENAI_KEY,
    }
    assert calls == []
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    outcome = run_nightly(
        day,
        day,
        config_path=config,
        data_dir=settings.data_dir,
        instance=instance,
        pull=True,
        provider_steps={"identity": identity},
        say=lambda line: None,
    )
    assert outcome.exit_code == 0 and outcome.pull is not None
    assert outcome.pull.pulled["anthropic_identity"] == "3 keys" and calls == [(str(settings.data_dir), "anthropic")]
    assert {"identity": pull_identity_lists} == PROVIDER_STEPS  # the nightly run's own hook


def test_repull_days_config_is_checked(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text("[pull]\nrepull_days = 5\n[pull.anthropic_cost]\nrepull_days = 1\n")
    loaded = load_settings(config)
    assert (loaded.repull_window("anthropic_usage"), loaded.repull_window("anthropic_cost")) == (5, 1)
    assert load_settings().repull_window("anthropic_usage") == 3
    config.write_text("[pull.no_such_source]\nrepull_days = 1\n")
    with pytest.raises(ConfigError, match=r"\[pull\.no_such_source\]: unknown source"):
        load_settings(config)
    config.write_text("[pull]\nrepull_days = -1\n")
    with pytest.raises(ConfigError, match=r"pull\.repull_days must be a whole number of days >= 0, not -1"):
        load_settings(config)


DAY = "2026-03-03"
OPENAI_KEY = "sk-admin-FAKE-nightly-3c9a"
OPENAI_EMPTY = b'{"object": "page", "data": [], "has_more": false, "next_page": null}'
ROSTER = (
    "engineer_id,email,name,team,cost_centre,level,title,location,valid_from,valid_to\n"
    'E1,alice@example.com,Alice,core,CC1,L5,Engineer,"Austin, TX",2024-01-01,\n'
    'E2,bob@example.com,Bob,core,CC1,L5,Engineer,"Austin, TX",2024-01-01,\n'
)


def _openai_completions() -> bytes:
    """One day of OpenAI completions: 1,000 input and 100 output tokens of gpt-4.1 on Alice's project key
    (key_abc) and the same by Bob's user id, with no key."""
    base = json.loads((SAMPLES / "openai_usage_completions_grouped_example.json").read_bytes())["data"][0]["results"][3]
    row = {
        **base,
        "input_tokens": 1000,
        "input_cached_tokens": 0,
        "input_uncached_tokens": 1000,
        "input_text_tokens": 1000,
        "input_cached_text_tokens": 0,
        "output_tokens": 100,
        "output_text_tokens": 100,
        "num_model_requests": 1,
    }
    results = [{**row, "user_id": None, "api_key_id": "key_abc"}, {**row, "user_id": "user-def456UvW"}]
    bucket = {"object": "bucket", "start_time": 1772496000, "end_time": 1772582400, "results": results}  # 03-03
    return json.dumps({"object": "page", "data": [bucket], "has_more": False, "next_page": None}).encode()


def _serve_openai(httpserver: HTTPServer) -> None:
    """The OpenAI Admin API: the completions day above, every other usage endpoint and the costs empty, and the
    users and project API keys lists (the samples test_identity_pull.py serves)."""
    from tests.pipelines.test_identity_pull import O_KEYS_Q, O_KEYS_S, O_USERS, PROJECTS1, PROJECTS2

    def data(path: str, body: bytes) -> None:
        httpserver.expect_request(path).respond_with_data(body, content_type="application/json")

    data("/v1/organization/usage/completions", _openai_completions())
    httpserver.expect_request(re.compile(r"^/v1/organization/(usage/\w+|costs)$")).respond_with_data(
        OPENAI_EMPTY, content_type="application/json"
    )
    data("/v1/organization/users", O_USERS)
    httpserver.expect_request("/v1/organization/projects").respond_with_handler(
        lambda r: Response(
            PROJECTS2 if r.args.get("after") == "proj_Q2m9x1" else PROJECTS1, content_type="application/json"
        )
    )
    data("/v1/organization/projects/proj_Q2m9x1/api_keys", O_KEYS_Q)
    data("/v1/organization/projects/proj_Svc77k/api_keys", O_KEYS_S)


def _resolved(warehouse: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(provider, principal, engineer, output tokens) per principal, and spend per engineer, from the warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        principals = con.sql(
            "select provider, principal_kind, principal_id, engineer_id, sum(output_tokens)::bigint "
            "from core.fct_usage_daily group by all order by all"
        ).fetchall()
        spend = con.sql("select engineer_id, sum(spend_usd) from core.fct_spend group by all order by all").fetchall()
    return principals, spend


def test_a_whole_run_pulls_both_providers_and_resolves_pulled_keys_to_engineers_with_no_alias_file(
    settings: Settings, httpserver: HTTPServer, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.pipelines.test_identity_pull import usage_page

    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    _serve_anthropic_lists(httpserver, usage_page())
    _serve_openai(httpserver)
    (tmp_path / "roster.csv").write_text(ROSTER)
    assert cli("reference", "load", "roster", str(tmp_path / "roster.csv"))[0] == 0

    code, _, err = cli("run", "--date", DAY)

    assert code == 0, err
    lines = err.splitlines()
    assert (
        "pulled       anthropic_identity  users 1 page(s) landed, loaded 2; api_keys 2 page(s) landed, "
        in "\n".join(lines)
    )
    assert [line.split()[1] for line in lines if line.startswith("pulled ")] == [
        "anthropic_claude_code",
        "anthropic_cost",
        "anthropic_usage",
        "openai_costs",
        "openai_usage",
        "anthropic_identity",
        "openai_identity",
    ]
    assert not (settings.reference / "aliases.parquet").exists()
    principals, spend = _resolved(settings.warehouse_path)
    assert principals == [
        ("anthropic", "anthropic_account_id", "user_01PxT6s3kVbN8mQ2rLz4HcYd", "E2", 100),
        ("anthropic", "api_key_id", "apikey_01Kq7Lx1yG2sJcZp5d4RtWvB", "E2", 7),  # ci-shared, created by Bob
        ("anthropic", "api_key_id", "apikey_01Rj2N8SVvo6BePZj99NhmiT", "E1", 100),  # alice-laptop
        ("anthropic", "api_key_id", "apikey_nobody_knows", None, 3),
        ("openai", "api_key_id", "key_abc", "E1", 100),  # alice-dev, owned by Alice
        ("openai", "openai_user_id", "user-def456UvW", "E2", 100),
    ]
    # by hand at list price (no bill served): opus-4.1 $15 in / $75 out per million, gpt-4.1 $2 / $8
    opus = {out: Decimal(1000) * 15 / 10**6 + Decimal(out) * 75 / 10**6 for out in (100, 7, 3)}
    gpt41 = Decimal(1000) * 2 / 10**6 + Decimal(100) * 8 / 10**6
    assert spend == [("E1", opus[100] + gpt41), ("E2", opus[100] + opus[7] + gpt41), (None, opus[3])]
    assert [row[1] for row in spend] == [Decimal("0.0253"), Decimal("0.040825"), Decimal("0.015225")]
    everything = [p for p in settings.data_dir.parent.rglob("*") if p.is_file()]
    assert [p for p in everything if FAKE_KEY.encode() in p.read_bytes() or OPENAI_KEY.encode() in p.read_bytes()] == []


def test_one_provider_down_the_other_is_still_pulled_resolved_and_published_with_exit_2(
    settings: Settings, httpserver: HTTPServer, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.pipelines.test_identity_pull import usage_page

    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    _serve_anthropic_lists(httpserver, usage_page())
    openai: list[Request] = []
    _serve(httpserver, re.compile(r"^/v1/organization/"), [lambda r: Response("down", status=500)], openai)
    (tmp_path / "roster.csv").write_text(ROSTER)
    assert cli("reference", "load", "roster", str(tmp_path / "roster.csv"))[0] == 0

    code, _, err = cli("run", "--date", DAY)

    assert code == 2
    lines = err.splitlines()
    assert lines[-1].startswith("tokencomp: run ") and lines[-1].endswith(
        f" published 2026-03-01 … {DAY}, but the pull failed for openai_costs, openai_usage, openai_identity: "
        "the warehouse holds its last good data (`tokencomp status`)"
    )
    down = "still failing after retrying for up to 0.3 s: HTTP 500"
    assert [line for line in lines if line.startswith("warning: pull failed:")] == [
        f"warning: pull failed: openai_costs: /organization/costs {down}",
        f"warning: pull failed: openai_usage: /organization/usage/completions {down}",
        f"warning: pull failed: openai_users: /organization/users {down}",  # the identity step's first list
    ]
    assert len(openai) >= 9  # three assets, each tried three times
    principals, spend = _resolved(settings.warehouse_path)
    assert [p for p in principals if p[0] == "openai"] == []
    assert [p[3] for p in principals] == ["E2", "E2", "E1", None]
    assert spend == [
        ("E1", Decimal("0.0225")),
        ("E2", Decimal("0.0225") + Decimal("0.015525")),
        (None, Decimal("0.015225")),
    ]
