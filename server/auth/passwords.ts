// Secrets: passwords hashed with scrypt (memory-hard, Node's own crypto), session ids and API tokens as random
// 256-bit values stored as their sha256 (a high-entropy secret needs no slow hash), compared in constant time.
//
// scrypt parameters: N = 2^15, r = 8, p = 3: 32 MiB of memory per hash (128 * N * r), one of OWASP's
// equivalent scrypt settings (its list: N=2^17/p=1 ... N=2^13/p=10). The parameters are stored in each hash
// (`scrypt$N$r$p$salt$key`), so raising them later still verifies older hashes.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT = { N: 2 ** 15, r: 8, p: 3, keyLength: 32, saltLength: 16 } as const;

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }, keyLength: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((done, fail) => scrypt(password.normalize('NFKC'), salt, keyLength, opts, (err, key) => (err ? fail(err) : done(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await derive(password, salt, SCRYPT, SCRYPT.keyLength);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const got = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) }, expected.length);
  return timingSafeEqual(got, expected);
}

/** A hash to verify against when the user does not exist, so an unknown name takes as long as a wrong password. */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  return (decoy ??= hashPassword(randomBytes(16).toString('hex')));
}

/** 20 characters from a 57-letter alphabet without look-alikes (about 116 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const b of bytes) {
    if (b >= 228) continue; // 228 = 4 * 57: keep the choice uniform
    out += alphabet[b % 57];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

/** A fresh 256-bit secret with a recognisable prefix (`vgs_` session, `vgt_` API token). */
export function newSecret(prefix: 'vgs_' | 'vgt_'): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
