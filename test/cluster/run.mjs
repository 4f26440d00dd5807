#!/usr/bin/env node
// Proves synthesized manifests against a real Kubernetes 1.28 API server.
//
//   node test/cluster/run.mjs                 # self-test fixtures + every dist/<target>
//   node test/cluster/run.mjs dist/staging    # only the given folder(s)
//   node test/cluster/run.mjs --self-test     # only the fixtures
//
// For each input folder a fresh etcd + kube-apiserver is started (so targets
// never see each other's objects), the shared CRDs are installed, and then:
//   1. Namespaces first, then the whole folder:
//        kubectl apply --server-side -R -f DIR
//      -> any error OR any warning (deprecations, PodSecurity "would violate
//         ...", unknown-field warnings) fails the input;
//   2. the same apply again (must be clean too);
//   3. kubectl diff --server-side -R -f DIR must report no difference,
//      i.e. Argo CD will not show a permanent out-of-sync.
// On failure every document is dry-run applied on its own to name the
// object (kind namespace/name, file) behind each error or warning.
//
// See test/cluster/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, tail } from './lib/controlplane.mjs';
import {
  CRD_DIR,
  externalNamespaces,
  installCleanup,
  installCrds,
  rel,
  resolveAssets,
  targetFolders,
} from './lib/harness.mjs';
import { Kube } from './lib/kube.mjs';
import { describe, loadObjects, prepareCrds } from './lib/manifests.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TIMEOUT_S = Number(process.env.CLUSTER_TEST_TIMEOUT ?? 1500); // whole run, assets build excluded
const KUBECTL_TIMEOUT_MS = 180_000;
const EXPECTED_MINOR = process.env.CLUSTER_TEST_KUBE_MINOR ?? '1.28';

// ---------------------------------------------------------------------------
// Self-test: the harness must pass a good folder and fail bad ones, naming
// the offending object and carrying the server's message.
const SELF_TESTS = [
  { dir: 'fixtures/good', expectFail: false },
  {
    dir: 'fixtures/bad-unknown-field',
    expectFail: true,
    // strict field validation on server-side apply
    mustMention: [
      'ConfigMap cluster-test-bad/unknown-field',
      'bad-unknown-field/configmap.yaml',
      '.dataa: field not declared in schema',
    ],
  },
  {
    dir: 'fixtures/bad-restricted',
    expectFail: true,
    // PodSecurity admission warning for a root/privileged pod template
    mustMention: [
      'Deployment cluster-test-restricted/runs-as-root',
      'bad-restricted/deployment.yaml',
      'PodSecurity "restricted',
    ],
  },
  {
    dir: 'fixtures/bad-duplicate',
    expectFail: true,
    // the same object twice: the server and `kubectl diff` both miss it
    mustMention: ['[duplicate]', 'ConfigMap cluster-test-dup/settings', 'bad-duplicate/a.yaml', 'bad-duplicate/b.yaml'],
  },
  {
    dir: 'fixtures/bad-drift',
    expectFail: true,
    // the live object is changed behind the manifests' back before the diff
    beforeDiff: [
      'patch',
      'configmap',
      'settings',
      '-n',
      'cluster-test-drift',
      '--type=merge',
      '-p',
      '{"data":{"LOG_LEVEL":"debug"}}',
    ],
    mustMention: ['[diff]', 'v1.ConfigMap.cluster-test-drift.settings', '-  LOG_LEVEL: debug', '+  LOG_LEVEL: info'],
  },
];

// ---------------------------------------------------------------------------
// Temp dirs and process cleanup, whatever happens.
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-test-'));
const { cleanup } = installCleanup('cluster-test', () => {
  if (!process.env.CLUSTER_TEST_KEEP_TMP) fs.rmSync(TMP, { recursive: true, force: true });
});

const log = (msg) => console.log(`cluster-test: ${msg}`);

// ---------------------------------------------------------------------------
// Binaries: envtest convention.
function assetsDir() {
  if (!process.env.KUBEBUILDER_ASSETS)
    log('KUBEBUILDER_ASSETS not set: building/using cached assets (test/cluster/build-assets.sh)');
  return resolveAssets({ dir: process.env.KUBEBUILDER_ASSETS, need: ['etcd', 'kube-apiserver', 'kubectl'], log });
}

