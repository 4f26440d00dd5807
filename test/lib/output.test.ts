import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generatePlatform } from '../../bin/bench-generate';
import { diffTree, OutputTree, Staging, writeTree } from '../../lib/output';
import { copyEnvironments, edit, ENVIRONMENTS, runSynth, TARGETS, treeDigest } from '../helpers';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'out-'));
const tree = (folders: Record<string, Record<string, string>>): OutputTree =>
  new Map(Object.entries(folders).map(([f, files]) => [f, new Map(Object.entries(files))]));

describe('writeTree', () => {
  it('removes the files of objects that no longer exist', async () => {
    const out = tmp();
    await writeTree(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '2' } }));
    await writeTree(out, tree({ a: { 'x.yaml': '3' } }));
    expect(fs.readdirSync(path.join(out, 'a'))).toEqual(['x.yaml']);
    expect(fs.readFileSync(path.join(out, 'a', 'x.yaml'), 'utf8')).toBe('3');
  });

  it('removes folders of targets that no longer exist, unless writing selected targets', async () => {
    const out = tmp();
    await writeTree(out, tree({ a: { 'x.yaml': '1' }, b: { 'y.yaml': '2' } }));
    await writeTree(out, tree({ a: { 'x.yaml': '1' } }), ['a']);
    expect(fs.readdirSync(out).sort()).toEqual(['a', 'b']);
    await writeTree(out, tree({ a: { 'x.yaml': '1' } }));
    expect(fs.readdirSync(out)).toEqual(['a']);
  });

  it('leaves unchanged files untouched', async () => {
    const out = tmp();
    await writeTree(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '2' } }));
    const past = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(path.join(out, 'a', 'x.yaml'), past, past);
    await writeTree(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '3' } }));
    expect(fs.statSync(path.join(out, 'a', 'x.yaml')).mtime.getTime()).toBe(past.getTime());
    expect(fs.readFileSync(path.join(out, 'a', 'y.yaml'), 'utf8')).toBe('3');
  });

  it('leaves no temporary files behind', async () => {
    const out = tmp();
    await writeTree(out, tree({ a: { 'x.yaml': '1' } }));
    await writeTree(out, tree({ a: { 'x.yaml': '2' } }));
    expect(fs.readdirSync(out)).toEqual(['a']);
    expect(fs.readdirSync(path.join(out, 'a'))).toEqual(['x.yaml']);
  });
});

describe('Staging', () => {
  const siblings = (out: string) => fs.readdirSync(path.dirname(out)).filter((f) => f.startsWith(`.${path.basename(out)}.synth-`));

  it('writes new folders beside the output and moves them in on commit', async () => {
    const out = path.join(tmp(), 'dist');
    const staging = new Staging(out);
    expect(staging.stage('a', new Map([['x.yaml', '1'], ['sub/y.yaml', '2']]))).toBe(true);
    expect(fs.existsSync(out)).toBe(false);
    expect(siblings(out)).toHaveLength(1);
    const placed = await staging.commit();
    expect([...placed]).toEqual(['a']);
    expect(fs.readFileSync(path.join(out, 'a', 'sub', 'y.yaml'), 'utf8')).toBe('2');
    expect(siblings(out)).toEqual([]);
    // writeTree leaves the placed folder as it is, and does not take it for a stale one
    await writeTree(out, tree({ a: { 'x.yaml': 'other' }, b: { 'z.yaml': '3' } }), undefined, placed);
    expect(fs.readFileSync(path.join(out, 'a', 'x.yaml'), 'utf8')).toBe('1');
    expect(fs.readdirSync(out).sort()).toEqual(['a', 'b']);
  });

  it('hands out a folder for a worker to write only for a folder new to the output, and moves it in on commit', () => {
    const out = tmp();
    writeTree(out, tree({ old: { 'x.yaml': '1' } }));
    const staging = new Staging(out);
    expect(staging.dirFor('old')).toBeUndefined(); // exists: left to writeTree
    const dir = staging.dirFor('new')!;
    expect(path.dirname(dir)).toBe(staging.root);
    expect(staging.dirFor('new')).toBeUndefined(); // once
    expect(staging.dirFor('never-written')).toBeDefined(); // its target failed, say
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'y.yaml'), '2');
    expect([...staging.commit()]).toEqual(['new']);
    expect(fs.readFileSync(path.join(out, 'new', 'y.yaml'), 'utf8')).toBe('2');
    expect(fs.readdirSync(out).sort()).toEqual(['new', 'old']);
    expect(siblings(out)).toEqual([]);
  });

  it('replaces a folder that appeared in the output while it was staged', () => {
    const out = tmp();
    const staging = new Staging(out);
    expect(staging.stage('a', new Map([['x.yaml', 'ours']]))).toBe(true);
    writeTree(out, tree({ a: { 'x.yaml': 'theirs', 'other.yaml': 'theirs' } }));
    expect([...staging.commit()]).toEqual(['a']);
    expect(fs.readdirSync(path.join(out, 'a'))).toEqual(['x.yaml']);
    expect(fs.readFileSync(path.join(out, 'a', 'x.yaml'), 'utf8')).toBe('ours');
  });

  it('leaves the output exactly as it was on discard', async () => {
    const out = tmp();
    await writeTree(out, tree({ old: { 'x.yaml': '1' } }));
    const before = treeDigest(out);
    const staging = new Staging(out);
    expect(staging.stage('old', new Map([['x.yaml', '2']]))).toBe(false); // exists: left to writeTree
    expect(staging.stage('new', new Map([['y.yaml', '3']]))).toBe(true);
    await staging.discard();
    expect(treeDigest(out)).toBe(before);
    expect(siblings(out)).toEqual([]);
  });

  it('in a synth of a large platform that fails, writes nothing and leaves nothing beside the output', () => {
    // enough services for worker threads, so valid targets arrive (and are staged) before the failure
    const envs = copyEnvironments();
    generatePlatform(envs, 60, ENVIRONMENTS);
    edit(envs, 'staging.yaml', /^(quota:\n {2}requests:\n {4}cpu: )"[0-9]+"/m, '$1"1"');
    const parent = tmp();
    const out = path.join(parent, 'dist');
    const result = runSynth(['--config', envs, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).toMatch(/staging: .*requests\.cpu/);
    expect(fs.readdirSync(parent)).toEqual([]);
    // the same platform, valid, lands whole
    edit(envs, 'staging.yaml', /^(quota:\n {2}requests:\n {4}cpu: )"1"/m, '$1"600"');
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(fs.readdirSync(parent)).toEqual(['dist']);
    // one target per environment file (the generator folds regions in)
    const environments = fs.readdirSync(ENVIRONMENTS).filter((f) => f.endsWith('.yaml') && f !== 'defaults.yaml').map((f) => f.replace(/\.yaml$/, ''));
    expect(fs.readdirSync(out).sort()).toEqual(['argocd', ...environments].sort());
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });
});

