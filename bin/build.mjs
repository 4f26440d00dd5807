#!/usr/bin/env node
/**
 * node bin/build.mjs [--tests] [--quiet]
 *
 * The build behind `npm run synth` and the other commands: transpiles the TypeScript sources
 * that changed since the last build into build/ (one .js per .ts, the layout `tsc` emits) with
 * esbuild, then regenerates the compiled schema validators when the schema changed
 * (build/bin/compile-validators.js skips an up-to-date file). An up-to-date build costs a stat
 * per source file. Nothing here type-checks: `npm test` (and so CI) runs `tsc` over everything.
 * Plain JavaScript, so that it runs in a fresh clone before anything is compiled.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'build');
/** The source folders of the commands (tsconfig.json's include, without test/); `--tests` adds test/. */
const SOURCES = ['bin', 'charts', 'config', 'constructs', 'core', 'imports', 'pipeline'];

/** The files under `dir` (none when it does not exist) whose names `keep` accepts. */
function filesIn(dir, keep) {
  const found = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (keep(entry.name)) found.push(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}

function sourcesIn(dir) {
  return filesIn(dir, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'));
}

/** Sources whose .js is missing or older than the source. */
export function staleSources(folders) {
  const stale = [];
  for (const folder of folders) {
    for (const source of sourcesIn(path.join(ROOT, folder))) {
      const out = path.join(OUT, path.relative(ROOT, source)).replace(/\.ts$/, '.js');
      let outTime;
      try {
        outTime = fs.statSync(out).mtimeMs;
      } catch {
        outTime = -1;
      }
      if (outTime < fs.statSync(source).mtimeMs) stale.push(source);
    }
  }
  return stale;
}

/** Outputs of sources that were deleted or renamed (a stale test would still run). */
function removeOrphans(folders) {
  for (const folder of folders) {
    const walk = (d) => {
      if (!fs.existsSync(d)) return;
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, entry.name);
        if (entry.isDirectory()) {
          walk(full);
          continue;
        }
        const js = /^(.*)\.js(\.map)?$/.exec(entry.name);
        if (!js || entry.name === GENERATED) continue;
        const source = path.join(ROOT, path.relative(OUT, d), `${js[1]}.ts`);
        if (!fs.existsSync(source)) fs.rmSync(full);
      }
    };
    walk(path.join(OUT, folder));
  }
}

/** Written by bin/compile-validators.ts, not transpiled from a source. */
const GENERATED = 'validators.generated.js';

export async function build({ tests = false, quiet = false } = {}) {
  const folders = tests ? [...SOURCES, 'test'] : SOURCES;
  removeOrphans(folders);
  const stale = staleSources(folders);
  if (stale.length) {
    const started = Date.now();
    const esbuild = await import('esbuild').catch(() => {
      console.error(
        'build: esbuild is not installed (a devDependency): run `npm ci` first, as the README says (`npm ci && npm run synth`)',
      );
      process.exit(1);
    });
    await esbuild.build({
      entryPoints: stale,
      outdir: OUT,
      outbase: ROOT,
      bundle: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: true,
      tsconfig: path.join(ROOT, 'tsconfig.json'),
      logLevel: 'warning',
    });
    if (!quiet)
      console.error(
        `build: transpiled ${stale.length} changed file(s) in ${Date.now() - started} ms (type-checking is npm test's)`,
      );
  }
  // regenerates build/config/validators.generated.js only when the schema changed: when the file
  // is newer than everything it is made from, not even the schema's hash is computed
  const generated = path.join(OUT, 'config', GENERATED);
  const mtime = (f) => {
    try {
      return fs.statSync(f).mtimeMs;
    } catch {
      return Infinity;
    }
  };
  // the schema's own files as the generated file records them (config/schema.js and the project
  // modules it loads), and the two that write it
  const recorded = () => {
    try {
      const line = /module\.exports\.schemaSources = (\[[^\n]*\]);\n/.exec(fs.readFileSync(generated, 'utf8'));
      return line ? JSON.parse(line[1]) : ['config/schema.js'];
    } catch {
      return ['config/schema.js'];
    }
  };
  const inputs = [...recorded(), 'config/compiled-validators.js', 'bin/compile-validators.js'].map((f) =>
    path.join(OUT, f),
  );
  if (!fs.existsSync(generated) || inputs.some((f) => mtime(f) >= mtime(generated))) {
    createRequire(import.meta.url)(path.join(OUT, 'bin', 'compile-validators.js'));
  }
  await bundle(quiet);
}

