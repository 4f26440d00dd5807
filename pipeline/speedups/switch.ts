/**
 * The switch of the speed-ups (pipeline/speedups/index.ts lists them): which ones run in this
 * process. A module of its own, importing nothing, so that the command's entry (bin/synth.ts, through
 * bundle.ts) can ask it before any dependency is loaded.
 */
export const SPEEDUPS = ['json', 'charts', 'yaml', 'bundle'] as const;
export type Speedup = (typeof SPEEDUPS)[number];

/** The environment variable that turns the speed-ups off. */
export const STOCK_VARIABLE = 'SYNTH_STOCK';

/** The speed-ups a SYNTH_STOCK value turns off: all for `1`/`true`, the listed ones for a list, none when unset or empty. */
export function stockSpeedups(value: string | undefined): ReadonlySet<Speedup> {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === '0' || text === 'false') return new Set();
  if (text === '1' || text === 'true' || text === 'all') return new Set(SPEEDUPS);
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SPEEDUPS as readonly string[]).includes(n));
  if (unknown.length)
    throw new Error(
      `${STOCK_VARIABLE}=${value}: unknown speed-up ${unknown.join(', ')}; use 1 (all stock) or a list of ${SPEEDUPS.join(', ')}`,
    );
  return new Set(names as Speedup[]);
}

let stock: ReadonlySet<Speedup> | undefined;

/** Whether the speed-up (or, without a name, every speed-up) runs; false in stock mode. */
export function speedupsEnabled(name?: Speedup): boolean {
  stock ??= stockSpeedups(process.env[STOCK_VARIABLE]);
  return name === undefined ? stock.size === 0 : !stock.has(name);
}

/**
 * What is wrong with this process's SYNTH_STOCK (a name that is no speed-up), or undefined: for
 * the commands to refuse it as the caller's mistake, before anything asks the switch.
 */
export function stockSettingProblem(): string | undefined {
  try {
    stockSpeedups(process.env[STOCK_VARIABLE]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