describe('diffTree', () => {
  it('lists added, changed and removed files', async () => {
    const out = tmp();
    await writeTree(out, tree({ a: { 'keep.yaml': 'k', 'change.yaml': '1', 'gone.yaml': 'g' } }));
    const differences = diffTree(out, tree({ a: { 'keep.yaml': 'k', 'change.yaml': '2', 'new.yaml': 'n' } }));
    expect(differences.map((d) => [path.basename(d.file), d.change])).toEqual([
      ['change.yaml', 'changed'], ['new.yaml', 'added'], ['gone.yaml', 'removed'],
    ]);
  });
});

describe('synth CLI', () => {
  it('is byte-for-byte stable: a second synth changes nothing', () => {
    const out = tmp();
    const envs = copyEnvironments();
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    const first = treeDigest(out);
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    expect(treeDigest(out)).toBe(first);
  });

  it('prints objects per target and kind and the time taken', () => {
    const result = runSynth(['--config', copyEnvironments(), '--out', tmp()]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^  staging\s+\d+ objects: .*Deployment \d+/m);
    expect(result.stdout).toMatch(new RegExp(`^wrote \\d+ objects in ${TARGETS.length} targets and argocd/ in \\d+ ms$`, 'm'));
  });

  it('synthesizes one target alone without touching the others', () => {
    const out = tmp();
    const envs = copyEnvironments();
    runSynth(['--config', envs, '--out', out, '--quiet']);
    const staging = treeDigest(path.join(out, 'staging'));
    edit(envs, 'development.yaml', 'api.dev.trading.example.com', 'api.dev2.trading.example.com');
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    const result = runSynth(['--config', envs, '--out', out, '--target', 'development', '--quiet']);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'development', 'ingress-gateway.yaml'), 'utf8')).toContain('api.dev2.trading.example.com');
    expect(treeDigest(path.join(out, 'staging'))).toBe(staging);
  });

  it('--check passes on a fresh output and lists the files that differ after a change', () => {
    const out = tmp();
    const envs = copyEnvironments();
    runSynth(['--config', envs, '--out', out, '--quiet']);
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
    edit(envs, 'staging.yaml', 'api.staging.trading.example.com', 'api.staging2.trading.example.com');
    const before = treeDigest(out);
    const result = runSynth(['--config', envs, '--out', out, '--check']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`changed  ${path.join(out, 'staging', 'ingress-gateway.yaml')}`);
    expect(treeDigest(out)).toBe(before);
  });

  it('refuses an unknown target by name', () => {
    const result = runSynth(['--config', copyEnvironments(), '--out', tmp(), '--target', 'prod']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`unknown target prod; targets: ${[...TARGETS].sort().join(', ')}`);
  });
});

describe('the committed dist/', () => {
  it('is what synth produces from environments/ (run npm run synth and commit dist/)', () => {
    const result = runSynth(['--check']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
