/**
 * How large each part of a streamed multipart upload is, when the blob's size is known only
 * once its last byte has arrived. S3 takes at most 10,000 parts of 5 MiB to 5 GiB (the last
 * may be smaller) and objects of up to 5 TiB: fixed small parts would stop a blob at 10,000
 * times their size, fixed large ones would cost every upload their size in memory. So parts
 * start at S3's minimum and double every 900 parts: blobs up to 4.4 GiB go in 5 MiB parts,
 * and 10,000 parts hold more than 5 TiB. Memory follows: an upload holds three parts at most.
 */
import { LarderError } from '@larder/protocol';

const MIB = 1024 * 1024;
/** S3's smallest part but the last. */
export const MIN_PART_BYTES = 5 * MIB;
/** S3's largest part. */
export const MAX_PART_BYTES = 5 * 1024 * MIB;
/** S3's most parts in one upload. */
export const MAX_PARTS = 10_000;
/** S3's largest object. */
export const MAX_OBJECT_BYTES = 5 * 1024 * 1024 * MIB;
/** Parts of one size before the size doubles. */
const PARTS_PER_SIZE = 900;

/**
 * The size of part `partNumber` (from 1) of an upload whose length is unknown; past S3's
 * last part the upload is too large for S3 and is refused.
 * @example
 * uploadPartBytes(1); // 5 MiB
 * uploadPartBytes(901); // 10 MiB
 */
export function uploadPartBytes(partNumber: number): number {
  if (!Number.isInteger(partNumber) || partNumber < 1) throw new RangeError(`No part number ${partNumber}`);
  if (partNumber > MAX_PARTS) {
    throw new LarderError('PayloadTooLarge', `The upload needs more than S3's ${MAX_PARTS} parts.`, {
      data: { maxBytes: MAX_OBJECT_BYTES },
    });
  }
  const doublings = Math.floor((partNumber - 1) / PARTS_PER_SIZE);
  return Math.min(MIN_PART_BYTES * 2 ** doublings, MAX_PART_BYTES);
}
