#!/usr/bin/env bash
# check_compose.sh: validates deploy/docker-compose.yml without a Docker engine. Runs from any directory;
# exits 0 when the file is sound, 1 naming each problem, 2 when docker-compose (Debian's 1.29, which the
# caller installs: apt-get install docker-compose) or Python's yaml module is missing.
#
#   1. `docker-compose config -q` accepts the file, with the default profile and with --profile offline, given
#      only RALLY_PG_PASSWORD (a stand-in value) and an empty env file, so no local deploy/.env interferes;
#      and refuses it without RALLY_PG_PASSWORD (the password has no default).
#   2. The file as written (`config` rewrites short forms): no `version:` key; every depends_on entry names
#      an existing service with condition service_healthy or service_completed_successfully, and none waits
#      for a service that runs only under a profile it lacks; every service has a healthcheck, except
#      one-shot jobs (restart "no") that others wait for with service_completed_successfully; every build
#      target is a stage of deploy/Dockerfile; variables that look secret (PASSWORD, SECRET, TOKEN, *_KEY)
#      are passed through or interpolated, never literal, and default to nothing but anvil's public dev
#      keys; the gateway publishes port 8080.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
COMPOSE_FILE=$REPO_DIR/deploy/docker-compose.yml
DOCKERFILE=$REPO_DIR/deploy/Dockerfile

(($# == 0)) || {
  printf 'usage: %s   (no arguments)\n' "$0" >&2
  exit 2
}
command -v docker-compose >/dev/null || {
  printf 'check_compose: docker-compose not found: install it (apt-get install -y docker-compose)\n' >&2
  exit 2
}
python3 -c 'import yaml' 2>/dev/null || {
  printf 'check_compose: python3 with the yaml module is required (apt-get install -y python3-yaml)\n' >&2
  exit 2
}

ERRORS=()
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
: >"$scratch/empty.env"

# docker-compose with nothing from the caller's environment or deploy/.env but what the check passes.
compose() {
  env -i PATH="$PATH" HOME="$scratch" "$@"
}

for profile in "" offline; do
  label=${profile:-default}
  args=(-f "$COMPOSE_FILE" --env-file "$scratch/empty.env")
  [[ -z $profile ]] || args+=(--profile "$profile")
  if ! output=$(compose RALLY_PG_PASSWORD=check-only docker-compose "${args[@]}" config -q 2>&1); then
    ERRORS+=("docker-compose config ($label profile) refuses the file: $output")
  fi
done
if compose docker-compose -f "$COMPOSE_FILE" --env-file "$scratch/empty.env" config -q >/dev/null 2>&1; then
  ERRORS+=("docker-compose config accepts the file without RALLY_PG_PASSWORD: it must have no default")
fi

# The structural rules, on the file as written: one problem per output line.
if ! problems=$(python3 - "$COMPOSE_FILE" "$DOCKERFILE" 2>&1 <<'PYTHON'
import re
import sys

import yaml

compose_path, dockerfile_path = sys.argv[1:3]
try:
    with open(compose_path) as f:
        doc = yaml.safe_load(f)
except yaml.YAMLError as e:
    sys.exit(f"not valid YAML: {' '.join(str(e).split())}")
with open(dockerfile_path) as f:
    stages = set(re.findall(r"(?im)^\s*FROM\s+\S+\s+AS\s+(\S+)\s*$", f.read()))

GATES = {"service_healthy", "service_completed_successfully"}
SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(:?[-?])(.*))?\}$", re.S)
# The only secrets that may have a default: anvil's public dev keys (accounts 0-2 of its default mnemonic),
# which fund nothing but the local chain.
ANVIL_DEV_KEYS = {
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
}
problems = []
if "version" in doc:
    problems.append("top-level `version:` is obsolete in the Compose spec; remove it")
services = doc.get("services") or {}


def has_healthcheck(service):
    check = service.get("healthcheck")
    return bool(check) and not check.get("disable") and check.get("test") not in (None, ["NONE"], "NONE")


waited_on = {}  # service -> conditions others wait for
for name, service in services.items():
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        problems.append(f"{name}: depends_on is a list; give each entry a condition "
                        "(service_healthy or service_completed_successfully)")
        continue
    for target, spec in depends.items():
        condition = (spec or {}).get("condition")
        if target not in services:
            problems.append(f"{name}: depends_on {target}, which is not a service")
            continue
        if condition not in GATES:
            problems.append(f"{name}: depends_on {target} with condition {condition}; "
                            "use service_healthy or service_completed_successfully")
        waited_on.setdefault(target, set()).add(condition)
        if condition == "service_healthy" and not has_healthcheck(services[target]):
            problems.append(f"{name}: waits for {target} to be healthy, but {target} has no healthcheck")
        missing = set(services[target].get("profiles") or []) - set(service.get("profiles") or [])
        if services[target].get("profiles") and missing == set(services[target]["profiles"]):
            problems.append(f"{name}: depends on {target}, which runs only with profile(s) "
                            f"{', '.join(sorted(missing))}")

for name, service in services.items():
    one_shot = str(service.get("restart", "no")) == "no" and waited_on.get(name) == {
        "service_completed_successfully"}
    if not has_healthcheck(service) and not one_shot:
        problems.append(f"{name}: no healthcheck (only one-shot jobs others wait on with "
                        "service_completed_successfully may go without)")
    build = service.get("build")
    if isinstance(build, dict) and build.get("target") and build["target"] not in stages:
        problems.append(f"{name}: builds target {build['target']}, which deploy/Dockerfile lacks")
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    for key, value in environment.items():
        if not SECRET.search(key) or value in (None, ""):
            continue
        match = INTERPOLATION.match(str(value))
        if not match:
            problems.append(f"{name}: {key} has a literal value; take secrets from the environment "
                            f"(${{{key}}} or a pass-through)")
        elif match.group(1) in ("-", ":-") and match.group(2) and match.group(2) not in ANVIL_DEV_KEYS:
            problems.append(f"{name}: {key} defaults to a literal value; a secret may default only to "
                            "nothing or to one of anvil's public dev keys")

ports = [str(p) for p in (services.get("gateway", {}).get("ports") or [])]
if not any(re.search(r"(^|:)8080:8080$", p) or re.search(r"}:8080$", p) for p in ports):
    problems.append("gateway: does not publish container port 8080")

print("\n".join(problems))
PYTHON
); then
  ERRORS+=("the structural check could not read the file: $problems")
  problems=""
fi
while IFS= read -r line; do
  if [[ -n $line ]]; then ERRORS+=("$line"); fi
done <<<"$problems"

if ((${#ERRORS[@]} > 0)); then
  printf 'check_compose: %d problem(s) with deploy/docker-compose.yml:\n' "${#ERRORS[@]}" >&2
  printf '  - %s\n' "${ERRORS[@]}" >&2
  exit 1
fi
printf 'check_compose: OK: config passes (default and offline profiles), start order is health-gated,\n'
printf '  no literal secrets\n'
