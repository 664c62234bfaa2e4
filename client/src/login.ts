// Logging in and out. The session is an HttpOnly cookie the page never reads: it asks /api/me who it is, shows
// the login form on 401, and reloads once logged in or out (a fresh page holds nothing of the last session).
import type { ErrorBody } from '../../server/wire.ts';

export interface Me {
  auth: boolean;
  user: string;
  role: 'admin' | 'operator' | 'viewer';
  via: 'session' | 'token' | 'none';
}

/** Who this page is logged in as; null when it must log in. */
export async function whoAmI(): Promise<Me | null> {
  const r = await fetch('/api/me', { credentials: 'same-origin' });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(`/api/me answered ${r.status}`);
  return (await r.json()) as Me;
}

export function showLogin(root: HTMLElement): void {
  root.replaceChildren();
  const form = document.createElement('form');
  form.className = 'login';
  form.innerHTML = `<h1>Log in to Vigil</h1>
    <label>User <input name="user" autocomplete="username" required autofocus></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit">Log in</button>
    <p class="login-error" role="alert"></p>`;
  const error = form.querySelector('.login-error') as HTMLElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    error.textContent = '';
    void fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: data.get('user'), password: data.get('password') }),
    }).then(async (r) => {
      if (r.ok) return location.reload();
      const body = (await r.json().catch(() => null)) as ErrorBody | null;
      error.textContent = body?.error.message ?? `login failed (${r.status})`;
    }, () => (error.textContent = 'Vigil is not reachable'));
  });
  root.append(form);
}

/** The header's "user (role) · Log out" when the page holds a session. */
export function accountBar(me: Me): HTMLElement {
  const bar = document.createElement('span');
  bar.className = 'account';
  if (me.via !== 'session') return bar;
  const who = document.createElement('span');
  who.textContent = `${me.user} (${me.role})`;
  const out = document.createElement('button');
  out.type = 'button';
  out.className = 'logout';
  out.textContent = 'Log out';
  out.addEventListener('click', () => void fetch('/api/logout', { method: 'POST', credentials: 'same-origin' }).finally(() => location.reload()));
  bar.append(who, out);
  return bar;
}
