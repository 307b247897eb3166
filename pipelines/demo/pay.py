"""Levels.fyi-style pay submissions: the demo company's own, plus noise from other companies.

The company's base-salary medians per (level, location) are the bands the spending profiles are sized
against (a tokenmaxxer spends more than their band's base p50 a year; nobody else comes close).
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from random import Random

from pipelines.demo.company import LEVELS, LOCATIONS, OTHER_COMPANIES, PAY_SF, SPARSE_CELLS, TITLE_BY_LEVEL, YOE

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


def base_medians(rows: list[SalaryRow], company: str) -> dict[tuple[str, str], float]:
    """The company's base-salary p50 per (level, location)."""
    bases: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        if r[1] == company:
            bases.setdefault((r[2], r[4]), []).append(r[6])
    return {k: float(statistics.median(v)) for k, v in bases.items()}
