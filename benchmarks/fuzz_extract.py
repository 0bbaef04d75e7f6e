"""Fuzzing the extraction chain with mangled dealer pages (file level, no download).

    python benchmarks/fuzz_extract.py [--seed 1] [--count 10000] [--jobs 2] [--max-seconds 900]
                                      [--page-timeout 60] [--max-size 5000000] [--only INDEX]

Takes the sample dealer pages (samples/sites/) and both held-out sets
(tests/fixtures/heldout*/), applies seeded random mutations (byte flips, truncation, control
characters, NUL bytes, invalid UTF-8, other encodings, huge repetitions up to 5 MB, JSON-LD and
Next.js blobs nested 1,000-100,000 deep, numbers of thousands of digits, unclosed attributes,
tags, comments and CDATA, enormous attribute values, deep element nesting, giant tables, odd
JSON …) and runs `Page(...)` + `extract(...)` with the real dealer profiles, as the retail
spider does. Every page is rebuilt from (seed, index) alone, so `--only INDEX` replays one.

Prints figures, never asserts: pages, statuses, exceptions by type (one example each), pages
over 2 s, the slowest pages and pages per second. Pages run in `--jobs` worker processes; a
page still running after `--page-timeout` seconds is killed and counted as a timeout.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
SLOW = 2.0  # seconds: a page slower than this counts as slow

# -- the pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    label: str
    html: str
    dealer: str
    coin: str


def load_sources(sets: str | None = None, root: Path | None = None) -> list[Source]:
    """Every sample page and held-out page with its dealer and coin (from its truth.json).
    `sets`: comma-separated names to use ("sites,heldout,heldout2"); default all of them.
    `root`: the checkout to take them from (default this one)."""
    root = root or ROOT
    roots = [root / "samples" / "sites", *sorted((root / "tests" / "fixtures").glob("heldout*"))]
    if sets:
        wanted = set(sets.split(","))
        roots = [r for r in roots if r.name in wanted]
    sources = []
    for root in roots:
        for entry in json.loads((root / "truth.json").read_text(encoding="utf-8")):
            html = (root / entry["path"]).read_text(encoding="utf-8")
            sources.append(Source(f"{root.name}/{entry['path']}", html, entry["dealer"], entry["coin"]))
    return sources


# -- mutations ---------------------------------------------------------------------------------
# Each takes (rng, html, size) and returns the new page (str) or its bytes; `size` is the target
# size of the mutations that make big pages.

CONTROL = [chr(c) for c in range(0x00, 0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\x7f", "\ufffe", "\uffff", "\ud800", "\udfff"]


def _spot(rng: random.Random, html: str) -> int:
    """Where to insert: anywhere, or near the product title / first price (where it hurts)."""
    if html and rng.random() < 0.5:
        anchor = html.find("<h1")
        if anchor >= 0:
            price = html.find("$", anchor)
            return price if price >= 0 and rng.random() < 0.5 else anchor
    return rng.randrange(len(html) + 1)


def _insert(rng: random.Random, html: str, piece: str) -> str:
    at = _spot(rng, html)
    return html[:at] + piece + html[at:]


def _log_int(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def big_size(rng: random.Random, cap: int) -> int:
    """Size of a big page: most a few hundred KB, some around 1-2 MB, a few up to `cap` (5 MB)."""
    roll = rng.random()
    if roll < 0.80:
        size = _log_int(rng, 20_000, 400_000)
    elif roll < 0.96:
        size = _log_int(rng, 400_000, 2_000_000)
    else:
        size = _log_int(rng, 2_000_000, 5_000_000)
    return min(size, cap)


def flip_bytes(rng, html, size):
    data = bytearray(html.encode("utf-8", "surrogatepass"))
    for _ in range(_log_int(rng, 1, 400)):
        if data:
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    return bytes(data)


def truncate(rng, html, size):
    return html[: rng.randrange(len(html) + 1)]


def delete_span(rng, html, size):
    at = rng.randrange(len(html) + 1)
    return html[:at] + html[at + _log_int(rng, 1, 20_000) :]


def control_chars(rng, html, size):
    chars = list(html)
    for _ in range(_log_int(rng, 1, 2000)):
        chars.insert(_spot(rng, html) if rng.random() < 0.2 else rng.randrange(len(chars) + 1), rng.choice(CONTROL))
    text = "".join(chars)
    if rng.random() < 0.3:  # whitespace turned into vertical tabs / escapes in a stretch
        at = rng.randrange(len(text) + 1)
        stretch = text[at : at + 5000].replace(" ", rng.choice(["\x0b", "\x1b", "\x0c", "\x00"]))
        text = text[:at] + stretch + text[at + 5000 :]
    return text


def nul_page(rng, html, size):
    kind = rng.randrange(4)
    if kind == 0:
        return "\x00" * size
    if kind == 1:
        return b"\x00" * size
    if kind == 2:
        return "\x00".join(html)  # UTF-16-like
    at = rng.randrange(len(html) + 1)
    return html[:at] + "\x00" * size + html[at:]


def repeat_chunk(rng, html, size):
    at = rng.randrange(len(html) + 1)
    chunk = html[at : at + _log_int(rng, 1, 20_000)] or "<div>$93.33</div>"
    return _insert(rng, html, chunk * max(1, size // len(chunk)))


def deep_json(rng, html, size):
    depth = _log_int(rng, 1000, 100_000)
    shape = rng.choice(["array", "object", "mixed", "unclosed", "offers"])
    if shape == "array":
        blob = "[" * depth + "]" * depth
    elif shape == "object":
        blob = '{"a":' * depth + "1" + "}" * depth
    elif shape == "mixed":
        blob = '[{"@graph":' * depth + "null" + "}]" * depth
    elif shape == "unclosed":
        blob = "[" * depth
    else:
        blob = '{"@type":"Product","name":"x","offers":' + '{"@type":"Offer","price":"93.33","offers":' * depth + "1" + "}" * depth + "}"
    kind = rng.choice(['type="application/ld+json"', 'type="application/json" id="__NEXT_DATA__"'])
    return _insert(rng, html, f"<script {kind}>{blob}</script>")


def huge_number_json(rng, html, size):
    digits = "".join(rng.choices("0123456789", k=_log_int(rng, 400, 30_000))).lstrip("0") or "7"
    value = rng.choice([digits, f"{digits}.5", f"0.{digits}", f'"{digits}"', f'"${digits}.00"', f"1e{digits[:6]}", f"-{digits}", f"{digits}e-{digits[:5]}"])
    if rng.random() < 0.5:
        blob = f'{{"@context":"https://schema.org","@type":"Product","name":"x","offers":{{"@type":"Offer","price":{value},"availability":"InStock"}}}}'
        kind = 'type="application/ld+json"'
    else:
        blob = f'{{"props":{{"pageProps":{{"product":{{"achPrice":{value},"priceTiers":[{{"minQty":{value},"achPrice":{value}}}]}}}}}}}}'
        kind = 'type="application/json" id="__NEXT_DATA__"'
    return _insert(rng, html, f"<script {kind}>{blob}</script>")


def huge_number_text(rng, html, size):
    digits = "".join(rng.choices("0123456789", k=_log_int(rng, 25, 200_000)))
    piece = rng.choice([
        f"${digits}", f"${digits}.99", f"{digits}.00 USD", f"USD {digits}.00", f"Price: ${digits}",
        "$" + ",".join(digits[i : i + 3] for i in range(0, len(digits), 3)) + ".00",
        ",".join(digits[i : i + 3] for i in range(0, len(digits), 3)), digits, f"1 - 19 ${digits}",
        f"<h1>{digits} oz Silver Eagle</h1>",
    ])  # fmt: skip
    return _insert(rng, html, f"<div>{piece}</div>" if rng.random() < 0.7 else piece)


def unclosed_attr(rng, html, size):
    words = ["price", "pricing", "tier", "product", "<span>", "</span>", ">", "<", " ", "x" * 50, "price-tier", "\n"]
    filler = "".join(rng.choice(words) for _ in range(max(1, size // 20)))
    opener = rng.choice(['<div class="product-price ', '<span class="', '<a href="', "<div class='price ", '<div data-x="tier '])
    at = _spot(rng, html)
    rest = html[at:].replace('"', "") if rng.random() < 0.5 else html[at:]
    return html[:at] + opener + filler + rest


def unclosed_construct(rng, html, size):
    text = html
    for _ in range(rng.randint(1, 5)):
        opener = rng.choice(["<!--", "<![CDATA[", "<script>", "<style>", "<textarea>", "<title>", "<div", "<", "<!", "<?xml ",
                             "<svg><![CDATA[", "<table><tr><td", '<script type="application/ld+json">{"a":[', "<iframe>", "<xmp>"])
        text = _insert(rng, text, opener)
    return text


def huge_attr(rng, html, size):
    kind = rng.randrange(4)
    if kind == 0:
        piece = f'<div data-x="{"a" * size}">'
    elif kind == 1:
        piece = f'<div class="price{" price tier" * (size // 11)}"></div>'
    elif kind == 2:
        piece = f'<div style="{"display:none;" * (size // 13)}">$1.00</div>'
    else:
        piece = f'<img src="data:image/png;base64,{"QUJD" * (size // 4)}">'
    return _insert(rng, html, piece)


def nested_tags(rng, html, size):
    depth = _log_int(rng, 100, 100_000)
    tag = rng.choice(["div", "span", "b", "table", "ul", "font", "section", "p"])
    text = rng.choice(["", "x", "$93.33", "1 - 19", "Out of Stock", " "])
    inner = {"table": "<tr><td>", "ul": "<li>"}.get(tag, "")
    opened = f"<{tag}>{inner}{text}" * depth
    closed = f"</{tag}>" * depth if rng.random() < 0.5 else ""
    return _insert(rng, html, opened + closed)


def invalid_utf8(rng, html, size):
    data = bytearray(html.encode("utf-8", "surrogatepass"))
    bad = [b"\xff", b"\xfe", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82", b"\xf0\x9f"]
    for _ in range(_log_int(rng, 1, 3000)):
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.choice(bad)
    return bytes(data)


def giant_table(rng, html, size):
    row = rng.choice([
        "<tr><td>1 - 19</td><td>$93.33</td><td>$96.10</td></tr>", "<tr><td>{n}+</td><td>${n}.00</td></tr>",
        "<tr><th>1 - 19</th></tr>", "<tr><td>1</td><td>$</td><td>93</td></tr>", "<tr><td>Check/Wire</td><td>Card/PayPal</td></tr>",
        "<div>1 - 19</div><div>$93.33</div>", "<th>1-24</th><th>25-99</th>",
    ])  # fmt: skip
    count = max(1, size // len(row))
    body = "".join(row.format(n=i % 997) for i in range(count)) if "{n}" in row else row * count
    return _insert(rng, html, f"<table>{body}</table>")


def weird_encoding(rng, html, size):
    codec = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "utf-8-sig", "cp500", "utf-7"])
    data = html.encode(codec, errors="replace")
    if rng.random() < 0.3:
        data = b'<meta charset="' + codec.encode() + b'">' + data
    return data


BIZARRE_JSON = [
    '{"@type":"Offer","price":NaN}', '{"@type":"Offer","price":Infinity}', '{"@type":"Offer","price":-Infinity}',
    '{"@type":"Offer","price":[]}', '{"@type":"Offer","price":{}}', '{"@type":"Offer","price":null}', '{"@type":"Offer","price":true}',
    '{"@type":"Offer","price":"1e400"}', '{"@type":"Offer","price":"$1,2,3"}', '{"@type":5}', '{"@type":[null,{},[]]}',
    '{"@type":"Product","offers":"x"}', '{"@graph":1}', '{"@graph":[1,"a",null]}', '{"a":1,"a":2}', '"\\ud800"',
    '{"@type":"Offer","price":"\\ud800\\udfff"}', "\ufeff{}", '{"a":1,}', "{a:1}", "[1,2,", '{"x":"</script>"}', "null", "1",
    '{"@type":"Offer","price":"93.33","availability":{"x":1}}', '{"@type":"Offer","priceSpecification":[1,{"price":[]}]}',
    '{"@type":"AggregateOffer","lowPrice":1e308,"highPrice":-1e308}', '{"props":{"priceTiers":[{},{"minQty":"x"},[]]}}',
    '{"props":{"tiers":[{"minQty":1e999,"achPrice":"x"}]}}', '{"props":{"prices":' + "[1]," * 3 + "[]}}",
    '{"@type":"Product","name":["x"],"offers":[{"@type":["Offer",null],"price":"93.33"}]}', '{"' + "k" * 100_000 + '":1}',
    '{"@type":"Offer","price":"' + "9" * 5000 + '"}', '{"props":{"availability":[],"in_stock":{}}}', "{" * 5 + "}" * 4,
    '{"@type":"Offer","price":1' + "0" * 330 + "}", '{"props":{"achPrice":' + "1" * 5000 + "}}",
]  # fmt: skip


def bizarre_json(rng, html, size):
    text = html
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(['type="application/ld+json"', 'type="application/json"', 'type="application/json" id="__NEXT_DATA__"'])
        text = _insert(rng, text, f"<script {kind}>{rng.choice(BIZARRE_JSON)}</script>")
    return text


def many_scripts(rng, html, size):
    script = rng.choice([
        '<script type="application/ld+json">{"@type":"Offer","price":"{n}.33","availability":"OutOfStock"}</script>',
        '<script type="application/json">{"props":{"achPrice":{n}}}</script>', '<script type="application/ld+json">[]</script>',
        "<script>var x = {n};</script>",
    ])  # fmt: skip
    count = max(1, min(size // len(script), _log_int(rng, 100, 50_000)))
    return _insert(rng, html, "".join(script.replace("{n}", str(i % 997)) for i in range(count)))


def many_amounts(rng, html, size):
    piece = rng.choice(["$93.33 ", "$1 ", "$", "US$1,234.5 ", "93.33 USD ", "USD 1.00 ", "1,234,567,", "9" * 19 + ".99 ", "-$5.00 off "])
    text = piece * max(1, size // len(piece))
    return _insert(rng, html, f"<p>{text}</p>" if rng.random() < 0.7 else text)


def whitespace_flood(rng, html, size):
    space = rng.choice([" ", "\n", "\u00a0", "\u200b", "&nbsp;", "\u2009 ", "\t\r\n"])
    return _insert(rng, html, space * max(1, size // len(space)))


def entity_soup(rng, html, size):
    piece = rng.choice(["&#0;", "&#xD800;", "&#99999999;", "&nbsp;", "&amp", "&#x1b;", "&#11;", "&" * 10, "&#" + "9" * 500 + ";"])
    return _insert(rng, html, piece * _log_int(rng, 1, max(2, size // len(piece))))


def long_title(rng, html, size):
    words = rng.choice(["1 oz Silver Eagle ", "x", "1/2 oz ", "- ", "| Dealer "])
    text = words * max(1, size // len(words))
    tag = rng.choice(["title", "h1"])
    return _insert(rng, html, f"<{tag}>{text}</{tag}>")


def garbage(rng, html, size):
    return rng.randbytes(_log_int(rng, 1, min(size, 300_000)))


def tiny(rng, html, size):
    return rng.choice(["", " ", "<html>", "</html>", "<", "\x00", "<html><body></body></html>", "<!--", "<h1>1 oz</h1>$93.33"])


def many_elements(rng, html, size):
    piece = rng.choice(['<span class="price">$1</span>', "<i></i>", "<br>", "<div>x</div>", '<a class="price tier">a</a>', "<!-- c -->"])
    return _insert(rng, html, piece * max(1, size // len(piece)))


def label_flood(rng, html, size):
    piece = rng.choice(["Check/Wire ", "Card/PayPal / ", "ACH or ", "1-24 25-99 100+ ", "Sale price Regular price ", "As low as "])
    text = piece * max(1, size // len(piece))
    return _insert(rng, html, f"<div>{text}</div>" if rng.random() < 0.5 else f"<th>{text}</th>")


def tier_header_run(rng, html, size):
    count = max(2, size // 20)
    return _insert(rng, html, "<table><tr>" + "<th>1 - 19</th>" * count + "</tr><tr><td>Check</td></tr></table>")


MUTATIONS: dict[str, tuple[float, Callable[[random.Random, str, int], str | bytes]]] = {
    "flip_bytes": (1.0, flip_bytes),
    "truncate": (1.0, truncate),
    "delete_span": (0.7, delete_span),
    "control_chars": (1.0, control_chars),
    "nul_page": (0.4, nul_page),
    "repeat_chunk": (0.6, repeat_chunk),
    "deep_json": (1.0, deep_json),
    "huge_number_json": (1.0, huge_number_json),
    "huge_number_text": (1.0, huge_number_text),
    "unclosed_attr": (0.8, unclosed_attr),
    "unclosed_construct": (1.0, unclosed_construct),
    "huge_attr": (0.5, huge_attr),
    "nested_tags": (0.8, nested_tags),
    "invalid_utf8": (0.8, invalid_utf8),
    "giant_table": (0.5, giant_table),
    "weird_encoding": (0.6, weird_encoding),
    "bizarre_json": (1.0, bizarre_json),
    "many_scripts": (0.4, many_scripts),
    "many_amounts": (0.5, many_amounts),
    "whitespace_flood": (0.4, whitespace_flood),
    "entity_soup": (0.5, entity_soup),
    "long_title": (0.4, long_title),
    "garbage": (0.2, garbage),
    "tiny": (0.1, tiny),
    "many_elements": (0.4, many_elements),
    "label_flood": (0.4, label_flood),
    "tier_header_run": (0.3, tier_header_run),
}
# Mutations that return bytes go last (the others work on text).
BYTES_OUT = {"flip_bytes", "invalid_utf8", "weird_encoding", "garbage"}


@dataclass
class Case:
    index: int
    source: str
    dealer: str
    coin: str
    mutations: list[str]
    data: str | bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def describe(self) -> str:
        return f"#{self.index} {self.source} [{'+'.join(self.mutations)}] {_mb(self.size)}"


def make_case(seed: int, index: int, sources: list[Source], *, max_size: int = 5_000_000) -> Case:
    """The `index`-th mangled page of run `seed` (deterministic)."""
    rng = random.Random(f"{seed}:{index}")
    source = sources[rng.randrange(len(sources))]
    names = list(MUTATIONS)
    weights = [MUTATIONS[n][0] for n in names]
    chosen = rng.choices(names, weights, k=rng.choice((1, 1, 1, 2, 2, 3)))
    chosen.sort(key=lambda n: n in BYTES_OUT)
    data: str | bytes = source.html
    applied = []
    for name in chosen:
        if isinstance(data, bytes):
            break  # one bytes mutation per page
        data = MUTATIONS[name][1](rng, data, big_size(rng, max_size))
        applied.append(name)
    if len(data) > max_size:  # two big mutations together
        data = data[:max_size]
    return Case(index, source.label, source.dealer, source.coin, applied, data)


# -- running -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    index: int
    describe: str
    mutations: list[str]
    size: int
    seconds: float  # wall clock, Page(...) + extract(...)
    cpu: float = 0.0  # CPU seconds of the same (what the page costs, whatever else runs on the machine)
    status: str | None = None  # extraction status, None when it raised or timed out
    reason: str | None = None
    error: str | None = None  # exception type
    message: str | None = None
    timeout: bool = False


class Runner:
    """Page + extract with the real plugin manager and dealer profiles (as the retail spider)."""

    def __init__(self) -> None:
        from staktrakr.catalogue import catalogue_coin
        from staktrakr.config import load_config
        from staktrakr.plugin_manager import build_plugin_manager, dealer_profiles, default_profile

        self.pm = build_plugin_manager(load_config(environ={}))
        self.profiles = dealer_profiles(self.pm)
        self.default_profile = default_profile
        self.catalogue_coin = catalogue_coin

    def steps(self, case: Case) -> list[str]:
        from staktrakr.extract import Page, extract
        from staktrakr.models import Target

        profile = self.profiles.get(case.dealer) or self.default_profile(case.dealer)
        target = Target(coin=self.catalogue_coin(case.coin), vendor=case.dealer, urls=("http://x",))
        page = Page(case.data, url="http://x", tail_markers=profile.tail_markers)
        return extract(page, target, profile, pm=self.pm).steps

    def run(self, case: Case) -> Outcome:
        from staktrakr.extract import Page, extract
        from staktrakr.models import Target

        profile = self.profiles.get(case.dealer) or self.default_profile(case.dealer)
        target = Target(coin=self.catalogue_coin(case.coin), vendor=case.dealer, urls=("http://x",))
        outcome = Outcome(case.index, case.describe(), case.mutations, case.size, 0.0)
        started, cpu = time.perf_counter(), time.process_time()
        try:
            page = Page(case.data, url="http://x", tail_markers=profile.tail_markers)
            result = extract(page, target, profile, pm=self.pm)
            outcome.status, outcome.reason = result.status.value, result.reason
        except BaseException as exc:  # noqa: BLE001 - counted, not hidden
            if isinstance(exc, KeyboardInterrupt):
                raise
            outcome.error, outcome.message = type(exc).__name__, str(exc)[:200]
        outcome.seconds = time.perf_counter() - started
        outcome.cpu = time.process_time() - cpu
        return outcome


def _worker(conn: Any, seed: int, max_size: int, sources: list[Source]) -> None:
    sys.setrecursionlimit(1000)  # the default, whatever the parent did
    runner = Runner()
    while True:
        index = conn.recv()
        if index is None:
            return
        conn.send(runner.run(make_case(seed, index, sources, max_size=max_size)))


class _Slot:
    def __init__(self, ctx: Any, seed: int, max_size: int, sources: list[Source]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, seed, max_size, sources), daemon=True)
        self.proc.start()
        child.close()
        self.index: int | None = None
        self.started = 0.0

    def give(self, index: int) -> None:
        self.index, self.started = index, time.monotonic()
        self.conn.send(index)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.proc.join(5)


def run_all(args: argparse.Namespace, sources: list[Source]) -> tuple[list[Outcome], float, bool]:
    ctx = mp.get_context("fork")
    Runner()  # import the project before forking: every worker, restarted ones too, runs the same code
    slots = [_Slot(ctx, args.seed, args.max_size, sources) for _ in range(max(1, args.jobs))]
    pending = iter(range(args.count))
    outcomes: list[Outcome] = []
    started = time.monotonic()
    stopped_early = False

    def feed(slot: _Slot) -> None:
        nonlocal stopped_early
        if time.monotonic() - started > args.max_seconds:
            stopped_early = True
            slot.index = None
            return
        index = next(pending, None)
        slot.index = None
        if index is not None:
            slot.give(index)

    for slot in slots:
        feed(slot)
    last_report = started
    while any(s.index is not None for s in slots):
        busy = [s for s in slots if s.index is not None]
        for conn in wait([s.conn for s in busy], timeout=1.0):
            slot = next(s for s in busy if s.conn is conn)
            try:
                outcomes.append(conn.recv())
            except EOFError:  # the worker died (out of memory, a crash in C)
                outcomes.append(_lost(sources, args, slot, "WorkerDied", "the worker process died"))
                slots[slots.index(slot)] = slot = _Slot(ctx, args.seed, args.max_size, sources)
            feed(slot)
        now = time.monotonic()
        for i, slot in enumerate(slots):
            if slot.index is not None and now - slot.started > args.page_timeout:
                outcomes.append(_lost(sources, args, slot, None, None))
                slot.stop(kill=True)
                slots[i] = _Slot(ctx, args.seed, args.max_size, sources)
                feed(slots[i])
        if now - last_report > 30:
            last_report = now
            print(f"  … {len(outcomes)}/{args.count} pages, {now - started:.0f} s", file=sys.stderr, flush=True)
    for slot in slots:
        slot.stop()
    return outcomes, time.monotonic() - started, stopped_early


def _lost(sources: list[Source], args: argparse.Namespace, slot: _Slot, error: str | None, message: str | None) -> Outcome:
    case = make_case(args.seed, slot.index or 0, sources, max_size=args.max_size)
    seconds = time.monotonic() - slot.started
    return Outcome(case.index, case.describe(), case.mutations, case.size, seconds, seconds, error=error, message=message, timeout=error is None)


# -- report ------------------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 100_000 else f"{size / 1e3:.1f} KB"


def report(args: argparse.Namespace, outcomes: list[Outcome], elapsed: float, stopped_early: bool) -> None:
    outcomes.sort(key=lambda o: o.index)
    n = len(outcomes)
    print(f"fuzz_extract: seed {args.seed}, {n} of {args.count} pages, {args.jobs} job(s), {elapsed:.1f} s"
          + (f" (stopped after --max-seconds {args.max_seconds:g})" if stopped_early else ""))
    if not n:
        return
    sizes = sorted(o.size for o in outcomes)
    print(f"sizes: median {_mb(sizes[n // 2])}, 95th percentile {_mb(sizes[int(n * 0.95)])}, max {_mb(sizes[-1])}; "
          f"{sum(s > 1_000_000 for s in sizes)} pages over 1 MB, {sum(s > 2_000_000 for s in sizes)} over 2 MB")
    statuses = Counter(o.status or ("timeout" if o.timeout else "exception") for o in outcomes)
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    errors = [o for o in outcomes if o.error]
    print(f"exceptions: {len(errors)}")
    for name, count in Counter(o.error for o in errors).most_common():
        example = next(o for o in errors if o.error == name)
        print(f"  {name}: {count}  e.g. {example.describe}: {example.message}")
    if errors:
        by_mutation = Counter(m for o in errors for m in set(o.mutations))
        print("  pages with an exception, by mutation: " + ", ".join(f"{k} {v}" for k, v in by_mutation.most_common()))
    timeouts = [o for o in outcomes if o.timeout]
    slow = [o for o in outcomes if o.seconds > SLOW]
    print(f"pages over {SLOW:g} s: {len(slow)}" + (f" (of which {len(timeouts)} killed after {args.page_timeout:g} s)" if timeouts else ""))
    if slow:
        by_mutation = Counter(m for o in slow for m in set(o.mutations))
        print("  by mutation: " + ", ".join(f"{k} {v}" for k, v in by_mutation.most_common()))
    slow_cpu = [o for o in outcomes if o.cpu > SLOW]
    print(f"pages over {SLOW:g} s of CPU: {len(slow_cpu)} (wall time also counts waiting for a core: "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end)")
    print("slowest:")
    for o in sorted(outcomes, key=lambda o: -o.seconds)[:8]:
        shown = f">{o.seconds:.1f} s (killed)" if o.timeout else f"{o.seconds:.2f} s ({o.cpu:.2f} CPU)"
        print(f"  {shown:>16}  {o.describe}  -> {o.status or o.error or 'timeout'}: {(o.reason or o.message or '')[:90]}")
    times = sorted(o.seconds for o in outcomes)
    cpus = sorted(o.cpu for o in outcomes)
    print(f"per page: median {1000 * statistics.median(times):.1f} ms, mean {1000 * statistics.fmean(times):.1f} ms, "
          f"99th percentile {1000 * times[int(n * 0.99)]:.0f} ms; CPU: mean {1000 * statistics.fmean(cpus):.1f} ms, "
          f"max {cpus[-1]:.2f} s")
    print(f"pages per second: {n / elapsed:.1f} (wall, {args.jobs} job(s)); {n / max(sum(times), 1e-9):.1f} per busy second of one job")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop starting new pages after this long")
    parser.add_argument("--page-timeout", type=float, default=60, help="kill a page still running after this long")
    parser.add_argument("--max-size", type=int, default=5_000_000, help="largest page the mutations make")
    parser.add_argument("--sets", default=None, help="page sets to mangle, e.g. sites,heldout,heldout2 (default: all)")
    parser.add_argument("--pages-from", type=Path, default=None, help="another checkout to take the pages from (same pages, other code)")
    parser.add_argument("--only", type=int, default=None, help="replay one page and print its steps")
    args = parser.parse_args(argv)
    sources = load_sources(args.sets, args.pages_from)
    if args.only is not None:
        case = make_case(args.seed, args.only, sources, max_size=args.max_size)
        print(case.describe())
        outcome = Runner().run(case)
        print(f"{outcome.seconds:.3f} s: {outcome.status or outcome.error}: {outcome.reason or outcome.message}")
        if outcome.error is None:
            print("\n".join(f"  {step[:200]}" for step in Runner().steps(case)))
        return 0
    outcomes, elapsed, stopped_early = run_all(args, sources)
    sets = Counter(s.label.split("/", 1)[0] for s in sources)
    print("pages mangled: " + ", ".join(f"{k} {v}" for k, v in sets.items()) + f" ({len(sources)})")
    report(args, outcomes, elapsed, stopped_early)
    return 0


if __name__ == "__main__":
    sys.exit(main())
