import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers';

/**
 * npm test leaves the slow end-to-end suites to npm run test:slow (bin/test.mjs,
 * test/slow-suites.json); CI must still run them, and every name in the list must be a suite.
 */
describe('the split between npm test and npm run test:slow', () => {
  const slow: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'slow-suites.json'), 'utf8')).suites;
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >;

  it('names only suites that exist', () => {
    expect(slow.length).toBeGreaterThan(0);
    for (const suite of slow)
      expect([suite, fs.existsSync(path.join(ROOT, 'test', `${suite}.ts`))]).toEqual([suite, true]);
  });

  it('runs every suite in CI: .ci/run runs npm test and then npm run test:slow', () => {
    expect(scripts.test).toBe('node bin/test.mjs');
    expect(scripts['test:slow']).toBe('node bin/test.mjs --slow');
    const ci = fs
      .readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'));
    const at = (command: string) => ci.findIndex((l) => l.trim() === command);
    expect(at('npm test')).toBeGreaterThan(-1);
    expect(at('npm run test:slow')).toBeGreaterThan(at('npm test'));
  });
});
