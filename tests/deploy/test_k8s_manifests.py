"""deploy/k8s/: every manifest valid against the Kubernetes 1.37 schemas (kubernetes-validate,
offline, strict: an unknown field is an error), and consistent with the rest of the project -
the VM crontab's schedules, the shard count, the configuration's secrets, the browser host."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from staktrakr.config import load_config, secret_names, sections
from staktrakr.plugin_manager import get_plugin_manager
from staktrakr.shards import shard_of

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.37.0"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs.extend((path.name, doc) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return docs


DOCS = _documents()
RESOURCES = [(name, doc) for name, doc in DOCS if doc["kind"] != "Kustomization"]


def _one(kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for _, d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _cronjobs() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in DOCS if d["kind"] == "CronJob"}


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]["template"]["spec"]
    return spec["containers"]


@pytest.mark.parametrize(("file", "doc"), RESOURCES, ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in RESOURCES])
def test_each_manifest_is_valid_for_kubernetes(file, doc):
    assert kubernetes_validate.validate(doc, KUBERNETES, strict=True) == "1.37"


def test_the_validator_catches_a_broken_manifest():
    broken = copy.deepcopy(_cronjobs()["staktrakr-retail"])
    broken["spec"]["jobTemplate"]["spec"]["completions"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    misspelt = copy.deepcopy(_cronjobs()["staktrakr-spot"])
    misspelt["spec"]["concurrencyPolicyy"] = "Forbid"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_example():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    expected = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == expected


def test_cronjobs_never_overlap_and_every_pod_has_memory_bounds():
    jobs = _cronjobs()
    assert {"staktrakr-retail", "staktrakr-spot", "staktrakr-goldback", "staktrakr-publish"} <= set(jobs)
    for name, job in jobs.items():
        assert job["spec"]["concurrencyPolicy"] == "Forbid", name
    for _, doc in DOCS:
        if doc["kind"] not in ("CronJob", "Deployment"):
            continue
        for container in _containers(doc):
            memory = container["resources"]
            assert memory["requests"]["memory"] and memory["limits"]["memory"], doc["metadata"]["name"]
            assert _mib(memory["requests"]["memory"]) <= _mib(memory["limits"]["memory"])
    # The browser host holds a Chromium per connected shard (450-550 MB each), three at once.
    [host] = _containers(_one("Deployment", "staktrakr-browser-host"))
    assert _mib(host["resources"]["limits"]["memory"]) >= 3 * 550


def _mib(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity).groups()
    return float(number) * (1024 if unit == "Gi" else 1)


def _crontab_schedule(command: str) -> str:
    for line in (ROOT / "deploy" / "crontab.cloud").read_text(encoding="utf-8").splitlines():
        if re.match(r"^[\d*,/-]+ ", line) and line.rstrip().endswith(f"&& {command}"):
            return " ".join(line.split()[:5])
    raise AssertionError(f"{command!r} is not in deploy/crontab.cloud")


def test_schedules_are_the_vm_crontabs():
    jobs = _cronjobs()
    for name, command in [
        ("staktrakr-retail", "scrapy crawl retail"), ("staktrakr-retail-retry", "scrapy crawl retail -a only=failed"),
        ("staktrakr-spot", "scrapy crawl spot"), ("staktrakr-goldback", "scrapy crawl goldback"),
        ("staktrakr-publish", "staktrakr publish"), ("staktrakr-alert", "staktrakr alert"),
    ]:  # fmt: skip
        job = jobs[name]
        assert job["spec"]["schedule"] == _crontab_schedule(command), name
        [container] = _containers(job)
        assert " ".join(container["args"]) == command


@pytest.mark.parametrize("name", ["staktrakr-retail", "staktrakr-retail-retry"])
def test_the_retail_job_is_indexed_and_each_pod_crawls_its_own_shard(name):
    job = _cronjobs()[name]
    spec = job["spec"]["jobTemplate"]["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    [container] = _containers(job)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert int(env["STAKTRAKR_SHARD_COUNT"]) == spec["completions"]
    base = _one("ConfigMap", "staktrakr-config")["data"]
    # what each pod's configuration becomes once Kubernetes adds JOB_COMPLETION_INDEX
    shards = [shard_of(load_config(environ={**base, **env, "JOB_COMPLETION_INDEX": str(i)})) for i in range(spec["completions"])]
    assert [s.label for s in shards] == [f"{i}/{spec['completions']}" for i in range(spec["completions"])]


def test_secrets_are_the_configurations_secrets_and_hold_no_value():
    secret = _one("Secret", "staktrakr-secrets")
    get_plugin_manager(load_config())  # the plugins' sections (API_GIT_REMOTE: the git publisher's)
    secret_fields = set(secret_names())
    assert set(secret["stringData"]) == secret_fields
    assert all(value == "" for value in secret["stringData"].values())
    config = _one("ConfigMap", "staktrakr-config")["data"]
    assert not set(config) & secret_fields  # a secret never sits in the ConfigMap
    known = {name for model in sections().values() for name in model.model_fields}
    assert set(config) <= known | {"SCRAPY_SETTINGS_MODULE", "PLAYWRIGHT_CONNECT_URL"}


def test_the_pollers_find_the_browser_host_through_its_service():
    url = _one("ConfigMap", "staktrakr-config")["data"]["PLAYWRIGHT_CONNECT_URL"]
    service = _one("Service", "staktrakr-browser-host")
    assert url == f"ws://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/"
    [host] = _containers(_one("Deployment", "staktrakr-browser-host"))
    assert host["args"][:3] == ["playwright", "run-server", "--unsafe"]
    # --unsafe: only the poller pods may connect
    policy = _one("NetworkPolicy", "staktrakr-browser-host")
    allowed = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    for job in _cronjobs().values():
        labels = job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        assert allowed.items() <= labels.items(), job["metadata"]["name"]


def test_each_job_keeps_its_state_in_its_own_folder_of_the_data_volume():
    claim = _one("PersistentVolumeClaim", "staktrakr-data")
    folders = {}
    for name, job in _cronjobs().items():
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]] == [claim["metadata"]["name"]]
        [mount] = _containers(job)[0]["volumeMounts"]
        folders[name] = mount.get("subPath") or mount["subPathExpr"]
    # a retail shard and its retry pass share a folder (and so the job lock), like one VM per shard
    assert folders["staktrakr-retail"] == folders["staktrakr-retail-retry"] == "retail-$(JOB_COMPLETION_INDEX)"
    others = [f for n, f in folders.items() if n not in ("staktrakr-retail", "staktrakr-retail-retry")]
    assert len(set(others)) == len(others) and "retail-$(JOB_COMPLETION_INDEX)" not in others
