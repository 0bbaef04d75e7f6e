"""Read a browser page the way a person does.

A person does not read a product page at the `load` event: they wait until the price has
appeared and stopped changing, scroll down when the pricing is further down, close the cookie
banner, and read what is on the screen, whether a web component or an iframe drew it. So after
navigation `read_settled_page` polls the page:

1. it takes the composed DOM: open shadow roots inlined where they are drawn, same-origin iframes
   inlined after their frame, elements that are not rendered (display:none, visibility:hidden)
   left out, the live state of form controls (selected variant, enabled buy button) written back
   into attributes;
2. it runs the extraction chain on that HTML (in a worker thread: the event loop also serves
   every other page) and compares the verdict with the previous poll;
3. it stops when the verdict has an answer (a price, or a wrong product), has not changed for
   `settle_ms`, the DOM has been quiet for `quiet_ms`, the page's own requests have finished and
   no placeholder (`$--.--`, "Loading prices…", a skeleton block) is on screen — or, without an
   answer, once the page has been idle for `no_answer_ms`; never later than `max_wait_ms`.

Along the way it scrolls through the page once (lazily loaded sections) and hides overlays that
cover the page (cookie consent, region pickers), undoing the `aria-hidden`/`inert` a modal puts on
the rest of the page. Every step is best effort: a page method that raises would fail the whole
request in scrapy-playwright, so this one reports what it could and never raises.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Runs in every frame before the page's own scripts: when did the DOM last change (shadow roots
# included), and the shadow roots a component attached, closed ones too (a person sees them).
INIT_SCRIPT = """(() => {
  if (window.__staktrakr) return;
  const state = window.__staktrakr = {lastChange: performance.now(), roots: new WeakMap()};
  const touch = () => { state.lastChange = performance.now(); };
  const watch = (root) => {
    try { new MutationObserver(touch).observe(root, {subtree: true, childList: true, characterData: true, attributes: true}); } catch (e) {}
  };
  watch(document);
  // One-shot timers a page sets to change itself a moment later (hydration, a stock check):
  // while one is due the page is not finished. Very short ones and intervals are not counted.
  state.timers = new Map();
  const setT = window.setTimeout, clearT = window.clearTimeout;
  window.setTimeout = function (fn, delay, ...rest) {
    const ms = Number(delay) || 0;
    let id;
    const run = typeof fn === 'function' ? function () { state.timers.delete(id); return fn.apply(this, arguments); } : fn;
    id = setT.call(window, run, delay, ...rest);
    if (ms >= 100 && ms <= 4000) state.timers.set(id, performance.now() + ms);
    return id;
  };
  window.clearTimeout = function (id) { state.timers.delete(id); return clearT.call(window, id); };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    state.roots.set(this, root);
    watch(root);
    return root;
  };
})();"""

# The composed DOM as HTML, plus whether a placeholder is on screen and how long the DOM has
# been quiet. Only rendered elements are written; head, scripts (JSON-LD) and options are kept.
COMPOSE_SCRIPT = r"""(maxChars) => {
  const VOID = new Set(['area','base','br','col','embed','hr','img','input','link','meta','source','track','wbr']);
  const RAW = new Set(['script','style']);
  const ALWAYS = new Set(['html','head','title','meta','link','script','style','noscript','template','option','optgroup','body']);
  const PLACEHOLDER_TEXT = /\$\s?-{1,3}[.,]-{1,3}|\$\s?--|(loading|fetching|updating|calculating)[^.\n]{0,12}(price|pricing|rates?)/i;
  const PLACEHOLDER_BLOCK = '[class*="skeleton" i], [class*="shimmer" i], [aria-busy="true"]';
  const out = [];
  let size = 0, truncated = false, placeholder = false, lastChange = 0;
  const push = (s) => { if (size > maxChars) { truncated = true; return; } out.push(s); size += s.length; };
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const escAttr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  const shown = (el) => {
    if (typeof el.checkVisibility !== 'function') return el.getClientRects().length > 0;
    if (el.checkVisibility({visibilityProperty: true})) return true;
    return getComputedStyle(el).display === 'contents';
  };
  const attrs = (el) => {
    let s = '';
    for (const a of el.attributes) {
      if (a.name === 'selected' || a.name === 'checked' || a.name === 'disabled' || a.name === 'value') continue;
      s += ` ${a.name}="${escAttr(a.value)}"`;
    }
    const tag = el.localName;
    if (tag === 'option' && el.selected) s += ' selected';
    if (tag === 'input' && el.checked) s += ' checked';
    if ('disabled' in el && el.disabled) s += ' disabled';
    if ((tag === 'input' || tag === 'option' || tag === 'button') && el.value && el.type !== 'password') s += ` value="${escAttr(String(el.value))}"`;
    return s;
  };
  const walk = (node, raw, state) => {
    for (const child of node.childNodes) {
      if (child.nodeType === 3) push(raw ? child.data : esc(child.data));
      else if (child.nodeType === 1) element(child, state);
    }
  };
  const element = (el, state) => {
    const tag = el.localName;
    if (!ALWAYS.has(tag) && !shown(el)) return;
    push(`<${tag}${attrs(el)}>`);
    if (VOID.has(tag)) return;
    if (tag !== 'template') {
      const root = el.shadowRoot || (state && state.roots && state.roots.get(el));
      if (root) walk(root, false, state);
      walk(el, RAW.has(tag), state);
    }
    push(`</${tag}>`);
    if (tag === 'iframe') {
      let doc = null;
      try { doc = el.contentDocument; } catch (e) {}
      if (doc && doc.body) {
        const inner = doc.defaultView && doc.defaultView.__staktrakr;
        if (inner) lastChange = Math.max(lastChange, inner.lastChange);
        scan(doc);
        push(`<div data-staktrakr-frame="${escAttr(el.getAttribute('src') || '')}">`);
        walk(doc.body, false, inner);
        push('</div>');
      }
    }
  };
  const scan = (doc) => {
    try {
      if (PLACEHOLDER_TEXT.test(doc.body ? doc.body.innerText : '')) placeholder = true;
      for (const el of doc.querySelectorAll(PLACEHOLDER_BLOCK)) {
        const box = el.getBoundingClientRect();
        if (box.width > 0 && box.height > 0 && shown(el)) { placeholder = true; break; }
      }
    } catch (e) {}
  };
  const state = window.__staktrakr;
  lastChange = state ? state.lastChange : 0;
  let timers = 0;
  if (state && state.timers) { const now = performance.now(); for (const due of state.timers.values()) if (due > now) timers++; }
  scan(document);
  push('<!DOCTYPE html>');
  element(document.documentElement, state);
  return {html: out.join(''), truncated, placeholder, timers, quietMs: performance.now() - lastChange};
}"""

# Overlays that cover the page (cookie consent, region pickers, newsletter pop-ups): try their
# accept/close button, then hide what still covers a large part of the viewport, and undo the
# scroll lock and the aria-hidden / inert that modal libraries put on the rest of the page.
CLEAR_OVERLAYS_SCRIPT = r"""() => {
  const ACCEPT = /^\s*(accept( all)?( cookies)?|allow( all)?( cookies)?|i agree|agree|got it|ok(ay)?|close|dismiss|no,? thanks|continue( to (the )?site)?|stay( on (the )?(us|u\.s\.) site)?|×|x)\s*$/i;
  const area = window.innerWidth * window.innerHeight;
  let hidden = 0;
  const covering = [];
  const all = document.body ? document.body.querySelectorAll('*') : [];
  for (let i = 0; i < all.length && i < 4000; i++) {
    const el = all[i];
    const style = getComputedStyle(el);
    if (style.position !== 'fixed' && style.position !== 'sticky') continue;
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const box = el.getBoundingClientRect();
    if (box.width * box.height < area * 0.3) continue;
    covering.push(el);
  }
  for (const el of covering) {
    for (const button of el.querySelectorAll('button, [role="button"], a')) {
      if (ACCEPT.test(button.innerText || button.getAttribute('aria-label') || '')) { try { button.click(); } catch (e) {} break; }
    }
  }
  for (const el of covering) {
    if (!el.isConnected) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    el.style.setProperty('display', 'none', 'important');
    hidden++;
  }
  if (covering.length) {
    for (const el of document.querySelectorAll('[aria-hidden="true"], [inert]')) {
      const box = el.getBoundingClientRect();
      if (box.width * box.height >= area * 0.3) { el.removeAttribute('aria-hidden'); el.removeAttribute('inert'); }
    }
    for (const el of [document.documentElement, document.body]) {
      if (el) { el.style.setProperty('overflow', 'auto', 'important'); }
    }
  }
  return hidden;
}"""

# Scroll through the page once, as a reader would, so sections loaded on scroll appear.
# Each position is held until a frame was drawn (intersection observers run per frame, and a busy
# machine draws late), the bottom a little longer.
SCROLL_SCRIPT = """async (maxSteps) => {
  const frames = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  const step = Math.max(200, Math.floor(window.innerHeight * 0.9));
  let steps = 0;
  for (let y = step; y < document.documentElement.scrollHeight && steps < maxSteps; y += step, steps++) {
    window.scrollTo(0, y);
    await frames();
    await pause(30);
  }
  window.scrollTo(0, document.documentElement.scrollHeight);
  await frames();
  await pause(150);
  window.scrollTo(0, 0);
  return steps;
}"""

MAX_COMPOSED_CHARS = 4_000_000
MAX_SCROLL_STEPS = 25
# Resource types whose pending requests mean "the page is still fetching its content".
_CONTENT_TYPES = {"document", "script", "xhr", "fetch", "stylesheet"}
# A request pending longer than this is a long poll or a stuck beacon, not content on its way.
_STALE_REQUEST_S = 5.0


@dataclass(frozen=True)
class Pacing:
    """How long to wait for a page; `staktrakr.settings` documents the defaults."""

    max_wait_ms: int = 10_000
    poll_ms: int = 250
    settle_ms: int = 500
    quiet_ms: int = 400
    no_answer_ms: int = 3_000


@dataclass
class Verdict:
    """What the extraction made of one poll: `key` compares polls, `answered` ends the wait."""

    key: Any
    answered: bool
    result: Any = None


@dataclass
class SettledPage:
    """What a person would read, and how long it took to get there."""

    html: str | None = None
    verdict: Verdict | None = None
    waited_ms: int = 0
    polls: int = 0
    stopped: str = "not read"
    overlays_hidden: int = 0
    scrolled: bool = False
    errors: list[str] = field(default_factory=list)


class NetworkWatch:
    """Requests of a page still in flight (all frames), for "the page has stopped fetching"."""

    def __init__(self) -> None:
        self.pending: dict[Any, float] = {}
        self.last_activity = time.monotonic()

    def attach(self, page: Any) -> None:
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        if request.resource_type in _CONTENT_TYPES:
            self.pending[request] = self.last_activity = time.monotonic()

    def _ended(self, request: Any) -> None:
        if self.pending.pop(request, None) is not None:
            self.last_activity = time.monotonic()

    def idle(self, quiet_s: float) -> bool:
        """Nothing on its way, and the last answer is `quiet_s` old (its scripts have run)."""
        now = time.monotonic()
        if any(now - started < _STALE_REQUEST_S for started in self.pending.values()):
            return False
        return now - self.last_activity >= quiet_s


_WATCHES: weakref.WeakKeyDictionary[Any, NetworkWatch] = weakref.WeakKeyDictionary()


async def prepare_page(page: Any, request: Any) -> None:
    """`playwright_page_init_callback`: the DOM watch and the network watch, before navigation."""
    watch = _WATCHES[page] = NetworkWatch()
    watch.attach(page)
    try:
        await page.add_init_script(INIT_SCRIPT)
    except Exception as exc:  # noqa: BLE001 - the page still loads; settling then relies on polling alone
        logger.debug("init script not installed: %s", exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:160]}" if text else type(exc).__name__


async def read_settled_page(
    page: Any,
    *,
    judge: Callable[[str], Verdict],
    pacing: Pacing,
    key: str = "",
) -> SettledPage:
    """A scrapy-playwright page method: poll until the page's answer has settled. Never raises."""
    watch = _WATCHES.get(page)
    settled = SettledPage()
    started = time.monotonic()
    deadline = started + pacing.max_wait_ms / 1000
    loop = asyncio.get_running_loop()
    previous: Any = object()
    same_since = started
    scrolls = 0
    while True:
        now = time.monotonic()
        try:
            if settled.polls % 3 == 0:  # overlays come a moment after load; no need to look every poll
                settled.overlays_hidden += await page.evaluate(CLEAR_OVERLAYS_SCRIPT)
            snapshot = await page.evaluate(COMPOSE_SCRIPT, MAX_COMPOSED_CHARS)
        except Exception as exc:  # noqa: BLE001 - a page that navigates away or crashes mid-poll
            settled.errors.append(_first_line(exc))
            if len(settled.errors) >= 3 or now >= deadline:
                settled.stopped = "the page could not be read"
                break
            await asyncio.sleep(pacing.poll_ms / 1000)
            continue
        settled.polls += 1
        if not snapshot["truncated"]:
            settled.html = snapshot["html"]
            verdict = await loop.run_in_executor(None, judge, settled.html)
        else:  # a huge page: let the caller read page.content() once
            settled.html, verdict = None, Verdict(key="truncated", answered=True)
        settled.verdict = verdict
        now = time.monotonic()
        if verdict.key != previous:
            previous, same_since = verdict.key, now
        stable_ms = (now - same_since) * 1000
        elapsed_ms = (now - started) * 1000
        # A pending timer is only a hint: a page that re-arms one forever (a ticker) is calm
        # enough once the no-answer time has passed.
        timers = snapshot["timers"] and elapsed_ms < pacing.no_answer_ms
        idle = (watch is None or watch.idle(pacing.quiet_ms / 1000)) and snapshot["quietMs"] >= pacing.quiet_ms and not timers
        calm = idle and not snapshot["placeholder"]
        if verdict.answered and calm and stable_ms >= pacing.settle_ms:
            settled.stopped = "settled"
            break
        if not verdict.answered and calm and settled.scrolled and elapsed_ms >= pacing.no_answer_ms:
            settled.stopped = "idle without an answer"
            break
        if now >= deadline:
            settled.stopped = f"gave up after {pacing.max_wait_ms} ms" + (" (placeholders still shown)" if snapshot["placeholder"] else "")
            break
        # Scroll through once at the start, and once more if the page is calm but unanswered
        # (a section that loads on scroll may have missed the first pass).
        if not settled.scrolled or (scrolls < 2 and calm and not verdict.answered and elapsed_ms >= pacing.no_answer_ms / 2):
            try:
                await page.evaluate(SCROLL_SCRIPT, MAX_SCROLL_STEPS)
            except Exception as exc:  # noqa: BLE001
                settled.errors.append(_first_line(exc))
            settled.scrolled = True
            scrolls += 1
            continue
        await asyncio.sleep(max(0.0, min(pacing.poll_ms / 1000, deadline - time.monotonic())))
    try:  # once more for the screenshot that may follow: an overlay that came after the last look
        settled.overlays_hidden += await page.evaluate(CLEAR_OVERLAYS_SCRIPT)
    except Exception as exc:  # noqa: BLE001
        settled.errors.append(_first_line(exc))
    settled.waited_ms = int((time.monotonic() - started) * 1000)
    if settled.errors:
        logger.debug("%s: while reading the page: %s", key, "; ".join(settled.errors))
    return settled
