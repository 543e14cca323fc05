#!/usr/bin/env node
// validate.mjs: checks a stream of Kubernetes manifests (multi-document YAML, as `kubectl kustomize` prints it)
// against the Kubernetes OpenAPI schemas of the npm package kubernetes-models, then against the rules this
// project relies on. Prints one line per problem and exits 1 when there is any (0 when none, 2 for bad usage).
//
//   kubectl kustomize k8s/overlays/dev | node k8s/validate/validate.mjs [OPTIONS] [-]
//   node k8s/validate/validate.mjs [OPTIONS] FILE
//
// Options:
//   --no-strict                  accept fields the schema does not define (default: refuse them, as
//                                kubeconform -strict does; kubernetes-models' validators ignore them)
//   --forbid-secret-data         refuse any Secret with data or stringData (prod: references only)
//   --require-pinned-images      refuse images without a tag or digest, or tagged latest
//   --external-secrets=A,B       Secrets that exist outside the stream and may be referenced
//   --external-configmaps=A,B    the same for ConfigMaps
//
// What is checked, per document: a known apiVersion and kind, not one removed from Kubernetes; the schema
// (types, required fields, formats); with strict mode, no field the schema lacks. Across documents: probes
// and resources on every container, Secret and ConfigMap references (and the keys they name), HPA and PDB
// targets, Service selectors and target ports, NetworkPolicy selectors, termination grace against
// preStop + drain, pod security settings, labels, object sizes and duplicates (k8s/README.md, "Validation").
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  process.stderr.write(`validate.mjs: ${message}\n`);
  process.stderr.write(
    "usage: node validate.mjs [--no-strict] [--forbid-secret-data] [--require-pinned-images]\n" +
      "                         [--external-secrets=A,B] [--external-configmaps=A,B] [FILE|-]\n",
  );
  process.exit(2);
}

