/**
 * Listens to what the process writes to stdout and stderr, passing every write on unchanged.
 * `process.stdout.write` and `process.stderr.write` are wrapped once, whatever the number
 * of listeners (several runs open at once), and put back when the last one stops, so
 * listeners may stop in any order. Output written to the file descriptors directly (a child
 * process, native code) does not pass through here.
 */

export type ConsoleStream = 'stdout' | 'stderr';
/** Receives each write as given: a string, or bytes (decoded by the listener). */
export type ConsoleListener = (stream: ConsoleStream, chunk: string | Uint8Array) => void;

type Write = typeof process.stdout.write;

const listeners = new Set<ConsoleListener>();
let originals: { stdout: Write; stderr: Write } | undefined;

function wrap(stream: ConsoleStream, original: Write): Write {
  return function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
    // A string in another encoding ('hex', 'base64') stands for the bytes it encodes.
    const given =
      typeof chunk === 'string' && encoding && !/^utf-?8$/i.test(encoding) ? Buffer.from(chunk, encoding) : chunk;
    if (typeof given !== 'string' && !(given instanceof Uint8Array)) {
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    }
    for (const listener of listeners) {
      try {
        listener(stream, given);
      } catch {
        // A listener's trouble never changes what the program writes.
      }
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Write;
}

/**
 * Calls `listener` with every write to stdout or stderr until the returned
 * function is called.
 *
 * @example
 * const stop = tapConsole((stream, text) => lines.push([stream, text]));
 * console.log('hello'); // lines: [['stdout', 'hello\n']]
 * stop();
 */
export function tapConsole(listener: ConsoleListener): () => void {
  listeners.add(listener);
  if (!originals) {
    originals = { stdout: process.stdout.write, stderr: process.stderr.write };
    process.stdout.write = wrap('stdout', originals.stdout);
    process.stderr.write = wrap('stderr', originals.stderr);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && originals) {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
      originals = undefined;
    }
  };
}
