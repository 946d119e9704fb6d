/**
 * Stock packs built byte by byte as packages/stock/FORMAT.md lays them out, for the tests of
 * the server's pack reading and of the pack routes (written here, not by the stock package,
 * so that the server is checked against the format rather than against itself).
 */
import { hash } from 'node:crypto';

/** A stock object's bytes: the magic, an 8-byte-aligned header, a payload. */
export function stockObject(index: number, payloadBytes: number): Buffer {
  const header = Buffer.from('{"kind":"tensor","dtype":"uint8","shape":[1]}');
  const padded = Math.ceil((8 + header.length) / 8) * 8 - 8;
  const bytes = Buffer.alloc(8 + padded + payloadBytes, 0x20);
  bytes.write('LSO1', 0, 'latin1');
  bytes.writeUInt32LE(padded, 4);
  header.copy(bytes, 8);
  bytes.fill(index & 0xff, 8 + padded);
  bytes.writeUInt32LE(index, 8 + padded);
  return bytes;
}

/** A pack of `count` objects of varied sizes (from `first` on), its SHA-256 and its objects by id. */
export function stockPack(count: number, first = 0): { bytes: Buffer; name: string; objects: Map<string, Buffer> } {
  const made = Array.from({ length: count }, (_, at) => stockObject(first + at, 4 + (((first + at) * 13) % 300)));
  const { bytes, name, ids } = packOf(made);
  return { bytes, name, objects: new Map(ids.map((id, at) => [id, made[at] as Buffer])) };
}

/** A stock object holding JSON (a commit, a model manifest): the magic, a `{ kind }` header, the JSON. */
export function stockJsonObject(kind: string, value: unknown): Buffer {
  const header = Buffer.from(JSON.stringify({ kind }));
  const padded = Math.ceil((8 + header.length) / 8) * 8 - 8;
  const payload = Buffer.from(JSON.stringify(value));
  const bytes = Buffer.alloc(8 + padded + payload.length, 0x20);
  bytes.write('LSO1', 0, 'latin1');
  bytes.writeUInt32LE(padded, 4);
  header.copy(bytes, 8);
  payload.copy(bytes, 8 + padded);
  return bytes;
}

/** A pack of the given objects, in order: its bytes, its SHA-256 and the objects' ids. */
export function packOf(objects: readonly Buffer[]): { bytes: Buffer; name: string; ids: string[] } {
  const parts: Buffer[] = [Buffer.from('LSP1\x01\0\0\0\0\0\0\0\0\0\0\0', 'latin1')];
  const ids: string[] = [];
  for (const object of objects) {
    const id = hash('sha256', object, 'hex');
    ids.push(id);
    const entry = Buffer.alloc(40);
    entry.write(id, 0, 32, 'hex');
    entry.writeUInt32LE(object.length, 32);
    parts.push(entry, object, Buffer.alloc((8 - (object.length % 8)) % 8));
  }
  const bytes = Buffer.concat(parts);
  return { bytes, name: hash('sha256', bytes, 'hex'), ids };
}

/** A stock commit object naming `samples` (name → object id) in data column `images`. */
export function commitNaming(samples: Record<string, string>, parents: string[] = [], message = 'samples'): Buffer {
  return stockJsonObject('commit', {
    format: 'larder-stock-commit/1',
    parents,
    message,
    author: 'test',
    time: '2026-01-01T00:00:00.000Z',
    tree: { 'data/images': samples },
    columns: { images: 'uint8' },
  });
}
