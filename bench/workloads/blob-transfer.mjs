/**
 * Blob throughput and server memory: a streaming upload (`POST /blobs` fed from a file)
 * and a streaming download (`GET /blobs/<sha256>` hashed and discarded), each checked
 * against the file's SHA-256, with the server's RSS sampled every 50 ms throughout.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { baselineRss, sampleRss, toMiB } from '../measure/rss-sampler.mjs';
import { CHUNK_BYTES } from './disk-write.mjs';

function upload(url, file) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/blobs`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': file.bytes },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 201) reject(new Error(`POST /blobs answered ${response.statusCode}: ${text}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    request.on('error', reject);
    pipeline(createReadStream(file.path, { highWaterMark: CHUNK_BYTES }), request).catch(reject);
  });
}

function download(url, sha256) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}/blobs/${sha256}`, { agent: false }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET /blobs/${sha256} answered ${response.statusCode}`));
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      const sink = new Writable({
        write(chunk, _encoding, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          callback();
        },
      });
      pipeline(response, sink).then(() => resolve({ sha256: hash.digest('hex'), size: bytes }), reject);
    });
    request.on('error', reject);
  });
}

/** Runs `transfer` while sampling `pid`'s RSS; answers MB/s and the memory figures. */
async function measured(pid, bytes, transfer) {
  const baseline = await baselineRss(pid);
  const sampler = sampleRss(pid);
  const started = performance.now();
  const answer = await transfer();
  const seconds = (performance.now() - started) / 1000;
  const { peakBytes, samples } = sampler.stop();
  const peak = Math.max(peakBytes, baseline);
  return {
    answer,
    figures: {
      bytes,
      seconds: Math.round(seconds * 1000) / 1000,
      mbPerSec: Math.round(bytes / 1e6 / seconds),
      rss: { baselineMiB: toMiB(baseline), peakMiB: toMiB(peak), growthMiB: toMiB(peak - baseline), samples },
    },
  };
}

/**
 * Uploads `file`, checking the answered hash and size.
 * @param {{ url: string, pid: number }} server
 * @param {{ path: string, bytes: number, sha256: string }} file
 */
export async function measureUpload(server, file) {
  const { answer, figures } = await measured(server.pid, file.bytes, () => upload(server.url, file));
  if (answer.sha256 !== file.sha256 || answer.size !== file.bytes) {
    throw new Error(
      `Upload answered ${JSON.stringify(answer)}, expected sha256 ${file.sha256} and ${file.bytes} bytes`,
    );
  }
  return { ...figures, sha256Verified: true };
}

/** Downloads the uploaded `file` back, checking the hash of what arrives. */
export async function measureDownload(server, file) {
  const { answer, figures } = await measured(server.pid, file.bytes, () => download(server.url, file.sha256));
  if (answer.sha256 !== file.sha256 || answer.size !== file.bytes) {
    throw new Error(`Download hashed to ${answer.sha256} (${answer.size} bytes), expected ${file.sha256}`);
  }
  return { ...figures, sha256Verified: true };
}
