/**
 * The `compile` speed-up: V8's code cache for the CommonJS modules a command loads. A synth
 * loads some 540 modules (9 MB of JavaScript: cdk8s-plus-28's generated converters alone are
 * 2.6 MB) and V8 parses each one and compiles every function it runs; on the reference platform
 * that is about 30 % of the command (BENCHMARKS.md). With the cache, each module is compiled from
 * the code V8 serialized for it at the end of an earlier run (`vm.Script#createCachedData` after the run,
 * so it holds the functions that ran, not only the top level: the `v8-compile-cache` package,
 * which serializes right after compiling, gained nothing measurable here).
 *
 * It replaces Node's `Module.prototype._compile` for CommonJS sources (ES modules keep Node's
 * own loader) with the same steps: wrap the source, compile it with `vm.Script` and the cached
 * data, call it with `exports, require, module, __filename, __dirname`. Node 22 has this built in
 * (`module.enableCompileCache()`); the engines field allows Node 20, which does not.
 *
 * The cache lives in build/.compile-cache/, one file per module (named by a hash of its path):
 * a SHA-1 of the source the data was made from, a SHA-1 of V8's data, then V8's data. Data whose
 * source hash differs, whose own hash does not match (V8 checks its data's version and flags, not
 * its bytes: a damaged file would crash the process), or that V8 rejects (another Node or V8
 * version, other flags), is not used, and the module's
 * data is written again when the process (or, for a worker, its work) ends. Files are written
 * aside and renamed, so processes that run at the same time never read a partial file; a cache
 * that cannot be read or written costs only the speed. The output is the same either way: V8's
 * data holds compiled code, never results.
 *
 * The synth's entry points import it first (bin/synth.ts and pipeline/synth-worker.ts, through
 * compile-cache-first.ts; bin/synth-examples.ts runs bin/synth.js), so that it is in place before
 * cdk8s and the constructs load.
 * `SYNTH_STOCK=1` or `SYNTH_STOCK=compile` leaves Node's loader alone. Under jest, which loads
 * modules itself, it is never put in place (a synth that a test starts as a process has it).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { threadId } from 'worker_threads';
import { speedupsEnabled } from './switch';

/** Node's CommonJS module, as far as this module uses it (node:module's internals are not typed). */
interface NodeModule {
  exports: unknown;
  filename: string;
  require(id: string): unknown;
  _compile(content: string, filename: string, format?: string): unknown;
}
interface ModuleClass {
  prototype: NodeModule;
  wrap(source: string): string;
  wrapper: readonly [string, string];
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: NodeModule): string[] | null;
  _extensions: Record<string, unknown>;
  _cache: Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- node:module's internals, typed above
const Module = require('module') as ModuleClass;

/** Whether Node's CommonJS loader loaded this module: jest loads modules itself, and then the cache stays out. */
const NODE_LOADED = module instanceof (Module as unknown as new () => object);

/** `require.main` of every module: the thread's entry point. */
const MAIN = require.main;

/** The folder of the cache: build/.compile-cache (this file is build/pipeline/speedups/compile-cache.js). */
export const CACHE_DIR = path.resolve(__dirname, '..', '..', '.compile-cache');

/** Length of each of the two hashes (the source's, V8's data's) at the start of each cache file. */
const HASH_BYTES = 20;

const sha1 = (data: string | Buffer): Buffer => createHash('sha1').update(data).digest();

/** Modules compiled without usable data in this thread, to be written when it ends. */
const pending = new Map<string, { file: string; hash: Buffer; script: vm.Script }>();

/** What may be an `import()` in a module's source (or in a comment or string: then it only costs the cache). */
const DYNAMIC_IMPORT = /\bimport\s*\(/;

let installedIn: string | undefined;

/** Modules of this thread compiled from cached code, and without it. */
const counts = { cached: 0, compiled: 0 };

/** How many modules this thread compiled from cached code and how many without it, since the cache was put in place. */
export function compileCacheStats(): { readonly cached: number; readonly compiled: number } {
  return { ...counts };
}

function cacheFileOf(dir: string, filename: string): string {
  return path.join(dir, `${sha1(filename).toString('hex')}.v8`);
}

/** V8's data for `filename` made from this source (by its hash), or undefined. */
function readCached(file: string, hash: Buffer): Buffer | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length <= 2 * HASH_BYTES || !data.subarray(0, HASH_BYTES).equals(hash)) return undefined;
  const v8Data = data.subarray(2 * HASH_BYTES);
  return sha1(v8Data).equals(data.subarray(HASH_BYTES, 2 * HASH_BYTES)) ? v8Data : undefined;
}