// ---------------------------------------------------------------------------
// kubectl with stdout and stderr on ONE file descriptor (lib/kube.mjs), so that the order of
// "Warning: ..." lines relative to "kind/name serverside-applied" is kept.
let KUBECTL;
const kubeOf = (kubeconfig) => new Kube({ kubectl: KUBECTL, kubeconfig, tmp: TMP });
const kubectl = (kubeconfig, args, opts) => kubeOf(kubeconfig).run(args, { timeoutMs: KUBECTL_TIMEOUT_MS, ...opts });

/** Splits kubectl output into warnings, errors and result lines. */
function classify(out) {
  const warnings = [];
  const errors = [];
  const results = [];
  let lastWarnings = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    if (/^Warning:/i.test(line)) {
      warnings.push(line);
      lastWarnings.push(line);
    } else if (/^[\w.-]+\/\S+ (serverside-applied|created|configured|unchanged)( \(server dry run\))?$/.test(line)) {
      results.push({ line, warnings: lastWarnings });
      lastWarnings = [];
    } else {
      // "Error from server ...", "error: ...", "resource mapping not found
      // ...", "ensure CRDs are installed first", ...
      errors.push(line);
    }
  }
  return { warnings, errors, results };
}

// ---------------------------------------------------------------------------
async function installCrdsOn(kc, crds) {
  const out = await installCrds(kubeOf(kc), crds);
  for (const w of classify(out).warnings) log(`  (CRD install) ${w}`);
}

/**
 * Applies each document on its own (server-side dry run) to attribute errors
 * and warnings to objects.
 */
