/**
 * A `fetch` that counts what the SDK sends: requests per method, request body bytes and the
 * bytes of files in multipart bodies, so a workload can show that a second push or upload
 * sends (almost) nothing. Handed to the SDK through its `fetch` option; headers are not
 * counted.
 */

/** Bytes of a fetch body the SDK may pass; streams are not expected and count as unknown. */
function bodyBytes(body) {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  if (body instanceof Blob) return body.size;
  if (body instanceof URLSearchParams) return Buffer.byteLength(body.toString());
  if (body instanceof FormData) return [...body.values()].reduce((sum, value) => sum + bodyBytes(value), 0);
  return Number.NaN;
}

/**
 * Bytes of the files a multipart body carries: a `FormData`'s files, or the whole of a body
 * already encoded as `multipart/form-data` (as the SDK sends its picture forms; its part
 * headers are counted too, so this is an upper bound).
 */
function formFileBytes(body, headers) {
  if (body instanceof FormData) {
    return [...body.values()].reduce((sum, value) => sum + (value instanceof Blob ? value.size : 0), 0);
  }
  const type = new Headers(headers).get('content-type') ?? '';
  return type.startsWith('multipart/form-data') ? bodyBytes(body) : 0;
}

/**
 * @example
 *   const counter = countingFetch();
 *   const lake = new Datalake({ url, fetch: counter.fetch });
 *   counter.reset(); await lake.pictures.upload(dir); counter.totals(); // { requests, bodyBytes, byMethod }
 */
export function countingFetch(inner = globalThis.fetch) {
  let byMethod = {};
  /** @type {typeof fetch} */
  const counted = (input, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const entry = byMethod[method] ?? { requests: 0, bodyBytes: 0, formFileBytes: 0 };
    byMethod[method] = entry;
    entry.requests += 1;
    entry.bodyBytes += bodyBytes(init.body);
    entry.formFileBytes += formFileBytes(init.body, init.headers);
    return inner(input, init);
  };
  return {
    fetch: counted,
    reset() {
      byMethod = {};
    },
    totals() {
      const entries = Object.values(byMethod);
      return {
        requests: entries.reduce((sum, entry) => sum + entry.requests, 0),
        bodyBytes: entries.reduce((sum, entry) => sum + entry.bodyBytes, 0),
        formFileBytes: entries.reduce((sum, entry) => sum + entry.formFileBytes, 0),
        byMethod: structuredClone(byMethod),
      };
    },
  };
}
