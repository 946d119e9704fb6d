/**
 * Field indexes stay in step with the documents: inserts, changes and removals made after a
 * field was indexed are seen by queries that use the index, and a field becomes indexed by
 * itself once equality filters use it often enough.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFilter } from '@larder/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDocumentStore } from './sqlite-document-store.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';

const f = (filter: object) => parseFilter(filter);

describe('SQLite field indexes', () => {
  let dir: string;
  let store: SqliteDocumentStore;
  const file = () => join(dir, 'larder.db');
  const indexRows = (path: string) =>
    (
      new Database(file(), { readonly: true })
        .prepare('SELECT count(*) AS n FROM field_postings JOIN field_terms USING (term) WHERE path = ?')
        .get(path) as {
        n: number;
      }
    ).n;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-index-'));
    store = new SqliteDocumentStore({ file: file(), maxIndexSelectivity: 1 });
    await store.open();
    await store.insert('runs', [
      { _id: 'r1', group: 'a', tags: ['x', 'y'], done: true, n: 1 },
      { _id: 'r2', group: 'b', tags: ['y'], done: false, n: 2 },
      { _id: 'r3', group: 'a', n: '2' },
    ]);
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ids = async (filter: object) => (await store.find('runs', { filter: f(filter) })).map((d) => d._id);

  it('indexes a field after a few equality queries, and answers the same', async () => {
    expect(indexRows('$."group"')).toBe(0);
    for (let i = 0; i < 3; i++) expect(await ids({ group: 'a' })).toEqual(['r1', 'r3']);
    expect(indexRows('$."group"')).toBe(3);
    expect(await ids({ group: 'a' })).toEqual(['r1', 'r3']);
  });

  it('keeps type brackets and array elements', async () => {
    await store.indexField('runs', ['n']);
    await store.indexField('runs', ['tags']);
    await store.indexField('runs', ['done']);
    expect(await ids({ n: 2 })).toEqual(['r2']);
    expect(await ids({ n: '2' })).toEqual(['r3']);
    expect(await ids({ tags: 'y' })).toEqual(['r1', 'r2']);
    expect(await ids({ tags: { $in: ['x', 'z'] } })).toEqual(['r1']);
    expect(await ids({ tags: { $nin: ['y'] } })).toEqual(['r3']);
    expect(await ids({ done: false })).toEqual(['r2']);
  });

  it('follows inserts, changes and removals made after indexing', async () => {
    await store.indexField('runs', ['group']);
    await store.insert('runs', [{ _id: 'r4', group: 'a' }]);
    expect(await ids({ group: 'a' })).toEqual(['r1', 'r3', 'r4']);
    await store.modify('runs', f({ _id: 'r1' }), (doc) => ({ ...doc, group: 'c' }));
    expect(await ids({ group: 'a' })).toEqual(['r3', 'r4']);
    expect(await ids({ group: 'c' })).toEqual(['r1']);
    await store.remove('runs', f({ group: 'a' }));
    expect(await ids({ group: { $in: ['a', 'b', 'c'] } })).toEqual(['r1', 'r2']);
    expect(indexRows('$."group"')).toBe(2);
  });

  it('is left unused when a value would match a large share of the documents', async () => {
    const selective = new SqliteDocumentStore({ file: join(dir, 'other.db') });
    await selective.open();
    await selective.insert(
      'runs',
      Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, owner: 'me', bucket: `b${i % 20}` })),
    );
    await selective.indexField('runs', ['owner']);
    await selective.indexField('runs', ['bucket']);
    const plan = (filter: object) => {
      const db = new Database(join(dir, 'other.db'), { readonly: true });
      const { sql, params } = (
        selective as unknown as { compileMatches: (...args: unknown[]) => { sql: string; params: unknown[] } }
      ).compileMatches('runs', { filter: f(filter) }, 'id');
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
        .map((r) => r.detail)
        .join(' ');
    };
    expect(plan({ owner: 'me' })).not.toContain('(term=?)');
    expect(plan({ bucket: 'b3' })).toContain('(term=?)');
    expect((await selective.find('runs', { filter: f({ bucket: 'b3', owner: 'me' }) })).length).toBe(5);
    await selective.close();
  });

  it('survives a restart', async () => {
    await store.indexField('runs', ['group']);
    await store.close();
    store = new SqliteDocumentStore({ file: file(), maxIndexSelectivity: 1 });
    await store.open();
    await store.insert('runs', [{ _id: 'r5', group: 'b' }]);
    expect(await ids({ group: 'b' })).toEqual(['r2', 'r5']);
    expect(indexRows('$."group"')).toBe(4);
  });

  it('upgrades a field index kept as schema version 2 kept it (rows of text ids) to postings', async () => {
    const old = join(dir, 'v2.db');
    const db = new Database(old);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const migration of SQLITE_MIGRATIONS.slice(0, 2)) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(migration.version, 'then');
    }
    const documents = [
      { _id: 'o1', tags: ['x', 'y', 'x'], done: true },
      { _id: 'o2', tags: ['y'], done: false },
      { _id: 'o3', tags: 'x' },
    ];
    for (const doc of documents)
      db.prepare('INSERT INTO documents VALUES (?, ?, jsonb(?))').run('old', doc._id, JSON.stringify(doc));
    db.exec(`INSERT INTO indexed_fields VALUES ('old', '$."tags"', 'then'), ('old', '$."done"', 'then');
      INSERT INTO field_values VALUES ('old', '$."tags"', 2, 'x', 'o1'), ('old', '$."tags"', 2, 'y', 'o1'),
        ('old', '$."tags"', 2, 'x', 'o1'), ('old', '$."tags"', 2, 'y', 'o2'), ('old', '$."tags"', 2, 'x', 'o3'),
        ('old', '$."done"', 4, NULL, 'o1'), ('old', '$."done"', 3, NULL, 'o2');`);
    db.close();
    const upgraded = new SqliteDocumentStore({ file: old, maxIndexSelectivity: 1 });
    await upgraded.open();
    const find = async (filter: object) => (await upgraded.find('old', { filter: f(filter) })).map((d) => d._id);
    const check = new Database(old, { readonly: true });
    const postings = check.prepare('SELECT count(*) AS n FROM field_postings').get() as { n: number };
    const version = check.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number };
    check.close();
    expect(version.v).toBe(SQLITE_MIGRATIONS.length);
    expect(postings.n).toBe(6);
    expect(await find({ $and: [{ tags: 'x' }, { tags: 'y' }] })).toEqual(['o1']);
    expect(await find({ done: true })).toEqual(['o1']);
    await upgraded.insert('old', [{ _id: 'o4', tags: ['y', 'x'] }]);
    await upgraded.remove('old', f({ _id: 'o1' }));
    expect(await find({ $and: [{ tags: 'x' }, { tags: 'y' }] })).toEqual(['o4']);
    await upgraded.close();
  });
});

describe('SQLite field index maintenance', () => {
  /** Every (path, kind, value) → sorted ids, and each term's kept count, as the index holds them. */
  const indexContents = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      const postings = db
        .prepare(
          `SELECT t.path, t.kind, t.value, n.id FROM field_postings p JOIN field_terms t USING (term)
           JOIN document_numbers n ON n.no = p.no ORDER BY t.path, t.kind, t.value, n.id`,
        )
        .all() as { path: string; kind: number; value: unknown; id: string }[];
      const byTerm = new Map<string, string[]>();
      for (const row of postings) {
        const key = `${row.path} ${row.kind} ${String(row.value)}`;
        byTerm.set(key, [...(byTerm.get(key) ?? []), row.id]);
      }
      const counts = db
        .prepare(
          `SELECT t.path, t.kind, t.value, t.postings, (SELECT count(*) FROM field_postings p WHERE p.term = t.term) AS n
           FROM field_terms t WHERE t.postings > 0 OR t.term IN (SELECT term FROM field_postings)`,
        )
        .all() as { postings: number; n: number }[];
      return { byTerm: Object.fromEntries(byTerm), countsAgree: counts.every((row) => row.postings === row.n) };
    } finally {
      db.close();
    }
  };

  it('holds, after inserts, changes and removals, what a fresh index of the same documents holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'larder-index-'));
    const kept = new SqliteDocumentStore({ file: join(dir, 'kept.db'), maxIndexSelectivity: 1 });
    const fresh = new SqliteDocumentStore({ file: join(dir, 'fresh.db'), maxIndexSelectivity: 1 });
    try {
      await kept.open();
      await kept.insert('pictures', [{ _id: 'seed', tags: ['s'] }]);
      for (const path of [['tags'], ['meta', 'kind'], ['n'], ['flag']]) await kept.indexField('pictures', path);
      // Values of every kind the index tells apart, arrays with repeats, nested and missing paths.
      const shapes = (i: number) => ({
        _id: `p${i}`,
        tags: i % 4 === 0 ? ['a', 'a', 1, true, null, ['nested'], { o: 1 }] : [`g${i % 3}`, i % 2],
        meta: i % 5 === 0 ? 'not an object' : { kind: i % 3 === 0 ? 'x' : i },
        n: i % 6 === 0 ? '1' : i % 7 === 0 ? null : 1.5 * (i % 4),
        ...(i % 2 === 0 ? { flag: i % 4 === 0 } : {}),
      });
      await kept.insert(
        'pictures',
        Array.from({ length: 40 }, (_, i) => shapes(i)),
      );
      await kept.modify('pictures', f({ _id: { $in: ['p1', 'p2', 'p8', 'p9'] } }), (doc) => ({
        ...doc,
        tags: ['a', 'moved', 2],
        meta: { kind: 'x' },
      }));
      await kept.modify('pictures', f({ _id: 'p3' }), (doc) => ({ ...doc, note: 'tags unchanged' }));
      await kept.modify('pictures', f({ _id: 'p5' }), (doc) => {
        const { tags: _, ...rest } = doc;
        return rest;
      });
      await kept.remove('pictures', f({ _id: { $in: ['p0', 'p4', 'seed'] } }));
      const documents = await kept.find('pictures', { filter: f({}) });
      await kept.close();

      await fresh.open();
      await fresh.insert('pictures', documents);
      for (const path of [['tags'], ['meta', 'kind'], ['n'], ['flag']]) await fresh.indexField('pictures', path);
      await fresh.close();

      const incremental = indexContents(join(dir, 'kept.db'));
      const rebuilt = indexContents(join(dir, 'fresh.db'));
      expect(incremental.countsAgree).toBe(true);
      expect(rebuilt.countsAgree).toBe(true);
      expect(incremental.byTerm).toEqual(rebuilt.byTerm);
      expect(Object.keys(rebuilt.byTerm).length).toBeGreaterThan(10);
    } finally {
      await kept.close();
      await fresh.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
