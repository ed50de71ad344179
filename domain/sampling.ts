/**
 * Seeded random draws for desk checks and re-inspections ("double random": random target, random
 * inspector). Pure and deterministic: the same seed and the same items give the same sample, in
 * whatever order the items arrive, so anyone holding the seed and the sampling frame can re-run a
 * draw and check it. No Math.random, no clock: safe inside workflows too.
 */

/** 32-bit FNV-1a hash of a string (UTF-16 code units), used to turn a seed string into PRNG state. */
export function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast 32-bit PRNG. Returns numbers in [0, 1). */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A PRNG seeded by a string. */
export function rngFor(seed: string): () => number {
  return mulberry32(hashSeed(seed));
}

/**
 * How many of `population` items a stratum gives: at least `share` of them (rounded up), at least
 * `minPerStratum`, never more than there are.
 */
export function sampleSize(population: number, share: number, minPerStratum: number): number {
  if (!Number.isInteger(population) || population < 0) throw new RangeError(`population must be a whole number, got ${population}`);
  if (!(share > 0 && share <= 1)) throw new RangeError(`share must be in (0, 1], got ${share}`);
  if (!Number.isInteger(minPerStratum) || minPerStratum < 0)
    throw new RangeError(`minPerStratum must be a whole number, got ${minPerStratum}`);
  if (population === 0) return 0;
  // Round the product to 1e-9 first, so that 0.1 * 30 is 3 and not 3.0000000000000004 (which would round up to 4).
  const atShare = Math.ceil(Math.round(share * population * 1e9) / 1e9);
  return Math.min(population, Math.max(minPerStratum, atShare));
}

/** `k` of `ids` (k <= ids.length), by a partial Fisher–Yates shuffle of the sorted ids. */
function pick(ids: readonly string[], k: number, seed: string): string[] {
  const pool = [...ids].sort(compareIds);
  const rng = rngFor(seed);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

/** Code-unit order, independent of locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A stratified random sample: from every stratum, `sampleSize(n, share, minPerStratum)` items. Each
 * stratum is drawn with its own PRNG seeded by `${seed}|${stratum}`, so one division's sample does
 * not depend on which other divisions closed cases. Returns the drawn ids, sorted.
 */
export function drawStratified<T extends { id: string }>(
  items: readonly T[],
  stratumOf: (item: T) => string,
  share: number,
  minPerStratum: number,
  seed: string,
): string[] {
  const strata = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) throw new RangeError(`duplicate id in the sampling frame: ${item.id}`);
    seen.add(item.id);
    const key = stratumOf(item);
    const list = strata.get(key);
    if (list) list.push(item.id);
    else strata.set(key, [item.id]);
  }
  const drawn: string[] = [];
  for (const key of [...strata.keys()].sort(compareIds)) {
    const ids = strata.get(key)!;
    drawn.push(...pick(ids, sampleSize(ids.length, share, minPerStratum), `${seed}|${key}`));
  }
  return drawn.sort(compareIds);
}

/** One of `candidates` at random (seeded), whatever their order; undefined when there are none. */
export function pickOne(candidates: readonly string[], seed: string): string | undefined {
  const unique = [...new Set(candidates)].sort(compareIds);
  if (unique.length === 0) return undefined;
  return unique[Math.floor(rngFor(seed)() * unique.length)];
}

export interface Inspector {
  id: string;
  /** The division code, or a prefix of it (2 digits: a province, 4: a city), that the inspector covers. */
  divisionCode: string;
}

export interface DrawnCase {
  caseId: string;
  divisionCode: string;
  /** Everyone who acted on the case (its event actors): they may not inspect it. */
  handlers: readonly string[];
}

/**
 * A random inspector for each drawn case, from the inspectors covering its division who did not
 * handle it; null where there is none. Seeded per case by `${seed}|inspector|${caseId}`.
 */
export function assignInspectors(
  cases: readonly DrawnCase[],
  inspectors: readonly Inspector[],
  seed: string,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of cases) {
    const handlers = new Set(c.handlers);
    const candidates = inspectors.filter((i) => c.divisionCode.startsWith(i.divisionCode) && !handlers.has(i.id)).map((i) => i.id);
    out[c.caseId] = pickOne(candidates, `${seed}|inspector|${c.caseId}`) ?? null;
  }
  return out;
}

/** The seed of a day's desk check: public, and derived from the day alone. */
export function deskCheckSeed(date: string): string {
  return `desk-check:${date}`;
}

/** The seed of a quarter's re-inspection draw. */
export function reInspectionSeed(quarter: string): string {
  return `re-inspection:${quarter}`;
}

/** A stored draw: its rules, its sampling frame and the sample it gave. */
export interface DrawRecord {
  seed: string;
  share: number;
  minPerDivision: number;
  population: ReadonlyArray<{ id: string; divisionCode: string }>;
  drawn: readonly string[];
}

export interface DrawVerification {
  /** The draw re-run from its seed over its frame gives exactly the stored sample. */
  matches: boolean;
  /** The same draw over the frame in reverse order gives the same sample. */
  orderIndependent: boolean;
  recomputed: string[];
}

/** Re-run a stored draw from its seed and compare. */
export function verifyDraw(d: DrawRecord): DrawVerification {
  const run = (frame: DrawRecord['population']) => drawStratified(frame, (x) => x.divisionCode, d.share, d.minPerDivision, d.seed);
  const recomputed = run(d.population);
  const reversed = run([...d.population].reverse());
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return { matches: same(recomputed, d.drawn), orderIndependent: same(recomputed, reversed), recomputed };
}
