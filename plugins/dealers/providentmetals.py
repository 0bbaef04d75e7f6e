"""Provident Metals dealer plugin. Magento: microdata itemprop=price holds the card price; the tier table has the check/wire column."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="providentmetals",
    name="Provident Metals",
    homepage="https://www.providentmetals.com",
    color="#00857c",
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
