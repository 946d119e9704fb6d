/** `head.stock`: the id of the commit that reads see, one line, versioned with the code in git. */
import { readFile } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';
import { writeFileAtomically } from '../objects/atomic-file.js';
import { HASH_PATTERN } from '../objects/object-codec.js';
import type { StockLayout } from './stock-layout.js';

/** The commit id in `head.stock`, or undefined before the first commit. */
export async function readHead(layout: StockLayout): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(layout.head, 'utf8');
  } catch (cause) {
    throw new LarderError('NotFound', `${layout.head} is missing: run "larder stock init" in ${layout.root}`, {
      cause,
    });
  }
  const id = text.trim();
  if (id === '') return undefined;
  if (!HASH_PATTERN.test(id)) {
    throw new LarderError(
      'Unprocessable',
      `${layout.head} does not hold a commit id (a git merge conflict?): put one commit id from "larder stock log" in it`,
    );
  }
  return id;
}

export async function writeHead(layout: StockLayout, id: string): Promise<void> {
  await writeFileAtomically(layout.head, `${id}\n`, layout.scratch, true);
}
