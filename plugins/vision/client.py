"""One screenshot in, one validated reading out: the Gemini call through `google-genai`.

Blocking by design (the SDK's sync client): the pipeline runs it in a bounded thread pool, so
the reactor never waits for it. Every HTTP request takes one unit of the run's call budget,
retries included; 429 and 5xx answers (and refused connections) are retried a bounded number
of times with exponential backoff; a timeout is not retried (a slow model stays slow, and the
crawl should not wait for it twice). Anything that goes wrong is a `VisionError`, which the
pipeline logs before keeping the scraped result.

The API key goes into the client and from there into a request header; it is never part of
a message, a URL or an exception we raise.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from staktrakr.errors import StaktrakrError
from .schema import VisionAnswer, VisionReading

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class VisionError(StaktrakrError):
    """The screenshot could not be read: API error, timeout, an answer that is not the schema."""


class VisionBudgetExhausted(VisionError):
    """VISION_MAX_CALLS requests have been made in this run."""


class CallBudget:
    """How many requests to Gemini this run may still make (thread-safe)."""

    def __init__(self, limit: int):
        self.limit = max(0, limit)
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self.used >= self.limit


@dataclass
class CallTotals:
    """What this client has spent so far in the run, failed calls included."""

    calls: int = 0  # HTTP requests, retries included
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0  # wall time inside read(), backoff included

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ClientOptions:
    model: str = "gemini-2.5-flash"
    base_url: str | None = None  # None: the SDK's default endpoint
    api_version: str = "v1beta"
    timeout_s: float = 30.0
    max_output_tokens: int = 1024
    retries: int = 2
    backoff_s: float = 1.0
    backoff_max_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any, base_url: str | None) -> ClientOptions:
        return cls(
            model=settings.get("VISION_MODEL"),
            base_url=base_url,
            api_version=settings.get("VISION_API_VERSION"),
            timeout_s=settings.getfloat("VISION_TIMEOUT"),
            max_output_tokens=settings.getint("VISION_MAX_OUTPUT_TOKENS"),
            retries=settings.getint("VISION_RETRIES"),
            backoff_s=settings.getfloat("VISION_RETRY_BACKOFF"),
            backoff_max_s=settings.getfloat("VISION_RETRY_BACKOFF_MAX"),
        )


def parse_answer(text: str | None) -> VisionReading:
    """The model's text as a VisionReading: JSON, or the first {...} once code fences are gone."""
    if not text or not text.strip():
        raise VisionError("empty answer")
    cleaned = _FENCE.sub("", text.strip())
    try:
        data = json.loads(cleaned)
    except json.JSONDecodeError:
        found = _OBJECT.search(cleaned)
        try:
            data = json.loads(found.group(0)) if found else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            raise VisionError(f"answer is not JSON: {cleaned[:80]!r}") from None
    if not isinstance(data, dict):
        raise VisionError(f"answer is not a JSON object: {cleaned[:80]!r}")
    try:
        return VisionReading.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise VisionError(f"answer does not fit the schema: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _is_timeout(exc: BaseException) -> bool:
    # httpx / httpx2 timeouts (the SDK uses either) and the standard library's.
    return isinstance(exc, TimeoutError) or any("Timeout" in cls.__name__ for cls in type(exc).__mro__)


class GeminiVision:
    """Reads screenshots with one Gemini model; shared by the pipeline's worker threads."""

    def __init__(
        self,
        api_key: str,
        options: ClientOptions,
        budget: CallBudget,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        from google import genai
        from google.genai import types

        self.options = options
        self.budget = budget
        self._sleep = sleep
        self._types = types
        self._totals = CallTotals()
        self._lock = threading.Lock()
        http = types.HttpOptions(
            base_url=options.base_url,
            api_version=options.api_version,
            timeout=int(options.timeout_s * 1000),
        )
        self._client = genai.Client(api_key=api_key, http_options=http)
        self._config = types.GenerateContentConfig(
            temperature=0,
            max_output_tokens=options.max_output_tokens,
            thinking_config=types.ThinkingConfig(thinking_budget=0),
            response_mime_type="application/json",
            response_schema=VisionReading,
            # No tools are offered; saying so also spares a log line per call.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        # The HTTP client logs every request at INFO; our pipeline logs the outcome per target.
        for name in ("httpx", "httpx2"):
            quiet = logging.getLogger(name)
            if quiet.level == logging.NOTSET:
                quiet.setLevel(logging.WARNING)

    def __repr__(self) -> str:  # never the client: it holds the key
        return f"GeminiVision(model={self.options.model!r})"

    @property
    def totals(self) -> CallTotals:
        with self._lock:
            return CallTotals(**vars(self._totals))

    def _spent(self, calls: int = 0, input_tokens: int = 0, output_tokens: int = 0, seconds: float = 0.0) -> None:
        with self._lock:
            self._totals.calls += calls
            self._totals.input_tokens += input_tokens
            self._totals.output_tokens += output_tokens
            self._totals.seconds += seconds

    def read(self, png: bytes, prompt: str) -> VisionAnswer:
        """Ask the model about one screenshot. Raises VisionError."""
        started = time.monotonic()
        try:
            return self._read(png, prompt)
        finally:
            self._spent(seconds=time.monotonic() - started)

    def _read(self, png: bytes, prompt: str) -> VisionAnswer:
        from google.genai import errors

        types = self._types
        contents = [types.Part.from_bytes(data=png, mime_type="image/png"), prompt]
        started = time.monotonic()
        attempts = 0
        while True:
            if not self.budget.take():
                raise VisionBudgetExhausted(f"call budget of {self.budget.limit} used up")
            attempts += 1
            self._spent(calls=1)
            try:
                response = self._client.models.generate_content(
                    model=self.options.model, contents=contents, config=self._config
                )
                break
            except errors.APIError as exc:
                status = exc.status or ""
                problem = f"Gemini HTTP {exc.code}{' ' + status if status else ''}"
                retry = exc.code in RETRY_STATUSES
            except Exception as exc:  # noqa: BLE001 - transport errors come from httpx/httpx2/aiohttp
                if _is_timeout(exc):
                    raise VisionError(f"no answer within {self.options.timeout_s:g} s") from None
                problem, retry = f"{type(exc).__name__}: {str(exc)[:120]}", True
            if not retry or attempts > self.options.retries:
                tries = f" after {attempts} attempts" if attempts > 1 else ""
                raise VisionError(f"{problem}{tries}")
            pause = min(self.options.backoff_max_s, self.options.backoff_s * 2 ** (attempts - 1))
            self._sleep(pause * random.uniform(0.8, 1.2))
        usage = response.usage_metadata
        input_tokens = (usage.prompt_token_count or 0) if usage else 0
        output_tokens = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
        self._spent(input_tokens=input_tokens, output_tokens=output_tokens)  # paid for, even if unreadable
        reading = parse_answer(response.text)
        return VisionAnswer(
            reading=reading,
            model=self.options.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            attempts=attempts,
            seconds=round(time.monotonic() - started, 3),
        )

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
