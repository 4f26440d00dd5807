import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { machineSpeed, measure } from '../../bin/bench';

/** The probe folders in the temporary folder (measure makes one per run). */
const probes = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('probe-'));

/** The benchmark's measurement of one command (bin/bench.ts), on a command that takes no time. */
describe('npm run bench', () => {
  it('reads a run’s peak RSS and CPU from its probe and leaves nothing in the temporary folder', () => {
    const before = new Set(probes());
    const sample = measure(process.execPath, ['-e', 'let x = 0; for (let i = 0; i < 1e6; i++) x += i']);
    expect(sample.wallMs).toBeGreaterThan(0);
    // the probe (bin/bench-probe.ts, loaded into the command) wrote the process's figures
    expect(sample.rssKiB).toBeGreaterThan(1024);
    expect(sample.cpuMs).toBeGreaterThan(0);
    // one probe folder per run used to stay behind: dozens per `npm run bench`
    expect(probes().filter((name) => !before.has(name))).toEqual([]);
  });

  it('reads the kernel’s part of the CPU time (writing files shows there, not in the synth’s own work)', () => {
    const sample = measure(process.execPath, [
      '-e',
      "const fs = require('fs'); for (let i = 0; i < 20000; i++) fs.writeFileSync('/dev/null', 'x')",
    ]);
    expect(sample.kernelMs).toBeGreaterThan(0);
    expect(sample.kernelMs).toBeLessThanOrEqual(sample.cpuMs);
  });

  it('refuses an --out-dir that is not a folder, before it measures anything', () => {
    const bench = path.join(__dirname, '..', '..', 'bin', 'bench.js');
    const result = spawnSync(process.execPath, [bench, '--out-dir', '/nonexistent/out'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--out-dir /nonexistent/out is not a folder');
    expect(result.stdout).toBe('');
  });

  it.each([[['--out-dir']], [['--out-dir', '--runs', '1']]])(
    'refuses an --out-dir without a folder (%j), rather than fill the current folder',
    (args) => {
      const bench = path.join(__dirname, '..', '..', 'bin', 'bench.js');
      // the timeout stops a bench that would start after all
      const result = spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8', timeout: 20000 });
      expect(result.stderr).toContain('--out-dir needs a folder');
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
    },
  );

  it('times the fixed work it reads the figures against: it runs to the end (a failing run throws) and takes CPU', () => {
    expect(machineSpeed()).toBeGreaterThan(10);
  });
});
