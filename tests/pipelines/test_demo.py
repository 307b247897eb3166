"""The demo company is deterministic, internally consistent, and its truth file states exact figures."""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from pipelines.demo import ANTHROPIC_MODELS, OPENAI_MODELS, REFERENCE_WRITERS, SOURCE_WRITERS, DemoTruth, generate
from pipelines.demo.prices import PriceBook
from transforms.salaries import CLASSIC_COLUMNS, read_salary_file
from transforms.sources import source_ids

END = date(2026, 3, 31)
SMALL = {"engineers": 20, "days": 10, "end": END, "seed": 7}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoTruth:
    """A small company (20 engineers, 10 days: two report pages per source)."""
    return generate(tmp_path_factory.mktemp("demo_a") / "landing", **SMALL)


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _pages(landing: Path, source: str) -> list[dict[str, Any]]:
    files = sorted((landing / source).glob("*.json"))
    assert files, source
    return [json.loads(f.read_text(encoding="utf-8"), parse_float=Decimal) for f in files]


def _results(landing: Path, source: str) -> list[tuple[date, dict[str, Any]]]:
    out: list[tuple[date, dict[str, Any]]] = []
    for page in _pages(landing, source):
        for bucket in page["data"]:
            if "starting_at" in bucket:
                day = date.fromisoformat(bucket["starting_at"][:10])
            else:
                day = datetime.fromtimestamp(bucket["start_time"], tz=UTC).date()
            out.extend((day, r) for r in bucket["results"])
    return out


def _window(truth: dict[str, Any]) -> list[date]:
    end = date.fromisoformat(truth["end"])
    return [end - timedelta(days=i) for i in reversed(range(truth["days"]))]


