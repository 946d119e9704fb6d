/**
 * The dashboard's shell: sign-in when there is no session (unless the server runs without
 * auth), then the navigation bar and the page the path names.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api/api-client.js';
import { currentToken, endSession, onSessionChange } from './api/session.js';
import { SignInPage } from './pages/sign-in-page.js';
import { Link, usePath } from './router/router.js';
import { routeFor } from './routes.js';

interface Who {
  auth: boolean;
  user: { email?: string; role?: string } | null;
}

const SECTIONS = [
  ['/runs', 'Runs'],
  ['/models', 'Models'],
  ['/datalake', 'Datalake'],
  ['/datasets', 'Datasets'],
  ['/stock', 'Stock'],
  ['/services', 'Services'],
] as const;

export function App() {
  const [token, setToken] = useState(currentToken());
  const [authOff, setAuthOff] = useState<boolean | undefined>(undefined);
  const [who, setWho] = useState<Who | null>(null);
  const path = usePath();

  useEffect(() => onSessionChange(setToken), []);
  useEffect(() => {
    api.request<{ auth: boolean }>('GET', '/health').then(
      (health) => setAuthOff(!health.auth),
      () => setAuthOff(false),
    );
  }, []);
  // Asked once a session can answer: a token needs no word from /health first.
  const signedIn = Boolean(token) || authOff === true;
  useEffect(() => {
    setWho(null);
    if (!signedIn) return;
    api.request<Who>('GET', '/whoami').then(setWho, () => {});
  }, [token, signedIn]);

  // With a token the page starts at once; without one, /health says whether to sign in.
  if (authOff === undefined && !token) return null;
  if (!token && !authOff) return <SignInPage />;

  const page = routeFor(path);
  return (
    <div class="shell">
      <header class="top">
        <Link href="/runs" class="brand">
          Larder
        </Link>
        <nav>
          {SECTIONS.map(([href, label]) => (
            <Link key={href} href={href} class={path.startsWith(href) ? 'active' : ''}>
              {label}
            </Link>
          ))}
        </nav>
        <span class="who">{who?.user?.email ?? (authOff ? 'local (no auth)' : '')}</span>
        {!authOff && (
          <button type="button" class="quiet" onClick={endSession}>
            Sign out
          </button>
        )}
      </header>
      <main class="page">{page}</main>
    </div>
  );
}