/** Node's `_compile`, with the compiled code taken from and kept in the cache. */
function compileCached(dir: string, stock: NodeModule['_compile']): NodeModule['_compile'] {
  return function (this: NodeModule, content: string, filename: string, format?: string): unknown {
    if (format === 'module' || filename.endsWith('.mjs')) return stock.call(this, content, filename, format);
    // `import()` works only in a script compiled with Node's loader (vm's USE_MAIN_CONTEXT_DEFAULT_LOADER,
    // which would do it too, is experimental in Node 20 and says so on stderr)
    if (DYNAMIC_IMPORT.test(content)) return stock.call(this, content, filename, format);
    // with source maps on (node --enable-source-maps), only Node's loader registers a module's map
    if (process.sourceMapsEnabled) return stock.call(this, content, filename, format);
    const file = cacheFileOf(dir, filename);
    const hash = sha1(content);
    const cachedData = readCached(file, hash);
    // a `#!` line is valid only at the very start of a script, which the wrapper is not (Node drops it too)
    const source = content.startsWith('#!') ? `//${content.slice(2)}` : content;
    let script: vm.Script;
    try {
      // the wrapper's start shares the module's first line: its columns are the module's own, as in Node's loader
      script = new vm.Script(Module.wrap(source), { filename, cachedData, columnOffset: -Module.wrapper[0].length });
    } catch {
      // not a CommonJS script: an ES module's syntax in a .js file, which Node's require loads as
      // one (Node 20.19's require(esm)), or a syntax error, which Node reports its own way
      return stock.call(this, content, filename, format);
    }
    if (cachedData === undefined || script.cachedDataRejected) {
      counts.compiled++;
      pending.set(filename, { file, hash, script });
    } else {
      counts.cached++;
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const requireFn = Object.assign((id: string) => this.require(id), {
      resolve: Object.assign(
        (request: string, options?: { paths?: string[] }) => Module._resolveFilename(request, this, false, options),
        { paths: (request: string) => Module._resolveLookupPaths(request, this) },
      ),
      main: MAIN,
      extensions: Module._extensions,
      cache: Module._cache,
    });
    return wrapper.call(this.exports, this.exports, requireFn, this, filename, path.dirname(filename));
  };
}

/**
 * Puts the cache (in `dir`) in place in this thread, once, unless the `compile` speed-up is off
 * or jest loads the modules. Returns whether it is in place.
 */
export function useCompileCache(dir = CACHE_DIR): boolean {
  if (installedIn !== undefined) return installedIn === dir;
  if (!NODE_LOADED) return false;
  try {
    if (!speedupsEnabled('compile')) return false;
  } catch {
    // an unknown name in SYNTH_STOCK: the command reports it when it asks the switch itself
    return false;
  }
  installedIn = dir;
  Module.prototype._compile = compileCached(dir, Module.prototype._compile);
  process.once('exit', saveCompileCache);
  return true;
}

/**
 * Writes V8's data for every module this thread compiled without it. Called when the process
 * exits, and by a worker when its work is done (a worker is stopped, not exited). A module's
 * data made now holds every function of it that ran so far.
 */
export function saveCompileCache(): void {
  if (installedIn === undefined || pending.size === 0) return;
  try {
    fs.mkdirSync(installedIn, { recursive: true });
    for (const { file, hash, script } of pending.values()) {
      const aside = `${file}.${process.pid}-${threadId}`;
      const v8Data = script.createCachedData();
      try {
        fs.writeFileSync(aside, Buffer.concat([hash, sha1(v8Data), v8Data]));
        fs.renameSync(aside, file);
      } catch {
        // this entry only (a full disk fails the next ones too): nothing half-written is left
        fs.rmSync(aside, { force: true });
      }
    }
  } catch {
    // no cache folder (a read-only disk): the next run compiles again
  } finally {
    pending.clear();
  }
}