async function diagnose(kc, objects) {
  const findings = [];
  for (const obj of objects) {
    const res = await kubectl(kc, ['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: obj.text });
    const c = classify(res.out);
    const msgs = [...c.errors, ...c.warnings];
    if (res.code !== 0 && !c.errors.length) msgs.push(`kubectl exit ${res.code}: ${res.out.trim()}`);
    if (msgs.length) findings.push(`${describe(obj)}\n      ${msgs.join('\n      ')}`);
  }
  return findings;
}

/** Runs every check on one folder against a fresh control plane. */
async function checkFolder(label, dir, assets, crds, { beforeDiff } = {}) {
  const problems = [];
  const fail = (phase, msg) => problems.push(`[${phase}] ${msg}`);
  const { objects, errors } = loadObjects(dir);
  for (const e of errors) fail('parse', e);
  if (!objects.length && !errors.length) fail('parse', `no manifests (*.yaml, *.yml, *.json) under ${rel(dir)}`);
  // The same object twice in one target: the API server takes both (last
  // one wins) and `kubectl diff` cannot see it, but the target can never be
  // in sync. Key: API group (version ignored), kind, namespace, name.
  const seen = new Map();
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    const key = `${group}|${o.kind}|${o.namespace ?? ''}|${o.name}`;
    if (seen.has(key)) fail('duplicate', `${describe(o)} is also defined in ${describe(seen.get(key))}`);
    else seen.set(key, o);
  }
  if (problems.length) return problems;

  const cpDir = fs.mkdtempSync(path.join(TMP, `${label.replace(/[^a-z0-9]+/gi, '-')}-`));
  const t0 = Date.now();
  const cp = await startControlPlane({ assets, dir: cpDir, log: (m) => log(`  ${m}`) });
  try {
    const kc = cp.kubeconfig;
    await installCrdsOn(kc, crds);

    // Namespaces our manifests use but do not define (owned by other
    // installs: argocd, monitoring, ...). Pre-created so that the check is
    // about our objects, and listed so nobody is surprised.
    const external = externalNamespaces(objects);
    for (const ns of external) {
      const r = await kubectl(kc, ['create', 'namespace', ns]);
      if (r.code !== 0) fail('setup', `creating namespace ${ns}: ${r.out.trim()}`);
    }
    if (external.length) log(`  pre-created namespaces not defined in ${label}: ${external.join(', ')}`);

    // Phase 1: files defining Namespaces go first. kubectl applies files in
    // (alphabetical) order and does not sort by kind, so a namespaced object
    // in a file sorting before its Namespace would fail with
    // `namespaces "x" not found` on an empty cluster. Argo CD sorts by kind
    // itself; this reproduces that for kubectl.
    const nsFiles = [...new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.file))];
    const applyArgs = ['apply', '--server-side', '--field-manager=kubectl'];
    const runApply = async (phase, fileArgs) => {
      const res = await kubectl(kc, [...applyArgs, ...fileArgs]);
      const c = classify(res.out);
      if (res.code !== 0 || c.errors.length || c.warnings.length) {
        const lines = [];
        if (res.code !== 0) lines.push(`kubectl exited ${res.code}${res.signal ? ` (${res.signal}, timeout?)` : ''}`);
        for (const e of c.errors) lines.push(e);
        for (const r of c.results) for (const w of r.warnings) lines.push(`${w}   <- before "${r.line}"`);
        const dangling = c.warnings.filter((w) => !c.results.some((r) => r.warnings.includes(w)));
        lines.push(...dangling);
        fail(phase, `${res.cmd}\n      ${lines.join('\n      ')}`);
        return false;
      }
      return true;
    };
    let ok = true;
    if (nsFiles.length)
      ok = await runApply(
        'apply namespaces',
        nsFiles.flatMap((f) => ['-f', f]),
      );
    ok = (await runApply('apply', ['-R', '-f', dir])) && ok;
    if (!ok) {
      const findings = await diagnose(kc, objects);
      if (findings.length) fail('per-object', `dry-run of each document:\n    ${findings.join('\n    ')}`);
      else fail('per-object', 'no single document fails on its own (ordering problem?); see the kubectl output above');
      return problems;
    }

    // Phase 2: again. Must be equally clean (no conflicts, no warnings).
    if (!(await runApply('re-apply', ['-R', '-f', dir]))) return problems;

    if (beforeDiff) {
      // self-test only: simulate drift of the live objects
      const r = await kubectl(kc, beforeDiff);
      if (r.code !== 0) fail('setup', `${r.cmd}: ${r.out.trim()}`);
    }

    // Phase 3: no drift between the manifests and what the server stores.
    // --force-conflicts as Argo CD's server-side apply/diff does: if another
    // field manager changed one of our fields, show the difference instead of
    // stopping at the ownership conflict.
    const diff = await kubectl(kc, [
      'diff',
      '--server-side',
      '--field-manager=kubectl',
      '--force-conflicts',
      '-R',
      '-f',
      dir,
    ]);
    if (diff.code === 1) {
      const lines = diff.out.split('\n');
      const shown = lines.slice(0, 200).join('\n      ');
      fail(
        'diff',
        `${diff.cmd} found differences after apply (permanent out-of-sync):\n      ${shown}${lines.length > 200 ? `\n      ... ${lines.length - 200} more lines` : ''}`,
      );
    } else if (diff.code !== 0) {
      fail('diff', `${diff.cmd} failed (exit ${diff.code}):\n      ${diff.out.trim()}`);
    } else {
      const c = classify(diff.out);
      if (c.warnings.length) fail('diff', `${diff.cmd} printed warnings:\n      ${c.warnings.join('\n      ')}`);
    }
    if (!problems.length)
      log(
        `  ${objects.length} objects applied twice, no warnings, no diff (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
      );
    return problems;
  } catch (err) {
    fail('harness', String(err?.message ?? err));
    return problems;
  } finally {
    await cp.stop();
    if (problems.some((p) => p.startsWith('[harness]'))) {
      console.log(`      kube-apiserver log tail:\n${tail(cp.apiserverLog, 15)}`);
    }
    if (!process.env.CLUSTER_TEST_KEEP_TMP) fs.rmSync(cpDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
async function checkVersions(assets, crds) {
  // Start-up sanity: client and server are the expected minor version.
  const cpDir = path.join(TMP, 'version-check');
  const cp = await startControlPlane({ assets, dir: cpDir });
  try {
    const res = await kubectl(cp.kubeconfig, ['version', '-o', 'json']);
    const v = JSON.parse(res.out.slice(res.out.indexOf('{')));
    const client = v.clientVersion?.gitVersion;
    const server = v.serverVersion?.gitVersion;
    log(`kubectl ${client}, kube-apiserver ${server}`);
    for (const [what, ver] of [
      ['kubectl', client],
      ['kube-apiserver', server],
    ]) {
      if (!ver?.startsWith(`v${EXPECTED_MINOR}.`)) {
        throw new Error(`${what} is ${ver}, expected v${EXPECTED_MINOR}.x (set CLUSTER_TEST_KUBE_MINOR to override)`);
      }
    }
    await installCrdsOn(cp.kubeconfig, crds); // fail fast on CRD problems
    log(`installed ${crds.count} CRDs from ${rel(CRD_DIR)}`);
    for (const n of crds.notes) log(`  ${n}`);
  } finally {
    await cp.stop();
    fs.rmSync(cpDir, { recursive: true, force: true });
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const onlySelfTest = argv.includes('--self-test');
  const dirs = argv.filter((a) => !a.startsWith('--'));
  const runSelfTest = onlySelfTest || dirs.length === 0;

  const assets = assetsDir();
  KUBECTL = path.join(assets, 'kubectl');

  const timer = setTimeout(() => {
    console.error(`cluster-test: FAILED: overall timeout of ${TIMEOUT_S}s exceeded (CLUSTER_TEST_TIMEOUT)`);
    process.exit(3);
  }, TIMEOUT_S * 1000);
  timer.unref();

  const crds = prepareCrds(CRD_DIR);
  await checkVersions(assets, crds);

  const results = []; // {name, ok, problems}
  if (runSelfTest) {
    for (const t of SELF_TESTS) {
      const dir = path.join(HERE, t.dir);
      const name = `self-test ${t.dir}`;
      log(`${name}: expecting ${t.expectFail ? 'FAILURE' : 'success'}`);
      const problems = await checkFolder(t.dir, rel(dir), assets, crds, { beforeDiff: t.beforeDiff });
      const report = problems.join('\n');
      let ok;
      let why = [];
      if (!t.expectFail) {
        ok = problems.length === 0;
        why = problems;
      } else {
        const missing = (t.mustMention ?? []).filter((s) => !report.includes(s));
        ok = problems.length > 0 && missing.length === 0;
        if (!problems.length) why = ['harness did NOT fail on a bad fixture'];
        else if (missing.length) why = [`failure report does not mention: ${missing.join(' | ')}`, report];
        else log(`  failed as expected:\n    ${report.split('\n').join('\n    ')}`);
      }
      results.push({ name, ok, problems: why });
      log(`${ok ? 'PASS' : 'FAIL'} ${name}`);
    }
  }

  let targets = dirs.map((d) => path.resolve(d));
  if (!onlySelfTest && !dirs.length) {
    // every target of the reference platform, and of each example under examples/<system>/dist
    targets.push(...targetFolders());
    if (!targets.length) {
      results.push({
        name: 'dist targets',
        ok: false,
        problems: ['no target folders under dist/ (run `npm run synth` first)'],
      });
    }
  }
  for (const dir of targets) {
    const name = `target ${rel(dir)}`;
    log(`${name}`);
    const problems = await checkFolder(rel(dir), rel(dir), assets, crds);
    results.push({ name, ok: problems.length === 0, problems });
    log(`${problems.length ? 'FAIL' : 'PASS'} ${name}`);
  }

  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    console.log('\n================ cluster-test failures ================');
    for (const r of failed) {
      console.log(`\nFAIL ${r.name}`);
      for (const p of r.problems) console.log(`  ${p}`);
    }
    console.log('');
  }
  console.log(`cluster-test: ${results.length - failed.length} passed, ${failed.length} failed`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (err) => {
    console.error(`cluster-test: FAILED: ${err?.stack ?? err}`);
    cleanup();
    process.exit(2);
  },
);
