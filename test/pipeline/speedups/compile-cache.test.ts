import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUILD, runSynth } from '../../helpers';

const COMPILE_CACHE = path.join(BUILD, 'pipeline', 'speedups', 'compile-cache.js');

/**
 * A scratch program: `main.js` puts the compile cache (in `cache/`) in place, loads `a.js`
 * (which loads `b.js`) and prints what they return and the cache's counts as JSON.
 */
function scratchProgram(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-'));
  fs.writeFileSync(
    path.join(dir, 'main.js'),
    `const cache = require(${JSON.stringify(COMPILE_CACHE)});
const inPlace = cache.useCompileCache(require('path').join(__dirname, 'cache'));
const a = require('./a');
console.log(JSON.stringify({ inPlace, a: a.value(), b: a.b, resolved: a.resolved, main: a.main === module, stats: cache.compileCacheStats() }));
`,
  );
  fs.writeFileSync(
    path.join(dir, 'a.js'),
    `exports.value = () => 'one';
exports.b = require('./b').name;
exports.resolved = require.resolve('./b') === require('path').join(__dirname, 'b.js');
exports.main = require.main;
`,
  );
  // a module may start with a #! line (a CLI's file), which Node's own loader accepts
  fs.writeFileSync(
    path.join(dir, 'b.js'),
    `#!/usr/bin/env node\nexports.name = 'b:' + require('path').basename(__filename);\n`,
  );
  return dir;
}

function run(dir: string, env: NodeJS.ProcessEnv = {}): any {
  const result = spawnSync(process.execPath, ['main.js'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SYNTH_STOCK: '', ...env },
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout);
}

const cacheFiles = (dir: string) =>
  fs.existsSync(path.join(dir, 'cache')) ? fs.readdirSync(path.join(dir, 'cache')).sort() : [];