def _roster(landing: Path) -> list[dict[str, str]]:
    with (landing / "roster" / "roster.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _employment(landing: Path) -> dict[str, tuple[date, date | None]]:
    spans: dict[str, tuple[date, date | None]] = {}
    for row in _roster(landing):
        vf = date.fromisoformat(row["valid_from"])
        vt = date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
        if row["engineer_id"] in spans:
            old_from, old_to = spans[row["engineer_id"]]
            vf = min(vf, old_from)
            vt = None if vt is None or old_to is None else max(vt, old_to)
        spans[row["engineer_id"]] = (vf, vt)
    return spans


def _cc_messages(folder: Path) -> tuple[dict[str, dict[str, Any]], list[tuple[str, int]]]:
    """Deduplicated Claude Code messages of one engineer (max output, input fields once) + bad lines."""
    messages: dict[str, dict[str, Any]] = {}
    bad: list[tuple[str, int]] = []
    for path in sorted(folder.rglob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad.append((path.as_posix(), n))
                continue
            msg = obj.get("message") or {}
            if obj.get("type") != "assistant" or msg.get("model") == "<synthetic>":
                continue
            u = msg["usage"]
            tokens = (
                u["input_tokens"],
                u["cache_read_input_tokens"],
                u["cache_creation"]["ephemeral_5m_input_tokens"],
                u["cache_creation"]["ephemeral_1h_input_tokens"],
            )
            assert u["cache_creation_input_tokens"] == tokens[2] + tokens[3]
            seen = messages.get(msg["id"])
            if seen is None:
                messages[msg["id"]] = {
                    "day": obj["timestamp"][:10],
                    "model": msg["model"],
                    "inputs": tokens,
                    "output": u["output_tokens"],
                }
            else:
                assert seen["inputs"] == tokens and seen["day"] == obj["timestamp"][:10]
                seen["output"] = max(seen["output"], u["output_tokens"])
    return messages, bad


def _cc_totals(messages: dict[str, dict[str, Any]]) -> dict[tuple[str, str, str], tuple[int, ...]]:
    out: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 5)
    for m in messages.values():
        cw = "200k-1M" if sum(m["inputs"]) > 200_000 else "0-200k"
        acc = out[(m["day"], m["model"], cw)]
        for i, v in enumerate((*m["inputs"], m["output"])):
            acc[i] += v
    return {k: tuple(v) for k, v in out.items()}


def _usage_by_key(landing: Path) -> dict[str, dict[tuple[str, str, str], tuple[int, ...]]]:
    out: dict[str, dict[tuple[str, str, str], tuple[int, ...]]] = defaultdict(dict)
    for day, r in _results(landing, "anthropic_usage"):
        k = (day.isoformat(), r["model"], r["context_window"])
        assert k not in out[r["api_key_id"]], "one row per (day, key, model, context window) here"
        out[r["api_key_id"]][k] = (
            r["uncached_input_tokens"],
            r["cache_read_input_tokens"],
            r["cache_creation"]["ephemeral_5m_input_tokens"],
            r["cache_creation"]["ephemeral_1h_input_tokens"],
            r["output_tokens"],
        )
    return out


# --------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(
    demo: DemoTruth, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = generate(tmp_path_factory.mktemp("demo_b") / "landing", **SMALL)
    assert _digests(demo.out_dir.parent) == _digests(again.out_dir.parent)
    assert demo.data == again.data
    other = generate(tmp_path_factory.mktemp("demo_c") / "landing", **{**SMALL, "seed": 8})
    assert _digests(demo.out_dir.parent) != _digests(other.out_dir.parent)


def _aggregate(root: Path, skip: Callable[[str], bool] = lambda rel: False) -> tuple[int, str]:
    """(file count, sha256 over every file's relative path and sha256, in path order) of a demo's output."""
    kept = {rel: digest for rel, digest in _digests(root).items() if not skip(rel)}
    lines = "".join(f"{rel}\0{digest}\n" for rel, digest in kept.items())
    return len(kept), hashlib.sha256(lines.encode()).hexdigest()


# Recorded from the single-module generator (pipelines/demo.py at 360a1d2) BEFORE it was split into the
# pipelines/demo/ package: the split must not move a byte. A genai-prices upgrade that changes a price of
# the demo's models changes these digests on purpose; any other change to them is a regression.
# The whole-output digests were re-pinned when the anthropic_claude_code writer was added (issue 9): that
# adds only its own files (10 report pages) and their counts in truth.json. Every other file is pinned
# apart, by the digest over all files but the new source's and truth.json, which main (before the new
# source) gives too: the other sources' files did not move a byte.
# Re-pinned again for the alert roles (issue 11): heavy users and surgers join the random stream, tokenmaxxers
# spend with less noise and everyone else is capped at 40% of base a day, so every file moves on purpose.
PRE_SPLIT_DIGESTS = [
    (SMALL, 92, "33838d79aa4b7e06d4e259303cae56595e8ff104e27ce9dbfd8f7e9e4c560e84"),
    (
        {"engineers": 30, "days": 10, "end": date(2025, 3, 10), "seed": 42},
        70,
        "2157fe3cc5b694f40c67bc54a5c242044168392803eb101489af317885f44fde",
    ),
]
# (files, digest) of every file but landing/anthropic_claude_code/ and demo/truth.json
OTHER_FILES_DIGESTS = [
    (81, "589fdcc79c8e01a655289b45e43bcebea49f509d3bb80624755e9cfb0ee9d276"),
    (59, "c80110513455576a0404ebe4d15d7264a83da190bf4eabfe41a666d47a7aa7aa"),
]


def _not_new_source(rel: str) -> bool:
    return rel == "demo/truth.json" or rel.startswith("landing/anthropic_claude_code/")


@pytest.mark.parametrize(
    ("config", "n_files", "digest", "others"),
    [(*pinned, others) for pinned, others in zip(PRE_SPLIT_DIGESTS, OTHER_FILES_DIGESTS, strict=True)],
    ids=["20x10-seed7", "30x10-seed42"],
)
def test_output_is_byte_identical_to_the_generator_before_the_split(
    config: dict[str, Any], n_files: int, digest: str, others: tuple[int, str], tmp_path: Path
) -> None:
    generate(tmp_path / "landing", **config)
    assert _aggregate(tmp_path) == (n_files, digest)
    assert _aggregate(tmp_path, _not_new_source) == others


def test_every_parsed_source_has_exactly_one_demo_writer(demo: DemoTruth) -> None:
    # the writer mapping is keyed by source id; the registry is the project's one list of sources
    assert sorted(SOURCE_WRITERS) == sorted(source_ids())
    assert sorted(REFERENCE_WRITERS) == ["aliases", "roster", "route_members", "salaries", "scopes"]
    landing = demo.out_dir
    assert sorted(p.name for p in landing.iterdir()) == sorted([*SOURCE_WRITERS, *REFERENCE_WRITERS])
    assert set(demo.data["counts"]["rows"]) == {*SOURCE_WRITERS, *REFERENCE_WRITERS}


def test_truth_file_sits_beside_landing_and_matches_the_returned_data(demo: DemoTruth) -> None:
    assert demo.path == demo.out_dir.parent / "demo" / "truth.json"
    assert json.loads(demo.path.read_text(encoding="utf-8")) == demo.data
    d = demo.data
    assert (d["seed"], d["end"], d["days"], d["engineers"]) == (7, "2026-03-31", 10, 20)
    assert d["discounts"] == {"anthropic": "0.10", "openai": "0.05"}


def test_billed_totals_equal_the_sum_of_the_cost_files(demo: DemoTruth) -> None:
    landing, truth = demo.out_dir, demo.data
    anth_by_day: dict[str, Decimal] = defaultdict(Decimal)
    for day, r in _results(landing, "anthropic_cost"):
        assert isinstance(r["amount"], str) and r["currency"] == "USD" and r["cost_type"] == "tokens"
        anth_by_day[day.isoformat()] += Decimal(r["amount"]) / 100
    oai_by_day: dict[str, Decimal] = defaultdict(Decimal)
    for day, r in _results(landing, "openai_costs"):
        assert r["amount"]["currency"] == "usd" and r["quantity_unit"] == "tokens"
        value = r["amount"]["value"]
        assert isinstance(value, Decimal) and -value.as_tuple().exponent <= 10
        oai_by_day[day.isoformat()] += value
    assert sum(anth_by_day.values()) == Decimal(truth["billed_usd"]["anthropic"])
    assert sum(oai_by_day.values()) == Decimal(truth["billed_usd"]["openai"])
    for provider, by_day in (("anthropic", anth_by_day), ("openai", oai_by_day)):
        stated = {k: Decimal(v) for k, v in truth["billed_usd_by_day"][provider].items()}
        assert sorted(stated) == [d.isoformat() for d in _window(truth)]
        assert {k: v for k, v in stated.items() if v} == {k: v for k, v in by_day.items() if v}


def test_billed_is_list_minus_the_known_discount(demo: DemoTruth) -> None:
    truth = demo.data
    billed = {k: Decimal(v) for k, v in truth["billed_usd"].items()}
    listed = {k: Decimal(v) for k, v in truth["list_usd"].items()}
    assert billed["anthropic"] == listed["anthropic"] * Decimal("0.9")
    n_lines = len(_results(demo.out_dir, "openai_costs"))
    assert abs(billed["openai"] - listed["openai"] * Decimal("0.95")) <= n_lines * Decimal("0.5e-10")
    assert billed["anthropic"] > 0 and billed["openai"] > 0


def _per_mtok(provider: str, model: str, day: date, **tokens: int) -> Decimal:
    when = datetime(day.year, day.month, day.day, tzinfo=UTC)
    price = calc_price(Usage(**tokens), model, provider_id=provider, genai_request_timestamp=when).total_price
    return Decimal(price) * 1_000_000 / 1000


def test_openai_cost_lines_price_the_usage_quantities_at_genai_prices(demo: DemoTruth) -> None:
    usage: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, r in _results(demo.out_dir, "openai_usage"):
        acc = usage[(day, r["project_id"], r["model"])]
        acc[0] += r["input_uncached_tokens"] + r["input_cache_write_tokens"]
        acc[1] += r["input_cached_tokens"]
        acc[2] += r["output_tokens"]
    kinds = {"input": 0, "cached input": 1, "output": 2}
    seen = 0
    for day, r in _results(demo.out_dir, "openai_costs"):
        model, kind = r["line_item"].split(", ", 1)
        qty = usage[(day, r["project_id"], model)][kinds[kind]]
        assert r["quantity"] == qty
        usage_kw = {
            "input": {"input_tokens": 1000},
            "cached input": {"input_tokens": 1000, "cache_read_tokens": 1000},
            "output": {"output_tokens": 1000},
        }[kind]
        price = _per_mtok("openai", model, day, **usage_kw)
        expected = (qty * price / 1_000_000 * Decimal("0.95")).quantize(Decimal("1e-10"))
        assert r["amount"]["value"] == expected
        seen += 1
    assert seen == sum(1 for v in usage.values() for q in v if q)


def test_openai_input_tokens_include_cached_and_cache_write(demo: DemoTruth) -> None:
    results = _results(demo.out_dir, "openai_usage")
    assert results
    for _, r in results:
        parts = r["input_cached_tokens"] + r["input_cache_write_tokens"] + r["input_uncached_tokens"]
        assert r["input_tokens"] == parts
        assert r["object"] == "organization.usage.completions.result"
        assert r["model"] in OPENAI_MODELS


def _genai_per_mtok(provider: str, model: str, day: date, cw: str) -> tuple[Decimal, ...]:
    """Per-MTok prices by genai-prices' own calculator: a 100k-token probe per kind, 300k for the 200k+ tier."""
    n = 300_000 if cw == "200k-1M" else 100_000
    when = datetime(day.year, day.month, day.day, tzinfo=UTC)

    def total(**tokens: int) -> Decimal:
        return Decimal(
            calc_price(Usage(**tokens), model, provider_id=provider, genai_request_timestamp=when).total_price
        )

    with localcontext() as ctx:
        ctx.prec = 60
        plain = total(input_tokens=n)
        probes = [plain, total(input_tokens=n, cache_read_tokens=n)]
        if provider == "anthropic":
            probes.append(total(input_tokens=n, cache_write_tokens=n, cache_write_5m_tokens=n))
            probes.append(total(input_tokens=n, cache_write_tokens=n, cache_write_1h_tokens=n))
        probes.append(total(input_tokens=n, output_tokens=n) - plain)
        return tuple((p * 1_000_000 / n).normalize() for p in probes)


@pytest.mark.parametrize("day", [date(2024, 1, 1), date(2025, 3, 10), date(2025, 10, 15), END, date(2027, 6, 30)])
def test_the_demo_prices_from_the_project_price_table_equal_genai_prices_own_calculation(day: date) -> None:
    # The demo reads transforms.pricing's table; genai-prices' calculator is the outside route it must match,
    # exponent and all (the pre-split demo priced through the calculator, and its bytes depend on both).
    book = PriceBook()
    for model in ANTHROPIC_MODELS:
        for cw in ("0-200k", "200k-1M"):
            got, expected = book.anthropic(model, day, cw), _genai_per_mtok("anthropic", model, day, cw)
            assert [p.as_tuple() for p in got] == [p.as_tuple() for p in expected], (model, cw)
    for model in OPENAI_MODELS:
        got, expected = book.openai(model, day), _genai_per_mtok("openai", model, day, "0-200k")
        assert [p.as_tuple() for p in got] == [p.as_tuple() for p in expected], model


def test_every_model_resolves_in_genai_prices() -> None:
    for model in ANTHROPIC_MODELS:
        assert _per_mtok("anthropic", model, END, output_tokens=1000) > 0
    for model in OPENAI_MODELS:
        assert _per_mtok("openai", model, END, output_tokens=1000) > 0


@pytest.mark.parametrize(
    ("source", "stem"),
    [
        ("anthropic_usage", "usage_report_messages"),
        ("anthropic_cost", "cost_report"),
        ("openai_usage", "usage_completions"),
        ("openai_costs", "costs"),
    ],
)
def test_each_file_is_one_page_of_a_seven_bucket_pull(demo: DemoTruth, source: str, stem: str) -> None:
    names = sorted(p.name for p in (demo.out_dir / source).iterdir())
    assert names == [f"{stem}_0001.json", f"{stem}_0002.json"]
    pages = _pages(demo.out_dir, source)
    assert [p["has_more"] for p in pages] == [True, False]
    assert isinstance(pages[0]["next_page"], str) and pages[0]["next_page"].startswith("page_")
    assert pages[-1]["next_page"] is None
    assert [len(p["data"]) for p in pages] == [7, 3]
    days = [b.get("starting_at", b.get("start_time")) for p in pages for b in p["data"]]
    if source.startswith("anthropic"):
        assert days == [f"{d.isoformat()}T00:00:00Z" for d in _window(demo.data)]
    else:
        assert days == [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) for d in _window(demo.data)]


