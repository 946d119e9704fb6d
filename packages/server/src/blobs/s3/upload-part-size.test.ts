import { LarderError } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { MAX_OBJECT_BYTES, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES, uploadPartBytes } from './upload-part-size.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const allParts = Array.from({ length: MAX_PARTS }, (_, index) => uploadPartBytes(index + 1));

/** How many parts an upload of `bytes` takes, and its largest part. */
function partsFor(bytes: number): { parts: number; largest: number } {
  let sent = 0;
  let parts = 0;
  let largest = 0;
  while (sent < bytes) {
    const part = uploadPartBytes(parts + 1);
    sent += part;
    largest = part;
    parts++;
  }
  return { parts, largest };
}

describe('uploadPartBytes', () => {
  it('keeps every part within what S3 takes, never shrinking', () => {
    for (const [index, bytes] of allParts.entries()) {
      expect(bytes).toBeGreaterThanOrEqual(MIN_PART_BYTES);
      expect(bytes).toBeLessThanOrEqual(MAX_PART_BYTES);
      if (index > 0) expect(bytes).toBeGreaterThanOrEqual(allParts[index - 1] as number);
    }
  });

  it("fits S3's largest object in its 10,000 parts", () => {
    const total = allParts.reduce((sum, bytes) => sum + bytes, 0);
    expect(total).toBeGreaterThanOrEqual(MAX_OBJECT_BYTES);
    expect(partsFor(MAX_OBJECT_BYTES).parts).toBeLessThanOrEqual(MAX_PARTS);
  });

  it('fits blobs past the 78 GiB that fixed 8 MiB parts stopped at', () => {
    expect(partsFor(80 * GIB).parts).toBeLessThanOrEqual(MAX_PARTS);
    expect(partsFor(1024 * GIB).parts).toBeLessThanOrEqual(MAX_PARTS);
  });

  it("keeps parts at S3's minimum for blobs up to 4 GiB, so an upload holds little memory", () => {
    expect(partsFor(4 * GIB).largest).toBe(MIN_PART_BYTES);
    expect(partsFor(64 * GIB).largest).toBeLessThanOrEqual(64 * MIB);
  });

  it("refuses a part past S3's last with PayloadTooLarge", () => {
    expect(() => uploadPartBytes(MAX_PARTS)).not.toThrow();
    expect(() => uploadPartBytes(MAX_PARTS + 1)).toThrow(LarderError);
    expect(() => uploadPartBytes(MAX_PARTS + 1)).toThrow(
      expect.objectContaining({ name: 'PayloadTooLarge', code: 413 }),
    );
    expect(() => uploadPartBytes(0)).toThrow(RangeError);
  });
});
