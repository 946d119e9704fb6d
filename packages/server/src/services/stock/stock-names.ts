/**
 * Names in the stock feature: its two collections, the rules for repository and ref names,
 * the id of a commit record, and the blob-reference owner that keeps a repository's objects.
 */
import { LarderError } from '@larder/protocol';
import { ownerOf } from '../../blobs/lifecycle/blob-references.js';

export const STOCK_REPOS = 'stock-repos';
export const STOCK_COMMITS = 'stock-commits';
/** Internal: the packs each repository holds (read through the repository's routes only). */
export const STOCK_PACKS = '_stock_packs';
export const DEFAULT_REF = 'main';

const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
// Refs become a field path (`refs.<name>`): no dots, and never numeric (an array index).
const REF_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export function assertRepositoryName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !REPOSITORY_NAME.test(name)) {
    throw new LarderError(
      'BadRequest',
      'A stock repository name is 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
}

export function assertRefName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !REF_NAME.test(name)) {
    throw new LarderError(
      'BadRequest',
      'A ref name (like "main") is 1-64 letters, digits, "_" or "-", starting with a letter',
    );
  }
}

/** The `_id` of the record of commit `commit` in repository `repo`. */
export function commitRecordId(repo: string, commit: string): string {
  return `${repo}:${commit}`;
}

/** Who holds a repository's objects in `_blob_refs`: the repository record itself. */
export function repositoryOwner(repo: string): string {
  return ownerOf(STOCK_REPOS, repo);
}
