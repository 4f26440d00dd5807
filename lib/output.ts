import * as fs from 'fs';
import * as path from 'path';

/** Folder name → (relative file name → content). */
export type OutputTree = Map<string, Map<string, string>>;

export interface Difference {
  readonly file: string;
  readonly change: 'added' | 'changed' | 'removed';
}

/** Every file currently under `dir`, relative to it (dot-files and dot-folders skipped). */
function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

/**
 * What differs between the synthesized tree and `outdir` on disk. With `only`, just those
 * folders are compared; otherwise folders on disk that are no longer produced count as removed.
 */
export function diffTree(outdir: string, tree: OutputTree, only?: readonly string[]): Difference[] {
  const differences: Difference[] = [];
  const folders = only ?? [...new Set([...tree.keys(), ...listFolders(outdir)])];
  for (const folder of [...folders].sort()) {
    const wanted = tree.get(folder) ?? new Map<string, string>();
    const onDisk = new Set(listFiles(path.join(outdir, folder)));
    for (const [file, content] of [...wanted.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const full = path.join(outdir, folder, file);
      if (!onDisk.has(file)) differences.push({ file: path.join(outdir, folder, file), change: 'added' });
      else if (fs.readFileSync(full, 'utf8') !== content) differences.push({ file: full, change: 'changed' });
      onDisk.delete(file);
    }
    for (const file of [...onDisk].sort()) differences.push({ file: path.join(outdir, folder, file), change: 'removed' });
  }
  return differences;
}

function listFolders(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

/**
 * Files are written synchronously, one after the other: on a large platform (tens of thousands of
 * files) that takes about half the wall time and a third of the CPU time of promise-based writes
 * several at a time, whose work on libuv's threads competes with the synth workers for the cores.
 */

/**
 * Brings `outdir` to the tree: writes new and changed files (each through a temporary file and a
 * rename, so no reader ever sees half a file), removes files of objects that no longer exist,
 * and leaves unchanged files untouched (a second synth writes nothing). Called only after every
 * target validated, so a configuration error never reaches this point and dist/ stays as it was.
 * With `only`, other folders are left alone; otherwise folders no longer produced are removed.
 * Folders in `placed` are in place already (Staging.commit) and left as they are.
 */
export function writeTree(outdir: string, tree: OutputTree, only?: readonly string[], placed: ReadonlySet<string> = new Set()): void {
  fs.mkdirSync(outdir, { recursive: true });
  for (const [folder, files] of tree) {
    if (placed.has(folder)) continue;
    const dir = path.join(outdir, folder);
    const onDisk = new Set(listFiles(dir));
    const stale = new Set(onDisk);
    const made = new Set<string>();
    for (const file of files.keys()) {
      stale.delete(file);
      const parent = path.dirname(path.join(dir, file));
      if (!made.has(parent)) {
        fs.mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
    }
    for (const [file, content] of files) {
      const full = path.join(dir, file);
      // a new file replaces nothing: write it in place
      if (!onDisk.has(file)) fs.writeFileSync(full, content);
      else if (fs.readFileSync(full, 'utf8') !== content) {
        const tmp = path.join(path.dirname(full), `.${path.basename(full)}.${process.pid}.tmp`);
        fs.writeFileSync(tmp, content);
        fs.renameSync(tmp, full);
      }
    }
    for (const file of stale) fs.rmSync(path.join(dir, file), { force: true });
    removeEmptyFolders(dir);
  }
  if (!only) {
    for (const folder of listFolders(outdir)) {
      if (!tree.has(folder)) fs.rmSync(path.join(outdir, folder), { recursive: true, force: true });
    }
  }
}

function removeEmptyFolders(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = path.join(dir, entry.name);
    removeEmptyFolders(sub);
    if (fs.readdirSync(sub).length === 0) fs.rmdirSync(sub);
  }
}

/**
 * Target folders that do not exist in `outdir` yet, written while other targets are still being
 * built: into a folder beside `outdir` (so on the same file system), moved into `outdir` with one
 * rename each by `commit` once every target is valid, or removed by `discard` when one is not, so
 * `outdir` never sees a failed synth. Folders that exist already go through writeTree, which
 * leaves their unchanged files untouched.
 */
export class Staging {
  readonly root: string;
  private readonly staged = new Set<string>();

  constructor(readonly outdir: string) {
    const out = path.resolve(outdir);
    this.root = path.join(path.dirname(out), `.${path.basename(out)}.synth-${process.pid}`);
  }

  /**
   * Where a new folder's files are to be written (by a synth worker, say), so that `commit`
   * moves them in; undefined when the folder exists in `outdir` (writeTree updates it) or is
   * staged already.
   */
  dirFor(folder: string): string | undefined {
    if (this.staged.has(folder) || fs.existsSync(path.join(this.outdir, folder))) return undefined;
    this.staged.add(folder);
    return path.join(this.root, folder);
  }

  /** Writes a new folder's files; false (and nothing written) when the folder exists in `outdir` or is staged already. */
  stage(folder: string, files: ReadonlyMap<string, string>): boolean {
    const dir = this.dirFor(folder);
    if (dir === undefined) return false;
    writeFolder(dir, files);
    return true;
  }

  /**
   * Moves every staged folder into `outdir` and returns their names. A folder that appeared in
   * `outdir` meanwhile (another synth) is replaced: the staged one holds this synth's every file.
   */
  commit(): Set<string> {
    const placed = new Set<string>();
    if (this.staged.size) fs.mkdirSync(this.outdir, { recursive: true });
    for (const folder of this.staged) {
      const source = path.join(this.root, folder);
      if (!fs.existsSync(source)) continue; // handed out but never written (its target failed)
      const target = path.join(this.outdir, folder);
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(source, target);
      placed.add(folder);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
    return placed;
  }

  /** Removes everything staged. */
  discard(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Writes `files` (relative name → content) into `dir`, which need not exist. */
export function writeFolder(dir: string, files: ReadonlyMap<string, string>): void {
  const parents = new Set([...files.keys()].map((file) => path.dirname(path.join(dir, file))));
  for (const parent of parents) fs.mkdirSync(parent, { recursive: true });
  for (const [file, content] of files) fs.writeFileSync(path.join(dir, file), content);
}
