/**
 * Kubernetes resource quantities as numbers: CPU in millicores, memory in bytes.
 * Only the forms the configuration schema admits are accepted.
 */

const MEMORY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
};

/** "250m" → 250, "2" → 2000, "1.5" → 1500. */
export function cpuMillis(quantity: string): number {
  const m = /^([0-9]+)m$/.exec(quantity);
  if (m) return Number(m[1]);
  if (/^[0-9]+(\.[0-9]+)?$/.test(quantity)) return Math.round(Number(quantity) * 1000);
  throw new Error(`not a CPU quantity: ${JSON.stringify(quantity)}`);
}

/** "512Mi" → 536870912. */
export function memoryBytes(quantity: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(quantity)}`);
  return Math.round(Number(m[1]) * MEMORY_FACTORS[m[2] ?? '']);
}

/** 250 → "250m", 2000 → "2". */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${Math.round(millis)}m`;
}

/** Bytes as the largest binary unit that divides them (falling back to Mi, rounded up). */
export function formatMemory(bytes: number): string {
  for (const unit of ['Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const factor = MEMORY_FACTORS[unit];
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${Math.ceil(bytes / MEMORY_FACTORS.Mi)}Mi`;
}
