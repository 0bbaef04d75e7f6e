"""Hero Bullion dealer plugin. An 'As low as' bulk price sits next to the title; the tier grid below holds the 1-unit price."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="herobullion",
    name="Hero Bullion",
    homepage="https://www.herobullion.com",
    color="#d62828",
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
