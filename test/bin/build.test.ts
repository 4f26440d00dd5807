import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../helpers';

jest.setTimeout(120_000);

/**
 * bin/build.mjs, the build of `npm run synth`: transpiles only what changed (esbuild, no
 * type-check) and regenerates the compiled validators only when the schema changed. Run on a
 * scratch copy of the sources, with the repository's node_modules.
 */
describe('the build of npm run synth', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-'));
  for (const entry of ['bin', 'charts', 'config', 'constructs', 'core', 'imports', 'pipeline'])
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  for (const file of ['tsconfig.json', 'package.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const build = () => spawnSync(process.execPath, [path.join(dir, 'bin', 'build.mjs')], { cwd: dir, encoding: 'utf8' });
  const out = (file: string) => path.join(dir, 'build', file);
  const validators = out('config/validators.generated.js');
  const mtime = (file: string) => fs.statSync(file).mtimeMs;
  const later = (file: string) => {
    // a source edited after the build: its mtime must be past the output's
    const t = new Date(Date.now() + 2000);
    fs.utimesSync(file, t, t);
  };

  it('builds a fresh clone: every source, then the validators', () => {
    const result = build();
    expect(result.status).toBe(0);
    const sources = ['bin', 'charts', 'config', 'constructs', 'core', 'imports', 'pipeline']
      .flatMap((d) => fs.readdirSync(path.join(dir, d), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(result.stderr).toContain(`transpiled ${sources.length} changed file(s)`);
    expect(fs.existsSync(out('bin/synth.js'))).toBe(true);
    expect(fs.existsSync(out('pipeline/synth-worker.js'))).toBe(true); // loaded by path by the worker threads
    // the bundle speed-up (pipeline/speedups/bundle.ts): the command and its worker, one file each
    expect(result.stderr).toContain('bundled the synth and its worker');
    for (const bundle of ['bundle/synth.js', 'bundle/synth-worker.js']) expect(fs.existsSync(out(bundle))).toBe(true);
    const code = fs.readFileSync(validators, 'utf8');
    expect(code).toMatch(/module\.exports\.schemaHash = "[0-9a-f]{16}";\s*$/);
    // the files the schema is made of: its own module and the project modules it takes values from
    expect(code).toContain(
      'module.exports.schemaSources = ["config/schema.js","core/cron.js","core/go-duration.js","core/k8s-names.js","core/reason.js"];',
    );
  });

  it('does nothing when the build is up to date', () => {
    const files = ['bin/synth.js', 'config/validators.generated.js', 'bundle/synth.js', 'bundle/synth-worker.js'];
    const before = files.map((f) => mtime(out(f)));
    const result = build();
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(files.map((f) => mtime(out(f)))).toEqual(before);
  });

  it('bundles again a module written while an earlier build was bundling', () => {
    // another build's module, written after this one read its inputs and before it wrote the
    // bundles, is older than the bundles' writing; the bundles are dated by their inputs instead
    const modules = ['bin', 'charts', 'config', 'constructs', 'core', 'imports', 'pipeline'].flatMap((d) =>
      (fs.readdirSync(out(d), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.js'))
        .map((f) => path.join(out(d), f)),
    );
    const newest = Math.max(...modules.map(mtime));
    const written = out('pipeline/capacity.js'); // not one the validators are made from
    fs.appendFileSync(written, '\nexports.WRITTEN_WHILE_BUNDLING = 1;\n');
    const during = new Date(newest + 10);
    fs.utimesSync(written, during, during);
    const result = build();
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('bundled the synth and its worker');
    expect(fs.readFileSync(out('bundle/synth.js'), 'utf8')).toContain('WRITTEN_WHILE_BUNDLING');
  });

  it('transpiles only the changed file and keeps the validators when the schema did not change', () => {
    const rules = path.join(dir, 'config', 'rules.ts');
    fs.appendFileSync(rules, '\nexport const BUILD_TEST_MARKER = 1;\n');
    later(rules);
    const before = { validators: mtime(validators), synth: mtime(out('bin/synth.js')) };
    const result = build();
    expect(result.stderr).toContain('transpiled 1 changed file(s)');
    expect(fs.readFileSync(out('config/rules.js'), 'utf8')).toContain('BUILD_TEST_MARKER');
    // the bundles are made again with the changed module
    expect(result.stderr).toContain('bundled the synth and its worker');
    for (const bundle of ['bundle/synth.js', 'bundle/synth-worker.js'])
      expect(fs.readFileSync(out(bundle), 'utf8')).toContain('BUILD_TEST_MARKER');
    expect(mtime(validators)).toBe(before.validators);
    expect(mtime(out('bin/synth.js'))).toBe(before.synth);
  });

  it('regenerates the validators when a module the schema takes values from changed', () => {
    // core/reason.ts gives the schema the pattern of every `reason:`; the build watched only
    // config/schema.js, so a changed pattern left validators that checked the old one
    const reason = path.join(dir, 'core', 'reason.ts');
    const text = fs.readFileSync(reason, 'utf8');
    const edited = text.replace(
      "export const REASON_PATTERN = [\n  '^',",
      "export const REASON_PATTERN = [\n  '^(?!BUILD-TEST)',",
    );
    expect(edited).not.toBe(text);
    fs.writeFileSync(reason, edited);
    later(reason);
    expect(build().status).toBe(0);
    expect(fs.readFileSync(validators, 'utf8')).toContain('(?!BUILD-TEST)');
  });

  it('regenerates the validators when the schema changed', () => {
    const schema = path.join(dir, 'config', 'schema.ts');
    const text = fs.readFileSync(schema, 'utf8');
    fs.writeFileSync(
      schema,
      text.replace('\'a CIDR such as "203.0.113.0/24"\'', '\'a CIDR such as "198.51.100.0/24"\''),
    );
    expect(fs.readFileSync(schema, 'utf8')).not.toBe(text);
    later(schema);
    const hash = /schemaHash = "([0-9a-f]+)"/.exec(fs.readFileSync(validators, 'utf8'))![1];
    expect(build().status).toBe(0);
    expect(/schemaHash = "([0-9a-f]+)"/.exec(fs.readFileSync(validators, 'utf8'))![1]).not.toBe(hash);
  });

  it('loads a valid configuration without TypeBox or the ajv compiler', () => {
    const script = `
      require(${JSON.stringify(out('config/load.js'))}).loadPlatform(${JSON.stringify(path.join(ROOT, 'environments'))});
      const loaded = Object.keys(require.cache).filter((f) => /@sinclair|ajv[\\/]dist[\\/](ajv|core|compile)/.test(f));
      console.log(JSON.stringify(loaded));`;
    const result = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('compiles at run time, from the schema, when the compiled validators are stale', () => {
    const copy = out('config/validators.generated.js');
    const code = fs.readFileSync(copy, 'utf8');
    fs.writeFileSync(copy, code.replace(/schemaHash = "[0-9a-f]+"/, 'schemaHash = "0000000000000000"'));
    try {
      const script = `
        require(${JSON.stringify(out('config/load.js'))}).loadPlatform(${JSON.stringify(path.join(ROOT, 'environments'))});
        console.log(Object.keys(require.cache).some((f) => f.includes('@sinclair')));`;
      const result = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('true');
    } finally {
      fs.writeFileSync(copy, code);
    }
  });

  it('removes the output of a deleted source', () => {
    const extra = path.join(dir, 'core', 'build-test-extra.ts');
    fs.writeFileSync(extra, 'export const x = 1;\n');
    expect(build().status).toBe(0);
    expect(fs.existsSync(out('core/build-test-extra.js'))).toBe(true);
    fs.rmSync(extra);
    expect(build().status).toBe(0);
    expect(fs.existsSync(out('core/build-test-extra.js'))).toBe(false);
    expect(fs.existsSync(validators)).toBe(true);
  });

  it('makes a synth that writes the committed dist/ file for file', () => {
    const result = spawnSync(
      process.execPath,
      [
        out('bin/synth.js'),
        '--check',
        '--quiet',
        '--config',
        path.join(ROOT, 'environments'),
        '--out',
        path.join(ROOT, 'dist'),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
