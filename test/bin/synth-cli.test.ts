import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { LOCK, MARKER, WORK } from '../../pipeline/output';
import { BUILD, copyEnvironments, edit, ROOT, runSynth, treeDigest } from '../helpers';

/** The synth command end to end (node build/bin/synth.js): exit codes, messages and files on disk. */
jest.setTimeout(180_000);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

/** A scratch output written once from a scratch copy of environments/ (shared by the tests that only read it first). */
function written(): { envs: string; out: string } {
  const envs = copyEnvironments();
  const out = path.join(tmp(), 'dist');
  const result = runSynth(['--config', envs, '--out', out, '--quiet']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { envs, out };
}

describe('synth CLI', () => {
  it('refuses a SYNTH_STOCK that names no speed-up as a mistake of the caller, not an internal error, and writes nothing', () => {
    const out = path.join(tmp(), 'dist');
    const result = spawnSync(process.execPath, [path.join(BUILD, 'bin', 'synth.js'), '--out', out, '--quiet'], {
      env: { ...process.env, SYNTH_STOCK: 'jsno' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'synth: SYNTH_STOCK=jsno: unknown speed-up jsno; use 1 (all stock) or a list of json, charts, yaml, bundle\n',
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('is byte-for-byte stable: a second synth changes nothing and touches no file', () => {
    const { envs, out } = written();
    const first = treeDigest(out);
    const past = new Date('2020-01-01T00:00:00Z');
    const file = path.join(out, 'staging', 'ingress-gateway.yaml');
    fs.utimesSync(file, past, past);
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(treeDigest(out)).toBe(first);
    expect(fs.statSync(file).mtime.getTime()).toBe(past.getTime());
    expect(fs.readdirSync(out).sort()).toEqual([
      MARKER,
      'argocd',
      'development',
      'production-eu-west-1',
      'production-us-east-1',
      'staging',
    ]);
  });

  it('prints objects per target and kind, what was added, changed and removed per folder, and the time taken', () => {
    const envs = copyEnvironments();
    const out = tmp();
    const first = runSynth(['--config', envs, '--out', out]);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^  staging\s+\d+ objects: .*Deployment \d+/m);
    expect(first.stdout).toMatch(/^  staging\s+\d+ objects: .*\n.*capacity.*\n {30}new folder, \d+ file\(s\)$/m);
    expect(first.stdout).toMatch(
      new RegExp(
        `^${out}/: 5 folder\\(s\\) changed, 0 unchanged; \\d+ objects in 4 targets and argocd/ in \\d+ ms$`,
        'm',
      ),
    );
    // one host changed: one file in staging, and nothing else
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    fs.writeFileSync(path.join(out, 'development', 'stray.yaml'), 'x');
    const second = runSynth(['--config', envs, '--out', out]);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(
      /^  staging\s+\d+ objects: .*\n.*capacity.*\n {30}changed \d+: .*ingress-gateway\.yaml/m,
    );
    // a count past a few names
    expect(second.stdout).toMatch(
      /^ {30}changed \d+: ([a-zA-Z.-]+, ){3}[a-zA-Z.-]+ and \d+ more$|^ {30}changed [1-4]: /m,
    );
    expect(second.stdout).toMatch(/^  development\s+\d+ objects: .*\n.*capacity.*\n {30}removed 1: stray\.yaml$/m);
    expect(second.stdout).toMatch(/^  production-eu-west-1\s+\d+ objects: .*\n.*capacity.*\n {30}unchanged$/m);
    expect(second.stdout).toContain(`${out}/: 2 folder(s) changed, 3 unchanged;`);
    const third = runSynth(['--config', envs, '--out', out]);
    expect(third.stdout).toMatch(
      new RegExp(`^${out}/ unchanged: \\d+ objects in 4 targets and argocd/ in \\d+ ms$`, 'm'),
    );
    expect(third.stdout).not.toMatch(/changed \d+|added \d+|removed \d+/);
  });

  it('--check after a hand edit says what differs with a short diff, and that the output is generated', () => {
    const { envs, out } = written();
    const file = path.join(out, 'staging', 'ingress-gateway.yaml');
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('api.staging.trading.example.com', 'api.hand-edited.example.com'),
    );
    fs.rmSync(path.join(out, 'staging', 'README.md'));
    const result = runSynth(['--config', envs, '--out', out, '--check']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`differs  ${file}`);
    expect(result.stderr).toMatch(/^ {6}-.*api\.hand-edited\.example\.com/m);
    expect(result.stderr).toMatch(/^ {6}\+.*api\.staging\.trading\.example\.com/m);
    expect(result.stderr).toContain(`missing  ${path.join(out, 'staging', 'README.md')}`);
    expect(result.stderr).toContain(
      `${out}/ is generated: do not edit it by hand (synth replaces hand edits). Change the configuration in ${envs}/`,
    );
    // bounded: a file rewritten from top to bottom shows at most 20 lines of diff
    fs.writeFileSync(file, Array.from({ length: 200 }, (_, i) => `line${i}`).join('\n'));
    const long = runSynth(['--config', envs, '--out', out, '--check']);
    expect(long.stderr.split('\n').filter((l) => /^ {6}[-+ @]/.test(l)).length).toBeLessThanOrEqual(20);
    expect(long.stderr).toMatch(/^ {6}\.\.\. \d+ more line\(s\)$/m);
  });

  it('explains every flag with --help, takes --flag=value, lists the targets, prints one target to stdout', () => {
    const help = runSynth(['--help']);
    expect(help.status).toBe(0);
    for (const flag of [
      '--target',
      '--check',
      '--config',
      '--out',
      '--list',
      '--stdout',
      '--quiet',
      '--help',
      '--flag=value',
    ])
      expect(help.stdout).toContain(flag);
    const envs = copyEnvironments();
    const list = runSynth([`--config=${envs}`, '--list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(
      /^staging\s+staging\s+trading-staging\s+https:\/\/staging\.k8s\.trading\.example\.com$/m,
    );
    expect(list.stdout.trim().split('\n')).toHaveLength(5);
    const before = treeDigest(path.join(ROOT, 'dist'));
    const printed = runSynth([`--config=${envs}`, '--target=staging', '--stdout']);
    expect(printed.status).toBe(0);
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS());
    expect(docs.length).toBeGreaterThan(50);
    expect(docs.every((d) => typeof d.kind === 'string' && d.metadata?.name)).toBe(true);
    expect(docs.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name)).toEqual(['trading-staging']);
    expect(treeDigest(path.join(ROOT, 'dist'))).toBe(before); // wrote nothing into the output folder
    expect(runSynth(['--config', envs, '--stdout']).stderr).toBe(
      'synth: --stdout prints one target: add --target <name>\n',
    );
  });

  it("the README's commands that print YAML or JSON print nothing else when typed as written (npm's banner kept out)", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const stdout = /^\| `(npm run [^`]*--stdout[^`]*)` \|/m.exec(readme)?.[1];
    const json = /`(npm run [^`]*--json[^`]*)`/.exec(readme)?.[1];
    expect(stdout).toBeDefined();
    expect(json).toBeDefined();
    const run = (command: string) => {
      const result = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8' });
      expect(result.status).toBe(0);
      return result.stdout;
    };
    const documents = parseAllDocuments(run(stdout!));
    expect(documents.length).toBeGreaterThan(20);
    for (const doc of documents) {
      expect(doc.errors).toEqual([]);
      expect(doc.toJS()).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
    }
    // the README's example pair, A and B standing for two targets
    const diff = JSON.parse(run(json!.replace(' A B ', ' staging development ')));
    expect(diff).toBeTruthy();
  });

  it("warns when a target's maximum scale leaves less than 10 % of its quota", () => {
    const envs = copyEnvironments();
    // staging needs 11.375 CPU at maximum scale plus surge: a quota of 12 leaves 5 %
    edit(envs, 'staging.yaml', 'requests: { cpu: "20", memory: 40Gi,', 'requests: { cpu: "12", memory: 40Gi,');
    const result = runSynth(['--config', envs, '--out', tmp(), '--quiet']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /^synth: warning: staging: requests\.cpu at maximum scale plus surge is 11\.375 of a quota of 12: 5 % headroom \(below 10 %\)/m,
    );
    expect(result.stderr).not.toMatch(/warning: (development|production)/);
  });

  it('synthesizes one target alone without touching the others', () => {
    const { envs, out } = written();
    const staging = treeDigest(path.join(out, 'staging'));
    edit(envs, 'development.yaml', 'api.dev.trading.example.com', 'api.dev2.trading.example.com');
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    const result = runSynth(['--config', envs, '--out', out, '--target', 'development', '--quiet']);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'development', 'ingress-gateway.yaml'), 'utf8')).toContain(
      'api.dev2.trading.example.com',
    );
    expect(treeDigest(path.join(out, 'staging'))).toBe(staging);
  });

  it('--target refuses, writing nothing, a target that shares its destination or revision with another (as a full synth does)', () => {
    const { envs, out } = written();
    const before = treeDigest(out);
    // staging moved onto development's cluster and namespace, reading another revision
    edit(envs, 'staging.yaml', 'namespace: trading-staging', 'namespace: trading-dev');
    edit(
      envs,
      'staging.yaml',
      'server: https://staging.k8s.trading.example.com',
      'server: https://kubernetes.default.svc',
    );
    edit(envs, 'staging.yaml', 'revision: main', 'revision: release');
    const full = runSynth(['--config', envs, '--out', out]);
    for (const args of [
      ['--target', 'staging'],
      ['--target', 'development'],
    ]) {
      const result = runSynth(['--config', envs, '--out', out, ...args]);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(full.stderr);
      expect(result.stderr).toContain(
        'argocd: targets development and staging both deploy to https://kubernetes.default.svc namespace trading-dev; Argo CD would let their Applications overwrite each other',
      );
      expect(result.stderr).toContain('must share delivery.revision; got "main" (development');
    }
    expect(full.status).toBe(1);
    expect(treeDigest(out)).toBe(before);
  });

  it('--check says why a file differs when no diff shows it: bytes that are not UTF-8, a file too large to show', () => {
    const envs = copyEnvironments();
    edit(envs, 'defaults.yaml', 'Second-generation ML signal model', 'Second-generation ML signal model \uFFFD');
    const out = path.join(tmp(), 'dist');
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    const flags = path.join(out, 'staging', 'configmap-feature-flags.yaml');
    // U+FFFD's bytes on disk replaced by one byte that is not UTF-8: the same text once decoded
    fs.writeFileSync(flags, Buffer.from(fs.readFileSync(flags, 'latin1').replace('\xEF\xBF\xBD', '\xFF'), 'latin1'));
    const invalid = runSynth(['--config', envs, '--out', out, '--check']);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain(
      `differs  ${flags}\n      (the same text once decoded, but bytes on disk that are not valid UTF-8)\n`,
    );
    const file = path.join(out, 'staging', 'ingress-gateway.yaml');
    const text = fs.readFileSync(file, 'utf8');
    // a file far larger than any synth writes (sparse: it takes no room) is named, not read whole
    fs.truncateSync(file, 600 * 1024 * 1024);
    const large = runSynth(['--config', envs, '--out', out, '--check']);
    expect(large.status).toBe(1);
    expect(large.stderr).toContain(`differs  ${file}\n`);
    expect(large.stderr).toContain(
      `      (${600 * 1024 * 1024} bytes on disk, ${Buffer.byteLength(text)} from synth: too large to show)`,
    );
    expect(large.stderr).not.toContain('internal error');
    // and synth puts it back
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('--check reports an output folder that is a symbolic link also when given with a trailing slash', () => {
    const { envs, out } = written();
    const link = path.join(tmp(), 'link');
    fs.symlinkSync(out, link);
    for (const given of [link, `${link}/`]) {
      const result = runSynth(['--config', envs, '--out', given, '--check']);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`  extra    ${link} (a symbolic link)\n`);
    }
  });

  it('--stdout prints one target whatever the configuration of the others (it writes nothing)', () => {
    const envs = copyEnvironments();
    edit(envs, 'development.yaml', 'server: https://kubernetes.default.svc', 'server: http://kubernetes.default.svc');
    const result = runSynth(['--config', envs, '--target', 'staging', '--stdout']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('namespace: trading-staging');
    // a run that writes refuses it, as a full synth does
    const written = runSynth(['--config', envs, '--out', tmp(), '--target', 'staging']);
    expect(written.status).toBe(1);
    expect(written.stderr).toContain('argocd: delivery.server of development is "http://kubernetes.default.svc"');
  });

  it('--check passes on a fresh output and lists the files that differ after a change', () => {
    const { envs, out } = written();
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    const before = treeDigest(out);
    const result = runSynth(['--config', envs, '--out', out, '--check']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`differs  ${path.join(out, 'staging', 'ingress-gateway.yaml')}`);
    expect(treeDigest(out)).toBe(before);
  });

  it('refuses flags that do not go together (a mistyped `--list --check` in CI used to pass by listing), writing nothing', () => {
    for (const [args, message] of [
      [['--list', '--check'], '--list only lists the targets; --check does not go with it'],
      [
        ['--list', '--target', 'staging', '--out', 'x'],
        '--list only lists the targets; --target and --out do not go with it',
      ],
      [['--stdout', '--target', 'staging', '--out', 'x'], '--stdout writes nothing, so --out does not go with it'],
      [['--help=1'], '--help takes no value; see --help'],
      [['--list', '--stdout'], '--list only lists the targets; --stdout does not go with it'],
      [['--stdout', '-t', 'staging', '-t', 'development'], '--stdout prints one target: give --target once'],
      [['--target='], '--target needs a target name; see --list'],
    ] as const) {
      const result = runSynth([...args]);
      expect(result.stderr).toBe(`synth: ${message}\n`);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
    }
  });

  it('refuses an unknown target by name', () => {
    const result = runSynth(['--config', copyEnvironments(), '--out', tmp(), '--target', 'prod']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'unknown target prod; targets: development, production-eu-west-1, production-us-east-1, staging',
    );
  });
});

describe('synth CLI and the output folder', () => {
  it("refuses --out '' and --out <a file> as usage errors, without a stack", () => {
    const empty = runSynth(['--config', copyEnvironments(), '--out', '']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toBe('synth: --out needs a folder name (the folder synth writes, dist/ by default)\n');
    const file = path.join(tmp(), 'notes.txt');
    fs.writeFileSync(file, 'mine');
    const onFile = runSynth(['--config', copyEnvironments(), '--out', file]);
    expect(onFile.status).toBe(2);
    expect(onFile.stderr).toBe(
      `synth: the output folder ${file} is a file, not a folder; --out names the folder synth writes (dist/ by default)\n`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('mine');
  });

  it('refuses a folder that holds other folders (--out . in a repository) and deletes nothing', () => {
    const repo = tmp();
    for (const dir of ['src', 'docs']) {
      fs.mkdirSync(path.join(repo, dir));
      fs.writeFileSync(path.join(repo, dir, 'keep.md'), dir);
    }
    const before = treeDigest(repo);
    const result = runSynth(['--config', copyEnvironments(), '--out', '.'], repo);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `synth: . is not a synth output folder: it holds docs, src and no ${MARKER} marker`,
    );
    expect(result.stderr).not.toContain('internal error');
    expect(treeDigest(repo)).toBe(before);
  });

  it('refuses a target folder replaced by a symbolic link, never writing through it; --check reports it', () => {
    const { envs, out } = written();
    const elsewhere = tmp();
    fs.writeFileSync(path.join(elsewhere, 'precious.yaml'), 'mine');
    fs.rmSync(path.join(out, 'staging'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(out, 'staging'));
    const result = runSynth(['--config', envs, '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`holds symbolic links (${path.join(out, 'staging')})`);
    expect(fs.readdirSync(elsewhere)).toEqual(['precious.yaml']);
    const check = runSynth(['--config', envs, '--out', out, '--check']);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`extra    ${path.join(out, 'staging')} (a symbolic link)`);
    expect(fs.readdirSync(elsewhere)).toEqual(['precious.yaml']);
  });

  it('--check reports a dot-file in a target and a loose file at the top (Argo CD would read them)', () => {
    const { envs, out } = written();
    fs.writeFileSync(path.join(out, 'staging', '.hidden.yaml'), 'kind: Namespace\n');
    fs.writeFileSync(path.join(out, 'stray.yaml'), 'kind: Namespace\n');
    const check = runSynth(['--config', envs, '--out', out, '--check']);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`extra    ${path.join(out, 'staging', '.hidden.yaml')}`);
    expect(check.stderr).toContain(`extra    ${path.join(out, 'stray.yaml')}`);
    // and synth removes them: they are in its own folder
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });

  it('runs one synth at a time per output folder: a second one is refused while the first holds the lock', async () => {
    const { envs, out } = written();
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    const start = () =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [path.join(BUILD, 'bin', 'synth.js'), '--config', envs, '--out', out, '--quiet'],
          { cwd: ROOT },
        );
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stderr }));
      });
    const results = await Promise.all([start(), start()]);
    expect(results.map((r) => r.status).sort()).toEqual([0, 2]);
    expect(results.find((r) => r.status === 2)!.stderr).toMatch(
      /^synth: another synth \(pid \d+\) is writing .* now; run one synth at a time/,
    );
    expect(fs.existsSync(path.join(out, LOCK))).toBe(false);
    // a lock left by a killed synth is taken over
    fs.writeFileSync(path.join(out, LOCK), `${deadPid()}\n`);
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(1); // reported by --check
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });

  it('killed (kill -9) in the middle of a swap: the folder is restored whole by the next run, which then writes', () => {
    const { envs, out } = written();
    const before = treeDigest(path.join(out, 'staging'));
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    const killed = spawnSync(process.execPath, [path.join(BUILD, 'bin', 'synth.js'), '--config', envs, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SYNTH_TEST_CRASH_AT: 'aside' },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.existsSync(path.join(out, WORK))).toBe(true);
    expect(fs.existsSync(path.join(out, LOCK))).toBe(true);
    // --check meanwhile says what happened and what to run, not only which files are missing
    const check = runSynth(['--config', envs, '--out', out, '--check']);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(
      `${out}/${WORK}/ is there: a synth was interrupted while it wrote ${out}/. Run npm run synth -- --config ${envs} --out ${out}`,
    );
    // a staged folder planted meanwhile is never moved in
    fs.mkdirSync(path.join(out, WORK, 'new', 'planted'), { recursive: true });
    fs.writeFileSync(path.join(out, WORK, 'new', 'planted', 'clusterrolebinding.yaml'), 'kind: ClusterRoleBinding\n');
    const next = runSynth(['--config', envs, '--out', out, '--target', 'development', '--quiet']);
    expect(next.status).toBe(2); // a targeted run does not rewrite the restored folder: it asks for a full synth
    expect(next.stderr).toContain('synth: rolled back');
    expect(next.stderr).toContain('an interrupted synth was recovered');
    expect(treeDigest(path.join(out, 'staging'))).toBe(before); // the old version, whole
    expect(fs.readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([MARKER]);
    expect(fs.existsSync(path.join(out, 'planted'))).toBe(false);
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'staging', 'ingress-gateway.yaml'), 'utf8')).toContain(
      'api.staging2.trading.example.com',
    );
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });

  it('never merges a forged leftover work folder in: --target refuses (exit 2), a full synth rewrites the restored folder', () => {
    const { envs, out } = written();
    const before = treeDigest(out);
    fs.mkdirSync(path.join(out, WORK, 'old', 'staging'), { recursive: true });
    fs.writeFileSync(path.join(out, WORK, 'plan'), '[{"name":"staging","hadOld":true,"hasNew":true}]');
    fs.writeFileSync(path.join(out, WORK, 'old', 'staging', 'evil.yaml'), 'kind: ClusterRoleBinding\n');
    const targeted = runSynth(['--config', envs, '--out', out, '--target', 'development', '--quiet']);
    expect(targeted.status).toBe(2);
    expect(targeted.stderr).toContain('an interrupted synth was recovered');
    expect(targeted.stderr).toContain('run a full `npm run synth` (without --target)');
    const full = runSynth(['--config', envs, '--out', out, '--quiet']);
    expect(full.status).toBe(0);
    expect(fs.existsSync(path.join(out, 'staging', 'evil.yaml'))).toBe(false);
    expect(treeDigest(out)).toBe(before);
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });

  it("ignores a leftover plan naming a path, '..' or a folder with no old copy, and just removes the work folder", () => {
    const { envs, out } = written();
    const before = treeDigest(out);
    for (const plan of [
      '[{"name":"../victim","hadOld":true,"hasNew":true}]',
      '[{"name":"..","hadOld":true,"hasNew":true}]',
      '[{"name":"staging","hadOld":true,"hasNew":true}]',
    ]) {
      fs.mkdirSync(path.join(out, WORK, 'old'), { recursive: true });
      fs.writeFileSync(path.join(out, WORK, 'plan'), plan);
      const result = runSynth(['--config', envs, '--out', out, '--target', 'development', '--quiet']);
      expect(result.stderr).not.toContain('rolled back');
      expect(result.status).toBe(0);
      expect(fs.existsSync(path.join(out, WORK))).toBe(false);
      expect(treeDigest(out)).toBe(before);
    }
  });

  it('a copied marker does not let synth delete foreign folders: one it never wrote is refused by name, nothing changed', () => {
    const { envs, out } = written();
    const foreign = tmp();
    fs.mkdirSync(path.join(foreign, 'src'));
    fs.writeFileSync(path.join(foreign, 'src', 'a.ts'), 'export {};\n');
    fs.mkdirSync(path.join(foreign, 'docs'));
    fs.copyFileSync(path.join(out, MARKER), path.join(foreign, MARKER));
    const before = treeDigest(foreign);
    const result = runSynth(['--config', envs, '--out', foreign, '--quiet']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(path.join(foreign, 'docs'));
    expect(result.stderr).toContain(path.join(foreign, 'src'));
    expect(result.stderr).toContain('which synth did not write');
    expect(result.stderr).not.toContain('internal error');
    expect(treeDigest(foreign)).toBe(before);
    expect(fs.existsSync(path.join(foreign, 'src', 'a.ts'))).toBe(true);
  });

  it('a write that fails (an environment file name of 240 characters) is reported clearly and leaves the output as it was', () => {
    const { envs, out } = written();
    const before = treeDigest(out);
    const name = `${'e'.repeat(235)}.yaml`;
    const text = fs
      .readFileSync(path.join(envs, 'development.yaml'), 'utf8')
      .replace(/^namespace: trading-dev/m, 'namespace: trading-long')
      .replace('server: https://kubernetes.default.svc', 'server: https://long.k8s.example.com')
      .replace('api.dev.trading', 'api.long.trading');
    fs.writeFileSync(path.join(envs, name), text);
    const result = runSynth(['--config', envs, '--out', out]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).not.toContain('internal error');
    // refused by the configuration rules, or by the write: either way named, and nothing changed
    expect(result.stderr).toMatch(/e{20,}/); // the file or target named (perhaps shortened)
    if (result.status === 2)
      expect(result.stderr).toMatch(
        /^synth: cannot write .*argocd\/application-trading-platform-e+\.yaml: file name too long \(ENAMETOOLONG\); nothing was changed in/,
      );
    expect(treeDigest(out)).toBe(before);
    expect(fs.readdirSync(out).sort()).toEqual([
      MARKER,
      'argocd',
      'development',
      'production-eu-west-1',
      'production-us-east-1',
      'staging',
    ]);
  });
});
