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
 * Brings `outdir` to the tree: writes new and changed files (each through a temporary file and a
 * rename, so no reader ever sees half a file), removes files of objects that no longer exist,
 * and leaves unchanged files untouched (a second synth writes nothing). Called only after every
 * target validated, so a configuration error never reaches this point and dist/ stays as it was.
 * With `only`, other folders are left alone; otherwise folders no longer produced are removed.
 */
export function writeTree(outdir: string, tree: OutputTree, only?: readonly string[]): void {
  fs.mkdirSync(outdir, { recursive: true });
  for (const [folder, files] of tree) {
    const dir = path.join(outdir, folder);
    const stale = new Set(listFiles(dir));
    const made = new Set<string>();
    for (const [file, content] of files) {
      stale.delete(file);
      const full = path.join(dir, file);
      const exists = fs.existsSync(full);
      if (exists && fs.readFileSync(full, 'utf8') === content) continue;
      if (!exists) {
        // a new file replaces nothing: write it in place
        const parent = path.dirname(full);
        if (!made.has(parent)) {
          fs.mkdirSync(parent, { recursive: true });
          made.add(parent);
        }
        fs.writeFileSync(full, content);
        continue;
      }
      const tmp = path.join(path.dirname(full), `.${path.basename(full)}.${process.pid}.tmp`);
      fs.writeFileSync(tmp, content);
      fs.renameSync(tmp, full);
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
