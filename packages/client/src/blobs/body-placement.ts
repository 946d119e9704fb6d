/**
 * Where a downloaded body goes in its file, and the one writer that puts it there: bytes
 * placed by position (so a download resumes from `progress.at`), in vectored writes, told in
 * file order once written (a hash of the file as it lands). Both download paths write
 * through it: straight from the socket (`socket-download.ts`) and through `node:http` or a
 * given `fetch` (`file-receive.ts`).
 */
import type { FileHandle } from 'node:fs/promises';

export interface BodyPlacement {
  handle: FileHandle;
  /** Where the body's first byte goes; advanced as bytes are written (kept on failure). */
  progress: { at: number };
  /** The file's end: bytes past it are dropped. */
  limit: number;
  /**
   * Called with a 2xx status and the headers once the head is read, before any body byte is
   * written: the caller may move `progress.at` (a whole file sent to a range request starts
   * over).
   */
  placeBody: (status: number, headers: Map<string, string>) => Promise<void>;
  /** Told the bytes once written, in file order (a hash of the file as it lands). */
  onWritten?: (bytes: Uint8Array) => void;
}

/**
 * Writes `pieces` at `placement.progress.at` in vectored writes (a short one finished by
 * more), dropping what runs past `placement.limit`; `progress.at` and `onWritten` follow the
 * bytes as they land, so a failure leaves them where the file's bytes end.
 */
export async function writeAt(placement: BodyPlacement, pieces: readonly Uint8Array[]): Promise<void> {
  const { handle, progress, limit, onWritten } = placement;
  let chunks = pieces;
  for (;;) {
    const room = limit - progress.at;
    if (room <= 0) return;
    let total = 0;
    const kept: Uint8Array[] = [];
    for (const chunk of chunks) {
      if (total >= room) break;
      const piece = chunk.byteLength > room - total ? chunk.subarray(0, room - total) : chunk;
      kept.push(piece);
      total += piece.byteLength;
    }
    if (total === 0) return;
    const { bytesWritten } = await handle.writev(kept, progress.at);
    progress.at += bytesWritten;
    if (onWritten) {
      let left = bytesWritten;
      for (const piece of kept) {
        if (left <= 0) break;
        onWritten(piece.byteLength > left ? piece.subarray(0, left) : piece);
        left -= piece.byteLength;
      }
    }
    if (bytesWritten >= total) return;
    // A short vectored write: the rest again.
    chunks = [Buffer.concat(kept).subarray(bytesWritten)];
  }
}