def test_anthropic_usage_rows_equal_the_deduplicated_claude_code_messages(demo: DemoTruth) -> None:
    landing, truth = demo.out_dir, demo.data
    by_key = _usage_by_key(landing)
    email_of = {k.split(":", 1)[1]: v for k, v in truth["principals"].items() if k.startswith("email:")}
    keys_of: dict[str, list[str]] = defaultdict(list)
    for k, eid in truth["principals"].items():
        if k.startswith("api_key_id:apikey_"):
            keys_of[eid].append(k.split(":", 1)[1])
    member_of = {eid: key for key, eids in truth["shared_keys"].items() for eid in eids}
    folders = sorted((landing / "claude_code_logs").iterdir())
    assert len(folders) >= 8
    shared_sum: dict[str, dict[tuple[str, str, str], list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * 5))
    single_checked = 0
    for folder in folders:
        eid = email_of[folder.name]
        totals = _cc_totals(_cc_messages(folder)[0])
        if eid in member_of:
            for k, v in totals.items():
                acc = shared_sum[member_of[eid]][k]
                for i, t in enumerate(v):
                    acc[i] += t
        elif totals:
            # exactly one of the engineer's Anthropic keys is their Claude Code key
            assert [key for key in keys_of[eid] if by_key.get(key) == totals] != []
            single_checked += 1
    assert single_checked >= 2
    assert len(truth["shared_keys"]) == 2
    for key, members in truth["shared_keys"].items():
        assert 3 <= len(members) <= 5
        assert by_key[key] == {k: tuple(v) for k, v in shared_sum[key].items()}


