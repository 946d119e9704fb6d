/**
 * Time-sortable unique ids (ULID layout: 48-bit millisecond time + 80 random bits, in
 * Crockford base32, monotonic within a millisecond). Sorting ids sorts by creation time.
 *
 * @example
 * const id = newId(); // '01jd3k9x4q8m2v7r5t6w0y1z3a'
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

let lastTime = -1;
const lastRandom = new Uint8Array(10);

function encodeTime(time: number): string {
  let out = '';
  let rest = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits -> 16 base32 characters.
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

function increment(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const next = (bytes[i] ?? 0) + 1;
    bytes[i] = next & 0xff;
    if (next <= 0xff) return;
  }
}

/** A new id; ids made later in the same process sort after earlier ones. */
export function newId(now: number = Date.now()): string {
  if (now <= lastTime) {
    increment(lastRandom);
  } else {
    lastTime = now;
    globalThis.crypto.getRandomValues(lastRandom);
  }
  return encodeTime(lastTime) + encodeRandom(lastRandom);
}
