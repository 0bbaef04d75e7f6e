import json

import pytest

from staktrakr.catalogue import all_catalogue_slugs, catalogue_coin
from staktrakr.errors import ProvidersError
from staktrakr.models import Metal
from staktrakr.providers import load_bundled_providers, load_providers_file, parse_providers, resolve_providers

from .conftest import FIXTURES, staktrakr, write_json

PROVIDERS = FIXTURES / "providers"


def test_bundled_set_is_the_real_provider_set():
    providers = load_bundled_providers()
    assert len(providers.coins) == 23
    assert len(providers.targets()) == 166
    assert len(providers.dealers()) == 9
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


# -- dealer ids must be known to a plugin ---------------------------------------------------------

NINE = "apmex, bullionexchanges, gainesvillecoins, herobullion, jmbullion, monumentmetals, providentmetals, sdbullion, summitmetals"


def test_a_file_naming_an_unknown_dealer_is_refused_in_one_line(tmp_path):
    typo = write_json(tmp_path / "providers.json", {"ase": {"apmexx": "https://www.apmex.com/ase"}})
    with pytest.raises(ProvidersError) as err:
        load_providers_file(typo)
    assert str(err.value) == f"{typo}: coin 'ase', dealer 'apmexx': unknown dealer id (known: {NINE})"
    assert err.value.exit_code == 2


def test_every_unknown_dealer_is_reported_with_the_other_problems(tmp_path):
    rich = {"coins": {"ase": {"providers": [{"id": "apmex", "url": "ftp://x"}, {"id": "acmebullion", "url": "https://acme.example/ase"}]},
                      "age": {"providers": [{"id": "nobody", "url": "https://nobody.example/age", "enabled": False}]}}}
    with pytest.raises(ProvidersError) as err:
        load_providers_file(write_json(tmp_path / "providers.json", rich))
    assert [p.split(":")[0] for p in err.value.problems] == [
        "coin 'ase', dealer 'apmex', field 'url'", "coin 'ase', dealer 'acmebullion'", "coin 'age', dealer 'nobody'",
    ]


def test_a_dealer_of_an_installed_plugin_is_known(tmp_path, monkeypatch):
    from staktrakr.plugin_manager import reset_plugin_manager

    acme = write_json(tmp_path / "providers.json", {"ase": {"acmebullion": "https://acme.example/ase"}})
    with pytest.raises(ProvidersError, match="dealer 'acmebullion': unknown dealer id"):
        load_providers_file(acme)
    monkeypatch.syspath_prepend(str(FIXTURES / "thirdparty"))  # pip install staktrakr-acme
    reset_plugin_manager()
    assert [t.key for t in load_providers_file(acme).targets()] == ["ase/acmebullion"]


def test_the_known_dealers_follow_STAKTRAKR_PLUGINS(tmp_path, monkeypatch, db):
    monkeypatch.setenv("STAKTRAKR_PROVIDERS", str(PROVIDERS / "rich.json"))  # apmex, jmbullion, sdbullion, summitmetals
    monkeypatch.setenv("STAKTRAKR_PLUGINS", "apmex,jmbullion,sdbullion,spot")
    from staktrakr.config import load_config

    with pytest.raises(ProvidersError, match="dealer 'summitmetals': unknown dealer id \\(known: apmex, jmbullion, sdbullion\\)"):
        resolve_providers(load_config(), db)


def test_without_a_list_of_known_dealers_any_id_parses():
    # the export and its benchmark build provider sets of made-up dealers in memory
    providers = parse_providers({"coins": {"ase": {"providers": [{"id": "a", "url": "https://a.example/ase"}]}}}, "test")
    assert providers.dealers() == ["a"]


def test_edits_that_would_crawl_an_unknown_dealer_are_refused():
    from staktrakr.providers import edit_enabled, edit_set_urls

    rich = load_bundled_providers().rich()
    with pytest.raises(ProvidersError, match="coin 'ase', dealer 'apmexx': unknown dealer id"):
        edit_set_urls(rich, "ase", "apmexx", ["https://www.apmex.com/ase"])
    rich["coins"]["ase"]["providers"].append({"id": "gone", "url": "https://gone.example/ase", "enabled": False})
    with pytest.raises(ProvidersError, match="dealer 'gone': unknown dealer id"):
        edit_enabled(rich, "ase", "gone", True)
    # retiring the listing of a plugin that was removed stays possible
    assert "ase/gone" not in {t.key for t in edit_enabled(rich, "ase", "gone", False).targets()}
    assert edit_set_urls(rich, "ase", "sdbullion", ["https://sdbullion.com/ase-2"], known_dealers={"sdbullion"}).coins["ase"]


@pytest.mark.parametrize(
    "args",
    [["set-url", "ase", "apmexx", "https://www.apmex.com/ase"], ["import", "{typo}"]],
)
def test_the_providers_commands_refuse_an_unknown_dealer_in_one_line(tmp_path, args):
    typo = write_json(tmp_path / "typo.json", {"ase": {"apmexx": "https://www.apmex.com/ase"}})
    done = staktrakr("providers", *[a.replace("{typo}", str(typo)) for a in args])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"error: {typo if args[0] == 'import' else 'providers'}: coin 'ase', dealer 'apmexx': unknown dealer id (known: {NINE})"
    ]
