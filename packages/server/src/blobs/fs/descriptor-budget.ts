import { readFileSync } from 'node:fs';

/**
 * How many staged files a filesystem store keeps open between a batch's write and its
 * commit. A file kept open is fsynced and closed through the same descriptor, instead of
 * being closed after the write and opened again for the sync (two calls fewer per small
 * file); past the budget a file is closed after its write as before, so that many large
 * forms at once never run the process out of descriptors.
 *
 * @example
 * const budget = new DescriptorBudget(1024);
 * if (budget.reserve()) { … keep the descriptor …; budget.release(); }
 */
export class DescriptorBudget {
  private inUse = 0;

  constructor(private readonly limit: number) {}

  /** Takes one descriptor of the budget; false when it is spent (close the file instead). */
  reserve(): boolean {
    if (this.inUse >= this.limit) return false;
    this.inUse += 1;
    return true;
  }

  /** Gives back a descriptor `reserve` took, once the file is closed. */
  release(): void {
    this.inUse = Math.max(0, this.inUse - 1);
  }
}

/**
 * The default budget of a store: enough for a form of a thousand small files to pay no
 * reopening, and at most a quarter of the process's limit of open files (Linux's
 * `/proc/self/limits`; 256 where it cannot be read), so sockets, databases and other stores
 * keep the rest.
 */
export function defaultKeptOpenFiles(): number {
  return Math.min(1024, Math.floor(openFilesLimit() / 4));
}

function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((each) => each.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) && soft > 0 ? soft : 1024;
  } catch {
    return 1024;
  }
}
