/**
 * What the reporter's blind index (docs/privacy.md "Finding a case by its caller") is computed
 * from: the phone number, e-mail and name, each in one spelling, so that the number a caller gives
 * on the phone finds the number typed at registration. Pure; the HMAC is runtime/reporter-index.ts.
 */

export const reporterIndexKinds = ['phone', 'email', 'name'] as const;
export type ReporterIndexKind = (typeof reporterIndexKinds)[number];

/** The country code a national number belongs to (China); numbers written with another one keep it. */
export const HOME_COUNTRY_CODE = '86';

/**
 * A phone number as the digits of its international form, without '+': '+86 138-0013-8000',
 * '0086 13800138000', '8613800138000' and '138 0013 8000' are all '8613800138000'; '010-1234 5678'
 * (national trunk prefix 0) and '+86 10 12345678' are '861012345678'. A number of another country
 * keeps its code ('+44 20 7946 0000' is '442079460000'). A short local number without area code
 * stays as its digits. Undefined when there is no digit.
 */
export function normalisePhone(phone: string): string | undefined {
  const trimmed = phone.normalize('NFKC').trim();
  const digits = trimmed.replace(/\D/g, '');
  if (!digits) return undefined;
  if (trimmed.startsWith('+')) return digits;
  if (digits.startsWith('00')) return digits.slice(2);
  if (digits.startsWith('0')) return HOME_COUNTRY_CODE + digits.slice(1);
  if (/^1\d{10}$/.test(digits)) return HOME_COUNTRY_CODE + digits; // a mobile number
  return digits;
}

/** An e-mail address trimmed and lowercased (NFC). Undefined when empty. */
export function normaliseEmail(email: string): string | undefined {
  const n = email.normalize('NFC').trim().toLowerCase();
  return n || undefined;
}

/** A name in NFC, with every run of white space (ideographic space included) one space, trimmed, lowercased. Undefined when empty. */
export function normaliseName(name: string): string | undefined {
  const n = name.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
  return n || undefined;
}

export const normaliseFor: Record<ReporterIndexKind, (value: string) => string | undefined> = {
  phone: normalisePhone,
  email: normaliseEmail,
  name: normaliseName,
};