def test_exactly_one_malformed_line_in_the_whole_demo(demo: DemoTruth) -> None:
    landing = demo.out_dir
    bad: list[dict[str, Any]] = []
    for folder in sorted((landing / "claude_code_logs").iterdir()):
        for path, line in _cc_messages(folder)[1]:
            bad.append({"file": Path(path).relative_to(landing).as_posix(), "line": line})
    assert bad == demo.data["malformed_lines"]
    assert len(bad) == 1


def test_claude_code_lines_have_the_real_shape(demo: DemoTruth) -> None:
    kinds: dict[str, int] = defaultdict(int)
    for path in sorted((demo.out_dir / "claude_code_logs").rglob("*.jsonl")):
        sidechain = "subagents" in path.parts
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if obj["type"] == "summary":
                kinds["summary"] += 1
                continue
            assert obj["isSidechain"] is sidechain
            assert obj["timestamp"].endswith("Z")
            if obj.get("isApiErrorMessage"):
                kinds["synthetic"] += 1
                assert obj["message"]["model"] == "<synthetic>"
            elif obj["type"] == "assistant":
                kinds["sidechain" if sidechain else "assistant"] += 1
                assert obj["requestId"].startswith("req_") and obj["message"]["id"].startswith("msg_")
    assert kinds["summary"] and kinds["sidechain"] and kinds["assistant"]


