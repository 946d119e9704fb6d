/**
 * Captures the training process's stdout and stderr into its run while the run is open
 * (`captureConsole: false` turns it off): every write passes on unchanged and is also
 * recorded, with its time and stream, in the run's `console.ndjson`. `finish()` closes the
 * log with the run's status; a process that exits without it (a crash, `process.exit`)
 * closes it with `Interrupted` and its exit code, written synchronously, and the error
 * that crashed it, which Node prints to stderr itself, is recorded too.
 */
import { join } from 'node:path';
import { CONSOLE_FILE, type ConsoleEnd, ConsoleLogWriter, type ConsoleLogWriterOptions } from './console-log-writer.js';
import { tapConsole } from './console-tap.js';

export class ConsoleCapture {
  readonly #writer: ConsoleLogWriter;
  readonly #stopTap: () => void;
  readonly #onExit = (code: number) => {
    this.#stop();
    try {
      this.#writer.flushSync({ status: 'Interrupted', exitCode: code, time: Date.now() });
    } catch {
      // A disk that refuses at exit must not change how the process exits.
    }
  };
  readonly #onUncaught = (error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? String(error)) : `Uncaught ${String(error)}`;
    this.#writer.add('stderr', `${text}\n`);
  };
  #stopped = false;

  private constructor(writer: ConsoleLogWriter) {
    this.#writer = writer;
    this.#stopTap = tapConsole((stream, chunk) => writer.add(stream, chunk));
    process.on('exit', this.#onExit);
    process.on('uncaughtExceptionMonitor', this.#onUncaught);
  }

  /** Starts capturing into `<directory>/console.ndjson`. */
  static async start(directory: string, options: ConsoleLogWriterOptions = {}): Promise<ConsoleCapture> {
    return new ConsoleCapture(await ConsoleLogWriter.create(join(directory, CONSOLE_FILE), options));
  }

  /** The error of the last failed write to the log, if any. */
  get lastError(): unknown {
    return this.#writer.lastError;
  }

  /** Writes what was captured so far. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /**
   * Stops capturing and closes the log with the run's final status and, when the program
   * set one, `process.exitCode`.
   */
  async finish(status: ConsoleEnd['status']): Promise<void> {
    if (this.#stopped) return;
    this.#stop();
    const exitCode = typeof process.exitCode === 'number' ? process.exitCode : null;
    await this.#writer.close({ status, exitCode, time: Date.now() });
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopTap();
    process.off('exit', this.#onExit);
    process.off('uncaughtExceptionMonitor', this.#onUncaught);
  }
}
