"""What every model of a published file shares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# Numbers are JSON numbers; the writer prints whole floats without `.0`, as JavaScript does.
Number = float


class ApiModel(BaseModel):
    """A published object. Field order is the key order of the file (the live files' order);
    optional keys left unset are not written, so a model dumps exactly what the export means."""

    model_config = ConfigDict(extra="forbid")


def dump(model: BaseModel) -> Any:
    """The JSON value of a model as it is published: unset optional keys left out."""
    return model.model_dump(mode="json", exclude_unset=True, by_alias=True)