def test_sidechain_files_replay_a_parent_message_with_a_new_request_id(demo: DemoTruth) -> None:
    replays = 0
    for sub in sorted((demo.out_dir / "claude_code_logs").rglob("subagents/*.jsonl")):
        parent = sub.parent.parent.with_suffix(".jsonl")
        parent_reqs: dict[str, str] = {}
        for line in parent.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if obj.get("requestId"):
                parent_reqs[obj["message"]["id"]] = obj["requestId"]
        first = json.loads(sub.read_text(encoding="utf-8").splitlines()[0])
        assert first["message"]["id"] in parent_reqs
        assert first["requestId"] != parent_reqs[first["message"]["id"]]
        replays += 1
    assert replays >= 1


def test_roster_has_joiners_leavers_and_a_mid_window_promotion(demo: DemoTruth) -> None:
    landing, truth = demo.out_dir, demo.data
    window = _window(truth)
    start, end = window[0], window[-1]
    rows = _roster(landing)
    joiners = sorted(
        {r["engineer_id"] for r in rows if start < date.fromisoformat(r["valid_from"]) <= end}
        - {p["engineer_id"] for p in truth["promotions"]}
    )
    leavers = sorted(
        {r["engineer_id"] for r in rows if r["valid_to"] and start < date.fromisoformat(r["valid_to"]) <= end}
        - {p["engineer_id"] for p in truth["promotions"]}
    )
    assert joiners == truth["joiners"] and joiners
    assert leavers == truth["leavers"] and leavers
    by_eid: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_eid[r["engineer_id"]].append(r)
    promos = []
    for eid, versions in by_eid.items():
        if len(versions) == 2:
            a, b = sorted(versions, key=lambda r: r["valid_from"])
            assert a["valid_to"] == b["valid_from"] and a["level"] != b["level"]
            promos.append(
                {"engineer_id": eid, "date": b["valid_from"], "from_level": a["level"], "to_level": b["level"]}
            )
    assert promos == truth["promotions"] and promos
    for p in promos:
        assert start < date.fromisoformat(p["date"]) <= end
    emails = [r["email"] for r in rows]
    assert any(e != e.lower() for e in emails)
    aliases = list(csv.DictReader((landing / "aliases" / "aliases.csv").open(encoding="utf-8", newline="")))
    alias_emails = [a["value"] for a in aliases if a["kind"] == "email"]
    assert alias_emails == [a.lower() for a in alias_emails]
    assert len(set(alias_emails)) == len(by_eid) == truth["engineers"]


