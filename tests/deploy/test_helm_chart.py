"""The Helm chart deploy/helm/todo, rendered by `helm template` and checked object by object.

Run by `make helm-test` (scripts/helm-check.sh finds Helm and sets HELM). What it holds the chart
to: ADR 0022 (one Deployment per role, the path -> role table), DESIGN §9 (probes on /health and
/ready), docs/deploy.md (secrets only referenced, never inlined), and the binary itself (every
TODO_* variable the chart sets is one src/app/config.cpp reads).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "todo"
HELM = os.environ.get("HELM", "")
ROLES = {"api": 8000, "recurring": 8001, "notify": 8002, "sync": 8003, "audit": 8004}
VALUES_FILES = ["values.yaml", "values-minikube.yaml", "values-oke.yaml"]
RELEASE = "t"

# Variables whose values are secrets: in a pod spec only as secretKeyRef (or a path to a mounted
# Secret), never in a ConfigMap.
SECRET_VARS = {
    "TODO_DATABASE_URL", "DATABASE_URL", "TODO_JWT_SECRET", "BETTER_AUTH_SECRET",
    "TODO_SMTP_USER", "TODO_SMTP_PASSWORD", "TODO_SENDGRID_API_KEY", "SENDGRID_API_KEY",
    "TODO_VAPID_PRIVATE_KEY", "TODO_VAPID_PUBLIC_KEY", "TODO_KAFKA_USERNAME",
    "TODO_KAFKA_PASSWORD", "TODO_METRICS_TOKEN",
}
FILE_VARS = {"TODO_FCM_CREDENTIALS": "/run/secrets/fcm/", "TODO_KAFKA_CA_FILE": "/run/secrets/kafka-ca/"}

# Every secret referenced at once, to check none of them is inlined anywhere.
ALL_SECRETS = [
    "secrets.smtp.existingSecret=s-smtp",
    "secrets.sendgrid.existingSecret=s-sendgrid",
    "secrets.fcm.existingSecret=s-fcm",
    "secrets.vapid.existingSecret=s-vapid",
    "secrets.kafka.existingSecret=s-kafka",
    "secrets.kafkaCa.existingSecret=s-kafka-ca",
    "secrets.metricsToken.existingSecret=s-metrics",
    "bus.kind=kafka",
    "bus.kafka.brokers=k:9092",
    "bus.kafka.securityProtocol=sasl_ssl",
    "roles.notify.replicas=2",
]

# make helm-test sets HELM_REQUIRED=1: there a missing tool fails the run instead of skipping it.
REQUIRED = os.environ.get("HELM_REQUIRED", "0") == "1"

if not HELM or not os.access(HELM, os.X_OK):
    if REQUIRED:
        pytest.fail("helm not available (HELM unset or not executable)", pytrace=False)
    pytest.skip("helm not available (HELM unset): run make helm-test", allow_module_level=True)


def helm(*args, check=True):
    run = subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120)
    if check and run.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return run


def render(values_file="values.yaml", sets=()):
    args = ["template", RELEASE, str(CHART), "-f", str(CHART / values_file)]
    for s in sets:
        args += ["--set", s]
    docs = [d for d in yaml.safe_load_all(helm(*args).stdout) if d]
    return docs


def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def by_name(docs, kind):
    return {d["metadata"]["name"]: d for d in of_kind(docs, kind)}


def full(role):
    return f"{RELEASE}-todo-{role}"


def binary_variables():
    text = (ROOT / "src" / "app" / "config.cpp").read_text()
    return set(re.findall(r'"((?:TODO|BETTER_AUTH|DATABASE|SENDGRID)_[A-Z0-9_]+)"', text))


@pytest.fixture(scope="module", params=VALUES_FILES)
def rendered(request):
    return request.param, render(request.param)


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_objects_match_the_kubernetes_api_schemas(values_file):
    validate = os.environ.get("K8S_VALIDATE", "")
    if not validate:
        if REQUIRED:
            pytest.fail("K8S_VALIDATE unset: the Kubernetes schemas (tests/deploy/schema) are not installed")
        pytest.skip("K8S_VALIDATE unset: the Kubernetes schemas (tests/deploy/schema) are not installed")
    sets = ALL_SECRETS + ["dapr.enabled=true"] if values_file == "values.yaml" else []
    docs = render(values_file, sets)
    run = subprocess.run(["node", validate], input=json.dumps(docs), capture_output=True, text=True,
                         timeout=120, cwd=Path(validate).parent)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok ") == len(docs)


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_lint(values_file):
    helm("lint", "--strict", str(CHART), "-f", str(CHART / values_file))


def test_every_role_has_a_deployment_with_probes_and_a_locked_down_pod(rendered):
    _, docs = rendered
    deployments = by_name(docs, "Deployment")
    services = by_name(docs, "Service")
    assert set(deployments) == {full(r) for r in ROLES}
    for role, port in ROLES.items():
        d = deployments[full(role)]
        pod = d["spec"]["template"]["spec"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (c,) = pod["containers"]
        assert c["args"][0] == role
        assert {"name": "http", "containerPort": port, "protocol": "TCP"} in c["ports"]
        env = {e["name"]: e for e in c["env"]}
        assert env["TODO_PORT"]["value"] == str(port)
        assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sc["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for path in ("/tmp", "/data"):
            assert "emptyDir" in volumes[mounts[path]], f"{role}: {path} is not an emptyDir"
        assert c["resources"]["requests"], f"{role} has no resource requests"
        # The Service of the role reaches these pods on the role's port.
        svc = services[full(role)]
        assert svc["spec"]["selector"].items() <= labels.items()
        assert {"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"} in svc["spec"]["ports"]


def test_each_role_has_a_pdb_selecting_its_pods(rendered):
    _, docs = rendered
    pdbs = by_name(docs, "PodDisruptionBudget")
    deployments = by_name(docs, "Deployment")
    assert set(pdbs) == {full(r) for r in ROLES}
    for role in ROLES:
        pdb = pdbs[full(role)]
        assert pdb["apiVersion"] == "policy/v1"
        pod_labels = deployments[full(role)]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]


@pytest.mark.parametrize("values_file", ["values.yaml", "values-oke.yaml"])
def test_api_and_sync_autoscale(values_file):
    docs = render(values_file)
    hpas = by_name(docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {full("api"), full("sync")}
    deployments = by_name(docs, "Deployment")
    for name, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["minReplicas"] >= 2
        # The HPA owns the replica count; a fixed one would fight it on every upgrade.
        assert "replicas" not in deployments[name]["spec"]


def test_no_secret_is_inlined_anywhere():
    sentinel = "s3cr3t-from-values-must-not-appear"
    for values_file in VALUES_FILES:
        docs = render(values_file, ALL_SECRETS)
        assert of_kind(docs, "Secret") == [], "the chart must create no Secret, only reference them"
        for cm in of_kind(docs, "ConfigMap"):
            assert not (set(cm.get("data", {})) & (SECRET_VARS | set(FILE_VARS))), cm["data"]
        pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "Job")]
        for pod in pods:
            for c in pod["containers"]:
                for e in c.get("env", []):
                    if e["name"] in SECRET_VARS:
                        assert "value" not in e, f"{e['name']} is inlined"
                        assert set(e["valueFrom"]) == {"secretKeyRef"}
                    if e["name"] in FILE_VARS:
                        assert e["value"].startswith(FILE_VARS[e["name"]])
        deployments = of_kind(docs, "Deployment")
        api = next(d for d in deployments if d["metadata"]["name"] == full("api"))
        env = {e["name"] for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert SECRET_VARS - {"DATABASE_URL", "BETTER_AUTH_SECRET", "SENDGRID_API_KEY"} <= env
        volumes = {v["name"]: v for v in api["spec"]["template"]["spec"]["volumes"]}
        assert volumes["fcm"]["secret"]["secretName"] == "s-fcm"
        assert volumes["kafka-ca"]["secret"]["secretName"] == "s-kafka-ca"
    # A secret put among the plain settings is refused, not rendered.
    run = helm("template", RELEASE, str(CHART), "--set", f"config.extraEnv.TODO_JWT_SECRET={sentinel}", check=False)
    assert run.returncode != 0 and sentinel not in run.stdout
    assert "is a secret" in run.stderr


def test_every_variable_the_chart_sets_is_one_the_binary_reads():
    known = binary_variables()
    assert "TODO_TRUSTED_PROXIES" in known and "TODO_KAFKA_PASSWORD" in known
    for values_file in VALUES_FILES:
        docs = render(values_file, ALL_SECRETS + ["dapr.enabled=true"])
        names = set()
        for cm in of_kind(docs, "ConfigMap"):
            names |= set(cm["data"])
        for d in docs:
            if d["kind"] in ("Deployment", "Job"):
                for c in d["spec"]["template"]["spec"]["containers"]:
                    names |= {e["name"] for e in c.get("env", [])}
        assert names - known == set(), f"{values_file}: the binary reads no {sorted(names - known)}"


def test_the_migration_job_is_a_hook_that_runs_todo_migrate(rendered):
    _, docs = rendered
    (job,) = of_kind(docs, "Job")
    ann = job["metadata"]["annotations"]
    assert set(ann["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in ann["helm.sh/hook-delete-policy"]
    assert "hook-succeeded" in ann["helm.sh/hook-delete-policy"]
    pod = job["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["args"] == ["migrate"]
    env = {e["name"]: e for e in c["env"]}
    assert env["TODO_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["restartPolicy"] == "Never"


# ADR 0022's path -> role table, as requests an ingress-nginx with use-regex would route.
ROUTES = {
    "/api/tasks/0193f0a0-aaaa/history": "audit",
    "/api/audit-logs": "audit",
    "/api/audit-logs/verify": "audit",
    "/api/tasks/0193f0a0-aaaa/reminders": "notify",
    "/api/notification-targets": "notify",
    "/api/notification-targets/0193f0a0-bbbb": "notify",
    "/api/notification-targets/vapid-public-key": "notify",
    "/ws/tasks": "sync",
    "/api/auth/login": "api",
    "/api/me": "api",
    "/api/tasks": "api",
    "/api/tasks/0193f0a0-aaaa": "api",
    "/api/tasks/0193f0a0-aaaa/complete": "api",
    "/api/tasks/0193f0a0-aaaa/occurrences": "api",
    "/api/tasks/0193f0a0-aaaa/history/x": "api",
    "/api/sync": "api",
    "/api/recurrence/preview": "api",
    "/api/0193f0a0-cccc/tasks": "api",
    "/openapi.json": "api",
    "/ready": "api",
    "/": "api",
    "/settings": "api",
}


def nginx_route(ingresses, host, path):
    """ingress-nginx with use-regex on a host: every path a case-insensitive regex anchored at the
    start (Prefix and ImplementationSpecific alike), the longest path first."""
    rules = []
    for ing in ingresses:
        for rule in ing["spec"]["rules"]:
            if rule.get("host", "") != host:
                continue
            for p in rule["http"]["paths"]:
                rules.append((p["path"], p["backend"]["service"]))
    rules.sort(key=lambda r: len(r[0]), reverse=True)
    for pattern, service in rules:
        if re.match("^" + pattern, path, re.IGNORECASE):
            return service
    return None


def test_ingress_routes_each_path_to_its_role_as_adr_0022_says(rendered):
    values_file, docs = rendered
    adr = (ROOT / "docs" / "adr" / "0022-roles.md").read_text()
    assert "^/api/tasks/[^/]+/history$" in adr and "^/api/tasks/[^/]+/reminders$" in adr
    ingresses = of_kind(docs, "Ingress")
    main = next(i for i in ingresses if i["metadata"]["name"] == f"{RELEASE}-todo")
    ws = next(i for i in ingresses if i["metadata"]["name"] == f"{RELEASE}-todo-ws")
    assert main["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert int(ws["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(ws["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert "nginx.ingress.kubernetes.io/proxy-read-timeout" not in main["metadata"].get("annotations", {})
    services = by_name(docs, "Service")
    hosts = {r.get("host", "") for i in ingresses for r in i["spec"]["rules"]}
    assert hosts
    for host in hosts:
        for path, role in ROUTES.items():
            service = nginx_route(ingresses, host, path)
            assert service == {"name": full(role), "port": {"name": "http"}}, f"{values_file}: {path} -> {service}"
            assert full(role) in services
    # /metrics is on its own port, which no Ingress names.
    for ing in ingresses:
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                assert p["backend"]["service"]["port"] == {"name": "http"}
                assert p["path"].startswith("/")


def test_an_ingress_without_hosts_matches_any_host():
    docs = render("values.yaml", ["ingress.hosts=null"])
    for ing in of_kind(docs, "Ingress"):
        assert [r.get("host") for r in ing["spec"]["rules"]] == [None]
    assert nginx_route(of_kind(docs, "Ingress"), "", "/ws/tasks")["name"] == full("sync")


def test_metrics_are_off_the_routed_port(rendered):
    _, docs = rendered
    (cm,) = of_kind(docs, "ConfigMap")
    assert cm["data"]["TODO_METRICS_ADDRESS"] == "0.0.0.0:9100"


@pytest.mark.parametrize("values_file", ["values-minikube.yaml", "values-oke.yaml"])
def test_trusted_proxies_and_kafka_of_the_cluster_files(values_file):
    (cm,) = of_kind(render(values_file), "ConfigMap")
    assert re.fullmatch(r"[0-9a-f.:/,]+", cm["data"]["TODO_TRUSTED_PROXIES"])
    assert cm["data"]["TODO_BUS"] == "kafka" and cm["data"]["TODO_KAFKA_BROKERS"]
    if values_file == "values-oke.yaml":
        assert cm["data"]["TODO_KAFKA_SECURITY_PROTOCOL"] == "sasl_ssl"
        assert cm["data"]["TODO_KAFKA_SASL_MECHANISM"] == "PLAIN"


def test_dapr_annotations_only_when_enabled():
    docs = render("values.yaml")
    for d in of_kind(docs, "Deployment"):
        assert not any(k.startswith("dapr.io/") for k in d["spec"]["template"]["metadata"]["annotations"])
    docs = render("values.yaml", ["dapr.enabled=true"])
    ids = set()
    for role, port in ROLES.items():
        d = by_name(docs, "Deployment")[full(role)]
        ann = d["spec"]["template"]["metadata"]["annotations"]
        assert ann["dapr.io/enabled"] == "true"
        assert ann["dapr.io/app-port"] == str(port)
        ids.add(ann["dapr.io/app-id"])
    assert len(ids) == len(ROLES)


def test_the_dapr_bus_sets_todo_bus_and_the_token_annotations():
    docs = render("values.yaml", ["bus.kind=dapr", "dapr.enabled=true",
                                  "dapr.apiTokenSecret=dapr-api", "dapr.appTokenSecret=dapr-app"])
    config = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config and all(c["data"]["TODO_BUS"] == "dapr" for c in config)
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert len(deployments) == 5
    for d in deployments:
        ann = d["spec"]["template"]["metadata"]["annotations"]
        assert ann["dapr.io/api-token-secret"] == "dapr-api"
        assert ann["dapr.io/app-token-secret"] == "dapr-app"


def test_image_digest_wins_over_tag():
    digest = "sha256:" + "a" * 64
    docs = render("values.yaml", ["image.repository=ghcr.io/o/todo", f"image.digest={digest}", "image.tag=1.2.3"])
    images = {c["image"] for d in docs if d["kind"] in ("Deployment", "Job") for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {f"ghcr.io/o/todo@{digest}"}


@pytest.mark.parametrize(
    "sets, message",
    [
        (["roles.notify.replicas=2"], "needs secrets.vapid.existingSecret"),
        (["bus.kind=kafka"], "needs bus.kafka.brokers"),
        (["bus.kind=rabbit"], "must be log, kafka or dapr"),
        (["bus.kind=dapr"], "bus.kind dapr needs dapr.enabled"),
        (["bus.kind=kafka", "bus.kafka.brokers=k:9092", "bus.kafka.securityProtocol=sasl_ssl"], "needs secrets.kafka.existingSecret"),
        (["secrets.jwt.existingSecret="], "secrets.jwt.existingSecret is required"),
        (["secrets.database.existingSecret="], "secrets.database.existingSecret is required"),
    ],
)
def test_bad_values_fail_with_a_clear_message(sets, message):
    args = ["template", RELEASE, str(CHART)]
    for s in sets:
        args += ["--set", s]
    run = helm(*args, check=False)
    assert run.returncode != 0 and message in run.stderr, run.stderr
