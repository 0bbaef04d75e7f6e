"""What crosses the vision boundary: the model's answer (also its response schema) and a call's figures."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


# Given to Gemini as the response schema: the docstring and the field descriptions are part of
# what the model sees, so they speak to the model.
class VisionReading(BaseModel):
    """What the screenshot of a bullion dealer's product page shows."""

    model_config = ConfigDict(extra="ignore")

    price: float | None = Field(
        None,
        description="US dollar price of ONE unit at the lowest quantity tier in the cheapest payment "
        "column (check / wire / ACH); null when no such price is visible.",
    )
    in_stock: bool | None = Field(
        None, description="false when the page shows the product cannot be bought now; null when not shown."
    )
    weight: str | None = Field(
        None, description="Weight or denomination in the product title as shown, e.g. '1 oz', '1/2 oz', 'G1'."
    )
    label: str | None = Field(None, description="Where the price was read, e.g. '1-19 row, Check/Wire column'.")

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Any:
        # Models write "$1,234.50" now and then despite the schema; a zero or negative amount
        # means "no price" in practice.
        if isinstance(value, str):
            text = value.replace("$", "").replace(",", "").strip()
            if text.lower() in ("", "null", "none", "n/a"):
                return None
            value = text
        try:
            number = float(value) if value is not None else None
        except (TypeError, ValueError):
            raise ValueError(f"price is not a number: {value!r}") from None
        if number is None or not math.isfinite(number) or number <= 0:
            return None
        return number

    @field_validator("weight", "label", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None:
            return None
        text = " ".join(str(value).split())[:120]
        return text or None


class VisionAnswer(BaseModel):
    """One screenshot's reading plus what it cost."""

    reading: VisionReading
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 1  # HTTP requests made, retries included
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens
