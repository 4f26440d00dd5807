import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generatePlatform } from '../../bin/bench-generate';
import {
  checkDestination,
  describeFsError,
  diffTree,
  FolderComparison,
  folderSink,
  LOCK,
  MARKER,
  OutputError,
  OutputTree,
  OutputWriter,
  stampOf,
  WORK,
} from '../../pipeline/output';
import { BUILD, copyEnvironments, edit, ENVIRONMENTS, runSynth, treeDigest } from '../helpers';

jest.setTimeout(120_000);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'out-'));
const tree = (folders: Record<string, Record<string, string>>): OutputTree =>
  new Map(Object.entries(folders).map(([f, files]) => [f, new Map(Object.entries(files))]));

/** One synthesis written the way bin/synth.ts writes it. */
function write(out: string, t: OutputTree, only?: string[]) {
  const writer = OutputWriter.open(out);
  try {
    for (const [folder, files] of t) writer.stage(folder, files);
    return writer.commit([...t.keys()], only);
  } catch (error) {
    writer.discard();
    throw error;
  }
}

/** The error `fn` throws (failing the test when it does not). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

/** Whether chattr works here (root on a file system with inode flags); tests that need it say when it does not. */
function chattr(flag: '+i' | '-i', file: string): boolean {
  return spawnSync('chattr', [flag, file]).status === 0;
}

