"""Each file family of the API: its name, the paths it covers and its model.

The writer validates every file it writes through its family's model; the schemas published
under `api/schema/{name}.json` are generated from the same models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

from . import layout
from .models.base import dump
from .models.feeds import GoldbackSpot, GoldbackYear, SpotFile
from .models.retail import History, LatestIndex, Manifest, Providers, SlugLatest
from ..status.model import StatusFile


@dataclass(frozen=True)
class Family:
    name: str  # also the schema's file name
    model: type[BaseModel]
    pattern: re.Pattern[str]  # relative paths of the family's files
    example: str  # one path, for documentation

    def matches(self, relpath: str) -> bool:
        return self.pattern.fullmatch(relpath) is not None


def _family(name: str, model: type[BaseModel], pattern: str, example: str) -> Family:
    return Family(name, model, re.compile(pattern), example)


FAMILIES: tuple[Family, ...] = (
    _family("manifest", Manifest, re.escape(layout.MANIFEST), layout.MANIFEST),
    _family("latest", LatestIndex, re.escape(layout.LATEST), layout.LATEST),
    _family("providers", Providers, re.escape(layout.PROVIDERS), layout.PROVIDERS),
    _family("slug-latest", SlugLatest, rf"api/{layout.SLUG_PATTERN}/latest\.json", layout.slug_latest("ase")),
    _family("history", History, rf"api/{layout.SLUG_PATTERN}/history-(?:7d|30d)\.json", layout.history_30d("ase")),
    _family("status", StatusFile, re.escape(layout.STATUS), layout.STATUS),
    _family("goldback-spot", GoldbackSpot, re.escape(layout.GOLDBACK_SPOT), layout.GOLDBACK_SPOT),
    _family("goldback-year", GoldbackYear, r"(?:api/)?goldback-\d{4}\.json", layout.goldback_year(2026)),
    _family("spot", SpotFile, r"(?:hourly/\d{4}/\d{2}/\d{2}/\d{2}|15min/\d{4}/\d{2}/\d{2}/\d{4}|(?:api/)?spot-history-\d{4})\.json", "hourly/2026/03/15/20.json"),
)
BY_NAME = {f.name: f for f in FAMILIES}


def family_of(relpath: str | PurePath) -> Family | None:
    """The family of a path relative to the data root; None for a file that is not one."""
    text = PurePath(relpath).as_posix()
    if text.startswith(layout.SCHEMA_DIR + "/"):
        return None  # schemas describe the families, they are not one of them
    return next((f for f in FAMILIES if f.matches(text)), None)


def published_value(relpath: str, value: Any) -> Any:
    """The JSON value of the file `relpath`: a model of its family dumped as published, or JSON
    data checked against that model (a plugin's files come as data). A file of no known family
    (a third-party plugin's) is returned as it is. Raises pydantic.ValidationError when the
    data does not fit the model, TypeError for a model of another family: the export must never
    publish a file its schema rejects."""
    family = family_of(relpath)
    if isinstance(value, BaseModel):
        if family is not None and not isinstance(value, family.model):
            raise TypeError(f"{relpath} is a {family.model.__name__}, not a {type(value).__name__}")
        return dump(value)
    if family is None:
        return value
    return dump(family.model.model_validate(value))
