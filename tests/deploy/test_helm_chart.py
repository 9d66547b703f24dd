"""The Helm chart (`deploy/helm/pst-activation`), checked as CI checks it: `helm lint` and
`helm template` for the default values and the production example, every rendered manifest
validated offline against the Kubernetes JSON schemas (`kubernetes-validate`, strict: an unknown
field fails), and the properties issue 15 asks of the chart, so that a regression fails here.

helm is built once from the Go module proxy (`go install helm.sh/helm/v4/cmd/helm@v4.3.2`) into
the project's cache (`~/.cache/pst-activation/helm-v4.3.2/bin`) and reused after. The first build
takes minutes (5 min 37 s on the development machine, module downloads included); after it the
module takes a few seconds. A failed build fails the tests, saying why: it never skips them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from pst.localstack.kafka import default_cache_dir
from services.console.web.pages import BASE as CONSOLE_BASE
from services.notifier.webhooks import webhook_router
from shared.kafka.topics import Topics
from shared.settings import Settings

# the first build of helm runs inside whichever test asks for it first
pytestmark = pytest.mark.timeout(1800)

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "pst-activation"
PRODUCTION = ROOT / "deploy" / "helm" / "examples" / "production.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HELM_MODULE = "helm.sh/helm/v4"
HELM_VERSION = "v4.3.2"
# the oldest the chart's kubeVersion allows and the newest kubernetes-validate ships
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

SERVICES = ("intake", "dispatcher", "notifier", "console")
WEB = {"intake", "notifier", "console"}
CONSUMED_TOPICS = {  # what each partition-bound service consumes (its app's subscribe_to)
    "dispatcher": ("incidents", "page_outcomes"),
    "notifier": ("page_commands",),
}
SECRET_SETTINGS = {"PST_DATABASE_URL", "PST_TWILIO_ACCOUNT_SID", "PST_TWILIO_AUTH_TOKEN"}
SETTINGS_NAMES = {f"PST_{name.upper()}" for name in Settings.model_fields}
DATABASE_PARTS = {"PST_DB_USERNAME", "PST_DB_PASSWORD", "PST_DB_HOST", "PST_DB_PORT", "PST_DB_NAME"}
WEB_PORT = 8000

Manifest = dict[str, Any]


# -- helm ---------------------------------------------------------------------------------------


def _helm_binary() -> Path:
    """helm HELM_VERSION from the Go module proxy, built on first use, then reused."""
    home = default_cache_dir() / f"helm-{HELM_VERSION}"
    binary = home / "bin" / "helm"
    marker = home / ".complete"
    if marker.exists() and os.access(binary, os.X_OK):
        return binary
    go = shutil.which("go")
    if go is None:
        pytest.fail(
            f"Go is needed to build helm {HELM_VERSION} ({HELM_MODULE} from the Go module proxy) "
            "for the chart's checks: install Go 1.26 or newer (its go.mod asks for 1.26.0)",
            pytrace=False,
        )
    staging = home / "bin.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = os.environ | {"GOBIN": str(staging), "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            [go, "install", f"{HELM_MODULE}/cmd/helm@{HELM_VERSION}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"building helm {HELM_VERSION} took more than 25 minutes", pytrace=False)
    took_s = time.monotonic() - started
    if done.returncode != 0 or not (staging / "helm").exists():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        pytest.fail(
            f"could not download and build helm {HELM_VERSION} with `go install "
            f"{HELM_MODULE}/cmd/helm@{HELM_VERSION}` (GOPROXY={env.get('GOPROXY', 'default')}, "
            f"exit {done.returncode}): the chart cannot be checked without it.\n{tail}",
            pytrace=False,
        )
    shutil.rmtree(home / "bin", ignore_errors=True)
    os.replace(staging, home / "bin")
    marker.write_text(f"{HELM_MODULE} {HELM_VERSION} built in {took_s:.0f} s\n")
    print(f"built helm {HELM_VERSION} in {took_s:.0f} s")  # shown with -s or on failure
    return binary


@pytest.fixture(scope="session")
def helm() -> Path:
    binary = _helm_binary()
    version = _run([str(binary), "version", "--template", "{{.Version}}"])
    assert version.startswith(HELM_VERSION.rsplit(".", 1)[0]), version
    return binary


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _values_args(values: Path | None) -> list[str]:
    return [] if values is None else ["--values", str(values)]


def _template(helm: Path, values: Path | None, *extra: str) -> list[Manifest]:
    out = _run(
        [
            str(helm),
            "template",
            "pst",
            str(CHART),
            "--namespace",
            "pst",
            "--kube-version",
            KUBERNETES_VERSIONS[0],
            *_values_args(values),
            *extra,
        ]
    )
    return [doc for doc in yaml.safe_load_all(out) if doc]


VALUE_SETS = {"default": None, "production": PRODUCTION}


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, helm: Path) -> Iterator[list[Manifest]]:
    yield _template(helm, VALUE_SETS[request.param])


# -- lint, render, schemas ----------------------------------------------------------------------


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_helm_lint_passes_strictly(helm: Path, values: str) -> None:
    _run([str(helm), "lint", "--strict", str(CHART), *_values_args(VALUE_SETS[values])])


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(
    rendered: list[Manifest], version: str
) -> None:
    failures = []
    for manifest in rendered:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            failures.append(f"{_name(manifest)}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            failures.append(f"{_name(manifest)}: {error.message}")
    assert not failures, "\n".join(failures)


def test_the_schema_check_refuses_an_unknown_field(rendered: list[Manifest]) -> None:
    """The check above would pass anything if strict mode did nothing."""
    deployment = _one(rendered, "Deployment", "intake")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_the_chart_renders_only_what_it_should(rendered: list[Manifest]) -> None:
    kinds = sorted({m["kind"] for m in rendered})
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Ingress",
            "Job",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
        ]
    )
    assert "Secret" not in kinds  # secrets come from existing Secrets only
    assert sorted(_component(m) for m in _all(rendered, "Deployment")) == sorted(SERVICES)


# -- pods ---------------------------------------------------------------------------------------


def test_every_service_container_has_probes_resources_and_its_command(
    rendered: list[Manifest],
) -> None:
    for deployment in _all(rendered, "Deployment"):
        name = _component(deployment)
        (container,) = _pod(deployment)["containers"]
        assert container["command"] == ["pst"], name
        assert container["args"][:2] == ["serve", name], name
        assert container["args"][container["args"].index("--port") + 1] == str(WEB_PORT)
        assert [p["containerPort"] for p in container["ports"]] == [WEB_PORT], name
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path and get["port"] in ("http", WEB_PORT), (name, probe)
        _assert_resources(container, name)


def test_every_container_runs_as_non_root_on_a_read_only_root(rendered: list[Manifest]) -> None:
    pods = [(_component(m), _pod(m)) for m in _all(rendered, "Deployment") + _all(rendered, "Job")]
    assert len(pods) == len(SERVICES) + 1
    for name, pod in pods:
        assert pod["automountServiceAccountToken"] is False, name
        pod_context = pod.get("securityContext", {})
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            merged = pod_context | context
            assert merged["runAsNonRoot"] is True, name
            assert isinstance(merged["runAsUser"], int) and merged["runAsUser"] > 0, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context.get("privileged", False) is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert not context["capabilities"].get("add"), name
            assert merged["seccompProfile"]["type"] == "RuntimeDefault", name
            # the one place the app writes (ctypes' library lookup, fontconfig's cache)
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1 and "emptyDir" in volumes[tmp[0]["name"]], name
            _assert_resources(container, name)


def test_the_image_user_is_the_numeric_user_the_pods_run_as(rendered: list[Manifest]) -> None:
    users = re.findall(r"^USER\s+(\d+)(?::(\d+))?\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    assert users, "deploy/Dockerfile must end as a numeric USER (runAsNonRoot checks it)"
    uid, gid = users[-1]
    for deployment in _all(rendered, "Deployment"):
        context = _pod(deployment)["securityContext"]
        assert str(context["runAsUser"]) == uid and str(context["runAsGroup"]) == gid


def test_settings_come_from_the_configmap_and_secrets_only_from_existing_secrets(
    rendered: list[Manifest],
) -> None:
    (config,) = _all(rendered, "ConfigMap")
    data = config["data"]
    assert not SECRET_SETTINGS & data.keys()
    assert set(data) <= SETTINGS_NAMES, (
        f"not settings of shared/settings.py: {set(data) - SETTINGS_NAMES}"
    )
    assert data["PST_HTTP_PORT"] == str(WEB_PORT)
    assert data["PST_KAFKA_BOOTSTRAP"] and data["PST_PUBLIC_URL"]
    for manifest in _all(rendered, "Deployment") + _all(rendered, "Job"):
        name = _component(manifest)
        for container in _pod(manifest)["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] == config["metadata"]["name"]
                else:
                    assert set(source) == {"secretRef"}, (name, source)
            env = {e["name"]: e for e in container.get("env", [])}
            for var, entry in env.items():
                if var.startswith("PST_"):
                    assert var in SETTINGS_NAMES | DATABASE_PARTS, (name, var)
                if var in SECRET_SETTINGS | DATABASE_PARTS and var != "PST_DATABASE_URL":
                    assert set(entry) == {"name", "valueFrom"}, (name, var)
                    assert set(entry["valueFrom"]) == {"secretKeyRef"}, (name, var)
            url = env["PST_DATABASE_URL"]
            if "value" in url:  # composed from a Secret's parts, never a literal password
                parts = set(re.findall(r"\$\(([A-Z_]+)\)", url["value"]))
                assert parts == DATABASE_PARTS and url["value"].startswith("postgresql+asyncpg://")
                assert all(var in env for var in parts)
            else:
                assert set(url["valueFrom"]) == {"secretKeyRef"}, name
            twilio = {"PST_TWILIO_ACCOUNT_SID", "PST_TWILIO_AUTH_TOKEN"} & env.keys()
            assert not twilio or name == "notifier", f"{name} gets Twilio's credentials"


def test_the_production_example_wires_twilio_cloudnativepg_and_strimzi(helm: Path) -> None:
    rendered = _template(helm, PRODUCTION)
    notifier = {
        e["name"]: e for e in _pod(_one(rendered, "Deployment", "notifier"))["containers"][0]["env"]
    }
    assert notifier["PST_TWILIO_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "pst-twilio"
    assert notifier["PST_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "pst-db-app"
    (config,) = _all(rendered, "ConfigMap")
    assert config["data"]["PST_KAFKA_BOOTSTRAP"].endswith("-kafka-bootstrap.kafka.svc:9092")
    assert config["data"]["PST_PUBLIC_URL"].startswith("https://")
    replicas = {
        _component(h): h["spec"]["minReplicas"] for h in _all(rendered, "HorizontalPodAutoscaler")
    }
    assert replicas["intake"] >= 3 and replicas["console"] >= 3
    assert replicas["dispatcher"] >= 2 and replicas["notifier"] >= 2


def test_the_migration_is_a_pre_install_and_pre_upgrade_hook_job(rendered: list[Manifest]) -> None:
    (job,) = _all(rendered, "Job")
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    assert hooks == {"pre-install", "pre-upgrade"}
    (container,) = _pod(job)["containers"]
    assert container["command"] == ["pst"] and container["args"] == ["migrate"]
    assert _pod(job)["restartPolicy"] == "Never"
    # a hook runs before the release's ConfigMap exists: nothing of the release may be needed
    assert "envFrom" not in container
    # its NetworkPolicy is a hook too, created before it
    policies = [p for p in _all(rendered, "NetworkPolicy") if _component(p) == "migrate"]
    for policy in policies:
        assert int(policy["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"].get("helm.sh/hook-weight", "0")
        )


# -- availability and scaling -------------------------------------------------------------------


def test_every_service_has_a_disruption_budget_that_lets_a_node_drain(
    rendered: list[Manifest],
) -> None:
    for deployment in _all(rendered, "Deployment"):
        name = _component(deployment)
        (budget,) = [b for b in _all(rendered, "PodDisruptionBudget") if _component(b) == name]
        assert _selects(budget["spec"]["selector"]["matchLabels"], deployment), name
        assert "maxUnavailable" in budget["spec"] and budget["spec"]["maxUnavailable"] >= 1


def test_every_service_scales_on_cpu_within_its_topics_partitions(
    rendered: list[Manifest],
) -> None:
    partitions = {spec.name: spec.partitions for spec in Topics().specs()}
    topics = Topics()
    for deployment in _all(rendered, "Deployment"):
        name = _component(deployment)
        (hpa,) = [h for h in _all(rendered, "HorizontalPodAutoscaler") if _component(h) == name]
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # the HPA owns the replica count: a Deployment's own would fight it at each upgrade
        assert "replicas" not in deployment["spec"], name
        if name in CONSUMED_TOPICS:
            bound = min(partitions[getattr(topics, t)] for t in CONSUMED_TOPICS[name])
            assert hpa["spec"]["maxReplicas"] <= bound, name


@pytest.mark.parametrize(
    ("values", "refusal"),
    [
        (["--set", "dispatcher.autoscaling.maxReplicas=7"], "at most the topics' 6 partitions"),
        (
            ["--set", "notifier.autoscaling.enabled=false", "--set", "notifier.replicas=8"],
            "more than the topics' 6 partitions",
        ),
        (["--set", "settings.extra.PST_DATABASE_URL=postgresql+asyncpg://x"], "is a secret"),
        (["--set", "database.existingSecret="], "database.existingSecret"),
        (["--set", "twilio.existingSecret=pst-twilio"], "settings.twilioFrom"),
    ],
)
def test_the_chart_refuses_values_that_would_break_the_service(
    helm: Path, values: list[str], refusal: str
) -> None:
    done = subprocess.run(
        [str(helm), "template", "pst", str(CHART), *values],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and refusal in done.stderr, done.stderr


# -- network ------------------------------------------------------------------------------------


def test_each_service_has_a_network_policy_that_lets_in_and_out_only_what_it_needs(
    rendered: list[Manifest],
) -> None:
    policies = {_component(p): p for p in _all(rendered, "NetworkPolicy")}
    controller = policies["intake"]["spec"]["ingress"][0]["from"]  # the ingress controller
    for manifest in _all(rendered, "Deployment") + _all(rendered, "Job"):
        name = _component(manifest)
        spec = policies[name]["spec"]
        assert _selects(spec["podSelector"]["matchLabels"], manifest), name
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"}, name
        # in: only the web port, from named peers; the controller only to the web services
        for rule in spec["ingress"]:
            assert rule.get("from"), f"{name}: an ingress rule open to every source"
            assert [p["port"] for p in rule["ports"]] == [WEB_PORT], name
        from_controller = any(rule["from"] == controller for rule in spec["ingress"])
        assert from_controller == (name in WEB), name
        # out: every rule names its ports; HTTPS (Twilio) is the notifier's alone
        ports = set()
        for rule in spec["egress"]:
            assert rule.get("ports"), f"{name}: an egress rule open on every port"
            ports |= {p["port"] for p in rule["ports"]}
        expected = {53, 5432} if name == "migrate" else {53, 5432, 9092}
        if name == "notifier":
            expected |= {443}
        assert ports == expected, (name, ports)


def test_the_ingress_routes_each_path_to_the_service_that_serves_it(
    rendered: list[Manifest],
) -> None:
    (ingress,) = _all(rendered, "Ingress")
    services = {s["metadata"]["name"]: _component(s) for s in _all(rendered, "Service")}
    assert sorted(services.values()) == sorted(WEB)  # the dispatcher has no Service
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: services[p["backend"]["service"]["name"]] for p in rule["http"]["paths"]}
    assert routes["/v1/twilio"] == "notifier" and webhook_router().prefix == "/v1/twilio"
    assert routes["/v1"] == "intake"
    assert routes[CONSOLE_BASE] == "console"
    # the probes and /metrics stay inside the cluster
    assert not {"/", "/healthz", "/readyz", "/metrics"} & routes.keys()
    for service in _all(rendered, "Service"):
        assert _selects(
            service["spec"]["selector"], _one(rendered, "Deployment", _component(service))
        )
        assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


# -- helpers ------------------------------------------------------------------------------------


def _all(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def _one(manifests: list[Manifest], kind: str, component: str) -> Manifest:
    (found,) = [m for m in _all(manifests, kind) if _component(m) == component]
    return found


def _component(manifest: Manifest) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/component"])


def _name(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def _pod(manifest: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def _selects(selector: dict[str, str], workload: Manifest) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _assert_resources(container: dict[str, Any], name: str) -> None:
    resources = container["resources"]
    for side in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(side, {})), f"{name}: {side}"