describe('OutputWriter', () => {
  it('writes a new folder, marks it, and a second identical synth touches nothing', () => {
    const out = path.join(tmp(), 'dist');
    const first = write(out, tree({ a: { 'x.yaml': '1', 'sub/y.yaml': '2' }, b: { 'z.yaml': '3' } }));
    expect(first.changes.map((c) => [c.folder, c.whole, c.added])).toEqual([
      ['a', 'added', ['sub/y.yaml', 'x.yaml']],
      ['b', 'added', ['z.yaml']],
    ]);
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b']);
    const past = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(path.join(out, 'a', 'x.yaml'), past, past);
    fs.utimesSync(path.join(out, 'a'), past, past);
    const second = write(out, tree({ a: { 'x.yaml': '1', 'sub/y.yaml': '2' }, b: { 'z.yaml': '3' } }));
    expect(second.changes).toEqual([]);
    expect(fs.statSync(path.join(out, 'a', 'x.yaml')).mtime.getTime()).toBe(past.getTime());
    expect(fs.statSync(path.join(out, 'a')).mtime.getTime()).toBe(past.getTime());
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b']);
  });

  it('replaces a changed folder whole: removed files go, unchanged files keep their mtime, nothing is left behind', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '2', 'gone.yaml': 'g' } }));
    const past = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(path.join(out, 'a', 'x.yaml'), past, past);
    const result = write(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '3', 'new.yaml': 'n' } }));
    expect(result.changes).toEqual([{ folder: 'a', added: ['new.yaml'], changed: ['y.yaml'], removed: ['gone.yaml'] }]);
    expect(fs.readdirSync(path.join(out, 'a')).sort()).toEqual(['new.yaml', 'x.yaml', 'y.yaml']);
    expect(fs.readFileSync(path.join(out, 'a', 'y.yaml'), 'utf8')).toBe('3');
    expect(fs.statSync(path.join(out, 'a', 'x.yaml')).mtime.getTime()).toBe(past.getTime());
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a']);
  });

  it('takes the files a worker found unchanged from the current folder: linked, not rewritten, and no change when all are', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '2', 'gone.yaml': 'g' } }));
    const inode = (file: string) => fs.statSync(path.join(out, 'a', file)).ino;
    const before = inode('x.yaml');
    const unchanged = (...files: string[]) => new Map(files.map((f) => [f, stampOf(path.join(out, 'a', f))!]));
    // everything the same: nothing happens
    let writer = OutputWriter.open(out);
    writer.stage('a', new Map(), unchanged('x.yaml', 'y.yaml', 'gone.yaml'));
    expect(writer.commit(['a']).changes).toEqual([]);
    // one changed, one new, one gone: the folder is replaced, the unchanged file is the same inode
    writer = OutputWriter.open(out);
    writer.stage(
      'a',
      new Map([
        ['y.yaml', '3'],
        ['new.yaml', 'n'],
      ]),
      unchanged('x.yaml'),
    );
    expect(writer.commit(['a']).changes).toEqual([
      { folder: 'a', added: ['new.yaml'], changed: ['y.yaml'], removed: ['gone.yaml'] },
    ]);
    expect(fs.readdirSync(path.join(out, 'a')).sort()).toEqual(['new.yaml', 'x.yaml', 'y.yaml']);
    expect(fs.readFileSync(path.join(out, 'a', 'x.yaml'), 'utf8')).toBe('1');
    expect(inode('x.yaml')).toBe(before);
  });

  it('compares files with a folder as they come (FolderComparison): keeps only those that differ, are new or are not regular files', () => {
    const current = tmp();
    fs.writeFileSync(path.join(current, 'same.yaml'), 'a: 1\n');
    fs.writeFileSync(path.join(current, 'edited.yaml'), 'a: 1\n# edited\n');
    fs.mkdirSync(path.join(current, 'dir.yaml'));
    // a link to a file with the same text, and a FIFO (reading one would wait for a writer for ever)
    const outside = path.join(tmp(), 'outside.yaml');
    fs.writeFileSync(outside, 'a: 1\n');
    fs.symlinkSync(outside, path.join(current, 'link.yaml'));
    expect(spawnSync('mkfifo', [path.join(current, 'fifo.yaml')]).status).toBe(0);
    const comparison = new FolderComparison(current);
    const files = ['same.yaml', 'edited.yaml', 'new.yaml', 'dir.yaml', 'link.yaml', 'fifo.yaml'];
    for (const file of files) comparison.write(file, 'a: 1\n');
    expect([...comparison.unchanged]).toEqual([['same.yaml', stampOf(path.join(current, 'same.yaml'))]]);
    expect([...comparison.changed.keys()]).toEqual(files.slice(1));
    expect(stampOf(path.join(current, 'link.yaml'))).toBeUndefined();
  });

  // bytes that are not UTF-8 decode to U+FFFD: as text alone, such a file passes for one holding U+FFFD there
  const FFFD = 'name: caf\uFFFD\n';
  const invalid = Buffer.from('name: caf\xff\n', 'latin1');
  // the three-byte start of a four-byte sequence: as long as U+FFFD's own three bytes
  const truncated = Buffer.from([...Buffer.from('name: caf'), 0xf0, 0x9f, 0x98, 0x0a]);

  it.each([
    ['an invalid byte', invalid],
    ['a truncated sequence as long as U+FFFD', truncated],
  ])('rewrites a file holding %s where the new text holds U+FFFD (not the same file)', (_what, bytes) => {
    expect(bytes.toString('utf8')).toBe(FFFD);
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': FFFD } }));
    const file = path.join(out, 'a', 'x.yaml');
    fs.writeFileSync(file, bytes);
    const comparison = new FolderComparison(path.join(out, 'a'));
    comparison.write('x.yaml', FFFD);
    expect([...comparison.changed.keys()]).toEqual(['x.yaml']);
    expect(diffTree(out, tree({ a: { 'x.yaml': FFFD } })).map((d) => [d.file, d.change])).toEqual([[file, 'differs']]);
    write(out, tree({ a: { 'x.yaml': FFFD } }));
    expect(fs.readFileSync(file)).toEqual(Buffer.from(FFFD));
    // and a file that does hold U+FFFD is the same
    const again = new FolderComparison(path.join(out, 'a'));
    again.write('x.yaml', FFFD);
    expect([...again.unchanged.keys()]).toEqual(['x.yaml']);
    expect(diffTree(out, tree({ a: { 'x.yaml': FFFD } }))).toEqual([]);
  });

  it('names the file when writing it fails after it was opened (a full disk: ENOSPC names none)', () => {
    // /dev/full takes an open and fails every write with ENOSPC, as a full disk does
    const dir = tmp();
    fs.symlinkSync('/dev/full', path.join(dir, 'x.yaml'));
    const error = thrown(() => folderSink(dir)('x.yaml', 'a: 1\n')) as NodeJS.ErrnoException;
    expect(error.code).toBe('ENOSPC');
    expect(describeFsError(error)).toBe(`${path.join(dir, 'x.yaml')}: no space left on device (ENOSPC)`);
  });

  it.each([
    ['edited', (file: string) => fs.appendFileSync(file, '# edited by hand\n')],
    ['removed', (file: string) => fs.rmSync(file)],
    ['replaced by a link', (file: string) => (fs.rmSync(file), fs.symlinkSync('/etc/hostname', file))],
    ['replaced by a FIFO', (file: string) => (fs.rmSync(file), spawnSync('mkfifo', [file]))],
    ['replaced by a folder', (file: string) => (fs.rmSync(file), fs.mkdirSync(file))],
  ])(
    'refuses the synth, changing nothing, when a file a worker found unchanged was %s before it is staged',
    (_what, change) => {
      const out = tmp();
      write(out, tree({ a: { 'x.yaml': '1', 'y.yaml': '2' } }));
      // as a synth runs: the output opened (and checked) first, then the worker compares, then the command's thread stages
      const writer = OutputWriter.open(out);
      const comparison = new FolderComparison(path.join(out, 'a'));
      comparison.write('x.yaml', '1');
      comparison.write('y.yaml', '3');
      const file = path.join(out, 'a', 'x.yaml');
      change(file);
      // names, kinds and the text of regular files (reading the FIFO would wait for ever)
      const state = () =>
        (fs.readdirSync(out, { recursive: true, encoding: 'utf8' }) as string[])
          .filter((name) => name !== LOCK)
          .sort()
          .map((name) => {
            const stat = fs.lstatSync(path.join(out, name));
            return [
              name,
              stat.isFile() ? fs.readFileSync(path.join(out, name), 'utf8') : stat.mode & fs.constants.S_IFMT,
            ];
          });
      const before = state();
      const error = thrown(() => writer.stage('a', comparison.changed, comparison.unchanged));
      writer.discard();
      expect(error).toBeInstanceOf(OutputError);
      expect(error.message).toBe(
        `${file} changed while synth was running (edited, removed or replaced); nothing was changed in ${out}/: run synth again`,
      );
      expect(state()).toEqual(before);
    },
  );

  it('removes folders no longer produced and stray files, unless writing selected targets', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1' }, b: { 'y.yaml': '2' } }));
    fs.writeFileSync(path.join(out, 'stray.yaml'), 'kind: Secret\n');
    fs.writeFileSync(path.join(out, 'a', '.hidden.yaml'), 'kind: Secret\n');
    write(out, tree({ a: { 'x.yaml': '1' } }), ['a']);
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b', 'stray.yaml']);
    expect(fs.readdirSync(path.join(out, 'a'))).toEqual(['x.yaml']); // a target folder holds exactly what synth writes
    const result = write(out, tree({ a: { 'x.yaml': '1' } }));
    expect(result.changes.map((c) => [c.folder, c.whole])).toEqual([
      ['b', 'removed'],
      ['stray.yaml', 'removed'],
    ]);
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a']);
  });

  it('removes only folders it wrote before (listed in the marker); one it never wrote is refused by name, nothing changed', () => {
    const out = path.join(tmp(), 'dist');
    write(out, tree({ a: { 'x.yaml': '1' }, b: { 'y.yaml': '2' } }));
    expect(fs.readFileSync(path.join(out, MARKER), 'utf8')).toMatch(/^- a\n- b\n$/m);
    fs.mkdirSync(path.join(out, 'src'));
    fs.writeFileSync(path.join(out, 'src', 'a.ts'), 'export {};\n');
    fs.writeFileSync(path.join(out, 'package.json'), '{}');
    const error = thrown(() => write(out, tree({ a: { 'x.yaml': '1' } })));
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toContain(path.join(out, 'package.json'));
    expect(error.message).toContain(path.join(out, 'src'));
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b', 'package.json', 'src']);
    fs.rmSync(path.join(out, 'src'), { recursive: true });
    fs.rmSync(path.join(out, 'package.json'));
    write(out, tree({ a: { 'x.yaml': '1' } }));
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a']);
    expect(fs.readFileSync(path.join(out, MARKER), 'utf8')).not.toMatch(/^- b$/m);
  });

  it("rolls back nothing from a forged plan: a path, '..' or a folder with no old copy is ignored", () => {
    const out = path.join(tmp(), 'dist');
    write(out, tree({ a: { 'x.yaml': '1' } }));
    fs.mkdirSync(path.join(out, WORK, 'old'), { recursive: true });
    fs.writeFileSync(
      path.join(out, WORK, 'plan'),
      '[{"name":"a","hadOld":true,"hasNew":true},{"name":"../b","hadOld":true,"hasNew":false}]',
    );
    let writer = OutputWriter.open(out);
    expect(writer.restored).toEqual([]);
    writer.discard();
    fs.mkdirSync(path.join(out, WORK, 'old'), { recursive: true });
    fs.writeFileSync(path.join(out, WORK, 'plan'), '[{"name":"a","hadOld":true,"hasNew":true}]');
    writer = OutputWriter.open(out);
    expect(writer.restored).toEqual([]);
    writer.discard();
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a']);
    expect(fs.readFileSync(path.join(out, 'a', 'x.yaml'), 'utf8')).toBe('1');
  });

  it('refuses a folder that holds what synth did not write (no marker), and deletes nothing', () => {
    const repo = tmp();
    fs.mkdirSync(path.join(repo, 'src'));
    fs.writeFileSync(path.join(repo, 'src', 'main.ts'), 'code');
    fs.mkdirSync(path.join(repo, 'docs'));
    const before = treeDigest(repo);
    const error = thrown(() => write(repo, tree({ a: { 'x.yaml': '1' } })));
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toContain(`${repo} is not a synth output folder: it holds docs, src and no ${MARKER} marker`);
    expect(treeDigest(repo)).toBe(before);
    expect(fs.readdirSync(repo).sort()).toEqual(['docs', 'src']);
  });

  it('adopts an empty folder and marks it', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1' } }));
    expect(fs.readFileSync(path.join(out, MARKER), 'utf8')).toContain('npm run synth');
  });

  it('refuses a file, a symbolic link as the output folder, and any symbolic link under it, following none', () => {
    const parent = tmp();
    fs.writeFileSync(path.join(parent, 'file'), 'x');
    expect(thrown(() => OutputWriter.open(path.join(parent, 'file'))).message).toContain('is a file, not a folder');
    expect(thrown(() => OutputWriter.open('')).message).toContain('--out needs a folder name');
    const elsewhere = path.join(parent, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'keep.txt'), 'precious');
    fs.symlinkSync(elsewhere, path.join(parent, 'link'));
    expect(thrown(() => OutputWriter.open(path.join(parent, 'link'))).message).toContain('is a symbolic link');
    // `link/` (a trailing separator makes lstat follow the link) to an empty folder: refused too, nothing written there
    const empty = path.join(parent, 'empty');
    fs.mkdirSync(empty);
    fs.symlinkSync(empty, path.join(parent, 'emptylink'));
    expect(thrown(() => OutputWriter.open(`${path.join(parent, 'emptylink')}/`)).message).toContain(
      'is a symbolic link',
    );
    expect(thrown(() => OutputWriter.open(`${path.join(parent, 'emptylink')}//`)).message).toContain(
      'is a symbolic link',
    );
    expect(fs.readdirSync(empty)).toEqual([]);

    const out = path.join(parent, 'dist');
    write(out, tree({ a: { 'x.yaml': '1' }, b: { 'y.yaml': '2' } }));
    fs.rmSync(path.join(out, 'a'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(out, 'a'));
    const before = treeDigest(elsewhere);
    const error = thrown(() => write(out, tree({ a: { 'x.yaml': 'new' }, b: { 'y.yaml': 'new' } })));
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toContain(`holds symbolic links (${path.join(out, 'a')})`);
    expect(treeDigest(elsewhere)).toBe(before);
    expect(fs.readFileSync(path.join(out, 'b', 'y.yaml'), 'utf8')).toBe('2');
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b']); // no lock, no work folder left
  });

  it('lets one synth at a time write a folder, and takes over the lock of a dead one', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1' } }));
    const holder = OutputWriter.open(out);
    try {
      fs.writeFileSync(path.join(out, LOCK), `${process.ppid}\n`); // held by a live process
      expect(thrown(() => OutputWriter.open(out)).message).toContain(
        `another synth (pid ${process.ppid}) is writing ${out}/ now`,
      );
    } finally {
      holder.discard();
    }
    fs.writeFileSync(path.join(out, LOCK), `${deadPid()}\n`);
    write(out, tree({ a: { 'x.yaml': '2' } }));
    expect(fs.readFileSync(path.join(out, 'a', 'x.yaml'), 'utf8')).toBe('2');
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a']);
  });

  it('reports a failed write clearly and leaves the output as it was (a file name too long)', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1' } }));
    const before = treeDigest(out);
    const long = `${'n'.repeat(300)}.yaml`;
    const error = thrown(() => write(out, tree({ a: { 'x.yaml': '2' }, [`b${'x'.repeat(200)}`]: { [long]: '1' } })));
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toMatch(
      /cannot write .*n{300}\.yaml: file name too long \(ENAMETOOLONG\); nothing was changed in/,
    );
    expect(treeDigest(out)).toBe(before);
  });

  it('changes every folder or none: an immutable file refuses the whole synth, naming the file', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1' }, b: { 'x.yaml': '1' }, c: { 'x.yaml': '1' }, d: { 'x.yaml': '1' } }));
    const locked = path.join(out, 'c', 'x.yaml');
    if (!chattr('+i', locked)) {
      console.warn('skipped: chattr +i does not work here (not root, or no inode flags on this file system)');
      return;
    }
    try {
      const before = treeDigest(out);
      const error = thrown(() =>
        write(out, tree({ a: { 'x.yaml': '2' }, b: { 'x.yaml': '2' }, c: { 'x.yaml': '2' }, d: { 'x.yaml': '2' } })),
      );
      expect(error).toBeInstanceOf(OutputError);
      expect(error.message).toContain(`cannot replace ${locked}: it is immutable or append-only`);
      expect(treeDigest(out)).toBe(before);
      expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b', 'c', 'd']);
    } finally {
      chattr('-i', locked);
    }
  });

  it('puts back the folders swapped so far when a swap fails (an immutable folder)', () => {
    const out = tmp();
    write(out, tree({ a: { 'x.yaml': '1' }, b: { 'x.yaml': '1' }, c: { 'x.yaml': '1' }, d: { 'x.yaml': '1' } }));
    const locked = path.join(out, 'c');
    if (!chattr('+i', locked)) {
      console.warn('skipped: chattr +i does not work here (not root, or no inode flags on this file system)');
      return;
    }
    try {
      const before = treeDigest(out);
      // a and b are swapped before c, which cannot be moved
      const error = thrown(() =>
        write(out, tree({ a: { 'x.yaml': '2' }, b: { 'x.yaml': '2' }, c: { 'y.yaml': '2' }, d: { 'x.yaml': '2' } })),
      );
      expect(error).toBeInstanceOf(OutputError);
      expect(error.message).toContain(`cannot replace ${locked}: operation not permitted`);
      expect(error.message).toContain('nothing was changed');
      expect(treeDigest(out)).toBe(before);
      expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b', 'c', 'd']);
    } finally {
      chattr('-i', locked);
    }
  });

  it('never moves in what a killed run staged, and removes the staging folders of older versions', () => {
    const parent = tmp();
    const out = path.join(parent, 'dist');
    write(out, tree({ a: { 'x.yaml': '1' } }));
    fs.mkdirSync(path.join(out, WORK, 'new', 'a'), { recursive: true });
    fs.writeFileSync(path.join(out, WORK, 'new', 'a', 'planted.yaml'), 'kind: ClusterRoleBinding\n');
    fs.mkdirSync(path.join(out, WORK, 'new', 'z'), { recursive: true });
    fs.writeFileSync(path.join(out, WORK, 'new', 'z', 'planted.yaml'), 'kind: ClusterRoleBinding\n');
    const legacy = path.join(parent, `.dist.synth-${deadPid()}`);
    fs.mkdirSync(path.join(legacy, 'b'), { recursive: true });
    fs.writeFileSync(path.join(legacy, 'b', 'planted.yaml'), 'kind: ClusterRoleBinding\n');
    write(out, tree({ a: { 'x.yaml': '2' }, b: { 'y.yaml': '1' } }));
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'a', 'b']);
    expect(fs.readdirSync(path.join(out, 'a'))).toEqual(['x.yaml']);
    expect(fs.readdirSync(path.join(out, 'b'))).toEqual(['y.yaml']);
    expect(fs.readdirSync(parent)).toEqual(['dist']);
  });
});

