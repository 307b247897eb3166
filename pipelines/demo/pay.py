"""Levels.fyi-style pay submissions: the demo company's own, plus noise from other companies.

The company's base-salary medians per (level, location) are the bands the spending profiles are sized
against (a tokenmaxxer spends more than their band's base p50 a year; nobody else comes close). The file is
written in the classic Levels.fyi shape with its quirks (`classic_rows`); `base_medians` finds each band the
way the warehouse matches it (docs/salaries.md), so the ground truth and the warehouse agree.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from pipelines.demo.company import LEVELS, LOCATIONS, OTHER_COMPANIES, PAY_SF, SPARSE_CELLS, TITLE_BY_LEVEL, YOE
from transforms.salaries import CLASSIC_COLUMNS

SalaryRow = tuple[str, str, str, str, str, int, int, int, int, int]
"""(timestamp, company, level, title, location, years of experience, base, stock, bonus, total)."""


def submissions(rng: Random, company: str, end: date) -> list[SalaryRow]:
    """Every pay submission, sorted by (timestamp, company, level, location, base, stock, bonus)."""
    rows: list[SalaryRow] = []

    def submit(company: str, level: str, loc: tuple[str, int, float, float], mult: float) -> None:
        base_sf, stock_sf, bonus_sf = PAY_SF[level]
        noise = rng.uniform(0.88, 1.12)
        base = round(base_sf * loc[2] * mult * noise / 500) * 500
        stock = round(stock_sf * loc[3] * mult * rng.uniform(0.6, 1.4) / 500) * 500
        bonus = round(bonus_sf * loc[2] * mult * rng.uniform(0.5, 1.5) / 100) * 100
        stamp = (end - timedelta(days=rng.randint(0, 729))).isoformat()
        yoe = rng.randint(*YOE[level])
        rows.append(
            (stamp, company, level, TITLE_BY_LEVEL[level], loc[0], yoe, base, stock, bonus, base + stock + bonus)
        )

    for level in LEVELS:
        for loc in LOCATIONS:
            k = rng.randint(1, 3) if (level, loc[0]) in SPARSE_CELLS else rng.randint(10, 40)
            for _ in range(k):
                submit(company, level, loc, 1.0)
    for other, mult in OTHER_COMPANIES:
        for level in LEVELS:
            for loc in LOCATIONS:
                if rng.random() < 0.6:
                    for _ in range(rng.randint(3, 15)):
                        submit(other, level, loc, mult)
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[4], r[6], r[7], r[8]))
    return rows


MIN_N = 5  # the default bands.min_n
# Levels.fyi writes regions as short codes; the default config's bands.location_map maps the roster's offices here.
FILE_LOCATION = {
    "London, England, United Kingdom": "London, EN, United Kingdom",
    "Berlin, Berlin, Germany": "Berlin, BE, Germany",
    "Toronto, Ontario, Canada": "Toronto, ON, Canada",
}
# the classic Levels.fyi columns the loader reads, then the ones a real export also carries and it ignores
COLUMNS = (*CLASSIC_COLUMNS, "gender", "otherdetails", "cityid", "dmaid", "rowNumber")
_TAGS = ("Distributed Systems (Back-End)", "ML / AI", "Robotics", "Full Stack", "NA", "Embedded")


def quirk(i: int, row: SalaryRow) -> str:
    """The Levels.fyi quirk row `i` of the file carries (by position, no random draw): 'no_breakdown' (base,
    stock and bonus 0), 'off' (parts do not add up), 'stock_thousands' (stock written in thousands), or ''."""
    if i % 29 == 3:
        return "no_breakdown"
    if i % 31 == 5:
        return "off"
    if i % 37 == 7 and row[7] >= 20_000:
        return "stock_thousands"
    return ""


def reconciles(i: int, row: SalaryRow) -> bool:
    """Whether the row's parts, as loaded, add up to its total (rows with a quirk of 'no_breakdown' or 'off' don't)."""
    return quirk(i, row) not in ("no_breakdown", "off")


def _country(location: str) -> str:
    parts = location.split(", ")
    return "United States" if len(parts) == 2 else parts[-1]


def base_medians(rows: list[SalaryRow], company: str) -> dict[tuple[str, str], float]:
    """The company's band base p50 per (level, roster location), as the warehouse matches it: the location when
    it has at least MIN_N submissions, else the country, else the company-wide band for the level. The median is
    over the rows whose parts reconcile, rounded half up to whole USD as the bands are."""
    groups: dict[tuple[str, str], list[tuple[int, bool]]] = {}
    for i, r in enumerate(rows):
        if r[1] != company:
            continue
        ok = reconciles(i, r)
        for key in ((r[2], r[4]), (r[2], "country:" + _country(r[4])), (r[2], "all")):
            groups.setdefault(key, []).append((r[6], ok))
    out: dict[tuple[str, str], float] = {}
    for level, location in {(r[2], r[4]) for r in rows if r[1] == company}:
        for key in ((level, location), (level, "country:" + _country(location)), (level, "all")):
            if len(groups[key]) >= MIN_N:
                median = Decimal(statistics.median([b for b, ok in groups[key] if ok]))
                out[(level, location)] = float(median.quantize(Decimal(1), rounding=ROUND_HALF_UP))
                break
    return out


def classic_rows(rows: list[SalaryRow]) -> list[tuple[object, ...]]:
    """The submissions in the classic Levels.fyi CSV shape (COLUMNS), with its quirks: M/D/YYYY H:MM:SS
    timestamps, company names in varying case and spacing (a leading non-breaking space, a legal suffix), levels
    as free text, `NA` for missing values, US locations sometimes with the country, and the money quirks of
    `quirk`. Every money value is whole USD."""
    out: list[tuple[object, ...]] = []
    for i, r in enumerate(rows):
        stamp, company, level, _title, location, yoe, base, stock, bonus, total = r
        day = date.fromisoformat(stamp)
        at = datetime.combine(day, time(i % 24, (i * 7) % 60, (i * 13) % 60))
        when = f"{at.month}/{at.day}/{at.year} {at.hour}:{at.minute:02d}:{at.second:02d}"
        name = (company, company.lower(), f"{company} Inc.", f"\u00a0{company}", company.upper(), company)[i % 6]
        lvl = (level, level, level.lower(), f"L {level[1:]}", level, f"Level {level[1:]}", level)[i % 7]
        place = FILE_LOCATION.get(location, location)
        if place == location and i % 41 == 9:
            place = f"{location}, United States"
        kind = quirk(i, r)
        parts: tuple[object, object, object] = (base, stock, bonus)
        if kind == "no_breakdown":
            parts = (0, 0, 0)
        elif kind == "off":
            parts = (base, stock, bonus + max(5_000, total // 10))
        elif kind == "stock_thousands":
            parts = (base, Decimal(stock) / 1000, bonus)
        at_company = "NA" if i % 11 == 4 else f"{min(yoe, (i % 8) / 2):g}"
        out.append(
            (
                when,
                name,
                lvl,
                "Software Engineer",
                total,
                place,
                yoe,
                at_company,
                _TAGS[i % len(_TAGS)],
                *parts,
                "NA",
                "NA",
                7419 + i % 13,
                807 if place.endswith("CA") else 0,
                10_000 + i,
            )
        )
    return out
