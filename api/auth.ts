import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Actor } from '../domain/case';
import { forbidden, unauthenticated } from './problem';

/**
 * Bearer tokens (JWT, HS256) carrying a role and a scope: the unit's id for a unit, the division
 * codes (or prefixes: "37" for a province, "3701" for a city) a supervisor covers.
 */

/** The roles a bearer token may carry. */
export const principalRoles = ['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops', 'admin'] as const;
export type PrincipalRole = (typeof principalRoles)[number];

export const principalSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(principalRoles),
  unitId: z.string().min(1).optional(),
  divisions: z.array(z.string().regex(/^\d{2,6}$/)).optional(),
});
export type Principal = z.infer<typeof principalSchema>;

export const ISSUER = 'ecoloop';
export const AUDIENCE = 'ecoloop-api';

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function mintToken(secret: string, principal: Principal, expiresIn = '12h'): Promise<string> {
  const { sub, ...claims } = principalSchema.parse(principal);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(secret));
}

export async function verifyToken(secret: string, token: string): Promise<Principal> {
  const { payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
  const parsed = principalSchema.safeParse(payload);
  if (!parsed.success) throw new Error('token claims are not valid');
  if (parsed.data.role === 'unit' && !parsed.data.unitId) throw new Error('a unit token needs a unitId');
  if (parsed.data.role === 'supervisor' && !parsed.data.divisions?.length) throw new Error('a supervisor token needs its divisions');
  return parsed.data;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export function authenticate(secret: string): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) return next(unauthenticated('A bearer token is required.'));
    let principal: Principal;
    try {
      principal = await verifyToken(secret, match[1]);
    } catch {
      // Expired, badly signed, for another audience or issuer, or with bad claims: one answer for all.
      return next(unauthenticated('The bearer token is not valid.', 'invalid_token'));
    }
    req.principal = principal;
    next();
  };
}

/**
 * Only these roles may go on. `admin` is no wildcard: it is allowed where a route lists it, so
 * that every decision on a case is taken by the role the procedure names. Answered before the
 * case is looked up, so a 403 says nothing about whether a case exists.
 */
export function requireRole(...roles: readonly PrincipalRole[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.principal?.role;
    if (!role) return next(unauthenticated('A bearer token is required.'));
    if (!roles.includes(role)) return next(forbidden(`The role '${role}' may not do this.`));
    next();
  };
}

/** The person behind a request (the token's subject), with the unit they act for when they are a unit's. */
export function actorOf(p: Principal): Actor {
  return p.role === 'unit' ? { id: p.sub, role: p.role, unitId: p.unitId! } : { id: p.sub, role: p.role };
}

export function coversDivision(p: Principal, divisionCode: string): boolean {
  return (p.divisions ?? []).some((prefix) => divisionCode.startsWith(prefix));
}

/** Whether the principal may see a case at all (units: their own; supervisors: their divisions). */
export function canSeeCase(p: Principal, c: { unitId?: string | null; divisionCode: string }): boolean {
  switch (p.role) {
    case 'unit':
      return !!c.unitId && c.unitId === p.unitId;
    case 'supervisor':
      return coversDivision(p, c.divisionCode);
    default:
      return true;
  }
}

/**
 * Whether the principal may see the reporter's identity on this case: clerks and the supervisors
 * of its division; the unit handling it only with the reporter's consent; nobody else (not admin,
 * not ops: operators see it only through the audited codec endpoint).
 */
export function canSeeReporter(p: Principal, c: { unitId?: string | null; divisionCode: string; reporterConsent: boolean }): boolean {
  if (p.role === 'clerk') return true;
  if (p.role === 'supervisor') return coversDivision(p, c.divisionCode);
  if (p.role === 'unit') return c.reporterConsent && c.unitId === p.unitId;
  return false;
}
