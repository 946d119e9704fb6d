/**
 * JSON with object keys sorted at every level, so equal values always hash the same. Written
 * out directly rather than by building sorted copies: a commit's tree may hold a million
 * samples. The text is exactly `JSON.stringify` of a plain copy of the value with its keys
 * sorted (what earlier versions wrote, so ids do not change).
 */
export function canonicalJson(value: unknown): string {
  return write(value, false) ?? 'null';
}

/**
 * A string as JSON.stringify writes it. Most strings (ids, sample names) need no escape and are
 * quoted as they are: a commit quotes two per sample.
 */
export function jsonString(text: string): string {
  return PLAIN_STRING.test(text) ? `"${text}"` : JSON.stringify(text);
}

/**
 * Only characters JSON.stringify writes as they are: from the space up, less the quote (0x22),
 * the backslash (0x5c) and surrogates (0xd800-0xdfff, escaped when alone).
 */
const PLAIN_STRING = /^[ !#-[\]-\ud7ff\ue000-\uffff]*$/;

/** The text of `value`, or undefined where JSON.stringify leaves it out (in an object). */
function write(value: unknown, inArray: boolean): string | undefined {
  if (typeof value === 'string') return jsonString(value);
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) as string | undefined;
    return text === undefined && inArray ? 'null' : text;
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) items.push(write(item, true) as string);
    return `[${items.join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of sortedKeys(record)) {
    const text = write(record[key], false);
    if (text !== undefined) members.push(`${jsonString(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const isArrayIndex = (key: string): boolean => ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295;

/**
 * The keys in the order a sorted copy gives them: an object lists integer-like keys ("10")
 * first, in numeric order, whatever order they were added in, then the others as sorted.
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record).sort();
  if (!keys.some(isArrayIndex)) return keys;
  const indexes = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...keys.filter((key) => !isArrayIndex(key))];
}
