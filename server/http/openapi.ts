// The OpenAPI 3.0 document of the JSON API at GET /api/openapi.json (@fastify/swagger), built from the
// routes' own schemas: every /api route is listed, each schema in OpenAPI's dialect (zod writes it again
// for target openapi-3.0, since draft-07 tuples, `const` and type arrays are not valid there). Video files,
// the dashboard and /metrics are not JSON API and stay out.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { openApiSchema } from './schemas.ts';
import { access } from '../auth/roles.ts';

const PARTS = ['params', 'querystring', 'body', 'headers'] as const;

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vigil',
        version,
        description:
          'Cameras, standing rules, events with evidence. Errors are `{error: {status, code, message, issues?}}`; every request must name a host Vigil answers to (FOREIGN_HOST) and come from the dashboard itself when it carries an Origin (FOREIGN_ORIGIN). With auth on (any non-loopback bind), send `Authorization: Bearer <API token>` or the session cookie from POST /api/login: 401 UNAUTHORIZED without, 403 FORBIDDEN for a role that may not (viewer: reads; operator: rule writes and event review; admin: tokens), 403 CROSS_SITE for a change by cookie without the page\'s Origin.',
      },
    },
    transform: ({ schema, url }) => {
      if (!url.startsWith('/api/')) return { schema: { ...schema, hide: true }, url };
      return { schema: schema ? toOpenApi(schema as Record<string, unknown>) : schema, url };
    },
  });
  app.get('/api/openapi.json', { ...access('viewer'), schema: { summary: 'This document (OpenAPI 3.0)' } }, async () => app.swagger());
}

function toOpenApi(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...schema };
  for (const part of PARTS) if (schema[part]) out[part] = openApiSchema(schema[part]) ?? schema[part];
  const response = schema.response as Record<string, unknown> | undefined;
  if (response) out.response = Object.fromEntries(Object.entries(response).map(([code, s]) => [code, openApiSchema(s) ?? s]));
  return out;
}
