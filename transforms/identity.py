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


def parse_identity_pages(pages: pl.DataFrame) -> IdentityParse:
    """Turn every stored pull of the identity lists into effective-dated identities owned by an email.

    `pages` follows `PAGES_SCHEMA`; each body must be a JSON object whose `data` is a list (the caller
    checks that when it lands a page). Records are rejected one by one (a missing id, email or creation
    date), named by file, record number and field; records that name no person are filtered.
    """
    con = connect()
    con.register("identity_pages", pages.select(PAGES_SCHEMA.names()).cast(dict(PAGES_SCHEMA)))  # type: ignore[arg-type]
    for statement in con.extract_statements(files("transforms").joinpath("sql/identity.sql").read_text()):
        con.execute(statement.query)
    identities = con.sql("select * from identities()").pl()
    outcomes = con.sql("select * from identity_outcome_rows()").pl()
    return IdentityParse(
        identities.cast(dict(IDENTITIES_SCHEMA)),  # type: ignore[arg-type]
        outcomes.cast(dict(OUTCOMES_SCHEMA)),  # type: ignore[arg-type]
    )
