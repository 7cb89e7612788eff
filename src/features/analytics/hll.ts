/**
 * A small HyperLogLog (Flajolet et al. 2007) for unique users over long ranges: 2^12 one-byte
 * registers (4 KiB per sketch, standard error 1.04/√4096 ≈ 1.6 %). A day's sketch is built in
 * SQL from the exact distinct table — register = low 12 bits of a 64-bit hash of the contact
 * id, rank = leading zeros of the other 52 bits + 1 (see `HLL_SQL`) — and merged here by
 * register-wise max: merging 90 days costs 90 × 4096 byte comparisons.
 */
export const HLL_P = 12;
export const HLL_M = 1 << HLL_P;

/** The SQL computing a contact's register and rank; `hashtextextended` is PostgreSQL's 64-bit text hash. */
export const HLL_SQL = {
  hash: (column: string) => `hashtextextended(${column}::text, 0)`,
  idx: (hash: string) => `(${hash} & ${HLL_M - 1})::smallint`,
  rank: (hash: string) =>
    `coalesce(nullif(position('1' in substr(${hash}::bit(64)::text, 1, ${64 - HLL_P})), 0), ${64 - HLL_P + 1})::smallint`,
};

export function emptyRegisters(): Uint8Array {
  return new Uint8Array(HLL_M);
}

/** Adds a 64-bit hash (as the SQL does: low bits pick the register, high bits give the rank). */
export function addHash(registers: Uint8Array, hash: bigint): void {
  const unsigned = BigInt.asUintN(64, hash);
  const idx = Number(unsigned & BigInt(HLL_M - 1));
  const rest = unsigned >> BigInt(HLL_P);
  const width = 64 - HLL_P;
  const rank = rest === 0n ? width + 1 : width - rest.toString(2).length + 1;
  if (rank > (registers[idx] ?? 0)) registers[idx] = rank;
}

/** Sets register `idx` to at least `rank`. */
export function addRegister(registers: Uint8Array, idx: number, rank: number): void {
  if (idx >= 0 && idx < HLL_M && rank > (registers[idx] ?? 0)) registers[idx] = rank;
}

/** Register-wise max of `source` into `target` (the union of the two sets). */
export function mergeRegisters(target: Uint8Array, source: Uint8Array): void {
  const n = Math.min(target.length, source.length);
  for (let i = 0; i < n; i++) {
    const value = source[i] ?? 0;
    if (value > (target[i] ?? 0)) target[i] = value;
  }
}

/** The cardinality estimate, with linear counting for small sets (the paper's small-range correction). */
export function estimate(registers: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < HLL_M; i++) {
    const value = registers[i] ?? 0;
    sum += 2 ** -value;
    if (value === 0) zeros += 1;
  }
  const alpha = 0.7213 / (1 + 1.079 / HLL_M);
  const raw = (alpha * HLL_M * HLL_M) / sum;
  if (raw <= 2.5 * HLL_M && zeros > 0) return Math.round(HLL_M * Math.log(HLL_M / zeros));
  return Math.round(raw);
}
