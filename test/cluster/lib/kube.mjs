// kubectl for the cluster test and the live twin: one output stream (warnings stay next to what
// they concern), JSON reads, and polling helpers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Kube {
  constructor({ kubectl, kubeconfig, tmp }) {
    this.bin = kubectl;
    this.kubeconfig = kubeconfig;
    this.tmp = tmp;
  }

  /** Runs kubectl; resolves { code, out, cmd }. */
  run(args, { input, timeoutMs = 180_000 } = {}) {
    return new Promise((resolve) => {
      const outFile = path.join(this.tmp, `kubectl-${process.hrtime.bigint()}.out`);
      const fd = fs.openSync(outFile, 'w');
      const child = spawn(
        this.bin,
        [`--kubeconfig=${this.kubeconfig}`, `--cache-dir=${path.join(this.tmp, 'kube-cache')}`, ...args],
        {
          stdio: [input === undefined ? 'ignore' : 'pipe', fd, fd],
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          env: { ...process.env, KUBECONFIG: this.kubeconfig, KUBECTL_EXTERNAL_DIFF: '' },
        },
      );
      fs.closeSync(fd);
      if (input !== undefined) child.stdin.end(input);
      child.on('close', (code, signal) => {
        const out = fs.readFileSync(outFile, 'utf8');
        fs.rmSync(outFile, { force: true });
        resolve({ code: code ?? 128, signal, out, cmd: `kubectl ${args.join(' ')}` });
      });
    });
  }

  /** `kubectl get ... -o json` items (or the object); throws on failure. */
  async json(args) {
    const res = await this.run([...args, '-o', 'json']);
    if (res.code !== 0) throw new Error(`${res.cmd} -o json failed: ${res.out.trim()}`);
    const data = JSON.parse(res.out.slice(res.out.indexOf('{')));
    return data.kind?.endsWith('List') ? data.items : data;
  }

  /** Applies YAML/JSON text (server-side); resolves the kubectl result. */
  apply(text, extra = []) {
    return this.run(['apply', '--server-side', '--force-conflicts', '--field-manager=live-twin', ...extra, '-f', '-'], {
      input: text,
    });
  }
}

/** Polls `check` (returns a truthy value when done) until done or timeout; returns { ok, value, last }. */
export async function waitFor(check, { timeoutMs, intervalMs = 1000 }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
    } catch (err) {
      last = { error: String(err?.message ?? err) };
    }
    if (last && last.done) return { ok: true, value: last, last };
    if (Date.now() > deadline) return { ok: false, value: undefined, last };
    await sleep(intervalMs);
  }
}

/** `Kind ns/name` */
export const ref = (o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** A compact `Type=Status (Reason: message)` of an object's conditions. */
export function conditionsOf(o, types) {
  return (o.status?.conditions ?? [])
    .filter((c) => !types || types.includes(c.type))
    .map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`)
    .join('; ');
}
