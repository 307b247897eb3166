"""Writer of the `salaries` reference: Levels.fyi-style pay submissions, the source of the pay bands."""

from __future__ import annotations

from pipelines.demo.landing import Landing
from pipelines.demo.org import Company

KIND = "salaries"
_HEADER = ("timestamp", "company", "level", "title", "location", "yearsofexperience", "base", "stock", "bonus", "total")


def write(company: Company, landing: Landing) -> None:
    """`salaries/levels_fyi.csv`: the company's own submissions plus other companies' (noise)."""
    landing.csv(f"{KIND}/levels_fyi.csv", _HEADER, company.salary_rows)
