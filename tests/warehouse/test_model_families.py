"""Model families: packaged rules (data), covering every model of the pinned catalog, used by core.dim_model."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.docs import catalog_models, model_families_doc
from warehouse.families import FALLBACK_FAMILY, model_families, model_family_rules

ROOT = Path(__file__).resolve().parents[2]


def test_the_issue_examples_get_one_family_per_line_of_models() -> None:
    expected = {
        "gpt-4.1": "gpt-4.1",
        "gpt-4.1-mini": "gpt-4.1",
        "gpt-5": "gpt-5",
        "gpt-5-mini": "gpt-5",
        "gpt-5.1-codex-mini": "gpt-5",
        "gpt-4o-mini": "gpt-4o",
        "chatgpt-4o-latest": "gpt-4o",
        "gpt-4-turbo": "gpt-4",
        "o1": "o-series",
        "o4-mini": "o-series",
        "claude-opus-4-1": "claude-opus",
        "claude-3-opus-latest": "claude-opus",
        "claude-sonnet-4-5": "claude-sonnet",
        "claude-3-5-sonnet": "claude-sonnet",
        "claude-haiku-4-5": "claude-haiku",
        "claude-2": "claude-legacy",
        "anthropic.claude-3-5-sonnet-20240620-v1:0": "claude-sonnet",  # a Bedrock id
        "gemini-2.5-pro": "gemini-pro",
        "gemini-2.5-flash-lite": "gemini-flash",
        "gemma-3": "gemma",
        "text-embedding-ada-002": "text-embedding",
        "davinci-002": "gpt-3",
        "acme-llm-7b": FALLBACK_FAMILY,  # no rule: the stated fallback
    }
    assert model_families(expected) == expected


def test_every_model_of_the_pinned_catalog_gets_a_family_of_its_own_line() -> None:
    catalog = catalog_models()
    families = model_families(m for models in catalog.values() for m in models)
    assert sum(len(models) for models in catalog.values()) > 200
    assert [m for m, family in families.items() if family == FALLBACK_FAMILY] == []
    lines = {
        "anthropic": ("claude-",),
        "google": ("gemini-", "gemma", "claude-"),
        "openai": ("gpt-", "o-series", "text-embedding", "tts", "whisper", "moderation", "computer-use"),
    }
    for provider, models in catalog.items():
        for model in models:
            assert families[model].startswith(lines[provider]), (provider, model, families[model])
    # a family is a line of models, not one model: the catalog's ~210 ids fall into far fewer families
    assert len(set(families.values())) < len(families) / 4


def test_rules_are_an_ordered_table_of_valid_patterns() -> None:
    rules = model_family_rules()
    assert rules.columns == ["rule", "pattern", "family"]
    assert rules["rule"].to_list() == list(range(1, rules.height + 1))
    assert rules["pattern"].n_unique() == rules.height
    with duckdb.connect() as con:  # every pattern compiles in DuckDB's RE2
        for pattern in rules["pattern"]:
            con.execute("select regexp_matches('x', $p)", {"p": pattern})


def test_the_model_families_doc_is_current() -> None:
    assert (ROOT / "docs" / "model-families.md").read_text() == model_families_doc(), "run `make docs`"
