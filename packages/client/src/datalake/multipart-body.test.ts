import { describe, expect, it } from 'vitest';
import { multipartBody } from './multipart-body.js';

/** The entries a standard parser (undici's, as in `fetch`) reads from a body. */
async function parsed(body: Buffer, contentType: string) {
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  return Promise.all(
    [...form.entries()].map(async ([name, value]) =>
      typeof value === 'string'
        ? { name, value }
        : { name, filename: value.name, bytes: Buffer.from(await value.arrayBuffer()) },
    ),
  );
}

/** The same parts sent the way `fetch` encodes a `FormData`. */
async function viaFormData(parts: { name: string; value: string | Buffer; filename?: string }[]) {
  const form = new FormData();
  for (const part of parts) {
    if (part.filename === undefined) form.append(part.name, part.value as string);
    else form.append(part.name, new Blob([new Uint8Array(part.value as Buffer)]), part.filename);
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return parsed(Buffer.from(await request.arrayBuffer()), request.headers.get('content-type') as string);
}

describe('multipartBody', () => {
  it('reads back as FormData would have sent it: fields, files, awkward names and bytes', async () => {
    const parts = [
      { name: 'tags', value: 'cat' },
      { name: 'tags', value: 'two\nlines' },
      { name: 'source', value: 'sdk' },
      { name: 'file', filename: 'a "quoted"\r\nname.jpg', value: Buffer.from([0xff, 0xd8, 0x0d, 0x0a, 0x2d, 0x2d]) },
      { name: 'file', filename: 'été.txt', value: Buffer.from('--\r\n--boundary?\r\n') },
      { name: 'file', filename: 'empty.bin', value: Buffer.alloc(0) },
    ];
    const { body, contentType } = multipartBody(parts);
    expect(contentType).toMatch(/^multipart\/form-data; boundary=-+LarderFormBoundary[0-9a-f]{32}$/);
    const ours = await parsed(body, contentType);
    expect(ours).toEqual(await viaFormData(parts));
    // Escaped on the wire, so a name cannot end its header early; parsers read it back.
    expect(body.includes('filename="a %22quoted%22%0D%0Aname.jpg"')).toBe(true);
    expect(ours[3]).toMatchObject({ filename: 'a "quoted"\r\nname.jpg' });
    expect(ours[4]?.bytes?.toString()).toBe('--\r\n--boundary?\r\n');
    expect(ours[5]?.bytes?.length).toBe(0);
  });

  it('draws a new boundary for every body', () => {
    const first = multipartBody([{ name: 'a', value: 'x' }]).contentType;
    expect(multipartBody([{ name: 'a', value: 'x' }]).contentType).not.toBe(first);
  });
});
