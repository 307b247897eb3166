"""Identity from the providers' own lists: API keys and users become who-is-who, effective-dated.

Input: the pages of every pull of the Anthropic API keys and users lists and the OpenAI users and
project API keys lists (`PAGES_SCHEMA`: one row per page, `list` = 'api_keys' or 'users', every page of one
pull sharing its `pulled_at`). Output (`IDENTITIES_SCHEMA`): each identity a usage row names by, and the
email of the person it belongs to, over [valid_from, valid_to):

- an API key's id (`api_key_id`) and, for Anthropic, each name it has had (`api_key_name`, how the Claude Code
  report names a key), belong to its owner: the OpenAI key's owner user, the Anthropic key's creator (a user id,
  resolved to an email through the Anthropic users list, from any pull);
- a user's id belongs to its email (`anthropic_account_id`, `openai_user_id`).

Dating: an identity starts the day the key was created (the user added). It ends at the first pull after the
last one that showed it live (a key archived or expired there, or missing from the list) and never came back;
the alias covers that day too (valid_to is the day after), since the key may have been used that day before it
went. A key with `expires_at` ends the day after it expires at the latest. An 'inactive' key can be re-enabled,
so it does not end. Keys owned by a service account name nobody and are filtered; OpenAI keys' names are not
used (no OpenAI usage row names a key by its name, and a name is not unique across providers).

The pipeline joins the email to the roster (`core.dim_alias`): the roster's dates bound the alias, so a
leaver's key stays theirs for the days before they left.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import duckdb
import polars as pl

from transforms.common import connect

LISTS: tuple[str, ...] = ("api_keys", "users")
PROVIDERS: tuple[str, ...] = ("anthropic", "openai")
PAGES_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "list": pl.String,
        "pulled_at": pl.Datetime("us", "UTC"),
        "page": pl.Int64,
        "file": pl.String,
        "body": pl.String,
    }
)
IDENTITIES_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "kind": pl.String,
        "value": pl.String,
        "email": pl.String,
        "valid_from": pl.Date,
        "valid_to": pl.Date,
    }
)
OUTCOMES_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "list": pl.String,
        "pulled_at": pl.Datetime("us", "UTC"),
        "file": pl.String,
        "record_no": pl.Int64,
        "id": pl.String,
        "outcome": pl.String,
        "field": pl.String,
        "reason": pl.String,
    }
)


@dataclass(frozen=True)
class IdentityParse:
    """The identities of every pull, and what became of each record (parsed = loaded + filtered + rejected)."""

    identities: pl.DataFrame
    outcomes: pl.DataFrame


# Pages parsed together: DuckDB works on vectors of rows, so a batch bounds how much page text is in flight.
BATCH_BYTES = 2_000_000


def _connect(pages: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """A parser engine holding the compact record rows of `pages`, parsed a batch of pages at a time."""
    con = connect()
    con.execute("set preserve_insertion_order = false")
    typed = pages.select(PAGES_SCHEMA.names()).cast(dict(PAGES_SCHEMA))  # type: ignore[arg-type]
    con.register("identity_pages", typed.clear())
    for statement in con.extract_statements(files("transforms").joinpath("sql/identity.sql").read_text()):
        con.execute(statement.query)
    sizes = typed["body"].str.len_bytes().fill_null(0)
    batches = typed.with_columns(((sizes.cum_sum() - sizes) // BATCH_BYTES).alias("_batch"))
    for batch in batches.partition_by("_batch", include_key=False, maintain_order=True):
        con.register("identity_pages", batch)
        con.execute("insert into identity_record_rows select * from identity_records()")
        con.execute("insert into identity_snapshots select distinct provider, list, pulled_at from identity_pages")
    return con


def identities_of(pages: pl.DataFrame) -> pl.DataFrame:
    """Every stored pull of the identity lists as effective-dated identities owned by an email.

    `pages` follows `PAGES_SCHEMA`; each body must be a JSON object whose `data` is a list (the caller
    checks that when it lands a page). Page text is parsed a batch at a time into compact record rows.
    """
    return _connect(pages).sql("select * from identities()").pl().cast(dict(IDENTITIES_SCHEMA))  # type: ignore[arg-type]


def record_outcomes(pages: pl.DataFrame) -> pl.DataFrame:
    """What became of each record of `pages` (parsed = loaded + filtered + rejected): a rejected record (a
    missing id, email or creation date) is named by file, record number and field; a record that names no
    person (a service account's key, a workspace) is filtered."""
    out = _connect(pages).sql("select * from identity_outcome_rows()").pl()
    return out.cast(dict(OUTCOMES_SCHEMA))  # type: ignore[arg-type]


def parse_identity_pages(pages: pl.DataFrame) -> IdentityParse:
    """Both at once: the identities of every pull in `pages`, and the outcome of each of their records."""
    return IdentityParse(identities_of(pages), record_outcomes(pages))
