// Logging in and out, who am I, changing one's password, and API tokens (admin). The session cookie is
// HttpOnly and SameSite=Strict, Secure when the request came over TLS (directly or from a trusted proxy).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { access } from '../auth/roles.ts';
import { SESSION_COOKIE, type AuthService } from '../auth/service.ts';
import { Errors } from './errors.ts';
import { ErrorSchema } from './schemas.ts';
import { zodRoute } from './validate.ts';

export interface AuthRouteDeps {
  auth: AuthService;
}

const RoleEnum = z.enum(['admin', 'operator', 'viewer']);
const LoginBody = z.strictObject({ user: z.string().min(1).max(100), password: z.string().min(1).max(1000) });
const PasswordBody = z.strictObject({ current: z.string().min(1).max(1000), password: z.string().min(10, 'at least 10 characters').max(1000) });
const MeSchema = z.object({ auth: z.boolean().describe('false: auth is off (loopback only)'), user: z.string(), role: RoleEnum, via: z.enum(['session', 'token', 'none']) });
const TokenInfo = z.object({ id: z.string(), name: z.string(), role: RoleEnum, createdBy: z.string(), createdAt: z.number(), lastUsed: z.number().nullable(), revokedAt: z.number().nullable() });
const TokenBody = z.strictObject({ name: z.string().min(1).max(100), role: RoleEnum });
const TokenParams = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'a token id (12 hex digits)') });
const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));

export function authRoutes(app: FastifyInstance, d: AuthRouteDeps): void {
  app.post(
    '/api/login',
    { ...access('public'), ...zodRoute({ summary: 'Log in: sets the session cookie (429 with Retry-After after repeated failures)', body: LoginBody, response: { 200: MeSchema, ...err(400, 401, 429) } }) },
    async (req: FastifyRequest<{ Body: z.output<typeof LoginBody> }>, reply) => {
      if (!d.auth.enabled) throw Errors.CONFLICT('auth is off (Vigil listens on loopback only): there is nothing to log in to');
      const s = await d.auth.login(req.body.user, req.body.password, req.ip);
      setSession(reply, req, s.secret, Math.floor((s.expiresAt - Date.now()) / 1000));
      return { auth: true, user: req.body.user, role: s.role, via: 'session' as const };
    },
  );
  app.post('/api/logout', { ...access('public'), ...zodRoute({ summary: 'Log out: ends this session on the server and clears the cookie', response: { 200: z.object({ ok: z.boolean() }) } }) }, async (req, reply) => {
    await d.auth.logout(req.principal, req.ip);
    setSession(reply, req, '', 0);
    return { ok: true };
  });
  app.get('/api/me', { ...access('viewer'), ...zodRoute({ summary: 'Who is calling, with which role', response: { 200: MeSchema, ...err(401) } }) }, async (req) => {
    const p = req.principal!;
    return { auth: d.auth.enabled, user: p.name, role: p.role, via: p.via };
  });
  app.post(
    '/api/me/password',
    { ...access('viewer'), ...zodRoute({ summary: "Change one's own password: every session of the user ends (log in again)", body: PasswordBody, response: { 200: z.object({ ok: z.boolean() }), ...err(400, 401) } }) },
    async (req: FastifyRequest<{ Body: z.output<typeof PasswordBody> }>, reply) => {
      const p = req.principal!;
      if (p.via !== 'session') throw Errors.FORBIDDEN('only a logged-in user changes a password here (an admin uses `vigil users passwd`)');
      await d.auth.changePassword(p, req.body.current, req.body.password, req.ip);
      setSession(reply, req, '', 0);
      return { ok: true };
    },
  );
  tokenRoutes(app, d);
}

function tokenRoutes(app: FastifyInstance, d: AuthRouteDeps): void {
  app.get('/api/tokens', { ...access('admin'), ...zodRoute({ summary: 'API tokens with their last use (never the secret)', response: { 200: z.array(TokenInfo) } }) }, () => d.auth.listTokens());
  app.post(
    '/api/tokens',
    { ...access('admin'), ...zodRoute({ summary: 'Create an API token; `token` is shown only in this answer', body: TokenBody, response: { 201: TokenInfo.extend({ token: z.string() }), ...err(400) } }) },
    async (req: FastifyRequest<{ Body: z.output<typeof TokenBody> }>, reply) => {
      const { token, info } = await d.auth.createToken(req.principal!, req.body.name, req.body.role, req.ip);
      return reply.code(201).header('cache-control', 'no-store').send({ ...info, token });
    },
  );
  app.delete(
    '/api/tokens/:id',
    { ...access('admin'), ...zodRoute({ summary: 'Revoke an API token (refused from its next request on)', params: TokenParams, response: { 200: z.object({ revoked: z.string() }), ...err(404) } }) },
    async (req: FastifyRequest<{ Params: { id: string } }>) => {
      if (!(await d.auth.revokeToken(req.principal!, req.params.id, req.ip))) throw Errors.NOT_FOUND(`no active token "${req.params.id}"`);
      return { revoked: req.params.id };
    },
  );
}

function setSession(reply: FastifyReply, req: FastifyRequest, value: string, maxAge: number): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`).header('cache-control', 'no-store');
}
