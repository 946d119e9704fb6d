/**
 * The signed-in session: a JWT from `POST /authentication` or an API key, kept in
 * sessionStorage (gone when the tab closes, never in a cookie). Listeners hear sign-in and
 * sign-out, including the sign-out forced by a 401.
 */
const TOKEN_KEY = 'larder.token';

type Listener = (token: string | null) => void;
const listeners = new Set<Listener>();

export function currentToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function startSession(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  for (const listener of listeners) listener(token);
}

export function endSession(): void {
  if (currentToken() === null) return;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const listener of listeners) listener(null);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
