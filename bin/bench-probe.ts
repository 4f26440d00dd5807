/**
 * Loaded with `node --require` by `npm run bench`: on exit, appends this process's peak resident
 * memory (KiB) and its CPU time (user + system, microseconds, worker threads included) to the
 * file named by BENCH_PROBE_FILE.
 */
import * as fs from 'fs';

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    fs.appendFileSync(file, `${usage.maxRSS} ${usage.userCPUTime + usage.systemCPUTime}\n`);
  });
}
