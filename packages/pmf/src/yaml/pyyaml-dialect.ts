/**
 * YAML as PyYAML (the reference's parser) reads and writes it: YAML 1.1 scalars, except
 * that `y`/`n` stay strings as they do in PyYAML. Integers are read as `bigint` so an epoch
 * written `10.0` (a float to PyYAML) is told apart from `10`; mappings are read as `Map` so
 * integer keys such as checkpoint references keep their type.
 */
import YAML, { type DocumentOptions, type ParseOptions, type SchemaOptions, type ToJSOptions } from 'yaml';

type Tags = Exclude<SchemaOptions['customTags'], undefined | null>;

/**
 * Where the yaml library's YAML 1.1 scalars differ from PyYAML's resolver, PyYAML's rules.
 * Keyed by tag and format; e.g. PyYAML reads `.`, `1e3` and `09` as strings, and `y` too.
 */
const PYYAML_TESTS: Record<string, RegExp> = {
  'bool:true': /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/,
  'bool:false': /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
  'int:': /^[-+]?(?:0|[1-9][0-9_]*)$/,
  'int:TIME': /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/,
  'float:': /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/,
  'float:EXP': /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/,
  'float:TIME': /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/,
};

function pyyamlKey(tag: { tag: string; format?: string; test?: RegExp }): string | null {
  const type = tag.tag.replace('tag:yaml.org,2002:', '');
  if (type === 'bool') return tag.test?.test('true') ? 'bool:true' : 'bool:false';
  if (type === 'float' && tag.test?.test('.inf')) return null;
  return type === 'int' || type === 'float' ? `${type}:${tag.format ?? ''}` : null;
}

const pyyamlTags = ((tags) =>
  (tags as Exclude<Tags, (tags: never) => unknown>).map((tag) => {
    if (typeof tag !== 'object' || !('test' in tag) || !tag.test) return tag;
    const key = pyyamlKey(tag);
    const test = key ? PYYAML_TESTS[key] : undefined;
    return test ? { ...tag, test } : tag;
  })) satisfies Tags;

const OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  intAsBigInt: true,
  customTags: pyyamlTags,
};
const TO_JS: ToJSOptions = { mapAsMap: true, maxAliasCount: 100 };

/** The outcome of reading a YAML text: its value, or the problems that prevented reading it. */
export type YamlReading = { ok: true; value: unknown } | { ok: false; problems: string[] };

/**
 * Reads one YAML document the way PyYAML's `safe_load` would accept it: syntax errors,
 * duplicate keys and unknown tags (e.g. `!!python/tuple`) are problems.
 */
export function readYaml(text: string): YamlReading {
  const document = YAML.parseDocument(text, OPTIONS);
  const problems = [...document.errors, ...document.warnings].map(
    (issue) => `${issue.linePos ? `line ${issue.linePos[0].line}: ` : ''}${firstLine(issue.message)}`,
  );
  if (problems.length > 0) return { ok: false, problems };
  try {
    return { ok: true, value: document.toJS(TO_JS) };
  } catch (error) {
    return { ok: false, problems: [firstLine(error instanceof Error ? error.message : String(error))] };
  }
}

/** A YAML 1.1 document that PyYAML reads back as `value`. `Map`s keep non-string keys. */
export function writeYaml(value: unknown): string {
  const document = new YAML.Document(undefined, OPTIONS);
  document.contents = toNode(document, value);
  return document.toString({ lineWidth: 0 });
}

// The 1.1 schema would write a JS Map as `!!omap`, which PyYAML does not load as a dict, so
// maps are built node by node.
function toNode(document: YAML.Document, value: unknown): YAML.Node {
  if (value instanceof Map) {
    const map = new YAML.YAMLMap();
    for (const [key, item] of value) map.add(new YAML.Pair(document.createNode(key), toNode(document, item)));
    return map;
  }
  if (Array.isArray(value)) {
    const seq = new YAML.YAMLSeq();
    for (const item of value) seq.add(toNode(document, item));
    return seq;
  }
  if (value !== null && typeof value === 'object') {
    return toNode(document, new Map(Object.entries(value)));
  }
  return document.createNode(value);
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/**
 * A value from `readYaml` as plain JavaScript: mappings become objects (keys as strings)
 * and integers become numbers when they fit.
 */
export function toPlainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
  }
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([key, item]) => [String(key), toPlainValue(item)]));
  }
  if (Array.isArray(value)) return value.map(toPlainValue);
  return value;
}
