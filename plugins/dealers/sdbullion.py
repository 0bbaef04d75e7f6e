"""SD Bullion dealer plugin. Add-on and also-purchased carousels below the buy box carry other (cheaper) prices."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="sdbullion",
    name="SD Bullion",
    homepage="https://sdbullion.com",
    color="#f2a900",
    tail_markers=('Add on Items', 'Customers Also Purchased'),
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