describe('OutputWriter killed (SIGKILL) at each step of a write', () => {
  const OLD = {
    a: { 'x.yaml': 'old', 'gone.yaml': 'old' },
    b: { 'x.yaml': 'old' },
    c: { 'x.yaml': 'same' },
    d: { 'x.yaml': 'old' },
  };
  const NEW = {
    a: { 'x.yaml': 'new', 'added.yaml': 'new' },
    b: { 'x.yaml': 'new' },
    c: { 'x.yaml': 'same' },
    e: { 'x.yaml': 'new' },
  };
  const script = `
    const { OutputWriter } = require(${JSON.stringify(path.join(BUILD, 'pipeline', 'output.js'))});
    const [out, json] = process.argv.slice(1);
    const tree = new Map(Object.entries(JSON.parse(json)).map(([f, files]) => [f, new Map(Object.entries(files))]));
    const writer = OutputWriter.open(out);
    for (const [folder, files] of tree) writer.stage(folder, files);
    writer.commit([...tree.keys()]);
  `;
  const run = (out: string, t: object, crashAt?: string) =>
    spawnSync(process.execPath, ['-e', script, out, JSON.stringify(t)], {
      encoding: 'utf8',
      env: { ...process.env, SYNTH_TEST_CRASH_AT: crashAt ?? '' },
    });
  const folderState = (out: string, folder: string) => {
    const dir = path.join(out, folder);
    if (!fs.existsSync(dir)) return 'absent';
    const files = Object.fromEntries(
      fs
        .readdirSync(dir)
        .sort()
        .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]),
    );
    const key = JSON.stringify(files);
    const isOld = key === JSON.stringify(Object.fromEntries(Object.entries((OLD as any)[folder] ?? {}).sort()));
    const isNew = key === JSON.stringify(Object.fromEntries(Object.entries((NEW as any)[folder] ?? {}).sort()));
    return isOld && isNew ? 'same' : isOld ? 'old' : isNew ? 'new' : `mixed ${key}`;
  };
  /** The folder's state, where a folder that is the same in both versions counts as either. */
  const expectState = (out: string, folder: string, expected: string) => {
    const state = folderState(out, folder);
    expect([folder, state === 'same' && expected !== 'absent' ? expected : state]).toEqual([folder, expected]);
  };
  const FOLDERS = ['a', 'b', 'c', 'd', 'e'];

  it.each([
    ['write', 'old'],
    ['plan', 'old'],
    ['aside', 'old'],
    ['swapped', 'old'],
    ['swapped:3', 'old'],
    ['committed', 'new'],
  ])('at %s: every folder is whole, and the next run leaves the %s version with nothing left over', (step, after) => {
    const out = path.join(tmp(), 'dist');
    expect(run(out, OLD).status).toBe(0);
    const killed = run(out, NEW, step);
    expect(killed.signal).toBe('SIGKILL');
    for (const folder of FOLDERS) {
      const state = folderState(out, folder);
      // between the two renames of one swap the folder is absent, its old version whole in the work folder
      if (state === 'absent' && (OLD as any)[folder] && step === 'aside') {
        expect(fs.readdirSync(path.join(out, WORK, 'old'))).toContain(folder);
        continue;
      }
      expect(['old', 'new', 'same', 'absent']).toContain(state);
    }
    // the next run (it only opens the folder here) rolls back or finishes, and removes every leftover
    const next = spawnSync(process.execPath, [
      '-e',
      `require(${JSON.stringify(path.join(BUILD, 'pipeline', 'output.js'))}).OutputWriter.open(process.argv[1]).discard()`,
      out,
    ]);
    expect(next.status).toBe(0);
    for (const folder of FOLDERS) {
      const expected =
        after === 'old' ? ((OLD as any)[folder] ? 'old' : 'absent') : (NEW as any)[folder] ? 'new' : 'absent';
      expectState(out, folder, expected);
    }
    expect(
      fs
        .readdirSync(out)
        .filter((f) => f.startsWith('.'))
        .sort(),
    ).toEqual([MARKER]);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['dist']);
    // and a whole run then writes the new version
    expect(run(out, NEW).status).toBe(0);
    for (const folder of FOLDERS) expectState(out, folder, (NEW as any)[folder] ? 'new' : 'absent');
  });

  it('unchanged folders are not touched by a run killed after it swapped others', () => {
    const out = path.join(tmp(), 'dist');
    expect(run(out, OLD).status).toBe(0);
    const inode = fs.statSync(path.join(out, 'c', 'x.yaml')).ino;
    expect(run(out, NEW, 'swapped:2').signal).toBe('SIGKILL');
    expect(fs.statSync(path.join(out, 'c', 'x.yaml')).ino).toBe(inode);
  });
});