/** The bundles of the `bundle` speed-up (pipeline/speedups/bundle.ts): name → the built module it starts from. */
const BUNDLES = { synth: 'bin/synth-cli.js', 'synth-worker': 'pipeline/synth-worker.js' };
const BUNDLE_DIR = path.join(OUT, 'bundle');

/** The newest modification time of the built modules (.js) of the source folders, -1 for none. */
function newestModule() {
  const modules = SOURCES.flatMap((folder) => filesIn(path.join(OUT, folder), (name) => name.endsWith('.js')));
  return Math.max(-1, ...modules.map((file) => fs.statSync(file).mtimeMs));
}

/**
 * In the bundle, `__dirname` is the bundle's folder; in each of our built modules it is replaced
 * by that module's own folder (relative to the bundle's), so that the paths it makes (the compiled
 * validators, the bundle folder, the worker's entry) are those it makes unbundled.
 */
const OWN_DIRNAME = {
  name: 'own-dirname',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(OUT + path.sep)) return undefined;
      const code = fs.readFileSync(args.path, 'utf8');
      // the identifier, not a property or a longer name that ends with it
      const dirname = /(?<![\w$.])__dirname(?![\w$])/g;
      if (!dirname.test(code)) return undefined;
      const folder = path.relative(BUNDLE_DIR, path.dirname(args.path)).split(path.sep).join('/');
      const own = `require("path").join(__dirname, ${JSON.stringify(folder)})`;
      return { contents: code.replace(dirname, own), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * Writes build/bundle/ when a built module, the installed dependencies or this build changed
 * since: each bundle is written aside and renamed, so that a synth running meanwhile reads a
 * whole one, and dated as its newest input was when it was read (not when it was written), so
 * that a module another build writes meanwhile is newer and bundled by the next build.
 */
async function bundle(quiet) {
  const mtimeOr = (file) => {
    try {
      return fs.statSync(file).mtimeMs;
    } catch {
      return -1;
    }
  };
  const oldest = Math.min(...Object.keys(BUNDLES).map((name) => mtimeOr(path.join(BUNDLE_DIR, `${name}.js`))));
  // npm records what it installed in node_modules/.package-lock.json; the lock and the manifest, for other installs
  const installed = ['node_modules/.package-lock.json', 'package-lock.json', 'package.json'];
  const newest = Math.max(
    newestModule(),
    mtimeOr(fileURLToPath(import.meta.url)),
    ...installed.map((f) => mtimeOr(path.join(ROOT, f))),
  );
  if (oldest >= 0 && newest <= oldest) return;
  const started = Date.now();
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(Object.entries(BUNDLES).map(([name, file]) => [name, path.join(OUT, file)])),
    outdir: BUNDLE_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    // no source map: it would double the time of this step after every edit; a stack with the
    // TypeScript lines comes from the modules (SYNTH_STOCK=bundle DEBUG=1 node --enable-source-maps)
    // warnings left out: the one there is, require.resolve('./schema') in config/compiled-validators.js, is in code only the build runs
    logLevel: 'error',
    plugins: [OWN_DIRNAME],
  });
  fs.mkdirSync(BUNDLE_DIR, { recursive: true });
  // a whole millisecond past the newest input: the time survives the round trip through utimes
  const inputsTime = new Date(Math.ceil(newest) + 1);
  for (const file of result.outputFiles) {
    const aside = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(aside, file.contents);
    fs.utimesSync(aside, inputsTime, inputsTime);
    fs.renameSync(aside, file.path);
  }
  if (!quiet) console.error(`build: bundled the synth and its worker in ${Date.now() - started} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  build({ tests: args.includes('--tests'), quiet: args.includes('--quiet') }).catch((error) => {
    console.error(`build: ${error.message}`);
    process.exit(1);
  });
}
