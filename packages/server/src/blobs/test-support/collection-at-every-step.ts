/**
 * The stepped-collection race test for services whose records name blobs (registry models
 * and versions, Marcelle's models), after `documents/document-service-blobs.test.ts`: a write
 * runs once per call it makes on the stores, with a whole garbage collection before that call.
 * Before every call, as any reader could, the test looks for a record naming the write's blob
 * while the blob is gone; after the write, it either failed (503 "upload again", or the naming
 * check's 400) leaving nothing, or landed with every blob any record names kept.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LarderError, MATCH_ALL } from '@larder/protocol';
import { expect } from 'vitest';
import type { Actor } from '../../auth/actor.js';
import { recordBlobClaim } from '../../auth/blob-access.js';
import type { DocumentStore } from '../../stores/document-store.js';
import type { BlobStore } from '../blob-store.js';
import { blobHashesIn } from '../lifecycle/blob-hashes-in-document.js';
import { recordUpload } from '../lifecycle/blob-uploads.js';
import { GarbageCollector } from '../lifecycle/garbage-collector.js';
import { stepped } from './stepped-calls.js';

const HOUR = 3_600_000;

export interface Stores {
  store: DocumentStore;
  blobs: BlobStore;
}

export interface OldBlob {
  sha256: string;
  size: number;
}

/** An upload of an hour ago that nothing references, claimed by `actor`: exactly what a collection deletes. */
export async function oldBlob({ store, blobs }: Stores, actor: Actor): Promise<OldBlob> {
  const { sha256, size } = await blobs.put(Readable.from([randomBytes(300)]));
  await recordUpload(store, sha256, Date.now() - HOUR);
  await recordBlobClaim(store, actor, sha256);
  return { sha256, size };
}

/** The records of `collections` that name `sha256` (`{ sha256 }` at any depth), as `<collection>/<id>`. */
async function namers({ store }: Stores, collections: readonly string[], sha256: string): Promise<string[]> {
  const found: string[] = [];
  for (const collection of collections) {
    for (const record of await store.find(collection, { filter: MATCH_ALL })) {
      if (blobHashesIn(record).has(sha256)) found.push(`${collection}/${record._id}`);
    }
  }
  return found;
}

/** Every blob a record of `collections` names is stored, and a collection now (no grace) keeps it. */
async function expectNamedBlobsKept(stores: Stores, collections: readonly string[]): Promise<void> {
  const named = new Set<string>();
  for (const collection of collections) {
    for (const record of await stores.store.find(collection, { filter: MATCH_ALL })) {
      for (const sha256 of blobHashesIn(record)) named.add(sha256);
    }
  }
  for (const sha256 of named) expect(await stores.blobs.stat(sha256), sha256).toBeDefined();
  await new GarbageCollector(stores.store, stores.blobs).collect({ graceMs: 0 });
  for (const sha256 of named) expect(await stores.blobs.stat(sha256), sha256).toBeDefined();
}

export interface EveryStep<Input extends { blob: OldBlob }> {
  stores: Stores;
  /** The collections whose records must never name a blob that is gone. */
  watched: readonly string[];
  /** The input of run `run`, made on the undisturbed stores: its fresh blob and whatever it writes to. */
  prepare: (run: string) => Promise<Input>;
  /** The write, on the stepped stores. */
  write: (stores: Stores, input: Input, run: string) => Promise<unknown>;
  /** After a refusal: asserts the write left nothing a reader would see. */
  leftNothing: (input: Input, run: string) => Promise<void>;
}

/**
 * Runs the write with a collection before each of its calls in turn (and once with none),
 * and answers at which calls it was made and at which refused.
 *
 * @example
 * const { made, refused } = await collectAtEveryStep({ stores, watched: ['models'], prepare, write, leftNothing });
 * expect(Math.max(...refused)).toBeLessThan(Math.min(...made));
 */
export async function collectAtEveryStep<Input extends { blob: OldBlob }>(
  test: EveryStep<Input>,
): Promise<{ made: number[]; refused: number[] }> {
  const { store, blobs } = test.stores;
  const counted = { calls: 0 };
  const quiet = async () => {};
  const undisturbed = { store: stepped(store, counted, quiet), blobs: stepped(blobs, counted, quiet) };
  await test.write(undisturbed, await test.prepare('quiet'), 'quiet');
  const steps = counted.calls;
  expect(steps).toBeGreaterThan(4);
  const collector = new GarbageCollector(store, blobs);
  const made: number[] = [];
  const refused: number[] = [];
  for (let at = 0; at <= steps; at += 1) {
    const run = `at-${at}`;
    const input = await test.prepare(run);
    const seen: string[] = [];
    const calls = { calls: 0 };
    const before = async (step: number) => {
      if (step === at) await collector.collect({ graceMs: HOUR / 2 });
      // What a reader could be handed at this moment: a record naming bytes that are gone.
      if ((await blobs.stat(input.blob.sha256)) !== undefined) return;
      for (const each of await namers(test.stores, test.watched, input.blob.sha256)) {
        seen.push(`${each} before call ${step}`);
      }
    };
    try {
      await test.write({ store: stepped(store, calls, before), blobs: stepped(blobs, calls, before) }, input, run);
      made.push(at);
    } catch (error) {
      expect(error).toBeInstanceOf(LarderError);
      expect(['Unavailable', 'BadRequest'], String(error)).toContain((error as LarderError).name);
      await test.leftNothing(input, run);
      refused.push(at);
    }
    expect(seen, `a record named the collected blob (collection before call ${at})`).toEqual([]);
    await expectNamedBlobsKept(test.stores, test.watched);
  }
  // A collection before the write's reference takes the bytes; one after it keeps them.
  expect(refused.length).toBeGreaterThan(0);
  expect(made.length).toBeGreaterThan(0);
  expect(Math.max(...refused)).toBeLessThan(Math.min(...made));
  return { made, refused };
}
