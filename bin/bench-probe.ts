/**
 * Loaded with `node --require` by `npm run bench`: on exit, appends this process's id, its peak
 * resident memory (KiB), its CPU time (user + system, microseconds, worker threads included) and
 * the system (kernel) part of it to the file named by BENCH_PROBE_FILE. Worker threads load it
 * too, and each writes the whole process's figures so far when it ends: the bench keeps the last
 * line of each process.
 */
import * as fs from 'fs';

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    fs.appendFileSync(
      file,
      `${process.pid} ${usage.maxRSS} ${usage.userCPUTime + usage.systemCPUTime} ${usage.systemCPUTime}\n`,
    );
  });
}