const options = {
  strict: true,
  forbidSecretData: false,
  requirePinnedImages: false,
  externalSecrets: new Set(),
  externalConfigMaps: new Set(),
  input: "-",
};
let inputGiven = false;
for (const arg of process.argv.slice(2)) {
  const [flag, value] = arg.includes("=")
    ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
    : [arg];
  const names = () =>
    new Set(
      (value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    );
  if (flag === "--no-strict") options.strict = false;
  else if (flag === "--forbid-secret-data") options.forbidSecretData = true;
  else if (flag === "--require-pinned-images") options.requirePinnedImages = true;
  else if (flag === "--external-secrets") options.externalSecrets = names();
  else if (flag === "--external-configmaps") options.externalConfigMaps = names();
  else if (flag === "-h" || flag === "--help") usage("help");
  else if (flag.startsWith("--")) usage(`unknown option ${arg}`);
  else if (inputGiven) usage("only one input file");
  else {
    options.input = arg;
    inputGiven = true;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Problems

const problems = [];
function describe(doc) {
  const kind = doc?.kind ?? "(no kind)";
  const name = doc?.metadata?.name ?? "(no name)";
  const namespace = doc?.metadata?.namespace;
  return `${kind} ${namespace ? `${namespace}/` : ""}${name}`;
}
function problem(doc, path, message) {
  problems.push(`FAIL ${describe(doc)}: ${path || "/"}: ${message}`);
}

// ---------------------------------------------------------------------------------------------------------
// Reading the stream

let text;
try {
  text = options.input === "-" ? readFileSync(0, "utf8") : readFileSync(options.input, "utf8");
} catch (error) {
  usage(`cannot read ${options.input}: ${error.message}`);
}
const documents = [];
for (const parsed of parseAllDocuments(text)) {
  if (parsed.errors.length > 0) {
    problems.push(`FAIL YAML: ${parsed.errors.map((e) => e.message).join("; ")}`);
    continue;
  }
  const value = parsed.toJS();
  if (value === null || value === undefined) continue; // an empty document (a trailing ---)
  documents.push(value);
}

// ---------------------------------------------------------------------------------------------------------
// Schemas: apiVersion -> the kubernetes-models module of that group/version, kind -> its exported class.

const packageJson = JSON.parse(readFileSync(require.resolve("kubernetes-models/package.json"), "utf8"));
const groupVersions = new Set(
  Object.keys(packageJson.exports)
    .filter((key) => !key.includes("*") && /\/v\d+((alpha|beta)\d+)?$/.test(key))
    .map((key) => key.slice(2)),
);

// Served by kubernetes-models but gone from every Kubernetes these manifests target (>= 1.25).
const removedApiVersions = new Map([
  ["extensions/v1beta1", "1.22"],
  ["apps/v1beta1", "1.16"],
  ["apps/v1beta2", "1.16"],
  ["networking.k8s.io/v1beta1", "1.22"],
  ["policy/v1beta1", "1.25"],
  ["batch/v1beta1", "1.25"],
  ["autoscaling/v2beta1", "1.25"],
  ["autoscaling/v2beta2", "1.26"],
  ["discovery.k8s.io/v1beta1", "1.25"],
  ["events.k8s.io/v1beta1", "1.25"],
  ["rbac.authorization.k8s.io/v1beta1", "1.22"],
  ["storage.k8s.io/v1beta1", "1.22"],
  ["scheduling.k8s.io/v1beta1", "1.22"],
  ["node.k8s.io/v1beta1", "1.25"],
]);

const modules = new Map();
async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  const groupVersion = apiVersion; // "apps/v1", or "v1" for the core group
  if (!groupVersions.has(groupVersion)) return null;
  if (!modules.has(groupVersion))
    modules.set(groupVersion, await import(`kubernetes-models/${groupVersion}`));
  const cls = modules.get(groupVersion)[kind];
  return typeof cls === "function" && cls.kind === kind && cls.apiVersion === apiVersion ? cls : null;
}

const escapePointer = (key) => String(key).replaceAll("~", "~0").replaceAll("/", "~1");

function schemaErrors(cls, doc) {
  try {
    new cls(doc).validate();
    return [];
  } catch (error) {
    if (Array.isArray(error.errors)) return error.errors;
    // The compiled validator threw on a value it could not handle: it looked at it, so the field is known.
    return [{ instancePath: "", message: String(error.message ?? error), thrown: true }];
  }
}

// Strict mode. The compiled validators check only the properties their schema defines and skip the rest, so
// a typo (`replica:`) passes. A field is defined if the validator looks at it: replace its value with one
// that no schema accepts (a symbol) and see whether an error appears at that path. Map-valued fields
// (labels, ConfigMap data) validate every key, so their keys count as defined.
const sentinel = Symbol("undefined-by-schema");
function unknownFields(cls, doc) {
  const unknown = [];
  // Nested values are replaced and put back in place; the top level is probed on a copy.
  const root = { ...doc };
  const visit = (node, pointer) => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, `${pointer}/${index}`));
      return;
    }
    if (node === null || typeof node !== "object") return;
    for (const key of Object.keys(node)) {
      const path = `${pointer}/${escapePointer(key)}`;
      const original = node[key];
      node[key] = sentinel;
      const errors = schemaErrors(cls, root);
      node[key] = original;
      const seen = errors.some(
        (e) => e.thrown || e.instancePath === path || e.instancePath.startsWith(`${path}/`),
      );
      if (seen) visit(original, path);
      else unknown.push(path);
    }
  };
  visit(root, "");
  // apiVersion and kind are the type's own and checked by the lookup of the class.
  return unknown.filter((path) => path !== "/apiVersion" && path !== "/kind");
}

