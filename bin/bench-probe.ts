/**
 * Loaded with `node --require` by `npm run bench`: on exit, appends this process's peak resident
 * memory (KiB) to the file named by BENCH_PROBE_FILE.
 */
import * as fs from 'fs';

const file = process.env.BENCH_PROBE_FILE;
if (file) process.on('exit', () => fs.appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
