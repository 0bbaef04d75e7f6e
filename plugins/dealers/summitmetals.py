"""Summit Metals dealer plugin. Shopify theme: 'Regular price' / 'Sale price' blocks, sometimes a volume-pricing table."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="summitmetals",
    name="Summit Metals",
    homepage="https://summitmetals.com",
    color="#5b6770",
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
