"""The providers' own API key and user lists (`identity_pages`), against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.clients import AuthRefused, PullError, identity_pages
from pipelines.config import Settings, load_settings
from tests.conftest import SAMPLES

ANTHROPIC_KEY = "sk-ant-admin01-FAKE-identity-7d1e"
OPENAI_KEY = "sk-admin-FAKE-identity-93ab"
Handler = Callable[[Request], Response]


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """The test server listens on loopback 127.0.0.1 only (any free port)."""
    return ("127.0.0.1", 0)


@pytest.fixture
def local(settings: Settings, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose provider base URLs point at the local server, with tiny retry waits and both keys set."""
    config = settings.data_dir.parent / "tokencomp.toml"
    config.write_text(
        "[clients]\ntimeout_seconds = 0.2\nmax_request_seconds = 1.5\nbackoff_initial_seconds = 0.01\n"
        f'backoff_max_seconds = 0.05\n[clients.anthropic]\nbase_url = "{httpserver.url_for("/")}"\n'
        f'[clients.openai]\nbase_url = "{httpserver.url_for("/v1")}"\n'
    )
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    return load_settings(config)


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _serve(httpserver: HTTPServer, path: str, answers: list[Handler | bytes], seen: list[Request]) -> None:
    """Answer requests to `path` in turn from `answers` (the last one repeats); keep every request in `seen`."""

    def handle(request: Request) -> Response:
        seen.append(request)
        answer = answers[min(len(seen) - 1, len(answers) - 1)]
        return answer(request) if callable(answer) else Response(answer, content_type="application/json")

    httpserver.expect_request(path).respond_with_handler(handle)


def _by_cursor(param: str, first: bytes, cursor: str, second: bytes) -> Handler:
    return lambda r: Response(second if r.args.get(param) == cursor else first, content_type="application/json")


def test_anthropic_api_keys_are_paged_by_after_id_to_the_end_with_their_bytes(
    local: Settings, httpserver: HTTPServer
) -> None:
    page1, page2 = _sample("anthropic_api_keys_page1.json"), _sample("anthropic_api_keys_page2.json")
    seen: list[Request] = []
    _serve(
        httpserver,
        "/v1/organizations/api_keys",
        [_by_cursor("after_id", page1, json.loads(page1)["last_id"], page2)],
        seen,
    )
    pages = list(identity_pages(local, "anthropic", "api_keys"))
    assert [p.body for p in pages] == [page1, page2]
    assert [p.number for p in pages] == [1, 2]
    assert [r.args.get("after_id") for r in seen] == [None, "apikey_01Rj2N8SVvo6BePZj99NhmiT"]
    assert seen[0].headers["x-api-key"] == ANTHROPIC_KEY and seen[0].args["limit"] == "1000"
    assert [k["created_by"]["id"] for p in pages for k in json.loads(p.body)["data"]] == [
        "user_01WCz1FkmYMm4gnmykNKUu3Q",
        "user_01PxT6s3kVbN8mQ2rLz4HcYd",
    ]
    assert pages[1].request == {
        "path": "/v1/organizations/api_keys",
        "limit": "1000",
        "after_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
    }


def test_anthropic_users(local: Settings, httpserver: HTTPServer) -> None:
    body = _sample("anthropic_users_example.json")
    _serve(httpserver, "/v1/organizations/users", [body], [])
    assert [p.body for p in identity_pages(local, "anthropic", "users")] == [body]


def test_openai_project_api_keys_list_every_project_then_its_keys_with_their_owner(
    local: Settings, httpserver: HTTPServer
) -> None:
    projects1, projects2 = _sample("openai_projects_page1.json"), _sample("openai_projects_page2.json")
    keys_q, keys_s = _sample("openai_project_api_keys_Q2m9x1.json"), _sample("openai_project_api_keys_Svc77k.json")
    seen: list[Request] = []
    _serve(httpserver, "/v1/organization/projects", [_by_cursor("after", projects1, "proj_Q2m9x1", projects2)], seen)
    _serve(httpserver, "/v1/organization/projects/proj_Q2m9x1/api_keys", [keys_q], seen)
    _serve(httpserver, "/v1/organization/projects/proj_Svc77k/api_keys", [keys_s], seen)
    pages = list(identity_pages(local, "openai", "api_keys"))
    assert [p.body for p in pages] == [keys_q, keys_s]
    # the path as the client asked it, under the configured base URL
    assert [p.request["path"] for p in pages] == [
        "/organization/projects/proj_Q2m9x1/api_keys",
        "/organization/projects/proj_Svc77k/api_keys",
    ]
    assert [(r.path, r.args.get("after")) for r in seen] == [
        ("/v1/organization/projects", None),
        ("/v1/organization/projects", "proj_Q2m9x1"),
        ("/v1/organization/projects/proj_Q2m9x1/api_keys", None),
        ("/v1/organization/projects/proj_Svc77k/api_keys", None),
    ]
    assert seen[0].args["include_archived"] == "true" and seen[2].args["owner_project_access"] == "any"
    assert seen[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    owners = [k["owner"]["type"] for p in pages for k in json.loads(p.body)["data"]]
    assert owners == ["user", "service_account"]


def test_openai_users(local: Settings, httpserver: HTTPServer) -> None:
    body = _sample("openai_users_example.json")
    _serve(httpserver, "/v1/organization/users", [body], [])
    assert [p.body for p in identity_pages(local, "openai", "users")] == [body]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda r: Response("slow down", status=429, headers={"retry-after": "0"}), id="429"),
        pytest.param(lambda r: Response("oops", status=500), id="500"),
        pytest.param(lambda r: (time.sleep(0.5), Response(b"{}"))[1], id="timeout"),
    ],
)
def test_a_retryable_failure_then_success(local: Settings, httpserver: HTTPServer, failure: Handler) -> None:
    body = _sample("openai_users_example.json")
    seen: list[Request] = []
    _serve(httpserver, "/v1/organization/users", [failure, body], seen)
    assert [p.body for p in identity_pages(local, "openai", "users")] == [body]
    assert len(seen) >= 2


def test_a_repeating_cursor_is_an_error(local: Settings, httpserver: HTTPServer) -> None:
    looping = json.dumps({"data": [], "has_more": True, "first_id": "u1", "last_id": "user_same"}).encode()
    _serve(httpserver, "/v1/organizations/users", [looping], [])
    with pytest.raises(PullError) as raised:
        list(identity_pages(local, "anthropic", "users"))
    assert str(raised.value) == (
        "anthropic_users: /v1/organizations/users repeated the cursor 'user_same' after page 2; "
        "stopped rather than loop"
    )


def test_a_refused_or_missing_key_names_the_variable(
    local: Settings, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(httpserver, "/v1/organization/projects", [lambda r: Response("{}", status=401)], [])
    with pytest.raises(AuthRefused) as raised:
        list(identity_pages(local, "openai", "api_keys"))
    assert str(raised.value) == (
        "openai_api_keys: the provider refused the key in OPENAI_ADMIN_KEY (HTTP 401); nothing was written"
    )
    assert OPENAI_KEY not in str(raised.value)
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY")
    with pytest.raises(AuthRefused) as missing:
        list(identity_pages(local, "anthropic", "users"))
    assert str(missing.value) == "anthropic_users: no credentials: set ANTHROPIC_ADMIN_API_KEY to pull it"