describe('diffTree (--check)', () => {
  it('lists missing, differing and extra files', () => {
    const out = tmp();
    write(out, tree({ a: { 'keep.yaml': 'k', 'change.yaml': '1', 'gone.yaml': 'g' } }));
    const differences = diffTree(out, tree({ a: { 'keep.yaml': 'k', 'change.yaml': '2', 'new.yaml': 'n' } }));
    expect(differences.map((d) => [path.basename(d.file), d.change])).toEqual([
      ['change.yaml', 'differs'],
      ['new.yaml', 'missing'],
      ['gone.yaml', 'extra'],
    ]);
  });

  it('takes the files a worker found the same (FolderComparison) as the same while their stamp holds', () => {
    const out = tmp();
    write(out, tree({ a: { 'same.yaml': 's', 'later.yaml': 'l', 'change.yaml': '1' } }));
    const comparison = new FolderComparison(path.join(out, 'a'));
    for (const [file, content] of Object.entries({ 'same.yaml': 's', 'later.yaml': 'l', 'change.yaml': '2' }))
      comparison.write(file, content);
    expect(checkDestination(out, 'a')).toEqual({ compareDir: path.join(out, 'a') });
    expect(checkDestination(out, 'b')).toBeUndefined();
    const compared = new Map([['a', comparison.changed]]);
    const unchanged = new Map([['a', comparison.unchanged]]);
    expect(diffTree(out, compared, undefined, unchanged).map((d) => [path.basename(d.file), d.change])).toEqual([
      ['change.yaml', 'differs'],
    ]);
    // edited after the worker compared it: not taken as the same
    fs.appendFileSync(path.join(out, 'a', 'later.yaml'), '# edited\n');
    expect(diffTree(out, compared, undefined, unchanged)).toEqual([
      { file: path.join(out, 'a', 'change.yaml'), change: 'differs' },
      { file: path.join(out, 'a', 'later.yaml'), change: 'differs', note: 'changed while synth was comparing it' },
    ]);
  });

  it('reports dot-files, loose files, symbolic links, FIFOs, empty folders, unknown folders and a missing marker', () => {
    const out = tmp();
    const t = tree({ a: { 'x.yaml': '1' }, b: { 'y.yaml': '2' } });
    write(out, t);
    expect(diffTree(out, t)).toEqual([]);
    fs.writeFileSync(path.join(out, 'a', '.hidden.yaml'), 'kind: Secret\n');
    fs.writeFileSync(path.join(out, 'stray.yaml'), 'kind: Secret\n');
    fs.mkdirSync(path.join(out, 'a', 'empty'));
    fs.mkdirSync(path.join(out, 'c'));
    spawnSync('mkfifo', [path.join(out, 'a', 'pipe.yaml')]);
    const elsewhere = tmp();
    fs.writeFileSync(path.join(elsewhere, 'y.yaml'), '2');
    fs.rmSync(path.join(out, 'b'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(out, 'b'));
    fs.rmSync(path.join(out, MARKER));
    const found = diffTree(out, t).map(
      (d) => `${d.change} ${path.relative(out, d.file)}${d.note ? ` (${d.note})` : ''}`,
    );
    expect(found).toEqual(
      expect.arrayContaining([
        `missing ${MARKER} (the marker naming the folder as synth's)`,
        'extra b (a symbolic link)',
        'missing b/y.yaml',
        'extra c (a folder synth does not write)',
        'extra stray.yaml',
        'extra a/.hidden.yaml',
        'extra a/empty (an empty folder)',
      ]),
    );
    if (fs.existsSync(path.join(out, 'a', 'pipe.yaml'))) expect(found).toContain('extra a/pipe.yaml (a FIFO)');
    // with --target, only the named folders
    expect(diffTree(out, tree({ b: { 'y.yaml': '2' } }), ['b']).map((d) => d.change)).toEqual([
      'missing',
      'extra',
      'missing',
    ]);
  });
});

describe('a synth of a large platform (worker threads) that fails', () => {
  it('writes nothing and leaves nothing beside or in the output', () => {
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
    const environments = fs
      .readdirSync(ENVIRONMENTS)
      .filter((f) => f.endsWith('.yaml') && f !== 'defaults.yaml')
      .map((f) => f.replace(/\.yaml$/, ''));
    expect(fs.readdirSync(out).sort()).toEqual([MARKER, 'argocd', ...environments].sort());
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });
});

describe('a synth of a large platform (worker threads) into the output it wrote before', () => {
  it('rewrites only what changed, puts back a file edited by hand, and leaves unchanged folders alone', () => {
    const envs = copyEnvironments();
    generatePlatform(envs, 60, ENVIRONMENTS);
    const out = path.join(tmp(), 'dist');
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    const files = (folder: string) => fs.readdirSync(path.join(out, folder)).sort();
    const stat = (folder: string, file: string) => fs.statSync(path.join(out, folder, file));
    const stagingFiles = files('staging');
    const developmentFiles = files('development');
    const [kept, handEdited] = [stagingFiles[0], stagingFiles[5]];
    const keptInode = stat('staging', kept).ino;
    const developmentInode = fs.statSync(path.join(out, 'development')).ino;
    const wanted = fs.readFileSync(path.join(out, 'staging', handEdited), 'utf8');
    fs.writeFileSync(path.join(out, 'staging', handEdited), `${wanted}# edited by hand\n`);
    fs.writeFileSync(path.join(out, 'staging', 'stray.yaml'), 'kind: Stray\n');
    fs.rmSync(path.join(out, 'staging', stagingFiles[9]));
    // --check: the workers compare each file with the output, and only what differs reaches the report
    const check = runSynth(['--config', envs, '--out', out, '--check', '--quiet']);
    expect(check.status).toBe(1);
    const listed = check.stderr.split('\n').filter((line) => /^ {2}(differs|missing|extra) /.test(line));
    // the folder's files in order, then what synth does not write
    expect(listed).toEqual([
      `  differs  ${path.join(out, 'staging', handEdited)}`,
      `  missing  ${path.join(out, 'staging', stagingFiles[9])}`,
      `  extra    ${path.join(out, 'staging', 'stray.yaml')}`,
    ]);
    expect(check.stderr).toContain('      -# edited by hand');

    const again = runSynth(['--config', envs, '--out', out, '--quiet']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(files('staging')).toEqual(stagingFiles);
    expect(fs.readFileSync(path.join(out, 'staging', handEdited), 'utf8')).toBe(wanted);
    // an unchanged file of a changed folder is the same file, linked into the new folder
    expect(stat('staging', kept).ino).toBe(keptInode);
    // a folder with nothing changed is not touched at all
    expect(files('development')).toEqual(developmentFiles);
    expect(fs.statSync(path.join(out, 'development')).ino).toBe(developmentInode);
    expect(runSynth(['--config', envs, '--out', out, '--check', '--quiet']).status).toBe(0);
  });
});
