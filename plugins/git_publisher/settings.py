"""The git publisher's environment variables (its section of the configuration)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class GitPublisherSettings(BaseModel):
    """Where `staktrakr publish` commits and pushes the API; publishing is off without a remote."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    API_GIT_REMOTE: SecretStr | None = Field(None, description="Git remote the API is pushed to (may embed a token).")
    API_GIT_BRANCH: str = Field("api", description="Branch the API is committed to.")
    API_GIT_SERVE_BRANCH: str | None = Field(None, description="Also merge the API branch into this branch (hosts that serve e.g. main).")
    API_GIT_WORKDIR: Path = Field(Path("var/publish"), description="Working clone used by the git publisher.")
