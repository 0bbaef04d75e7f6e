"""Gainesville Coins dealer plugin. Next.js: a __NEXT_DATA__ blob (with a bulk lowPrice) plus a rendered table of tiers across, payment methods down."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="gainesvillecoins",
    name="Gainesville Coins",
    homepage="https://www.gainesvillecoins.com",
    color="#e87722",
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
