import json

import pytest

from staktrakr.catalogue import all_catalogue_slugs, catalogue_coin
from staktrakr.errors import ProvidersError
from staktrakr.models import Metal
from staktrakr.providers import load_bundled_providers, load_providers_file, parse_providers, resolve_providers

from .conftest import FIXTURES, staktrakr

PROVIDERS = FIXTURES / "providers"


def test_bundled_set_is_the_real_provider_set():
    providers = load_bundled_providers()
    assert len(providers.coins) == 23
    assert len(providers.targets()) == 166
    assert len(providers.vendors()) == 9
    assert providers.coins["generic-silver-bar-10oz"].weight_oz == 10
    assert providers.coins["goldback-utah-g1"].metal is Metal.goldback
    # the flat export round-trips the published file exactly
    published = json.loads((FIXTURES.parents[1] / "staktrakr/data/providers.json").read_text())
    assert providers.flat() == published


def test_catalogue_covers_the_goldback_scheme():
    slugs = all_catalogue_slugs()
    assert "goldback-florida-ghalf" in slugs and "goldback-dc-g50" in slugs
    half = catalogue_coin("goldback-arizona-ghalf")
    assert half.weight_oz == 0.5 and half.fine_oz == pytest.approx(0.0005)
    assert half.name == "G½ Arizona Goldback (1/2000 oz gold)"
    assert catalogue_coin("goldback-g2").weight_oz == 2  # legacy slug
    assert catalogue_coin("goldback-mars-g1") is None


def test_rich_form_with_urls_lists_mappings_and_catalogue_defaults():
    providers = load_providers_file(PROVIDERS / "rich.json")
    targets = {t.key: t for t in providers.targets()}
    assert targets["ase/jmbullion"].urls == ("https://www.jmbullion.com/ase-2026/", "https://www.jmbullion.com/ase-random/")
    assert "ase/sdbullion" not in targets  # disabled
    assert "silver-libertad/summitmetals" not in targets  # no URL
    assert providers.coins["goldback-utah-g5"].weight_oz == 5  # metadata from the catalogue
    assert providers.flat()["ase"] == {
        "apmex": "https://www.apmex.com/product/23331/ase",
        "jmbullion": "https://www.jmbullion.com/ase-2026/",
    }
    # rich form round-trips
    again = parse_providers(providers.rich(), "round trip")
    assert again.targets() == providers.targets()


def test_rich_form_errors_name_coin_dealer_and_field():
    with pytest.raises(ProvidersError) as err:
        load_providers_file(PROVIDERS / "rich-bad.json")
    problems = err.value.problems
    text = "\n".join(problems)
    assert "rich-bad.json" in str(err.value)
    assert "coin 'ase', dealer 'apmex', field 'url': URL scheme must be http or https" in text
    assert "coin 'ase', dealer 'jmbullion', field 'urls': give either 'url' or 'urls', not both" in text
    assert "coin 'ase', dealer 'apmex', field 'id': duplicate dealer" in text
    assert "coin 'copper-round', field 'metal': unknown metal 'copper'" in text
    assert "coin 'negative-bar', field 'weight_oz': must be a positive number" in text
    assert len(problems) == 5


def test_flat_form_errors():
    with pytest.raises(ProvidersError) as err:
        load_providers_file(PROVIDERS / "flat-bad.json")
    text = "\n".join(err.value.problems)
    assert "coin 'ase', dealer 'jmbullion', field 'url'" in text
    assert "coin 'mystery-coin': not in the bundled catalogue" in text


def test_invalid_json_says_where():
    with pytest.raises(ProvidersError) as err:
        load_providers_file(PROVIDERS / "broken.json")
    assert "not valid JSON" in str(err.value) and "line 1" in str(err.value)


def test_resolution_order(config, db, monkeypatch):
    assert resolve_providers(config, db).source == "bundled providers"
    from staktrakr.store.provider_tables import save_providers

    save_providers(db, load_providers_file(PROVIDERS / "rich.json").rich())
    assert resolve_providers(config, db).source.startswith("database")
    assert resolve_providers(config, db).targets()[1].urls[1] == "https://www.jmbullion.com/ase-random/"
    monkeypatch.setenv("STAKTRAKR_PROVIDERS", str(PROVIDERS / "rich.json"))
    from staktrakr.config import load_config

    assert resolve_providers(load_config(), db).source.endswith("rich.json")


def test_cli_lists_and_rejects_without_traceback():
    listed = staktrakr("providers", "list", "--coin", "ase", "--vendor", "apmex")
    assert listed.returncode == 0, listed.stderr
    assert "apmex.com/product/23331" in listed.stdout
    bad = staktrakr("providers", "list", env={"STAKTRAKR_PROVIDERS": str(PROVIDERS / "rich-bad.json")})
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "dealer 'jmbullion', field 'urls'" in bad.stderr
