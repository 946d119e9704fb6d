/**
 * Shares a capture among the runs a process starts at about the same time: a sweep that
 * opens 10 runs at once asks git and the platform once, not 10 times (each probe spawns a
 * process, ~13 ms of the caller's own CPU in a busy process). A run started later than
 * `reuseMs` after the last capture gets a fresh one, so a commit between runs shows.
 */

export interface RecentCapture<T> {
  /** The capture for `key` made (or begun) less than `reuseMs` ago, else a new one. */
  get(key: string): Promise<T>;
}

/**
 * @example
 * const git = recentCapture((cwd) => captureGit(cwd), 10_000);
 * const [a, b] = await Promise.all([git.get(process.cwd()), git.get(process.cwd())]); // one capture
 */
export function recentCapture<T>(
  capture: (key: string) => Promise<T>,
  reuseMs: number,
  now: () => number = Date.now,
): RecentCapture<T> {
  const recent = new Map<string, { at: number; value: Promise<T> }>();
  return {
    get(key) {
      const at = now();
      const kept = recent.get(key);
      if (kept && at - kept.at < reuseMs) return kept.value;
      const value = capture(key);
      recent.set(key, { at, value });
      // A failed capture is not kept: the next run tries again.
      value.catch(() => {
        if (recent.get(key)?.value === value) recent.delete(key);
      });
      return value;
    },
  };
}
