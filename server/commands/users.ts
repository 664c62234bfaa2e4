// `vigil users list | add | passwd | remove`: the people who log in to the dashboard, in the store of the data
// folder (the running Vigil sees the change on its next request: sessions live in the same database). A password
// is generated and printed once, or read from stdin with --password-stdin (never from a flag: flags end up in
// shell history and `ps`). Changing a password or removing a user ends their sessions.
import { loadConfig } from '../../config/load.ts';
import { openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';
import { generatePassword, hashPassword } from '../auth/passwords.ts';
import { isRole, ROLES } from '../auth/roles.ts';

export interface UsersOptions {
  config?: string;
  role?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

class UsageError extends Error {}

async function withStore<T>(opts: UsersOptions, fn: (store: Store) => Promise<T>): Promise<T | undefined> {
  try {
    const config = loadConfig(opts.config ? { file: opts.config } : {});
    const store = await openSqliteStore({ file: storeFileIn(config.server.dataDir), dataDir: config.server.dataDir });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`vigil users: ${err.message}`);
    process.exitCode = 2;
    return undefined;
  }
}

export function list(opts: UsersOptions): Promise<void> {
  return withStore(opts, async (store) => {
    const users = await store.auth.listUsers();
    if (opts.json) return void process.stdout.write(JSON.stringify(users, null, 2) + '\n');
    if (users.length === 0) return void console.log('no users yet: the first `vigil serve` with auth on creates "admin"');
    for (const u of users) console.log(`${u.name.padEnd(24)} ${u.role.padEnd(9)} since ${new Date(u.createdAt).toISOString()}`);
  }) as Promise<void>;
}

export function add(name: string, opts: UsersOptions): Promise<void> {
  return withStore(opts, async (store) => {
    checkName(name);
    const role = opts.role ?? 'viewer';
    if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${role}"`);
    const { password, generated } = await newPassword(opts);
    if (!(await store.auth.addUser(name, role, await hashPassword(password)))) throw new UsageError(`user "${name}" exists: change the password with \`vigil users passwd ${name}\``);
    await store.auth.audit({ at: Date.now(), actor: 'cli', action: 'user-created', target: name, detail: role });
    console.log(`added ${name} (${role})`);
    if (generated) printOnce(name, password);
  }) as Promise<void>;
}

export function passwd(name: string, opts: UsersOptions): Promise<void> {
  return withStore(opts, async (store) => {
    if (!(await store.auth.getUser(name))) throw new UsageError(`no user "${name}" (vigil users list shows them)`);
    const { password, generated } = await newPassword(opts);
    await store.auth.setPassword(name, await hashPassword(password));
    await store.auth.audit({ at: Date.now(), actor: 'cli', action: 'password-changed', target: name, detail: 'every session ended' });
    console.log(`changed the password of ${name}; their sessions have ended`);
    if (generated) printOnce(name, password);
  }) as Promise<void>;
}

export function remove(name: string, opts: UsersOptions): Promise<void> {
  return withStore(opts, async (store) => {
    const user = await store.auth.getUser(name);
    if (!user) throw new UsageError(`no user "${name}" (vigil users list shows them)`);
    const admins = (await store.auth.listUsers()).filter((u) => u.role === 'admin');
    if (user.role === 'admin' && admins.length === 1) throw new UsageError(`"${name}" is the last admin: add another admin first (vigil users add <name> --role admin)`);
    await store.auth.removeUser(name);
    await store.auth.audit({ at: Date.now(), actor: 'cli', action: 'user-removed', target: name });
    console.log(`removed ${name}; their sessions have ended`);
  }) as Promise<void>;
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) throw new UsageError(`user names are 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit; got "${name}"`);
}

async function newPassword(opts: UsersOptions): Promise<{ password: string; generated: boolean }> {
  if (!opts.passwordStdin) return { password: generatePassword(), generated: true };
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password.length < 10) throw new UsageError('the password read from stdin is shorter than 10 characters');
  return { password, generated: false };
}

function printOnce(name: string, password: string): void {
  console.log(`password for ${name} (shown only now):\n\n    ${password}\n`);
}
