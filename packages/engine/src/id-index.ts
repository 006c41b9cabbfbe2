/**
 * Order id → number, for the uniqueness checks of a batch: what a Map<string, number> does for
 * them, faster. A Map hashes each fresh id string in the runtime (measured: over half the cost of
 * a set); here the id is hashed by a JavaScript loop over its characters into an open-addressing
 * table of 32-bit hashes, and strings are compared only when the hashes match.
 */
export class IdIndex {
  /** Hash of each slot's id; 0 marks an empty slot (hashOf is never 0). */
  private hashes: Int32Array;
  private keys: string[];
  private values: Int32Array;
  private mask: number;
  private count = 0;

  /** `expected`: how many ids the caller will record (sizes the table once; it grows past that). */
  constructor(expected = 0) {
    let cap = 64;
    while (cap < 2 * expected + 2) cap *= 2;
    const s = spare;
    if (s !== null && s.hashes.length === cap) {
      spare = null;
      this.hashes = s.hashes;
      this.keys = s.keys;
      this.values = s.values;
    } else {
      this.hashes = new Int32Array(cap);
      this.keys = emptyKeys(cap);
      this.values = new Int32Array(cap);
    }
    this.mask = cap - 1;
  }

  /**
   * The caller is done with this table: its storage, emptied, may serve the next table of the
   * same size (a batch after another of about the same length: measured, allocating the typed
   * arrays anew cost more than the lookups). The table must not be used afterwards.
   */
  release(): void {
    this.hashes.fill(0);
    this.keys.fill('');
    spare = { hashes: this.hashes, keys: this.keys, values: this.values };
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }

  /** The number recorded for `id`, or undefined. */
  get(id: string): number | undefined {
    const p = this.find(id, hashOf(id));
    return p >= 0 ? (this.values[p] as number) : undefined;
  }

  /** Records `id` → `value` (replacing any earlier value). */
  set(id: string, value: number): void {
    const h = hashOf(id);
    const p = this.find(id, h);
    if (p >= 0) this.values[p] = value;
    else this.insert(~p, h, id, value);
  }

  /** Records `id` → `value` unless `id` is present; returns the value it had, or ABSENT (then it is recorded). */
  add(id: string, value: number): number {
    const h = hashOf(id);
    const p = this.find(id, h);
    if (p >= 0) return this.values[p] as number;
    this.insert(~p, h, id, value);
    return ABSENT;
  }

  /** The slot of `id`, or ~(the empty slot where it would go). */
  private find(id: string, h: number): number {
    const hs = this.hashes;
    const mask = this.mask;
    let p = h & mask;
    for (;;) {
      const k = hs[p] as number;
      if (k === 0) return ~p;
      if (k === h && this.keys[p] === id) return p;
      p = (p + 1) & mask;
    }
  }

  private insert(p: number, h: number, id: string, value: number): void {
    this.hashes[p] = h;
    this.keys[p] = id;
    this.values[p] = value;
    if (++this.count * 2 > this.hashes.length) this.grow();
  }

  /** Doubles the table (load factor ≤ 1/2). */
  private grow(): void {
    const oh = this.hashes;
    const ok = this.keys;
    const ov = this.values;
    const cap = oh.length * 2;
    const hs = new Int32Array(cap);
    const keys = emptyKeys(cap);
    const vs = new Int32Array(cap);
    const mask = cap - 1;
    for (let i = 0; i < oh.length; i++) {
      const h = oh[i] as number;
      if (h === 0) continue;
      let p = h & mask;
      while (hs[p] !== 0) p = (p + 1) & mask;
      hs[p] = h;
      keys[p] = ok[i] as string;
      vs[p] = ov[i] as number;
    }
    this.hashes = hs;
    this.keys = keys;
    this.values = vs;
    this.mask = mask;
  }
}

/** Emptied storage of a released table (the engine is synchronous: one batch at a time). */
let spare: { hashes: Int32Array; keys: string[]; values: Int32Array } | null = null;

/** What {@link IdIndex.add} returns for an id not yet present (recorded values are ≥ -2). */
export const ABSENT = -3;

function emptyKeys(n: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push('');
  return keys;
}

/** FNV-1a over the UTF-16 code units (and the length), never 0. */
function hashOf(id: string): number {
  const n = id.length;
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}
