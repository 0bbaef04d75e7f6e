"""Name what raised, for the `reason` of the row a failed attempt still gets.

A pipeline or a plugin hook that raises must not make a target vanish (the store records it as
`error`), and "error: KeyError" alone sends the operator hunting; the traceback says which
pipeline method or plugin hook it was, so the reason names it: "ValidatePipeline.process_item:
plugin hook staktrakr_price_bounds (plugins/spot/bounds.py) raised ValueError: ...".
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

_HOOK_PREFIX = "staktrakr_"
_ROOT = Path(__file__).resolve().parents[1]


def what_failed(exc: BaseException, limit: int = 300) -> str:
    """`<stage>: <hook> raised <Type>: <message>`, whichever parts the traceback shows."""
    frames = _frames(exc.__traceback__)
    parts = []
    stage = _stage(frames)
    if stage:
        parts.append(f"{stage}:")
    hook = _hook(frames)
    if hook:
        parts.append(hook)
    message = " ".join(str(exc).split())
    parts.append(f"raised {type(exc).__name__}" + (f": {message}" if message else ""))
    return " ".join(parts)[:limit]


def _frames(tb: TracebackType | None) -> list[tuple[str, str, dict[str, object]]]:
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append((code.co_name, code.co_filename, tb.tb_frame.f_locals))
        tb = tb.tb_next
    return frames


def _stage(frames: list[tuple[str, str, dict[str, object]]]) -> str | None:
    """The outermost pipeline method or spider callback of ours (`Class.method`)."""
    for name, filename, local_vars in frames:
        if not _ours(filename):
            continue
        owner = local_vars.get("self")
        if owner is not None and (name.startswith(("process_", "parse", "download_failed", "screenshot_"))):
            return f"{type(owner).__name__}.{name}"
    return None


def _hook(frames: list[tuple[str, str, dict[str, object]]]) -> str | None:
    """The innermost plugin hook implementation (a `staktrakr_*` function) on the way."""
    for name, filename, _ in reversed(frames):
        if name.startswith(_HOOK_PREFIX):  # entry-point plugins live in site-packages too
            return f"plugin hook {name} ({_short(filename)})"
    return None


def _ours(filename: str) -> bool:
    return "site-packages" not in filename and not filename.startswith(sys.prefix + "/lib")


def _short(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(_ROOT))
    except ValueError:
        return Path(filename).name
