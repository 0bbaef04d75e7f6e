"""Bullion Exchanges dealer plugin. A JavaScript storefront: the tier table is rendered in the browser; JSON-LD offers carry the card price."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="bullionexchanges",
    name="Bullion Exchanges",
    homepage="https://www.bullionexchanges.com",
    color="#c9a227",
    browser=True,
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
