// /api/rules: list, create, read, new version, delete, version history, and trying a rule (saved or not)
// on a camera's newest frame. Rules from the config file are listed but read-only (RULE_PROVISIONED).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RuleCatalog } from '../rules/catalog.ts';
import { runRuleTest, type CameraLookup } from '../rules/rule-test.ts';
import type { RuleRunner } from '../rules/ports.ts';
import { RuleSchema } from '../../config/rule.ts';
import { ErrorSchema } from './schemas.ts';
import { RuleInfoSchema, RuleParams, RuleTestBody, RuleTestInfoSchema, UnsavedRuleTestBody } from './rule-schemas.ts';
import { zodRoute } from './validate.ts';
import { access, type Access } from '../auth/roles.ts';

export interface RuleRouteDeps {
  rules: RuleCatalog;
  cameras: CameraLookup;
  /** The rule loop, once there is one (null: no engine). */
  loop: () => RuleRunner | null;
}

type IdReq = FastifyRequest<{ Params: { id: string } }>;

const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
// The body is validated in the catalog (schema + configured cameras) so both failures read alike.
const RuleBody = RuleSchema.describe('A rule (config/rule.ts); the same fields as `rules:` in the config file.');

export function ruleRoutes(app: FastifyInstance, d: RuleRouteDeps): void {
  app.get('/api/rules', { ...access('viewer'), ...zodRoute({ summary: 'Every rule, config-provisioned and API-made, latest version', response: { 200: z.array(RuleInfoSchema) } }) }, () => d.rules.list());

  app.post(
    '/api/rules',
    { ...audited('operator', 'rule-created'), ...zodRoute({ summary: 'Create a rule (400 naming each bad path; 409 when the id exists)', bodyDoc: RuleBody, response: { 201: RuleInfoSchema, ...err(400, 409) } }) },
    async (req, reply) => reply.code(201).send(await d.rules.create(req.body, author(req))),
  );

  const idRoute = (summary: string, codes: number[], ok: z.ZodType = RuleInfoSchema, bodyDoc?: z.ZodType, level: Access = 'viewer', audit?: string) => ({
    ...(audit ? audited(level, audit) : access(level)),
    ...zodRoute({ summary, params: RuleParams, ...(bodyDoc ? { bodyDoc } : {}), response: { 200: ok, ...err(...codes) } }),
  });

  app.get('/api/rules/:id', idRoute('One rule (latest version)', [404]), (req: IdReq) => d.rules.get(req.params.id));
  app.put('/api/rules/:id', idRoute('A new version of an API rule: the rule without `id` (or with the same id); config rules: 409 RULE_PROVISIONED', [400, 404, 409], RuleInfoSchema, RuleBody, 'operator', 'rule-changed'), (req: IdReq) =>
    d.rules.replace(req.params.id, req.body, author(req)),
  );
  app.delete('/api/rules/:id', idRoute('Delete an API rule (its events stay)', [404, 409], z.object({ deleted: z.string() }), undefined, 'operator', 'rule-deleted'), async (req: IdReq) => {
    await d.rules.remove(req.params.id);
    return { deleted: req.params.id };
  });
  app.get('/api/rules/:id/versions', idRoute('Every version of a rule, oldest first', [404], z.array(RuleInfoSchema)), (req: IdReq) => d.rules.versions(req.params.id));

  const testResponse = { 200: RuleTestInfoSchema, ...err(400, 404, 409, 503) };
  app.post(
    '/api/rules/:id/test',
    { ...access('operator'), ...zodRoute({ summary: "Run a saved rule once on a camera's newest frame (nothing stored)", params: RuleParams, body: RuleTestBody, response: testResponse }) },
    async (req: FastifyRequest<{ Params: { id: string }; Body: z.output<typeof RuleTestBody> | undefined }>) => {
      const { rule } = await d.rules.get(req.params.id);
      return runRuleTest(d.loop(), d.cameras, rule, req.body?.camera);
    },
  );
  app.post(
    '/api/rules/test',
    { ...access('operator'), ...zodRoute({ summary: "Run an unsaved rule once on a camera's newest frame (nothing stored)", body: UnsavedRuleTestBody, response: testResponse }) },
    async (req: FastifyRequest<{ Body: z.output<typeof UnsavedRuleTestBody> }>) => {
      const rule = d.rules.validate(req.body.rule);
      return runRuleTest(d.loop(), d.cameras, rule, req.body.camera);
    },
  );
}

/** The user (or token) that made the change, recorded in the rule's version. */
function author(req: FastifyRequest): string {
  return req.principal?.name ?? 'local';
}

/** A change the audit log records (server/http/server.ts writes it once the change succeeded). */
function audited(level: Access, action: string) {
  return { config: { access: level, audit: action } };
}
