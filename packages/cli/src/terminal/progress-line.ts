/** A one-line progress display on a terminal (nothing when output is piped). */

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export interface Progress {
  sent: number;
  total: number;
}

/**
 * @example
 * await store.blobs.upload(file, { onProgress: progressLine('uploading weights.bin') });
 */
export function progressLine(label: string, unit: 'bytes' | 'items' = 'bytes'): (progress: Progress) => void {
  let last = 0;
  const format = unit === 'bytes' ? megabytes : (count: number) => String(count);
  return ({ sent, total }) => {
    if (!process.stderr.isTTY || (Date.now() - last < 200 && sent < total)) return;
    last = Date.now();
    const percent = total === 0 ? 100 : Math.floor((sent / total) * 100);
    const width = Math.max(10, Math.min(30, (process.stderr.columns ?? 80) - label.length - 40));
    const filled = Math.round((percent / 100) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    process.stderr.write(`\r${label} ${bar} ${format(sent)} / ${format(total)} (${percent}%)`);
    if (sent >= total) process.stderr.write('\n');
  };
}

export { megabytes };
