/** Test set-up shared by the stock route tests. */
import { expect } from 'vitest';
import type { TestServer } from '../../../../test/support/test-server.js';

/** Creates a stock repository as the caller of `token` (201 expected) and answers its id. */
export async function newStockRepository(
  server: TestServer,
  name: string,
  token: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const created = await server.request('POST', '/stock-repos', { token, body: { name, ...body } });
  expect(created.status).toBe(201);
  return created.body._id as string;
}
