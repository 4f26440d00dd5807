import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers';

/** The committed READMEs synth writes: every dist/<folder>/README.md, of the platform and of each example. */
function committedReadmes(): string[] {
  const dists = [
    path.join(ROOT, 'dist'),
    ...fs.readdirSync(path.join(ROOT, 'examples')).map((e) => path.join(ROOT, 'examples', e, 'dist')),
  ].filter((d) => fs.existsSync(d));
  return dists.flatMap((dist) =>
    fs
      .readdirSync(dist)
      .map((folder) => path.join(dist, folder, 'README.md'))
      .filter((f) => fs.existsSync(f)),
  );
}

/** A path of the repository a README names for the reader to open (a source file or a configuration file). */
const REPOSITORY_PATH =
  /\b(?:bin|charts|config|constructs|core|pipeline|imports|environments|test|docs|lib)\/[A-Za-z0-9_./-]+\.(?:ts|md|json|yaml|mjs)\b/g;

describe('the READMEs synth writes into dist/', () => {
  it('name only files that exist: the sources they point to and the configuration they came from', () => {
    const readmes = committedReadmes();
    expect(readmes.length).toBeGreaterThan(20);
    const missing: string[] = [];
    let named = 0;
    for (const readme of readmes) {
      // a platform's configuration (environments/...) sits beside its dist/; sources at the repository's root
      const platformRoot = path.dirname(path.dirname(path.dirname(readme)));
      for (const [file] of fs.readFileSync(readme, 'utf8').matchAll(REPOSITORY_PATH)) {
        named++;
        const base = file.startsWith('environments/') ? platformRoot : ROOT;
        if (!fs.existsSync(path.join(base, file))) missing.push(`${path.relative(ROOT, readme)}: ${file}`);
      }
    }
    expect(named).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});
