"""The one resource every asset shares: where tokencomp's config and data are."""

from datetime import datetime
from pathlib import Path

import dagster as dg

from pipelines.config import Settings, load_settings
from pipelines.locks import private_dir


class TokencompResource(dg.ConfigurableResource):
    """Settings for a run: config file and data dir (optional) and, for reproducible demos, a landing time."""

    config_path: str | None = None
    data_dir: str | None = None
    landed_at: str | None = None

    def settings(self) -> Settings:
        """Resolved settings (packaged defaults + tokencomp.toml / $TOKENCOMP_CONFIG / config_path); the data dir
        exists and is owner-only (it holds names, emails and pay)."""
        settings = load_settings(Path(self.config_path) if self.config_path else None, data_dir=self.data_dir)
        private_dir(settings.data_dir)
        return settings

    def landed_at_time(self) -> datetime | None:
        """The landing instant to stamp on new deliveries, or None for 'now'."""
        return datetime.fromisoformat(self.landed_at) if self.landed_at else None
