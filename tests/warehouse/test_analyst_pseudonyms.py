"""The analyst file's pseudonyms and leak check on cells the marts rarely hold: emails in upper case, engineer ids
in the wrong case, values that name nobody, NULLs, the same person in several columns and tables, and names
inside longer text (short ones included), each expected value computed here with hmac directly."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse.analyst import AnalystLeakError, build_analyst

KEY = b"an analyst test key"
PEOPLE = [("E1", "Ann Lee", "ann.lee@acme.example"), ("E2", "Xu", "XU@Acme.Example"), ("E3", "Cy Diaz", None)]
PRINCIPALS = ["svc-bot", "Robot@Acme.Example"]  # a principal that is an email counts as a person too


def _pseudonym(kind: str, value: str) -> str:
    prefix = {"engineer": "eng_", "name": "person_", "email": "email_"}[kind]
    return prefix + hmac.new(KEY, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


def _warehouse(path: Path, notes: list[str | None]) -> Path:
    """A warehouse file with the core tables the analyst file reads identities from, and marts holding `notes`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema core")
        con.execute("create schema mart")
        con.execute("create table core.dim_engineer (engineer_id varchar, name varchar, email varchar)")
        con.executemany("insert into core.dim_engineer values (?, ?, ?)", PEOPLE)
        con.execute("create table core.dim_alias (value varchar)")
        con.execute("insert into core.dim_alias values ('key-1'), ('Ann.Lee@ACME.example')")
        con.execute("create table core.fct_spend (principal_id varchar)")
        con.executemany("insert into core.fct_spend values (?)", [(p,) for p in PRINCIPALS])
        con.execute("create table mart.comp_mix (grouping varchar, group_name varchar, engineers integer)")
        con.execute("insert into mart.comp_mix values ('team', 'A', 1), ('company', 'all engineers', 3)")
        con.execute("create table mart.team_monthly (team varchar, engineers integer)")
        con.execute("insert into mart.team_monthly values ('A', 2), ('B', 1)")
        con.execute("create table mart.people (n integer, engineer_id varchar, who varchar, contact varchar)")
        con.executemany(
            "insert into mart.people values (?, ?, ?, ?)",
            [
                (1, "E1", "Ann Lee", "ANN.LEE@ACME.EXAMPLE"),
                (2, "e1", "team A", "Robot@acme.example"),  # an engineer id matches in its own case only
                (3, None, "Xu", None),
                (4, "E2", "gpt-5", "xu@acme.example"),
                (5, "E1", None, "ann.lee@acme.example"),
            ],
        )
        con.execute("create table mart.notes (note varchar, rows integer)")
        con.executemany("insert into mart.notes values (?, ?)", [(n, i) for i, n in enumerate(notes)])
    return path


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_cell_naming_a_person_becomes_its_pseudonym_in_every_case_and_the_rest_keeps_its_value(
    tmp_path: Path,
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb", ["shared_route", None, "svc-bot ran 3 jobs"])
    report = build_analyst(warehouse, tmp_path / "analyst.duckdb", KEY, 2)
    path = tmp_path / "analyst.duckdb"
    ann, xu = _pseudonym("email", "ann.lee@acme.example"), _pseudonym("email", "xu@acme.example")
    assert _rows(path, "select * from mart.people order by rowid") == [
        (1, _pseudonym("engineer", "E1"), _pseudonym("name", "Ann Lee"), ann),
        (2, "e1", "team A", _pseudonym("email", "robot@acme.example")),
        (3, None, _pseudonym("name", "Xu"), None),
        (4, _pseudonym("engineer", "E2"), "gpt-5", xu),
        (5, _pseudonym("engineer", "E1"), None, ann),
    ]
    # text that names nobody stays, row order stays, groups below k go
    assert _rows(path, "select * from mart.notes order by rowid") == [
        ("shared_route", 0),
        (None, 1),
        ("svc-bot ran 3 jobs", 2),
    ]
    assert _rows(path, "select grouping, group_name from mart.comp_mix") == [("company", "all engineers")]
    assert _rows(path, "select team from mart.team_monthly") == [("A",)]
    # 3 ids, 3 names, the 3 emails (roster, alias and the principal's, lower-cased; Ann's twice is once)
    assert (report.pseudonymized, report.suppressed) == (9, 2)
    assert report.tables == {"mart.comp_mix": 1, "mart.notes": 3, "mart.people": 5, "mart.team_monthly": 1}


def test_identities_inside_a_json_object_become_their_pseudonyms_and_near_misses_keep_their_value(
    tmp_path: Path,
) -> None:
    notes = [
        '{"engineer":"E1","team":"A","cost_centre":"CC-1"}',  # mart.focus.Tags
        '{"engineer":"E2","team":"A"}',
        '{"principal":"ROBOT@acme.example","n":2}',  # an email string value, in another case
        '{"team":"E10","cost_centre":"XE1","label":"e1","id":"E1x"}',  # near misses of E1: nobody
        "E10 and E2b ran E30 on key_E1",  # near misses in free text (an underscore joins a word)
    ]
    warehouse = _warehouse(tmp_path / "w.duckdb", notes)
    build_analyst(warehouse, tmp_path / "analyst.duckdb", KEY, 2)
    e1, e2 = _pseudonym("engineer", "E1"), _pseudonym("engineer", "E2")
    robot = _pseudonym("email", "robot@acme.example")
    assert _rows(tmp_path / "analyst.duckdb", "select note from mart.notes order by rowid") == [
        (f'{{"engineer":"{e1}","team":"A","cost_centre":"CC-1"}}',),
        (f'{{"engineer":"{e2}","team":"A"}}',),
        (f'{{"principal":"{robot}","n":2}}',),
        ('{"team":"E10","cost_centre":"XE1","label":"e1","id":"E1x"}',),
        ("E10 and E2b ran E30 on key_E1",),
    ]


@pytest.mark.parametrize(
    ("notes", "column", "cells"),
    [
        (['{"tags":{"engineer":"E1"}}'], "note", 1),  # an engineer id in nested JSON, which is not rewritten
        (['["E2","E1"]', '["E2","E1"]'], "note", 4),  # two ids in a JSON array, on two rows
        (["E3: on call", "owner E1-team", "(E2)"], "note", 3),  # an id inside text, at its token boundaries
        (["ask ANN LEE about it"], "note", 1),  # a name inside longer text, in another case
        (["ping xu", "ping xu", "fine"], "note", 2),  # a two-letter name, on two rows
        (["cy diaz and xu agreed"], "note", 2),  # two people in one cell count twice
        (["mail robot@acme.example.org"], "note", 1),  # an email inside a longer value
    ],
)
def test_a_cell_that_still_names_someone_is_refused_and_counted(
    tmp_path: Path, notes: list[str], column: str, cells: int
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb", notes)
    with pytest.raises(AnalystLeakError, match=rf"mart\.notes\.{column} still names a person in {cells} cell\(s\)$"):
        build_analyst(warehouse, tmp_path / "analyst.duckdb", KEY, 2)
    assert not (tmp_path / "analyst.duckdb").exists()
