"""`[alerts]` and `[privacy]` in config: the default rules, a replaced rule list, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import DEFAULT_ALERT_RULES, AlertRule, ConfigError, load_settings


def test_defaults_are_the_three_rules_of_the_issue(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert (
        settings.alert_rules
        == DEFAULT_ALERT_RULES
        == (
            AlertRule("run_rate_half_base", "run_rate_share_of_base", "0.5"),
            AlertRule("spend_over_base", "run_rate_share_of_base", "1.0"),
            AlertRule("month_over_month_jump", "month_over_month", "3", "50"),
        )
    )
    assert (settings.short_window_days, settings.privacy_k, settings.pseudonym_key_env) == (
        14, 5, "TOKENCOMP_PSEUDONYM_KEY"
    )  # fmt: skip


def test_a_config_file_replaces_the_rules_and_thresholds_stay_decimal_text(tmp_path: Path) -> None:
    config = tmp_path / "tokencomp.toml"
    config.write_text(
        "[alerts]\nshort_window_days = 7\n"
        '[[alerts.rules]]\nrule = "quarter_of_base"\nkind = "run_rate_share_of_base"\nthreshold = 0.25\n'
        "[privacy]\nk = 10\n"
    )
    settings = load_settings(config)
    assert settings.alert_rules == (AlertRule("quarter_of_base", "run_rate_share_of_base", "0.25"),)
    assert (settings.short_window_days, settings.privacy_k) == (7, 10)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[alerts.rules]]\nrule = "x"\nkind = "vibes"\nthreshold = "1"\n',
            "invalid configuration: alerts.rules 'x': kind must be one of run_rate_share_of_base, "
            "month_over_month, not 'vibes'",
        ),
        (
            '[[alerts.rules]]\nrule = "x"\nkind = "month_over_month"\nthreshold = "three"\n',
            "invalid configuration: alerts.rules 'x': threshold must be a number, not 'three'",
        ),
        ("[privacy]\nk = 0\n", "invalid configuration: privacy.k must be a positive whole number, not 0"),
    ],
)
def test_bad_alert_or_privacy_config_is_one_line(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "tokencomp.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert str(info.value) == message
