import {
  reporterIdentityFields,
  type CarriedReporter,
  type Reporter,
  type ReporterIdentity,
  type ReporterPatch,
  type SealedIdentity,
} from '../domain/case';
import { reporterSchema } from '../domain/schemas/case';
import {
  DEVELOPMENT_REPORTER_KEY_ID,
  DEVELOPMENT_REPORTER_KEYS,
  KeyRing,
  developmentKeyRing,
  keyRingFromConfig,
  pack,
  unpack,
} from './encryption';

/**
 * The inner layer (docs/privacy.md "Two layers"): the reporter's identity (name, phone, e-mail,
 * address) sealed as a field of its own, under the reporter key ring (`REPORTER_KEYS`,
 * `REPORTER_KEY_ID`), before it enters any Temporal payload. The payload codec, and so the codec
 * endpoint operators use, never has this ring: a decoded payload shows a `SealedIdentity` marker.
 *
 * The API seals (registration, Open311, a supplement); the workflow carries the sealed parts and the
 * flags; the projection activity opens them and seals the whole reporter again for PostgreSQL
 * (db/reporters.ts), under the same ring; clerks and payments read it from there.
 */

/** Binds a sealed identity to its case: it does not open as another case's. */
function context(caseId: string): Buffer {
  return Buffer.from(`reporter-identity:${caseId}`, 'utf8');
}

/**
 * The reporter ring of a loaded configuration (runtime/config.ts has validated it; unset outside
 * production: the development reporter key). It also holds the payload keys, to open PostgreSQL
 * rows sealed with them before the reporter ring existed, until the worker re-seals them
 * (db/reporters.ts `resealReporters`); it seals under its own current key only.
 */
export function reporterKeyRingFromConfig(config: {
  REPORTER_KEYS?: string;
  REPORTER_KEY_ID?: string;
  ENCRYPTION_KEYS?: string;
  ENCRYPTION_KEY_ID?: string;
}): KeyRing {
  const own = config.REPORTER_KEYS
    ? KeyRing.parse(config.REPORTER_KEYS, config.REPORTER_KEY_ID ?? '')
    : KeyRing.parse(DEVELOPMENT_REPORTER_KEYS, DEVELOPMENT_REPORTER_KEY_ID);
  return own.with(keyRingFromConfig(config));
}

/** The development reporter ring (with the development payload key, as `reporterKeyRingFromConfig` builds it). */
export function developmentReporterKeyRing(): KeyRing {
  return KeyRing.parse(DEVELOPMENT_REPORTER_KEYS, DEVELOPMENT_REPORTER_KEY_ID).with(developmentKeyRing());
}

export function sealIdentity(ring: KeyRing, caseId: string, identity: ReporterIdentity): SealedIdentity {
  const sealed = ring.encrypt(Buffer.from(JSON.stringify(identity), 'utf8'), context(caseId));
  return { sealed: 'reporter', keyId: sealed.keyId, data: pack(sealed).toString('base64') };
}

export function openIdentity(ring: KeyRing, caseId: string, sealed: SealedIdentity): ReporterIdentity {
  const plaintext = ring.decrypt(unpack(sealed.keyId, Buffer.from(sealed.data, 'base64')), context(caseId));
  return JSON.parse(Buffer.from(plaintext).toString('utf8')) as ReporterIdentity;
}

/**
 * A reporter (or a supplement's patch of one) as the workflow may carry it: the flags given, in
 * clear; the identity fields given, sealed as one part; nothing of the identity in clear.
 */
export function sealReporterFields(ring: KeyRing, caseId: string, reporter: Reporter): CarriedReporter;
export function sealReporterFields(ring: KeyRing, caseId: string, reporter: Partial<Reporter>): ReporterPatch;
export function sealReporterFields(ring: KeyRing, caseId: string, reporter: Partial<Reporter>): ReporterPatch {
  const identity: ReporterIdentity = {};
  const carried: ReporterPatch = {};
  for (const [key, value] of Object.entries(reporter) as Array<[keyof Reporter, unknown]>) {
    if (value === undefined) continue;
    if ((reporterIdentityFields as readonly string[]).includes(key)) Object.assign(identity, { [key]: value });
    else Object.assign(carried, { [key]: value });
  }
  if (Object.keys(identity).length > 0) carried.identity = [sealIdentity(ring, caseId, identity)];
  return carried;
}

/**
 * The reporter in clear, from what the workflow carries: identity fields in clear (cases from before
 * sealing), then each sealed part in order, a later field winning. Throws a DecryptionError when a
 * part does not open (a key left the ring, another case's part).
 */
export function openReporter(ring: KeyRing, caseId: string, carried: CarriedReporter): Reporter {
  const { identity: parts = [], ...clear } = carried;
  const reporter: Record<string, unknown> = { ...clear };
  for (const part of parts) Object.assign(reporter, openIdentity(ring, caseId, part));
  return reporterSchema.parse(reporter);
}
