"""`api/providers.json` as published: the flat form plus `_vendor_meta`, how the web app names
each dealer of the file (display name, brand colour, home page), from the dealer plugins'
profiles. A dealer no plugin describes is named by its id, without colour or link (the app's
own grey chip), rather than left out: every dealer of the file has an entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api.models import VENDOR_META_KEY, Providers, VendorMeta
from ..models import DealerProfile
from ..providers import ProviderSet


def vendor_meta(dealers: list[str], profiles: Mapping[str, DealerProfile]) -> dict[str, VendorMeta]:
    """One entry per dealer, in the order given; keys without a value are left out."""
    meta: dict[str, VendorMeta] = {}
    for dealer in dealers:
        profile = profiles.get(dealer)
        if profile is None:
            meta[dealer] = VendorMeta(name=dealer)
            continue
        fields: dict[str, Any] = {"name": profile.name}
        if profile.color:
            fields["color"] = profile.color
        if profile.homepage:
            fields["url"] = profile.homepage
        meta[dealer] = VendorMeta(**fields)
    return meta


def published_providers(providers: ProviderSet, profiles: Mapping[str, DealerProfile]) -> Providers:
    """The flat form with `_vendor_meta` last; dealers sorted by id."""
    flat = providers.flat()
    dealers = sorted({dealer for by_dealer in flat.values() for dealer in by_dealer})
    return Providers({**flat, VENDOR_META_KEY: vendor_meta(dealers, profiles)})
