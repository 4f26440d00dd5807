// A throwaway Kubernetes control plane (etcd + kube-apiserver) on loopback,
// started the way controller-runtime's envtest does it: no kubelet, no
// controller-manager, no scheduler. Enough to run admission (PodSecurity
// included), strict field validation, server-side apply and CRD schemas.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

/** Every process we start, so the exit handler in run.mjs can kill them. */
export const liveProcesses = new Set();

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function startProcess(name, bin, args, logFile) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const proc = { name, child, logFile, exited: false, exitCode: null };
  liveProcesses.add(proc);
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.exitCode = code ?? signal;
    liveProcesses.delete(proc);
  });
  child.on('error', (err) => {
    proc.exited = true;
    proc.exitCode = String(err);
    liveProcesses.delete(proc);
  });
  return proc;
}

export async function stopProcess(proc, graceMs = 5000) {
  if (proc.exited) return;
  const done = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  const t = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(t);
}

/** Synchronous last-resort cleanup (usable from process.on('exit')). */
export function killAllSync() {
  for (const proc of liveProcesses) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveProcesses.clear();
}

export function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function httpsGet(url, token, caFile) {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { headers: { Authorization: `Bearer ${token}` }, ca: fs.readFileSync(caFile), timeout: 5000 },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', (err) => resolve({ status: 0, body: String(err) }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts etcd + kube-apiserver in `dir` (a fresh temp dir) and waits for
 * /readyz. Returns { kubeconfig, stop() }.
 */
export async function startControlPlane({
  assets,
  dir,
  log = () => {},
  readyTimeoutMs = 120000,
  serviceAccountAdmission = false,
}) {
  fs.mkdirSync(dir, { recursive: true });
  const etcdClient = await freePort();
  const etcdPeer = await freePort();
  const apiPort = await freePort();

  // --- etcd ---------------------------------------------------------------
  const etcd = startProcess(
    'etcd',
    path.join(assets, 'etcd'),
    [
      '--name=cluster-test',
      `--data-dir=${path.join(dir, 'etcd-data')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=cluster-test=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true', // throwaway data: skip fsync, much faster
      '--log-level=warn',
    ],
    path.join(dir, 'etcd.log'),
  );

  // --- credentials ------------------------------------------------------------
  // Admin: a static bearer token for a user in system:masters (RBAC bypass).
  const token = randomBytes(24).toString('hex');
  fs.writeFileSync(path.join(dir, 'tokens.csv'), `${token},cluster-test-admin,cluster-test-admin,"system:masters"\n`, {
    mode: 0o600,
  });
  // Service-account token signing keys: required flags for kube-apiserver.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  // Serving certs: kube-apiserver self-signs into --cert-dir when no
  // --tls-cert-file is given (CA + cert for 127.0.0.1 / localhost).
  const certDir = path.join(dir, 'certs');

  // --- kube-apiserver -----------------------------------------------------------
  const apiserver = startProcess(
    'kube-apiserver',
    path.join(assets, 'kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--cert-dir=${certDir}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--service-cluster-ip-range=10.0.0.0/16',
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      // Default admission chain stays on (PodSecurity, LimitRanger,
      // ResourceQuota, Priority, ...). ServiceAccount admission is disabled
      // as envtest does: without a controller-manager no "default"
      // ServiceAccount is ever created, so it would reject bare Pods.
      // (the live twin runs a controller-manager, which creates them: it keeps the plugin on)
      ...(serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ],
    path.join(dir, 'kube-apiserver.log'),
  );

  const stop = async () => {
    await stopProcess(apiserver);
    await stopProcess(etcd);
  };

  // --- wait for /readyz ---------------------------------------------------------
  const caFile = path.join(certDir, 'apiserver.crt');
  const deadline = Date.now() + readyTimeoutMs;
  let last = '';
  for (;;) {
    for (const p of [etcd, apiserver]) {
      if (p.exited) {
        await stop();
        throw new Error(`${p.name} exited (${p.exitCode}) during start-up; last log lines:\n${tail(p.logFile)}`);
      }
    }
    if (fs.existsSync(caFile)) {
      const res = await httpsGet(`https://127.0.0.1:${apiPort}/readyz`, token, caFile);
      if (res.status === 200) break;
      last = `${res.status} ${res.body}`;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `kube-apiserver not ready after ${readyTimeoutMs / 1000}s (last /readyz: ${last})\n${tail(apiserver.logFile)}`,
      );
    }
    await sleep(500);
  }
  log(`control plane ready: https://127.0.0.1:${apiPort} (etcd 127.0.0.1:${etcdClient})`);

  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: cluster-test',
      '  cluster:',
      `    server: https://127.0.0.1:${apiPort}`,
      `    certificate-authority: ${caFile}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: cluster-test',
      '  context: {cluster: cluster-test, user: admin}',
      'current-context: cluster-test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    kubeconfig,
    stop,
    apiserverLog: apiserver.logFile,
    server: `https://127.0.0.1:${apiPort}`,
    caFile,
    saKeyFile: path.join(dir, 'sa.key'),
  };
}
