/**
 * Sign-in with an e-mail and password (a one-day JWT from `POST /authentication`) or with an
 * API key (`larder token create`), checked against `/whoami` before it is kept.
 */
import { useState } from 'preact/hooks';
import { api } from '../api/api-client.js';
import { ApiError } from '../api/api-error.js';
import { startSession } from '../api/session.js';

type Mode = 'password' | 'key';

function messageOf(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return 'Wrong e-mail or password, or an unknown key.';
  if (error instanceof ApiError && error.status === 429) return error.message;
  return (error as Error).message;
}

export function SignInPage() {
  const [mode, setMode] = useState<Mode>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'password') {
        const answer = await api.request<{ accessToken: string }>('POST', '/authentication', {
          strategy: 'local',
          email,
          password,
        });
        startSession(answer.accessToken);
      } else {
        const response = await fetch('/whoami', {
          headers: { authorization: `Bearer ${key.trim()}`, accept: 'application/json' },
        });
        if (!response.ok) throw new ApiError(response.status, 'NotAuthenticated', 'Unknown key');
        startSession(key.trim());
      }
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form class="card" onSubmit={submit} aria-label="Sign in">
        <h1>Larder</h1>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'password'} onClick={() => setMode('password')}>
            E-mail
          </button>
          <button type="button" role="tab" aria-selected={mode === 'key'} onClick={() => setMode('key')}>
            API key
          </button>
        </div>
        {mode === 'password' ? (
          <>
            <label>
              E-mail
              <input
                name="email"
                type="email"
                autocomplete="username"
                required
                value={email}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </label>
            <label>
              Password
              <input
                name="password"
                type="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
          </>
        ) : (
          <label>
            API key
            <input
              name="key"
              type="password"
              placeholder="lk_…"
              required
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
            />
          </label>
        )}
        {error && (
          <p class="problem" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
