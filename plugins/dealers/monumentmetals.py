"""Monument Metals dealer plugin. Pre-order products are purchasable and ship on release."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="monumentmetals",
    name="Monument Metals",
    homepage="https://monumentmetals.com",
    color="#8c6d3f",
    preorder_purchasable=True,
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
