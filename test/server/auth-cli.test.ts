// Auth as a user meets it: `vigil serve --host 0.0.0.0` with auth off refuses to start and says why; on 0.0.0.0
// the first start prints the generated admin password once (to stdout, never in a log line) and a restart does
// not print it again; `vigil users` manages users in the same store; server.tls serves HTTPS with Secure cookies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startVigil } from '../support/vigil-process.ts';
import { startAuthServer } from '../support/auth.ts';

const vigil = (args: string[], input?: string) => spawnSync(process.execPath, ['bin/vigil.mjs', ...args], { encoding: 'utf8', input, env: { ...process.env, VITEST: '' }, timeout: 60_000 });

describe('auth from the command line', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'vigil-auth-cli-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('`vigil serve --host 0.0.0.0` with auth off refuses to start and says why', () => {
    const file = join(dir, 'off.yaml');
    writeFileSync(file, stringify({ server: { auth: 'off', port: 0, dataDir: join(dir, 'off-data') } }));
    const r = vigil(['serve', '--config', file, '--host', '0.0.0.0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/server\.auth.*auth is off but Vigil would listen on 0\.0\.0\.0.*Set server\.auth to "auto" or "on"/s);
  });

  it('first start on 0.0.0.0 prints the admin password once, outside the log; a restart does not; `vigil users` manages users', async () => {
    const config = { server: { host: '0.0.0.0' } };
    const first = await startVigil(dir, config);
    const password = /\n {4}(\S{20})\n/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    const login = (user: string, pass: string) => fetch(new URL('/api/login', first.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password: pass }) }).then((r) => r.status);
    expect(await login('admin', password!)).toBe(200);
    expect(await login('admin', 'wrong-password')).toBe(401);
    expect((await fetch(new URL('/api/cameras', first.url))).status).toBe(401);
    await first.stop();
    const out = first.output();
    expect(out.split(password!)).toHaveLength(2);
    for (const line of out.split('\n').filter((l) => l.startsWith('{'))) expect(line).not.toContain(password);
    expect(out).toContain('"audit":"login-failed"');

    const second = await startVigil(dir, config);
    await second.stop();
    expect(second.output()).not.toMatch(/created the user "admin"/);
    expect(second.output()).not.toContain(password);

    const file = join(dir, 'vigil.yaml');
    const added = vigil(['users', 'add', 'olga', '--role', 'operator', '--config', file]);
    expect(added.status).toBe(0);
    expect(added.stdout).toMatch(/added olga \(operator\)[\s\S]*password for olga \(shown only now\)/);
    expect(vigil(['users', 'add', 'olga', '--config', file]).stderr).toMatch(/user "olga" exists/);
    expect(vigil(['users', 'add', 'bad', '--role', 'root', '--config', file]).stderr).toMatch(/--role must be one of viewer, operator, admin/);
    expect(vigil(['users', 'passwd', 'olga', '--password-stdin', '--config', file], 'olga-chosen-password\n').status).toBe(0);
    const listed = JSON.parse(vigil(['users', 'list', '--json', '--config', file]).stdout) as { name: string; role: string }[];
    expect(listed.map((u) => [u.name, u.role])).toEqual([['admin', 'admin'], ['olga', 'operator']]);
    expect(vigil(['users', 'remove', 'admin', '--config', file]).stderr).toMatch(/"admin" is the last admin/);
    expect(vigil(['users', 'remove', 'olga', '--config', file]).status).toBe(0);

    const third = await startVigil(dir, config);
    try {
      const r = await fetch(new URL('/api/login', third.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'olga', password: 'olga-chosen-password' }) });
      expect(r.status).toBe(401); // removed
    } finally {
      await third.stop();
    }
  }, 90_000);

  it('server.tls serves HTTPS, and its session cookie is Secure', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const s = await startAuthServer({ server: { tls: { cert, key } } });
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await new Promise<{ status: number; cookie: string }>((done, fail) => {
        const req = request(new URL('/api/login', s.url), { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (r) => {
          r.resume();
          done({ status: r.statusCode ?? 0, cookie: String(r.headers['set-cookie'] ?? '') });
        });
        req.on('error', fail);
        req.end(JSON.stringify({ user: 'viewer', password: 'viewer-pass-12345' }));
      });
      expect(res.status).toBe(200);
      expect(res.cookie).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    } finally {
      await s.dispose();
    }
  });
});