describe('the compile cache (pipeline/speedups/compile-cache.ts, SYNTH_STOCK=compile)', () => {
  it('compiles a module from the code kept by an earlier run, and the module behaves as Node loads it', () => {
    const dir = scratchProgram();
    const first = run(dir);
    expect(first).toEqual({
      inPlace: true,
      a: 'one',
      b: 'b:b.js',
      resolved: true,
      main: true,
      stats: { cached: 0, compiled: 2 },
    });
    expect(cacheFiles(dir)).toHaveLength(2);
    const second = run(dir);
    expect(second).toEqual({ ...first, stats: { cached: 2, compiled: 0 } });
  });

  it('does not use code kept for an earlier version of a file, even one of the same length', () => {
    const dir = scratchProgram();
    run(dir);
    const a = path.join(dir, 'a.js');
    fs.writeFileSync(a, fs.readFileSync(a, 'utf8').replace("'one'", "'two'"));
    const changed = run(dir);
    expect(changed.a).toBe('two');
    expect(changed.stats).toEqual({ cached: 1, compiled: 1 });
    // and keeps the new version's code
    expect(run(dir).stats).toEqual({ cached: 2, compiled: 0 });
  });

  it.each([
    // the source's hash stays right; V8's data after it is garbage
    ['overwritten', (data: Buffer) => data.fill(0x5a, 20)],
    // past both hashes of the file's start, one bit every 97 bytes: a disk's damage, not a truncation
    [
      'with a bit flipped here and there',
      (data: Buffer) => {
        for (let i = 64; i < data.length - 64; i += 97) data[i] ^= 0x01;
      },
    ],
  ])(
    'compiles again, does not crash (V8 does not check its data) and replaces the kept code when it is %s',
    (_damage, damage) => {
      const dir = scratchProgram();
      // a module with some functions, so that V8's data is more than a header
      fs.writeFileSync(
        path.join(dir, 'b.js'),
        `function f(n) { let s = 0; for (let i = 0; i < n; i++) s += i * 3; return s; }
function g(x) { return x.map((v) => v * 2).filter((v) => v % 3).reduce((a, b) => a + b, 0); }
exports.name = 'b:' + require('path').basename(__filename) + f(3) + g([1, 2]);
`,
      );
      const first = run(dir);
      for (const file of cacheFiles(dir)) {
        const full = path.join(dir, 'cache', file);
        const data = fs.readFileSync(full);
        damage(data);
        fs.writeFileSync(full, data);
      }
      expect(run(dir)).toEqual({ ...first, stats: { cached: 0, compiled: 2 } });
      expect(run(dir).stats).toEqual({ cached: 2, compiled: 0 });
    },
  );

  it("compiles again when V8 rejects the kept code (another module's, under the right hashes), and replaces it", () => {
    const dir = scratchProgram();
    run(dir);
    const fileOf = (module: string) =>
      path.join(dir, 'cache', `${createHash('sha1').update(path.join(dir, module)).digest('hex')}.v8`);
    // a.js's entry: its own source hash, then b.js's V8 data with that data's right hash
    const a = fs.readFileSync(fileOf('a.js'));
    const bData = fs.readFileSync(fileOf('b.js')).subarray(40);
    fs.writeFileSync(
      fileOf('a.js'),
      Buffer.concat([a.subarray(0, 20), createHash('sha1').update(bData).digest(), bData]),
    );
    const rejected = run(dir);
    expect(rejected.a).toBe('one');
    expect(rejected.stats).toEqual({ cached: 1, compiled: 1 });
    expect(run(dir).stats).toEqual({ cached: 2, compiled: 0 });
  });

  it('leaves no half-written file in the cache when an entry cannot be written, and writes the others', () => {
    const dir = scratchProgram();
    run(dir);
    // a folder where a.js's entry is to be renamed to: the write aside works, the rename does not
    const entry = path.join(dir, 'cache', `${createHash('sha1').update(path.join(dir, 'a.js')).digest('hex')}.v8`);
    fs.rmSync(entry);
    fs.mkdirSync(entry);
    fs.writeFileSync(path.join(dir, 'a.js'), "exports.value = () => 'two';\nexports.b = require('./b').name;\n");
    fs.writeFileSync(path.join(dir, 'b.js'), "exports.name = 'b2';\n");
    expect(run(dir).stats).toEqual({ cached: 0, compiled: 2 });
    expect(cacheFiles(dir).filter((f) => !f.endsWith('.v8'))).toEqual([]);
    // b.js's new entry was written after a.js's failed
    expect(run(dir).stats).toEqual({ cached: 1, compiled: 1 });
  });

  it("lets a cached module import() an ES module, as Node's own loader does", () => {
    const dir = scratchProgram();
    fs.writeFileSync(path.join(dir, 'esm.mjs'), 'export const x = 42;\n');
    fs.writeFileSync(
      path.join(dir, 'main.js'),
      `require(${JSON.stringify(COMPILE_CACHE)}).useCompileCache(require('path').join(__dirname, 'cache'));
require('./a');
`,
    );
    fs.writeFileSync(
      path.join(dir, 'a.js'),
      `import('./esm.mjs').then((m) => console.log(JSON.stringify(m.x)), (e) => console.log(JSON.stringify(e.code)));\n`,
    );
    expect(run(dir)).toBe(42);
    expect(run(dir)).toBe(42);
  });

  it('loads a .js file written as an ES module, as Node 20.19 does (require sees the syntax)', () => {
    const dir = scratchProgram();
    fs.writeFileSync(
      path.join(dir, 'main.js'),
      `require(${JSON.stringify(COMPILE_CACHE)}).useCompileCache(require('path').join(__dirname, 'cache'));
console.log(JSON.stringify(require('./esm.js').x));
`,
    );
    // no package.json says "type"
    fs.writeFileSync(path.join(dir, 'esm.js'), 'export const x = 42;\n');
    expect(run(dir, { SYNTH_STOCK: 'compile' })).toBe(42);
    expect(run(dir)).toBe(42);
  });

  it("reports an error on a module's first line at its own column, as Node does (not after the wrapper)", () => {
    const dir = scratchProgram();
    fs.writeFileSync(
      path.join(dir, 'b.js'),
      `try { null.x; } catch (e) { exports.name = /b\\.js:(\\d+:\\d+)/.exec(e.stack)[1]; }\n`,
    );
    const stock = run(dir, { SYNTH_STOCK: 'compile' });
    expect(stock.b).toBe('1:12');
    expect(run(dir).b).toBe('1:12');
    expect(run(dir).b).toBe('1:12');
  });

  it('leaves a module to Node when source maps are on (node --enable-source-maps), so that its stack names the source', () => {
    const dir = scratchProgram();
    // b.js made from b.ts, with its source map inline (as build/ has them, in files of their own)
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the build's own transpiler
    const { transformSync } = require('esbuild') as typeof import('esbuild');
    const { code } = transformSync(
      `const at = (): string => /b\\.[jt]s:\\d+/.exec(new Error().stack!)![0];\nexports.name = at();\n`,
      { loader: 'ts', format: 'cjs', sourcemap: 'inline', sourcefile: path.join(dir, 'b.ts') },
    );
    fs.writeFileSync(path.join(dir, 'b.js'), code);
    const env = { NODE_OPTIONS: '--enable-source-maps' };
    expect(run(dir, { ...env, SYNTH_STOCK: 'compile' }).b).toBe('b.ts:1');
    expect(run(dir, env).b).toBe('b.ts:1');
    expect(run(dir, env).b).toBe('b.ts:1');
  });

  it('is left out with SYNTH_STOCK=compile or =1, and with an unknown name (which synth itself reports)', () => {
    for (const stock of ['compile', '1', 'no-such-speedup']) {
      const dir = scratchProgram();
      const result = run(dir, { SYNTH_STOCK: stock });
      expect(result).toMatchObject({ inPlace: false, a: 'one', stats: { cached: 0, compiled: 0 } });
      expect(cacheFiles(dir)).toEqual([]);
    }
  });

  it('is not put in place inside jest, which loads modules itself', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module as this test's jest loads it
    const cache: typeof import('../../../pipeline/speedups/compile-cache') = require('../../../pipeline/speedups/compile-cache');
    expect(cache.useCompileCache(fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-')))).toBe(false);
  });

  it("is put in place by the synth's entry points before anything else loads (the command and each worker)", () => {
    for (const entry of [path.join('bin', 'synth.js'), path.join('pipeline', 'synth-worker.js')]) {
      const compiled = fs.readFileSync(path.join(BUILD, entry), 'utf8');
      const first = /require\("([^"]+)"\)/.exec(compiled);
      expect([entry, first?.[1]]).toEqual([entry, expect.stringMatching(/speedups\/compile-cache-first$/)]);
    }
  });

  it('gives a synth that writes the same files with it and without it', () => {
    const out = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-out-')), name);
    const [a, b] = [out('with'), out('without')];
    expect(runSynth(['--out', a, '--quiet']).status).toBe(0);
    const saved = process.env.SYNTH_STOCK;
    process.env.SYNTH_STOCK = 'compile';
    try {
      expect(runSynth(['--out', b, '--quiet']).status).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.SYNTH_STOCK;
      else process.env.SYNTH_STOCK = saved;
    }
    const files = (dir: string) => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    expect(files(b)).toEqual(files(a));
    for (const file of files(a)) {
      const full = path.join(a, file);
      if (fs.statSync(full).isFile())
        expect(fs.readFileSync(path.join(b, file), 'utf8')).toBe(fs.readFileSync(full, 'utf8'));
    }
  });
});
