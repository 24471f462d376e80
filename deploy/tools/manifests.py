"""Helpers for deploy/validate.sh (run with a Python that has PyYAML).

  manifests.py split RENDERED.yaml OUT.yaml        drop CRD kinds kubernetes-validate has no schema for
  manifests.py policy RENDERED.yaml                hardening and wiring checks on the rendered objects
  manifests.py rules-sync RENDERED.yaml ALERTS.yml the PrometheusRule equals the plain rules file
  manifests.py prometheus-rule ALERTS.yml          print the PrometheusRule for base/monitoring.yaml
  manifests.py dashboard DASHBOARD.json OUT.yml    every panel query as a recording rule (for promtool)
"""

from __future__ import annotations

import json
import re
import sys

import yaml

CRD_GROUPS = ("monitoring.coreos.com/",)
SERVICES = {"customer", "sales", "support", "loyalty"}
# Secrets the manifests may reference: generated (dev) or created out of band (prod).
EXTERNAL_SECRETS = {"crm-jwt", "crm-stores", "crm-loyalty-channels", "crm-customer-grant"}


def load(path: str) -> list[dict]:
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def split(rendered: str, out: str) -> None:
    docs = load(rendered)
    kept = [d for d in docs if not d["apiVersion"].startswith(CRD_GROUPS)]
    skipped = sorted({f"{d['kind']} ({d['apiVersion']})" for d in docs if d not in kept})
    with open(out, "w") as f:
        yaml.safe_dump_all(kept, f, sort_keys=False)
    print(f"  {len(kept)} objects to validate; not schema-checked (CRDs): {', '.join(skipped) or 'none'}")


def policy(rendered: str) -> None:
    docs = load(rendered)
    errors: list[str] = []
    by_kind: dict[str, dict[str, dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    configmaps = set(by_kind.get("ConfigMap", {}))
    secrets = set(by_kind.get("Secret", {})) | EXTERNAL_SECRETS
    workloads = {**by_kind.get("Deployment", {}), **by_kind.get("StatefulSet", {}), **by_kind.get("Job", {})}
    for name, w in workloads.items():
        where = f"{w['kind']}/{name}"
        pod = w["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        if not psc.get("runAsNonRoot") or psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            errors.append(f"{where}: pod securityContext needs runAsNonRoot and seccompProfile RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            errors.append(f"{where}: automountServiceAccountToken must be false")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            cw = f"{where} container {c['name']}"
            if not (sc.get("readOnlyRootFilesystem") and sc.get("runAsNonRoot")
                    and sc.get("allowPrivilegeEscalation") is False
                    and sc.get("capabilities", {}).get("drop") == ["ALL"]
                    and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
                errors.append(f"{cw}: needs readOnlyRootFilesystem, runAsNonRoot, no privilege escalation, "
                              "drop ALL, seccomp RuntimeDefault")
            res = c.get("resources", {})
            if not (res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory")
                    and res.get("limits", {}).get("memory")):
                errors.append(f"{cw}: needs cpu/memory requests and a memory limit")
            if w["kind"] != "Job" and not (c.get("readinessProbe") and c.get("livenessProbe")):
                errors.append(f"{cw}: needs readiness and liveness probes")
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref and ref["configMapRef"]["name"] not in configmaps:
                    errors.append(f"{cw}: envFrom ConfigMap {ref['configMapRef']['name']} is not rendered")
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in secrets:
                    errors.append(f"{cw}: env {env['name']} names unknown Secret {ref['name']}")
        for v in pod.get("volumes", []):
            if "secret" in v and v["secret"]["secretName"] not in secrets:
                errors.append(f"{where}: volume {v['name']} names unknown Secret {v['secret']['secretName']}")
            if "configMap" in v and v["configMap"]["name"] not in configmaps:
                errors.append(f"{where}: volume {v['name']} names unknown ConfigMap {v['configMap']['name']}")
        if w["kind"] == "Deployment":
            c = pod["containers"][0]
            if name in SERVICES and "grpc" not in c["readinessProbe"]:
                errors.append(f"{where}: services use native gRPC probes")
            if name in SERVICES | {"gateway"}:
                for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"):
                    if name not in by_kind.get(kind, {}):
                        errors.append(f"{where}: no {kind} of the same name")
    nps = by_kind.get("NetworkPolicy", {})
    if not any(p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in nps.values()):
        errors.append("no default-deny NetworkPolicy")
    for name in workloads:
        if not any(p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == name
                   for p in nps.values()):
            errors.append(f"{name}: no NetworkPolicy of its own")
    for e in errors:
        print(f"  POLICY: {e}", file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"  policy checks passed for {len(workloads)} workloads and {len(nps)} NetworkPolicies")


def prometheus_rule(alerts: str) -> dict:
    with open(alerts) as f:
        groups = yaml.safe_load(f)["groups"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "crm-alerts", "labels": {"app.kubernetes.io/component": "monitoring",
                                                      "release": "prometheus"}},
        "spec": {"groups": groups},
    }


def rules_sync(rendered: str, alerts: str) -> None:
    want = prometheus_rule(alerts)["spec"]["groups"]
    rules = [d for d in load(rendered) if d["kind"] == "PrometheusRule"]
    if len(rules) != 1 or rules[0]["spec"]["groups"] != want:
        sys.exit("  the PrometheusRule in k8s/base/monitoring.yaml differs from prometheus/alerts.yml: "
                 "regenerate it with `python deploy/tools/manifests.py prometheus-rule deploy/prometheus/alerts.yml`")
    print("  PrometheusRule crm-alerts matches prometheus/alerts.yml")


GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def dashboard(path: str, out: str) -> None:
    with open(path) as f:
        dash = json.load(f)
    panels = []
    for p in dash["panels"]:
        panels.append(p)
        panels.extend(p.get("panels", []))
    rules = []
    for p in panels:
        for t in p.get("targets", []):
            expr = t["expr"]
            for var, value in GRAFANA_VARS.items():
                expr = expr.replace(var, value)
            expr = re.sub(r"\$\{?(\w+)\}?", ".*", expr)  # template variables, used inside =~"..."
            rules.append({"record": f"dashboard:panel_{p['id']}:{t.get('refId', 'A')}", "expr": expr})
    if not rules:
        sys.exit("  the dashboard has no queries")
    with open(out, "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f, sort_keys=False)
    print(f"  {len(rules)} dashboard queries extracted from {len(panels)} panels")


def main() -> None:
    cmd, *args = sys.argv[1:]
    if cmd == "split":
        split(*args)
    elif cmd == "policy":
        policy(*args)
    elif cmd == "rules-sync":
        rules_sync(*args)
    elif cmd == "prometheus-rule":
        yaml.safe_dump(prometheus_rule(*args), sys.stdout, sort_keys=False, width=1000)
    elif cmd == "dashboard":
        dashboard(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
