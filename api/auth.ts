import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Actor, Role } from '../domain/case';
import { forbidden, unauthenticated } from './problem';

/**
 * Bearer tokens (JWT, HS256) carrying a role and a scope: the unit's id for a unit, the division
 * codes (or prefixes: "37" for a province, "3701" for a city) a supervisor covers.
 */

export const principalSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'ops', 'admin']),
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
    try {
      req.principal = await verifyToken(secret, match[1]);
      next();
    } catch {
      next(unauthenticated('The bearer token is not valid.'));
    }
  };
}

export function requireRole(...roles: Principal['role'][]): RequestHandler {
  return (req, _res, next) => {
    const role = req.principal?.role;
    if (!role) return next(unauthenticated('A bearer token is required.'));
    if (role !== 'admin' && !roles.includes(role)) return next(forbidden(`The role '${role}' may not do this.`));
    next();
  };
}

export function actorOf(p: Principal): Actor {
  return { id: p.role === 'unit' ? p.unitId! : p.sub, role: p.role as Role };
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

/** Whether the principal may see the reporter's identity on this case. */
export function canSeeReporter(p: Principal, c: { unitId?: string | null; divisionCode: string; reporterConsent: boolean }): boolean {
  if (p.role === 'clerk' || p.role === 'admin') return true;
  if (p.role === 'supervisor') return coversDivision(p, c.divisionCode);
  if (p.role === 'unit') return c.reporterConsent && c.unitId === p.unitId;
  return false;
}
