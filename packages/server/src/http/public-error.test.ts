import { LarderError } from '@larder/protocol';
import { describe, expect, test } from 'vitest';
import { publicError } from './public-error.js';

describe('what a client may hear of an error', () => {
  test('client errors keep their sentence', () => {
    const thrown = new LarderError('BadRequest', 'Say what to do');
    expect(publicError(thrown)).toMatchObject({ error: { code: 400, message: 'Say what to do' }, unexpected: false });
  });

  test('anything unexpected is the generic 500, flagged for the log, without its message', () => {
    const { error, unexpected } = publicError(
      new TypeError("Cannot read properties of undefined (reading 'x') at /srv/a.js"),
    );
    expect(unexpected).toBe(true);
    expect(error.toJSON()).toEqual({
      name: 'GeneralError',
      message: 'Internal server error',
      code: 500,
      className: 'general-error',
    });
  });

  test('a catch-all LarderError made from a driver error hides the driver message too', () => {
    const thrown = new LarderError('GeneralError', 'SQLITE_ERROR: /var/lib/larder.db is malformed', {
      cause: new Error('x'),
    });
    expect(publicError(thrown).error.message).toBe('Internal server error');
  });

  test('a deliberate 503 keeps its "try again", as a LarderError and as error JSON from a socket', () => {
    const unavailable = new LarderError('Unavailable', 'The metadata database is unreachable; try again shortly');
    expect(publicError(unavailable).error.message).toMatch(/try again/);
    expect(publicError(unavailable.toJSON())).toMatchObject({ error: { code: 503 }, unexpected: false });
  });

  test('the own properties Feathers copies from a raw error (stack included) become the generic 500', () => {
    const copied = { message: 'boom', stack: 'TypeError: boom\n    at /work/x.js:1:1' };
    const { error, unexpected } = publicError(copied);
    expect(unexpected).toBe(true);
    expect(JSON.stringify(error.toJSON())).not.toMatch(/stack|boom|work/);
  });

  test('Koa body parser errors (status 400, 413) are client errors', () => {
    const parse = Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400, expose: true });
    expect(publicError(parse).error).toMatchObject({ code: 400, message: expect.stringMatching(/^Invalid JSON body/) });
    const large = Object.assign(new Error('request entity too large'), { status: 413 });
    expect(publicError(large).error).toMatchObject({ code: 413, message: 'The request body is too large' });
  });
});
