"""Writer of the `salaries` reference: Levels.fyi submissions in the classic CSV shape, the source of the bands."""

from __future__ import annotations

from pipelines.demo import pay
from pipelines.demo.landing import Landing
from pipelines.demo.org import Company

KIND = "salaries"


def write(company: Company, landing: Landing) -> None:
    """`salaries/levels_fyi.csv`: the company's own submissions plus other companies' (noise), with the quirks
    of the real export (docs/salaries.md)."""
    landing.csv(f"{KIND}/levels_fyi.csv", pay.COLUMNS, pay.classic_rows(company.salary_rows))
