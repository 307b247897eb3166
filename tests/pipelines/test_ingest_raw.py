"""Landing → raw/ by sha256 with a manifest, or quarantine/ with a reason; nothing lost, nothing twice."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.ingest import copy_hashed, ingest, read_manifest, sha256_of, sweep_landing
from tests.conftest import SAMPLES, land_sample

AT = datetime(2026, 3, 6, 6, 0, tzinfo=UTC)


def test_landed_file_is_kept_byte_for_byte_by_sha256_with_a_manifest_row(settings: Settings) -> None:
    src = land_sample(settings, "openai_costs", "openai_costs_grouped_example.json")
    sha = sha256_of(src)
    [outcome] = ingest(settings, "openai_costs", [src], landed_at=AT)
    assert (outcome.status, outcome.parsed, outcome.loaded, outcome.rejected) == ("landed", 5, 5, 0)
    raw = settings.raw / "openai_costs" / sha[:2] / f"{sha}.json"
    assert raw.read_bytes() == src.read_bytes()
    row = read_manifest(settings).row(0, named=True)
    assert row["seq"] == 1 and row["sha256"] == sha and row["source"] == "openai_costs"
    assert row["landed_at"] == AT
    assert (str(row["min_date"]), str(row["max_date"])) == ("2026-03-02", "2026-03-02")
    assert (row["parsed"], row["loaded"], row["rejected"]) == (5, 5, 0)


def test_same_bytes_twice_is_a_duplicate_and_changes_nothing(settings: Settings) -> None:
    src = land_sample(settings, "openai_costs", "openai_costs_grouped_example.json")
    ingest(settings, "openai_costs", [src], landed_at=AT)
    manifest = (settings.raw / "manifest.jsonl").read_bytes()
    copy = settings.landing / "elsewhere.json"
    shutil.copyfile(src, copy)
    [outcome] = ingest(settings, "openai_costs", [copy], landed_at=AT)
    assert outcome.status == "duplicate"
    assert (settings.raw / "manifest.jsonl").read_bytes() == manifest


def test_broken_file_is_quarantined_with_file_and_field_while_others_load(settings: Settings) -> None:
    good = land_sample(settings, "anthropic_cost", "anthropic_cost_report_grouped_example.json")
    body = json.loads(good.read_text())
    del body["data"][0]["results"][1]["amount"]
    bad = settings.landing / "anthropic_cost" / "cost_page_broken.json"
    bad.write_text(json.dumps(body))
    outcomes = {o.name.split("/")[-1]: o for o in sweep_landing(settings, "anthropic_cost", landed_at=AT)}
    assert outcomes["anthropic_cost_report_grouped_example.json"].status == "landed"
    broken = outcomes["cost_page_broken.json"]
    assert broken.status == "quarantined"
    assert "cost_page_broken.json" in broken.reason and "amount" in broken.reason
    log = [json.loads(line) for line in (settings.quarantine / "quarantine.jsonl").read_text().splitlines()]
    assert [(e["name"], e["sha256"]) for e in log] == [("anthropic_cost/cost_page_broken.json", broken.sha256)]
    assert (settings.quarantine / "anthropic_cost" / f"{broken.sha256}.json").exists()
    assert read_manifest(settings)["name"].to_list() == ["anthropic_cost/anthropic_cost_report_grouped_example.json"]
    # the inbox is emptied once every file is safely in raw/ or quarantine/
    assert not any(p.is_file() for p in (settings.landing / "anthropic_cost").rglob("*"))


def test_not_json_at_all_is_quarantined(settings: Settings) -> None:
    bad = settings.landing / "openai_usage" / "page.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("<html>502 Bad Gateway</html>")
    [outcome] = sweep_landing(settings, "openai_usage", landed_at=AT)
    assert outcome.status == "quarantined" and "page.json" in outcome.reason
    # sweeping again does not quarantine it a second time
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("<html>502 Bad Gateway</html>")
    [again] = sweep_landing(settings, "openai_usage", landed_at=AT)
    assert again.status == "quarantined" and again.reason.startswith("already quarantined")
    assert len((settings.quarantine / "quarantine.jsonl").read_text().splitlines()) == 1


def _session_lines() -> list[str]:
    return (SAMPLES / "claude_code_session_example.jsonl").read_text().splitlines()


def test_jsonl_with_one_bad_line_loads_every_other_line(settings: Settings) -> None:
    lines = _session_lines()
    lines.insert(3, '{"type":"assistant","message":{"id":"msg_trunc"')  # truncated JSON
    folder = settings.landing / "claude_code_logs" / "Alice@Acme.example" / "projects" / "-src-etl"
    folder.mkdir(parents=True)
    (folder / "s1.jsonl").write_text("\n".join(lines) + "\n")
    [outcome] = sweep_landing(settings, "claude_code_logs", landed_at=AT)
    assert (outcome.status, outcome.parsed, outcome.loaded, outcome.rejected) == ("landed", 9, 8, 1)
    [reject] = [json.loads(x) for x in (settings.raw / "rejects.jsonl").read_text().splitlines()]
    assert (reject["file"], reject["line"]) == ("Alice@Acme.example/projects/-src-etl/s1.jsonl", 4)
    row = read_manifest(settings).row(0, named=True)
    assert row["owner"] == "alice@acme.example"


def test_claude_code_owner_is_the_folder_name_whether_given_one_engineer_or_many(settings: Settings) -> None:
    root = settings.data_dir / "collected"
    for email in ("bob@acme.example", "carol@acme.example"):
        sub = root / email / "projects" / "p" / "sess" / "subagents"
        sub.mkdir(parents=True)
        (sub.parent.parent / "sess.jsonl").write_text("\n".join(_session_lines()[:4]) + "\n")
        (sub / "agent-1.jsonl").write_text(_session_lines()[4] + "\n")
    many = ingest(settings, "claude_code_logs", [root], landed_at=AT)
    assert sorted(o.name for o in many) == [
        "bob@acme.example/projects/p/sess.jsonl",
        "bob@acme.example/projects/p/sess/subagents/agent-1.jsonl",
        "carol@acme.example/projects/p/sess.jsonl",
        "carol@acme.example/projects/p/sess/subagents/agent-1.jsonl",
    ]
    assert sorted(set(read_manifest(settings)["owner"].to_list())) == ["bob@acme.example", "carol@acme.example"]
    # the same engineer folder given directly is recognised by its projects/ and is already landed
    one = ingest(settings, "claude_code_logs", [root / "bob@acme.example"], landed_at=AT)
    assert {o.status for o in one} == {"duplicate"}


def test_gzip_delivery_is_kept_compressed_and_parses(settings: Settings) -> None:
    target = settings.landing / "openai_usage" / "page-1.json.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress((SAMPLES / "openai_usage_completions_grouped_example.json").read_bytes(), mtime=0))
    [outcome] = sweep_landing(settings, "openai_usage", landed_at=AT)
    assert (outcome.status, outcome.loaded) == ("landed", 4)
    raw = Path(settings.raw / read_manifest(settings)["raw_path"][0])
    assert raw.name.endswith(".json.gz") and raw.read_bytes()[:2] == b"\x1f\x8b"


def test_manifest_counts_always_add_up(settings: Settings) -> None:
    for name in ("openai_usage_completions_grouped_example.json", "openai_usage_completions_example.json"):
        land_sample(settings, "openai_usage", name)
    sweep_landing(settings, "openai_usage", landed_at=AT)
    m = read_manifest(settings)
    assert m.height == 2 and m["seq"].to_list() == [1, 2]
    assert m.select((pl.col("parsed") == pl.col("loaded") + pl.col("rejected")).all()).item()


def test_a_file_mostly_made_of_bad_lines_is_quarantined_with_the_first_bad_line(settings: Settings) -> None:
    good = _session_lines()[1]
    folder = settings.landing / "claude_code_logs" / "dan@acme.example" / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text("\n".join([good, "garbage", "{oops", "nope"]) + "\n")
    [outcome] = sweep_landing(settings, "claude_code_logs", landed_at=AT)
    assert outcome.status == "quarantined"
    assert outcome.reason == (
        "3 of 4 lines rejected (over 50%); first: dan@acme.example/projects/p/s.jsonl:2: not JSON"
    )
    assert read_manifest(settings).height == 0


def test_raw_copy_is_hashed_as_copied_and_never_a_link(settings: Settings, tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    src.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(300_000)))  # several copy blocks
    dst = tmp_path / "copy.jsonl"
    assert copy_hashed(src, dst) == hashlib.sha256(src.read_bytes()).hexdigest()
    assert dst.read_bytes() == src.read_bytes()

    landed = land_sample(settings, "openai_costs", "openai_costs_grouped_example.json")
    original = landed.read_bytes()
    [outcome] = ingest(settings, "openai_costs", [landed], landed_at=AT)
    raw = settings.raw / "openai_costs" / outcome.sha256[:2] / f"{outcome.sha256}.json"
    assert raw.stat().st_nlink == 1 and raw.stat().st_ino != landed.stat().st_ino
    landed.write_bytes(b"changed by the user afterwards")  # the user's file is not raw's
    assert raw.read_bytes() == original and sha256_of(raw) == outcome.sha256
    # nothing is left in scratch once ingest is done
    assert not any(settings.scratch.glob("*/*")) if settings.scratch.exists() else True
