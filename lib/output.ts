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
 * Writes the tree to `outdir`, one folder at a time, each replaced whole by a rename of a fully
 * written sibling: a reader sees the old folder or the new one, never a mix, and files of objects
 * that no longer exist disappear. Called only after everything validated. With `only`, other
 * folders are left alone; otherwise folders no longer produced are removed.
 */
export function writeTree(outdir: string, tree: OutputTree, only?: readonly string[]): void {
  fs.mkdirSync(outdir, { recursive: true });
  const stamp = `${process.pid}-${Date.now()}`;
  const staged: Array<[string, string]> = [];
  try {
    for (const [folder, files] of tree) {
      const tmp = path.join(outdir, `.tmp-${folder}-${stamp}`);
      for (const [file, content] of files) {
        const full = path.join(tmp, file);
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content);
      }
      staged.push([folder, tmp]);
    }
    for (const [folder, tmp] of staged) {
      const final = path.join(outdir, folder);
      const old = path.join(outdir, `.old-${folder}-${stamp}`);
      if (fs.existsSync(final)) fs.renameSync(final, old);
      fs.renameSync(tmp, final);
      fs.rmSync(old, { recursive: true, force: true });
    }
    if (!only) {
      for (const folder of listFolders(outdir)) {
        if (!tree.has(folder)) fs.rmSync(path.join(outdir, folder), { recursive: true, force: true });
      }
    }
  } finally {
    for (const [, tmp] of staged) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