def test_usage_respects_employment_and_unknown_keys_have_no_alias(demo: DemoTruth) -> None:
    landing, truth = demo.out_dir, demo.data
    spans = _employment(landing)
    principals = truth["principals"]

    def employed(eid: str, day: date) -> bool:
        vf, vt = spans[eid]
        return vf <= day and (vt is None or day < vt)

    for day, r in _results(landing, "openai_usage"):
        if r["user_id"] is None:
            assert r["api_key_id"] in truth["unknown_keys"]
            continue
        eid = principals[f"openai_user_id:{r['user_id']}"]
        assert principals[f"api_key_id:{r['api_key_id']}"] == eid
        assert employed(eid, day)
    for day, r in _results(landing, "anthropic_usage"):
        key = r["api_key_id"]
        if key in truth["shared_keys"]:
            assert any(employed(eid, day) for eid in truth["shared_keys"][key])
        elif key not in truth["unknown_keys"]:
            assert employed(principals[f"api_key_id:{key}"], day)
    for key in [*truth["unknown_keys"], *truth["shared_keys"]]:
        assert f"api_key_id:{key}" not in principals
    assert truth["alerts"]["unknown_key"] == truth["unknown_keys"]
    assert truth["alerts"]["shared_key"] == list(truth["shared_keys"])
    for eid in truth["non_spenders"]:
        assert truth["engineer_list_usd"][eid] == {"anthropic": "0", "openai": "0"}


# The default config's bands.location_map: roster offices to the file's Levels.fyi locations.
_BAND_LOCATION = {
    "London, England, United Kingdom": "London, EN, United Kingdom",
    "Berlin, Berlin, Germany": "Berlin, BE, Germany",
    "Toronto, Ontario, Canada": "Toronto, ON, Canada",
}


def _band_bases(landing: Path, company: str) -> Callable[[str, str], Decimal]:
    """Band base p50 per (level, roster location) from the written file read by the loader, by plain Python:
    the location with >= 5 rows, else the country, else the level company-wide; median of reconciling rows."""
    rows = read_salary_file(landing / "salaries" / "levels_fyi.csv").submissions
    rows = rows.filter(rows["company_key"] == company.lower()).to_dicts()

    def base(level: str, location: str) -> Decimal:
        place = _BAND_LOCATION.get(location, location)
        at = [r for r in rows if r["level"] == level and r["location"] == place]
        country = [r for r in rows if r["level"] == level and r["country"] == (at or [{}])[0].get("country")]
        every = [r for r in rows if r["level"] == level]
        group = next(g for g in (at, country, every) if len(g) >= 5)
        median = Decimal(statistics.median([r["base"] for r in group if r["reconciles"]]))
        return median.quantize(Decimal(1), rounding="ROUND_HALF_UP")

    return base


