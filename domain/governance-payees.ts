import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * Who a reward pays, as the reward workflow and the ledger know it: an opaque payee reference, and
 * for a reporter without a usable contact a claim code (handed out once, stored only as its hash).
 * Not imported by workflows (it draws random values).
 */

/** A new payee reference (opaque; says nothing about the reporter). */
export function newPayeeRef(): string {
  return `payee-${randomUUID()}`;
}

/** A new claim code, for the clerk to pass on to a reporter who is paid by voucher. */
export function newClaimCode(): string {
  return randomBytes(6).toString('hex').toUpperCase();
}

/** How a claim code is stored: its hash, insensitive to case and surrounding blanks. */
export function hashClaimCode(code: string): string {
  return createHash('sha256').update(code.trim().toUpperCase()).digest('hex');
}
