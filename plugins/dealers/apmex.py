"""APMEX dealer plugin. Tier table per payment method: (e)Check/Wire is the first price column."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="apmex",
    name="APMEX",
    homepage="https://www.apmex.com",
    color="#00529b",
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