for (const doc of documents) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    problems.push("FAIL a document that is not a mapping");
    continue;
  }
  const removedIn = removedApiVersions.get(doc.apiVersion);
  if (removedIn) {
    problem(doc, "/apiVersion", `${doc.apiVersion} was removed in Kubernetes ${removedIn}`);
    continue;
  }
  const cls = await modelClass(doc.apiVersion, doc.kind);
  if (!cls) {
    problem(doc, "/apiVersion", `unknown apiVersion/kind ${doc.apiVersion}/${doc.kind}`);
    continue;
  }
  for (const error of schemaErrors(cls, doc)) {
    // "must be integer" says it all; for other keywords the parameters name the missing or allowed values.
    const detail =
      error.keyword !== "type" && error.params && Object.keys(error.params).length
        ? ` ${JSON.stringify(error.params)}`
        : "";
    problem(doc, error.instancePath, `${error.message}${detail}`);
  }
  if (options.strict) {
    for (const path of unknownFields(cls, doc)) {
      problem(doc, path, `unknown field (not in the ${doc.apiVersion} ${doc.kind} schema)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Project rules. They assume the documents are schema-valid enough to walk, and skip what is not there.

const byKind = (kind) => documents.filter((d) => d?.kind === kind);
const namespaceOf = (doc) => doc?.metadata?.namespace ?? "";
const sameNamespace = (a, b) => namespaceOf(a) === namespaceOf(b);
const workloadKinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);
const podOwnerKinds = new Set([...workloadKinds, "Job"]);
const workloads = documents.filter((d) => workloadKinds.has(d?.kind));
const podTemplates = documents
  .filter((d) => podOwnerKinds.has(d?.kind) && d.spec?.template)
  .map((d) => ({ owner: d, template: d.spec.template }));

function matchesLabelSelector(selector, labels = {}) {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const values = expression.values ?? [];
    if (expression.operator === "In" && !(has && values.includes(labels[expression.key]))) return false;
    if (expression.operator === "NotIn" && has && values.includes(labels[expression.key])) return false;
    if (expression.operator === "Exists" && !has) return false;
    if (expression.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
const isEmptySelector = (selector) =>
  !selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length);

const containersOf = (podSpec) => [
  ...(podSpec?.initContainers ?? []).map((c, i) => ({
    container: c,
    path: `initContainers/${i}`,
    init: true,
  })),
  ...(podSpec?.containers ?? []).map((c, i) => ({ container: c, path: `containers/${i}`, init: false })),
];

// --- duplicates -------------------------------------------------------------------------------------------
{
  const seen = new Set();
  for (const doc of documents) {
    const key = `${doc?.apiVersion}|${doc?.kind}|${namespaceOf(doc)}|${doc?.metadata?.name}`;
    if (seen.has(key)) problem(doc, "/metadata/name", "defined twice in the stream");
    seen.add(key);
  }
}

// --- labels -----------------------------------------------------------------------------------------------
const requiredLabels = ["app.kubernetes.io/name", "app.kubernetes.io/part-of"];
for (const doc of documents) {
  for (const label of requiredLabels) {
    if (!doc?.metadata?.labels?.[label]) problem(doc, "/metadata/labels", `no ${label} label`);
  }
}
for (const { owner, template } of podTemplates) {
  for (const label of requiredLabels) {
    if (!template.metadata?.labels?.[label])
      problem(owner, "/spec/template/metadata/labels", `no ${label} label`);
  }
}

// --- ConfigMap and Secret size (the API server refuses more than 1 MiB) -----------------------------------
for (const doc of [...byKind("ConfigMap"), ...byKind("Secret")]) {
  let size = 0;
  for (const field of ["data", "binaryData", "stringData"]) {
    // Secret data and binaryData are base64 of the stored bytes; ConfigMap data and stringData are text.
    const base64 = field === "binaryData" || (field === "data" && doc.kind === "Secret");
    for (const [key, value] of Object.entries(doc[field] ?? {})) {
      size +=
        key.length +
        (base64 ? Buffer.from(String(value), "base64").length : Buffer.byteLength(String(value)));
    }
  }
  if (size > 1024 * 1024) problem(doc, "/data", `${size} bytes: more than the 1 MiB the API server accepts`);
}

// --- Secrets: references only ------------------------------------------------------------------------------
if (options.forbidSecretData) {
  for (const doc of byKind("Secret")) {
    for (const field of ["data", "stringData"]) {
      if (doc[field] && Object.keys(doc[field]).length > 0) {
        problem(
          doc,
          `/${field}`,
          "a Secret with values: this stream may only reference Secrets created outside it",
        );
      }
    }
  }
}

// --- containers: probes, resources, security, images -------------------------------------------------------
function portNames(container) {
  return new Set((container.ports ?? []).map((p) => p.name).filter(Boolean));
}
function portNumbers(container) {
  return new Set((container.ports ?? []).map((p) => p.containerPort));
}
function checkProbePort(owner, path, container, probe) {
  if (!probe) return;
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
  if (port === undefined) return;
  if (typeof port === "string" && !/^\d+$/.test(port)) {
    if (!portNames(container).has(port))
      problem(owner, path, `probe port "${port}" is not a port name of the container`);
  } else if (!portNumbers(container).has(Number(port))) {
    problem(owner, path, `probe port ${port} is not a containerPort of the container`);
  }
}

for (const { owner, template } of podTemplates) {
  const podSpec = template.spec ?? {};
  const base = "/spec/template/spec";
  const podSecurity = podSpec.securityContext ?? {};
  for (const { container, path, init } of containersOf(podSpec)) {
    const at = `${base}/${path}`;
    const name = container.name ?? path;
    // Probes: every long-running container of a Deployment or StatefulSet.
    if (!init && owner.kind !== "Job") {
      for (const probe of ["readinessProbe", "livenessProbe"]) {
        if (!container[probe]) problem(owner, `${at}/${probe}`, `container ${name} has no ${probe}`);
      }
    }
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      checkProbePort(owner, `${at}/${probe}`, container, container[probe]);
    }
    // Resources: requests and limits for both CPU and memory.
    for (const bound of ["requests", "limits"]) {
      for (const resource of ["cpu", "memory"]) {
        if (container.resources?.[bound]?.[resource] === undefined) {
          problem(owner, `${at}/resources/${bound}`, `container ${name} has no ${bound}.${resource}`);
        }
      }
    }
    // Security: non-root, no privilege escalation, read-only root, no capabilities, RuntimeDefault seccomp.
    const security = container.securityContext ?? {};
    if ((security.runAsNonRoot ?? podSecurity.runAsNonRoot) !== true) {
      problem(owner, `${at}/securityContext`, `container ${name} may run as root (runAsNonRoot is not true)`);
    }
    if (security.allowPrivilegeEscalation !== false) {
      problem(owner, `${at}/securityContext`, `container ${name}: allowPrivilegeEscalation is not false`);
    }
    if (security.privileged === true)
      problem(owner, `${at}/securityContext`, `container ${name} is privileged`);
    if (security.readOnlyRootFilesystem !== true) {
      problem(owner, `${at}/securityContext`, `container ${name}: readOnlyRootFilesystem is not true`);
    }
    if (!(security.capabilities?.drop ?? []).includes("ALL")) {
      problem(owner, `${at}/securityContext`, `container ${name} does not drop ALL capabilities`);
    }
    const seccomp = (security.seccompProfile ?? podSecurity.seccompProfile)?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      problem(owner, `${at}/securityContext`, `container ${name} has no RuntimeDefault seccomp profile`);
    }
    // Images.
    if (options.requirePinnedImages && typeof container.image === "string") {
      const image = container.image;
      const lastPart = image.slice(image.lastIndexOf("/") + 1);
      const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : "";
      if (!image.includes("@sha256:") && (tag === "" || tag === "latest")) {
        problem(owner, `${at}/image`, `image ${image} is not pinned (no tag or digest, or :latest)`);
      }
    }
  }
}

// --- references to Secrets and ConfigMaps (and the keys they name) -----------------------------------------
const rendered = (kind, doc, name) =>
  documents.find((d) => d?.kind === kind && d.metadata?.name === name && sameNamespace(d, doc));
function keysOf(object) {
  return new Set([
    ...Object.keys(object?.data ?? {}),
    ...Object.keys(object?.stringData ?? {}),
    ...Object.keys(object?.binaryData ?? {}),
  ]);
}
function checkReference(owner, path, kind, name, key, optional) {
  const external = kind === "Secret" ? options.externalSecrets : options.externalConfigMaps;
  if (!name) {
    problem(owner, path, `a ${kind} reference without a name`);
    return;
  }
  const object = rendered(kind, owner, name);
  if (!object) {
    if (!external.has(name)) {
      const flag = kind === "Secret" ? "--external-secrets" : "--external-configmaps";
      problem(owner, path, `${kind} "${name}" is neither in the stream nor declared external (${flag})`);
    }
    return;
  }
  if (key !== undefined && !optional && !keysOf(object).has(key)) {
    problem(owner, path, `${kind} "${name}" has no key "${key}"`);
  }
}
for (const { owner, template } of podTemplates) {
  const podSpec = template.spec ?? {};
  const base = "/spec/template/spec";
  for (const { container, path } of containersOf(podSpec)) {
    const at = `${base}/${path}`;
    (container.env ?? []).forEach((env, i) => {
      const source = env.valueFrom ?? {};
      if (source.secretKeyRef) {
        const r = source.secretKeyRef;
        checkReference(owner, `${at}/env/${i}`, "Secret", r.name, r.key, r.optional);
      }
      if (source.configMapKeyRef) {
        const r = source.configMapKeyRef;
        checkReference(owner, `${at}/env/${i}`, "ConfigMap", r.name, r.key, r.optional);
      }
    });
    (container.envFrom ?? []).forEach((from, i) => {
      if (from.secretRef) checkReference(owner, `${at}/envFrom/${i}`, "Secret", from.secretRef.name);
      if (from.configMapRef) checkReference(owner, `${at}/envFrom/${i}`, "ConfigMap", from.configMapRef.name);
    });
  }
  (podSpec.volumes ?? []).forEach((volume, i) => {
    const at = `${base}/volumes/${i}`;
    const itemKeys = (items, kind, name, optional) =>
      (items ?? []).forEach((item) => checkReference(owner, at, kind, name, item.key, optional));
    if (volume.secret) {
      checkReference(owner, at, "Secret", volume.secret.secretName);
      itemKeys(volume.secret.items, "Secret", volume.secret.secretName, volume.secret.optional);
    }
    if (volume.configMap) {
      checkReference(owner, at, "ConfigMap", volume.configMap.name);
      itemKeys(volume.configMap.items, "ConfigMap", volume.configMap.name, volume.configMap.optional);
    }
    for (const source of volume.projected?.sources ?? []) {
      if (source.secret) checkReference(owner, at, "Secret", source.secret.name);
      if (source.configMap) checkReference(owner, at, "ConfigMap", source.configMap.name);
    }
  });
  (podSpec.imagePullSecrets ?? []).forEach((ref, i) =>
    checkReference(owner, `${base}/imagePullSecrets/${i}`, "Secret", ref.name),
  );
}

// --- HorizontalPodAutoscalers and PodDisruptionBudgets ----------------------------------------------------
const hpaTargets = new Map(); // "Kind|namespace|name" -> HPA
for (const hpa of byKind("HorizontalPodAutoscaler")) {
  const ref = hpa.spec?.scaleTargetRef ?? {};
  const target = documents.find(
    (d) =>
      d?.kind === ref.kind &&
      d.metadata?.name === ref.name &&
      sameNamespace(d, hpa) &&
      workloadKinds.has(d.kind),
  );
  if (!target) {
    problem(hpa, "/spec/scaleTargetRef", `targets ${ref.kind} "${ref.name}", which is not in the stream`);
    continue;
  }
  hpaTargets.set(`${target.kind}|${namespaceOf(target)}|${target.metadata.name}`, hpa);
  if ((hpa.spec.minReplicas ?? 1) > hpa.spec.maxReplicas) {
    problem(
      hpa,
      "/spec/minReplicas",
      `minReplicas ${hpa.spec.minReplicas} is above maxReplicas ${hpa.spec.maxReplicas}`,
    );
  }
  if (target.spec?.replicas !== undefined) {
    problem(
      target,
      "/spec/replicas",
      `set although HorizontalPodAutoscaler "${hpa.metadata.name}" owns the replica count`,
    );
  }
}
const hpaOf = (workload) =>
  hpaTargets.get(`${workload.kind}|${namespaceOf(workload)}|${workload.metadata?.name}`);
const minimumReplicas = (workload) => hpaOf(workload)?.spec?.minReplicas ?? workload.spec?.replicas ?? 1;

for (const pdb of byKind("PodDisruptionBudget")) {
  const selector = pdb.spec?.selector;
  const targets = workloads.filter(
    (w) =>
      sameNamespace(w, pdb) &&
      !isEmptySelector(selector) &&
      matchesLabelSelector(selector, w.spec?.template?.metadata?.labels),
  );
  if (targets.length === 0) {
    problem(pdb, "/spec/selector", "selects the pods of no Deployment or StatefulSet in the stream");
    continue;
  }
  const minAvailable = pdb.spec.minAvailable;
  for (const target of targets) {
    if (Number.isInteger(minAvailable) && minAvailable >= minimumReplicas(target) && !hpaOf(target)) {
      problem(
        pdb,
        "/spec/minAvailable",
        `${minAvailable} of ${minimumReplicas(target)} replica(s) of ${describe(target)}: no pod could ever be evicted`,
      );
    }
  }
}
for (const workload of workloads) {
  if (minimumReplicas(workload) < 2 && !hpaOf(workload)) continue;
  const covered = byKind("PodDisruptionBudget").some(
    (pdb) =>
      sameNamespace(pdb, workload) &&
      matchesLabelSelector(pdb.spec?.selector, workload.spec?.template?.metadata?.labels),
  );
  if (!covered)
    problem(workload, "/spec/replicas", "several replicas but no PodDisruptionBudget selects its pods");
}

// --- Services: selectors and target ports ------------------------------------------------------------------
for (const service of byKind("Service")) {
  const selector = service.spec?.selector;
  if (!selector || service.spec?.type === "ExternalName") continue;
  const matched = podTemplates.filter(
    ({ owner, template }) =>
      sameNamespace(owner, service) &&
      matchesLabelSelector({ matchLabels: selector }, template.metadata?.labels),
  );
  if (matched.length === 0) {
    problem(service, "/spec/selector", "selects the pods of no workload in the stream");
    continue;
  }
  (service.spec.ports ?? []).forEach((port, i) => {
    const target = port.targetPort ?? port.port;
    const served = matched.some(({ template }) =>
      (template.spec?.containers ?? []).some((c) =>
        typeof target === "string" && !/^\d+$/.test(target)
          ? portNames(c).has(target)
          : portNumbers(c).has(Number(target)),
      ),
    );
    if (!served)
      problem(
        service,
        `/spec/ports/${i}/targetPort`,
        `no selected container has port ${JSON.stringify(target)}`,
      );
  });
}

// --- NetworkPolicies: every pod selector selects something --------------------------------------------------
const anyPodMatches = (policy, selector) =>
  podTemplates.some(
    ({ owner, template }) =>
      sameNamespace(owner, policy) && matchesLabelSelector(selector, template.metadata?.labels),
  );
for (const policy of byKind("NetworkPolicy")) {
  const selector = policy.spec?.podSelector;
  if (!isEmptySelector(selector) && !anyPodMatches(policy, selector)) {
    problem(policy, "/spec/podSelector", "selects no pod of the stream");
  }
  for (const [direction, field] of [
    ["ingress", "from"],
    ["egress", "to"],
  ]) {
    (policy.spec?.[direction] ?? []).forEach((rule, i) => {
      (rule[field] ?? []).forEach((peer, j) => {
        if (
          peer.podSelector &&
          !peer.namespaceSelector &&
          !isEmptySelector(peer.podSelector) &&
          !anyPodMatches(policy, peer.podSelector)
        ) {
          problem(
            policy,
            `/spec/${direction}/${i}/${field}/${j}/podSelector`,
            "selects no pod of the stream",
          );
        }
      });
    });
  }
}

// --- graceful termination: terminationGracePeriodSeconds > preStop sleep + drain ---------------------------
function seconds(duration) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(duration).trim());
  if (!match) return null;
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2]];
  return Number(match[1]) * factor;
}
// The value a container sees for an environment variable: env wins over envFrom, a later envFrom over an
// earlier one. Values from ConfigMaps in the stream are looked up; anything else is unknown (undefined).
function environmentValue(owner, container, name) {
  const env = (container.env ?? []).find((e) => e.name === name);
  if (env) {
    if (env.value !== undefined) return env.value;
    const ref = env.valueFrom?.configMapKeyRef;
    if (ref) return rendered("ConfigMap", owner, ref.name)?.data?.[ref.key];
    return undefined;
  }
  let value;
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef;
    const data = ref ? rendered("ConfigMap", owner, ref.name)?.data : undefined;
    const key = `${from.prefix ?? ""}`;
    if (data && key === "" && data[name] !== undefined) value = data[name];
  }
  return value;
}
function environmentNames(owner, container) {
  const names = new Set((container.env ?? []).map((e) => e.name));
  for (const from of container.envFrom ?? []) {
    const data = from.configMapRef ? rendered("ConfigMap", owner, from.configMapRef.name)?.data : undefined;
    for (const key of Object.keys(data ?? {})) names.add(key);
  }
  return names;
}
function preStopSeconds(container) {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep?.seconds !== undefined) return Number(preStop.sleep.seconds);
  const command = preStop.exec?.command ?? [];
  if (command.length === 2 && /(^|\/)sleep$/.test(command[0]) && /^\d+$/.test(command[1]))
    return Number(command[1]);
  return 0;
}
const graceMargin = 5;
for (const { owner, template } of podTemplates) {
  if (owner.kind === "Job") continue;
  const podSpec = template.spec ?? {};
  const grace = podSpec.terminationGracePeriodSeconds ?? 30;
  for (const { container, path, init } of containersOf(podSpec)) {
    if (init) continue;
    const preStop = preStopSeconds(container);
    let drain = 0;
    let drainKey = null;
    for (const name of environmentNames(owner, container)) {
      if (!/SHUTDOWN_DRAIN$/.test(name)) continue;
      const value = environmentValue(owner, container, name);
      const parsed = value === undefined ? null : seconds(value);
      if (parsed === null) {
        problem(
          owner,
          `/spec/template/spec/${path}/env`,
          `${name}=${value} is not a duration this check understands`,
        );
        continue;
      }
      if (parsed > drain) [drain, drainKey] = [parsed, name];
    }
    if (grace < preStop + drain + graceMargin) {
      const parts = [
        `preStop sleep ${preStop}s`,
        drainKey ? `${drainKey} ${drain}s` : null,
        `${graceMargin}s margin`,
      ];
      problem(
        owner,
        "/spec/template/spec/terminationGracePeriodSeconds",
        `${grace}s is less than ${parts.filter(Boolean).join(" + ")} for container ${container.name}: ` +
          "the kubelet would kill it mid-drain",
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

for (const line of problems) process.stdout.write(`${line}\n`);
process.stdout.write(`validate: ${documents.length} documents, ${problems.length} problem(s)\n`);
process.exit(problems.length > 0 ? 1 : 0);
