import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './helpers';

/**
 * The suites leave their scratch folders (copies of environments/, output folders) in the
 * temporary folder; a jest run with the project's configuration removes them all at its end.
 */
describe('a jest run', () => {
  it('leaves nothing in the temporary folder: every scratch folder goes with the run', () => {
    const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'jest-outer-'));
    const report = path.join(temporary, '..', `${path.basename(temporary)}.report`);
    try {
      const run = spawnSync(
        process.execPath,
        [
          path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
          '--ci',
          '--runInBand',
          '--testMatch',
          '**/fixtures/leaves-scratch.fixture.js',
        ],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TMPDIR: temporary, TEMP_FIXTURE_REPORT: report } },
      );
      expect(run.stderr).toMatch(/1 passed/);
      expect(run.status).toBe(0);
      // the fixture's folder was made inside the temporary folder the run was given...
      const left = fs.readFileSync(report, 'utf8');
      expect(path.relative(temporary, left).startsWith('..')).toBe(false);
      // ...and neither it nor the run's own folder is there any more (jest_* is jest's own
      // transform cache, kept between runs on purpose)
      expect(fs.existsSync(left)).toBe(false);
      expect(fs.readdirSync(temporary).filter((name) => !name.startsWith('jest_'))).toEqual([]);
    } finally {
      fs.rmSync(temporary, { recursive: true, force: true });
      fs.rmSync(report, { force: true });
    }
  });
});
