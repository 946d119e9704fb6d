/**
 * A folder of small, distinct JPEG pictures made with `sharp`: each is Gaussian noise over
 * its own colour, so no two share bytes and each compresses like a photo rather than a flat
 * fill (about 3.4 kB at 96×96).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

const SIDE = 96;
/** Pictures encoded at once: sharp runs each on libvips' own threads. */
const CONCURRENCY = 4;

function picture(index) {
  const channel = (shift) => 40 + (((index * 2_654_435_761) >>> shift) % 176);
  return sharp({
    create: {
      width: SIDE,
      height: SIDE,
      channels: 3,
      background: { r: channel(0), g: channel(8), b: channel(16) },
      noise: { type: 'gaussian', mean: 96 + (index % 64), sigma: 24 },
    },
  })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** Writes `count` pictures `picture-00000.jpg`… into `folder`; answers their total size. */
export async function makePictureFolder(folder, count) {
  await mkdir(folder, { recursive: true });
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const index = next++;
        const jpeg = await picture(index);
        bytes += jpeg.byteLength;
        await writeFile(join(folder, `picture-${String(index).padStart(5, '0')}.jpg`), jpeg);
      }
    }),
  );
  return { count, bytes };
}
