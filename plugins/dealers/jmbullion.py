"""JM Bullion dealer plugin. Prices sit in a div grid, not a <table>; a site-wide spot ticker tops every page. Pre-orders can be bought."""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="jmbullion",
    name="JM Bullion",
    homepage="https://www.jmbullion.com",
    color="#13294b",
    preorder_purchasable=True,
    tail_markers=('Similar Products You May Like',),
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]