def _assert_tokenmaxxers(truth: DemoTruth) -> None:
    """Recompute 'annualized list spend > band base p50' from the written files alone."""
    landing, data = truth.out_dir, truth.data
    company = data["company"]
    bases = _band_bases(landing, company)
    window = _window(data)
    current: dict[str, dict[str, str]] = {}
    for r in sorted(_roster(landing), key=lambda r: r["valid_from"]):
        current[r["engineer_id"]] = r
    spans = _employment(landing)
    over = []
    for eid, spend in data["engineer_list_usd"].items():
        vf, vt = spans[eid]
        days = sum(1 for d in window if vf <= d and (vt is None or d < vt))
        total = Decimal(spend["anthropic"]) + Decimal(spend["openai"])
        if not days or not total:
            continue
        r = current[eid]
        if total / days * 365 > bases(r["level"], r["location"]):
            over.append(eid)
    assert len(data["tokenmaxxers"]) >= 2
    assert over == data["tokenmaxxers"] == data["alerts"]["spend_over_base"]


def test_tokenmaxxers_are_exactly_those_over_their_band_base(demo: DemoTruth) -> None:
    _assert_tokenmaxxers(demo)


def test_tokenmaxxers_at_a_larger_company(tmp_path: Path) -> None:
    events: list[tuple[str, int, int]] = []
    truth = generate(
        tmp_path / "landing",
        engineers=60,
        days=30,
        end=END,
        seed=11,
        progress=lambda stage, done, total: events.append((stage, done, total)),
    )
    _assert_tokenmaxxers(truth)
    stages = [e[0] for e in events]
    # the CLI prints one line per stage, when done == total: each stage runs once, in this order
    runs = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert runs == ["roster", "usage", "claude_code_logs", "anthropic_exports", "openai_exports", "truth"]
    for stage in ("anthropic_exports", "openai_exports"):  # 30 days = 5 pages, each reported once
        assert [e[1:] for e in events if e[0] == stage] == [(p, 5) for p in range(1, 6)]
    assert 6 <= len(truth.data["non_spenders"]) <= 15


def test_salaries_cover_every_roster_cell_and_include_other_companies(demo: DemoTruth) -> None:
    landing = demo.out_dir
    with (landing / "salaries" / "levels_fyi.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:12] == list(CLASSIC_COLUMNS)
    loaded = read_salary_file(landing / "salaries" / "levels_fyi.csv")
    assert loaded.rejected.height == 0 and loaded.submissions.height == len(rows)
    subs = loaded.submissions
    assert subs["company"].n_unique() >= 4 and subs["level_mapped"].all()
    # the quirks of the real export are there: spellings, NA, parts that do not add up, stock in thousands
    assert {"acme robotics", "\u00a0Acme Robotics", "Acme Robotics Inc."} <= {r["company"] for r in rows}
    assert any(r["basesalary"] == "0" for r in rows) and any(r["yearsatcompany"] == "NA" for r in rows)
    assert (~subs["reconciles"]).sum() > 0 and (subs["component_in_thousands"] == "stock").sum() > 0
    cells = {
        (r["level"], r["location"]) for r in subs.filter(subs["company"] == demo.data["company"]).iter_rows(named=True)
    }
    for r in _roster(landing):
        assert (r["level"], _BAND_LOCATION.get(r["location"], r["location"])) in cells
    start = date.fromisoformat(demo.data["window"]["start"])
    stamps = subs["submitted_at"].dt.date()
    assert stamps.max() < start and stamps.min() >= start - timedelta(days=731)  # dated before the window


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days"):
        generate(tmp_path / "landing", engineers=5, days=0, end=END)


def test_shared_keys_are_declared_as_route_members_and_truth_gives_each_users_list_cost(demo: DemoTruth) -> None:
    landing, truth = demo.out_dir, demo.data
    spans = _employment(landing)
    with (landing / "route_members" / "route_members.csv").open(newline="") as f:
        declared = [
            (r["provider"], r["principal_kind"], r["principal_id"], r["engineer_id"], r["valid_from"], r["valid_to"])
            for r in csv.DictReader(f)
        ]
    expected = [
        ("anthropic", "api_key_id", key, eid, str(spans[eid][0]), str(spans[eid][1] or ""))
        for key, users in truth["shared_keys"].items()
        for eid in users
    ]
    assert sorted(declared) == sorted(expected)
    for users in truth["shared_keys"].values():
        assert list(users) == sorted(users)  # engineer ids in order, each with exact decimal text
        assert all(Decimal(cost) >= 0 and "e" not in cost.lower() for cost in users.values())
    assert sum(Decimal(c) for users in truth["shared_keys"].values() for c in users.values()) > 0
