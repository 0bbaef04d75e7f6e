"""Accuracy of the extraction chain on the sample pages (file level, no download).

    python benchmarks/extraction_accuracy.py [SITES_DIR] [--verbose]

Prints one line per page that disagrees with truth.json and the share of pages whose price,
stock and status are all right. Pages that need a browser are counted separately: their
static HTML has no price by design.
"""

from __future__ import annotations

import sys
from pathlib import Path

from staktrakr.catalogue import catalogue_coin
from staktrakr.extract import Page, extract
from staktrakr.models import Target
from staktrakr.plugin_manager import build_plugin_manager, dealer_profiles, default_profile
from staktrakr_samples.server import SITES, load_truth


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in sys.argv
    root = Path(args[0]) if args else SITES
    pm = build_plugin_manager()
    profiles = dealer_profiles(pm)
    right = total = browser = 0
    for entry in load_truth(root):
        coin = catalogue_coin(entry["coin"])
        profile = profiles.get(entry["dealer"]) or default_profile(entry["dealer"])
        page = Page((root / entry["path"]).read_text(encoding="utf-8"), tail_markers=profile.tail_markers)
        result = extract(page, Target(coin=coin, vendor=entry["dealer"], urls=("x",)), profile, pm=pm)
        expected = entry["expected"]
        if entry.get("needs_browser"):
            browser += 1
            flag = "ok" if result.client_rendered and result.price is None else "NOT DETECTED"
            print(f"[browser] {entry['path']}: client rendering {flag}")
            continue
        total += 1
        got = (result.price, result.in_stock, result.status.value)
        want = (expected["price"], expected["in_stock"], expected["status"])
        if got == want:
            right += 1
            if verbose:
                print(f"  ok  {entry['path']}: {got}")
        else:
            print(f"MISS {entry['path']} ({entry.get('case')}): got {got}, want {want}")
            if verbose:
                for step in result.steps:
                    print(f"        {step}")
    print(f"{right}/{total} static pages right ({100 * right / max(total, 1):.1f} %), {browser} browser pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
