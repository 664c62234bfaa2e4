// Roles and what each route demands. A route declares its access next to itself (`config: {access}` in the
// route options); the auth hook refuses what a caller's role does not cover, and a route that declares
// nothing is admin-only (so a new route is never open by accident; test/server/auth-routes.test.ts lists them).
import type { RoleName } from '../../pipelines/store/index.ts';

export type Role = RoleName;
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

/**
 * - public: anyone (the login page and its assets, /api/login, /api/health).
 * - viewer: live video, recordings, events and their images, cameras, rules (read).
 * - operator: rule writes and tests, event review and deletion.
 * - admin: everything, users, tokens, settings.
 * - metrics: any credential, or a loopback client without one (a local Prometheus).
 */
export type Access = 'public' | 'viewer' | 'operator' | 'admin' | 'metrics';

export interface AccessConfig {
  access?: Access;
  /** `?token=` accepted (HLS players that cannot set headers): read-only video only. */
  queryToken?: boolean;
  /** A change recorded in the audit log under this action once it succeeded (rule-created, event-reviewed, ...). */
  audit?: string;
}

/** Route options fragment: `app.get(url, { ...access('viewer'), ... })`. */
export function access(level: Access, queryToken = false): { config: AccessConfig } {
  return { config: queryToken ? { access: level, queryToken } : { access: level } };
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleCovers(role: Role, needed: Access): boolean {
  if (needed === 'public') return true;
  if (needed === 'metrics') return true;
  return RANK[role] >= RANK[needed];
}

export function isRole(s: unknown): s is Role {
  return s === 'admin' || s === 'operator' || s === 'viewer';
}
