/** Assertions on the Feathers error JSON a refused request answers. */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from './test-server.js';

export type Answer = Awaited<ReturnType<TestServer['request']>>;

/** Asserts a Feathers error JSON body with this status, error name and message. */
export function expectError(answer: Answer, code: number, name: string, message: RegExp): void {
  expect({ status: answer.status, body: answer.body }).toMatchObject({
    status: code,
    body: { name, code, message: expect.stringMatching(message) },
  });
  expect(typeof answer.body.className).toBe('string');
}

export const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');
