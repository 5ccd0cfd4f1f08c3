#!/usr/bin/python3
"""Checks docker/compose.yaml and docker/kubernetes/stackhouse.yaml against the image they run.

No Docker engine or Kubernetes cluster is needed: the manifests are parsed and compared with
docker/Dockerfile (ports, volume, user, health check) and config/application.yml (the environment
variables they set must exist). Run: deploy_manifests_test.py REPO_ROOT
"""
import re
import sys
import unittest
from pathlib import Path

import yaml

ROOT = Path(sys.argv.pop(1) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])


def dockerfile():
    """The final stage's instructions: {INSTRUCTION: [argument strings]}."""
    text = (ROOT / "docker/Dockerfile").read_text().replace("\\\n", " ")
    stage = text.split("\nFROM ")[-1]
    out = {}
    for line in stage.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.setdefault(word.upper(), []).append(rest.strip())
    return out


def exec_form(text):
    """The JSON array of an exec-form instruction (CMD [...])."""
    return yaml.safe_load(text[text.index("["):])


DOCKER = dockerfile()
CONFIG = (ROOT / "config/application.yml").read_text()
CONFIG_ENV = set(re.findall(r"\$\{(\w+):", CONFIG))
EXPOSED = {int(p) for e in DOCKER["EXPOSE"] for p in e.split()}
VOLUME = exec_form(DOCKER["VOLUME"][0])[0]
UID = int(DOCKER["USER"][0].split(":")[0])
HEALTH = exec_form(DOCKER["HEALTHCHECK"][0].split(" CMD ", 1)[1])


def default_port(key):
    return int(re.search(r"\$\{" + key + r":(\d+)\}", CONFIG).group(1))


class DockerfileTest(unittest.TestCase):
    def test_exposes_the_configured_ports(self):
        self.assertEqual(EXPOSED, {default_port("SW_CORE_GRPC_PORT"), default_port("SW_CORE_REST_PORT")})

    def test_runs_as_non_root_and_checks_its_own_health(self):
        self.assertNotEqual(UID, 0)
        self.assertEqual(HEALTH[0], exec_form(DOCKER["ENTRYPOINT"][0])[0])
        self.assertIn("--health-check", HEALTH)

    def test_data_directory_is_the_volume(self):
        env = dict(e.split("=", 1) for e in DOCKER["ENV"])
        self.assertEqual(env["SW_STORAGE_DATA_DIR"], VOLUME)


class ComposeTest(unittest.TestCase):
    def setUp(self):
        self.compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
        self.service = self.compose["services"]["stackhouse"]

    def test_builds_the_dockerfile(self):
        build = self.service["build"]
        context = ROOT / "docker" / build["context"]
        self.assertTrue((context / build["dockerfile"]).is_file())

    def test_publishes_the_exposed_ports(self):
        published = {int(str(p).split(":")[-1]) for p in self.service["ports"]}
        self.assertEqual(published, EXPOSED)

    def test_named_volume_on_the_data_directory(self):
        name, _, path = self.service["volumes"][0].partition(":")
        self.assertEqual(path, VOLUME)
        self.assertIn(name, self.compose["volumes"])

    def test_health_check_is_the_images(self):
        self.assertEqual(self.service["healthcheck"]["test"], ["CMD"] + HEALTH)

    def test_environment_names_config_keys(self):
        for name in self.service.get("environment", {}):
            self.assertIn(name, CONFIG_ENV)


class KubernetesTest(unittest.TestCase):
    def setUp(self):
        docs = list(yaml.safe_load_all((ROOT / "docker/kubernetes/stackhouse.yaml").read_text()))
        self.by_kind = {d["kind"]: d for d in docs}
        self.sts = self.by_kind["StatefulSet"]
        self.pod = self.sts["spec"]["template"]["spec"]
        self.container = self.pod["containers"][0]

    def test_service_selects_the_pods_and_serves_both_ports(self):
        svc = self.by_kind["Service"]
        labels = self.sts["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(self.sts["spec"]["selector"]["matchLabels"], svc["spec"]["selector"])
        for key, value in svc["spec"]["selector"].items():
            self.assertEqual(labels[key], value)
        self.assertEqual(self.sts["spec"]["serviceName"], svc["metadata"]["name"])
        named = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(set(named.values()), EXPOSED)
        for port in svc["spec"]["ports"]:
            self.assertEqual(named[port["targetPort"]], port["port"])

    def test_probes_use_the_health_endpoints(self):
        # Readiness includes the storage's health; liveness does not (a full disk is no reason
        # to restart the pod).
        named = {p["name"] for p in self.container["ports"]}
        for probe, path in (("readinessProbe", "/healthz"), ("livenessProbe", "/livez")):
            get = self.container[probe]["httpGet"]
            self.assertEqual(get["path"], path)
            self.assertIn(get["port"], named)

    def test_runs_as_the_images_user_with_limits(self):
        ctx = self.pod["securityContext"]
        self.assertTrue(ctx["runAsNonRoot"])
        self.assertEqual(ctx["runAsUser"], UID)
        self.assertEqual(ctx["fsGroup"], UID)
        self.assertIn("memory", self.container["resources"]["limits"])
        self.assertIn("cpu", self.container["resources"]["requests"])

    def test_data_on_a_persistent_volume_claim(self):
        claims = {c["metadata"]["name"] for c in self.sts["spec"]["volumeClaimTemplates"]}
        volumes = {v["name"] for v in self.pod.get("volumes", [])}
        mounts = {m["mountPath"]: m["name"] for m in self.container["volumeMounts"]}
        self.assertIn(mounts[VOLUME], claims)
        for name in mounts.values():
            self.assertIn(name, claims | volumes)

    def test_environment_names_config_keys(self):
        for env in self.container.get("env", []):
            self.assertIn(env["name"], CONFIG_ENV)

    def test_grace_period_covers_the_servers(self):
        grace = int(re.search(r"\$\{SW_CORE_SHUTDOWN_GRACE_PERIOD:(\d+)\}", CONFIG).group(1))
        self.assertGreater(self.pod["terminationGracePeriodSeconds"], grace)


if __name__ == "__main__":
    unittest.main(verbosity=1)
