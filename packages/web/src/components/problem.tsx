/**
 * How a failed load reads to the user. The server answers 404 both for what does not exist
 * and for what this user may not see, and the page says exactly that.
 */
import { ApiError } from '../api/api-error.js';

export function Problem({ error, what }: { error: Error; what: string }) {
  if (error instanceof ApiError && error.notFound) {
    return (
      <div class="problem" role="alert">
        <strong>No {what} here.</strong> It does not exist, or it has not been shared with you.
      </div>
    );
  }
  if (error instanceof ApiError && error.status === 403) {
    return (
      <div class="problem" role="alert">
        <strong>Not allowed.</strong> {error.message}
      </div>
    );
  }
  return (
    <div class="problem" role="alert">
      <strong>Could not load the {what}.</strong> {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <div class="loading">Loading {what}…</div>;
}
