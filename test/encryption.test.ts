import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { reporterOf, resealReporters, sealReporter } from '../db/reporters';
import { getReporter } from '../db/cases';
import { ConfigError, loadConfig } from '../runtime/config';
import { mergeReporter } from '../domain/case';
import {
  DEVELOPMENT_ENCRYPTION_KEYS,
  DEVELOPMENT_REPORTER_KEY_ID,
  DEVELOPMENT_REPORTER_KEYS,
  DecryptionError,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  KeyRing,
  OperatorCodec,
  REDACTED_IDENTITY,
  developmentKeyRing,
  keyRingFromConfig,
} from '../runtime/encryption';
import { openReporter, reporterKeyRingFromConfig, sealReporterFields } from '../runtime/reporter-seal';
import { createTestDatabase } from './support/database';

/**
 * runtime/encryption.ts: the AES-256-GCM key ring, its rotation, the Temporal payload codec, the
 * configuration that feeds it, and the reporter rows sealed with it (db/reporters.ts).
 */

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const spec = (...entries: Array<[string, Buffer]>) => entries.map(([id, k]) => `${id}:${k.toString('base64')}`).join(',');
/** The reporter index ring a production configuration needs besides the two rings these tests are about. */
const productionIndexKeys = { REPORTER_INDEX_KEYS: spec(['i1', randomBytes(32)]), REPORTER_INDEX_KEY_ID: 'i1' };
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const secret = new TextEncoder().encode('Zhou Xiaoyun, 13700001111');

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('key ring', () => {
  test('when data is sealed under k1 and the current key then rotates to k2, then old and new data both open and new data names k2', () => {
    const before = KeyRing.parse(spec(['k1', k1]), 'k1');
    const old = before.encrypt(secret);
    expect(old.keyId).toBe('k1');

    const after = KeyRing.parse(spec(['k1', k1], ['k2', k2]), 'k2');
    const fresh = after.encrypt(secret);
    expect(fresh.keyId).toBe('k2');
    expect(text(after.decrypt(old))).toBe(text(secret));
    expect(text(after.decrypt(fresh))).toBe(text(secret));
    // Data sealed under k2 does not open with a ring that never had k2.
    expect(() => before.decrypt(fresh)).toThrow(DecryptionError);
  });

  test('when a sealed message is tampered with, opened under another key id, or with another context, then it does not open', () => {
    const ring = KeyRing.parse(spec(['k1', k1], ['k2', k2]), 'k1');
    const sealed = ring.encrypt(secret, Buffer.from('case:A'));
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] ^= 1;
    expect(() => ring.decrypt({ ...sealed, ciphertext: flipped }, Buffer.from('case:A'))).toThrow(DecryptionError);
    expect(() => ring.decrypt({ ...sealed, keyId: 'k2' }, Buffer.from('case:A'))).toThrow(DecryptionError);
    expect(() => ring.decrypt(sealed, Buffer.from('case:B'))).toThrow(DecryptionError);
    expect(text(ring.decrypt(sealed, Buffer.from('case:A')))).toBe(text(secret));
  });

  test('when the same plaintext is sealed twice, then the nonces and ciphertexts differ and neither contains the plaintext', () => {
    const ring = KeyRing.parse(spec(['k1', k1]), 'k1');
    const a = ring.encrypt(secret);
    const b = ring.encrypt(secret);
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
    expect(Buffer.from(a.ciphertext).includes(Buffer.from(secret))).toBe(false);
  });

  test('when a ring is built from keys of the wrong length or a current id it does not hold, then it is refused', () => {
    expect(() => KeyRing.parse(`k1:${randomBytes(16).toString('base64')}`, 'k1')).toThrow(/"k1" must be 32 bytes/);
    expect(() => KeyRing.parse(spec(['k1', k1]), 'k9')).toThrow(/current key id "k9" is not in the ring/);
    expect(() => KeyRing.parse(spec(['k1', k1], ['k1', k2]), 'k1')).toThrow(/appears twice/);
  });
});

describe('configuration', () => {
  test('when NODE_ENV=production and ENCRYPTION_KEYS, REPORTER_KEYS and REPORTER_INDEX_KEYS are unset, then each is named as required', () => {
    const problems = problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-at-least-32-chars' });
    expect(problems).toEqual([
      'ENCRYPTION_KEYS: is required when NODE_ENV=production',
      'REPORTER_KEYS: is required when NODE_ENV=production',
      'REPORTER_INDEX_KEYS: is required when NODE_ENV=production',
    ]);
  });

  test('when REPORTER_KEYS reuses a key id or a key of ENCRYPTION_KEYS, then it is refused (the codec must never hold a reporter key), naming no key material', () => {
    const base = { ENCRYPTION_KEYS: spec(['k1', k1]), ENCRYPTION_KEY_ID: 'k1' };
    expect(problemsOf({ ...base, REPORTER_KEYS: spec(['k1', k2]), REPORTER_KEY_ID: 'k1' })).toEqual([
      'REPORTER_KEYS: must not reuse key ids of ENCRYPTION_KEYS (k1)',
    ]);
    const reused = problemsOf({ ...base, REPORTER_KEYS: spec(['r1', k1]), REPORTER_KEY_ID: 'r1' });
    expect(reused).toEqual(['REPORTER_KEYS: must not reuse a key of ENCRYPTION_KEYS (r1)']);
    expect(reused.join('\n')).not.toContain(k1.toString('base64'));
    expect(problemsOf({ ...base, REPORTER_KEYS: spec(['r1', k2]) })).toEqual([
      'REPORTER_KEY_ID: is required with REPORTER_KEYS (one of: r1)',
    ]);
  });

  test('when NODE_ENV=production lists the development reporter key, then it is refused', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      JWT_SECRET: 'a-production-secret-of-at-least-32-chars',
      ENCRYPTION_KEYS: spec(['k1', k1]),
      ENCRYPTION_KEY_ID: 'k1',
      REPORTER_KEYS: DEVELOPMENT_REPORTER_KEYS,
      REPORTER_KEY_ID: DEVELOPMENT_REPORTER_KEY_ID,
      ...productionIndexKeys,
    });
    expect(problems).toEqual(['REPORTER_KEYS: must not contain the development key when NODE_ENV=production']);
  });

  test('when a key is not 32 bytes or the current id is not among the keys, then each is named, and no key material is printed', () => {
    const short = randomBytes(16).toString('base64');
    const problems = problemsOf({ ENCRYPTION_KEYS: `k1:${short}`, ENCRYPTION_KEY_ID: 'k1' });
    expect(problems).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS: key "k1" must be 32 bytes in base64/)]);
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf({ ENCRYPTION_KEYS: spec(['k1', k1]), ENCRYPTION_KEY_ID: 'k2' })).toEqual([
      'ENCRYPTION_KEY_ID="k2": must be one of the ids in ENCRYPTION_KEYS (k1)',
    ]);
    expect(problemsOf({ ENCRYPTION_KEYS: spec(['k1', k1]) })).toEqual(['ENCRYPTION_KEY_ID: is required with ENCRYPTION_KEYS (one of: k1)']);
  });

  test('when NODE_ENV=production lists the development key, then it is refused', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      JWT_SECRET: 'a-production-secret-of-at-least-32-chars',
      ENCRYPTION_KEYS: `${spec(['k1', k1])},${DEVELOPMENT_ENCRYPTION_KEYS.replace(/^dev:/, 'other:')}`,
      ENCRYPTION_KEY_ID: 'k1',
      REPORTER_KEYS: spec(['r1', k2]),
      REPORTER_KEY_ID: 'r1',
      ...productionIndexKeys,
    });
    expect(problems).toEqual(['ENCRYPTION_KEYS: must not contain the development key when NODE_ENV=production']);
  });

  test('when keys are configured, then the ring has them with the named current key; unset outside production, the development key', () => {
    const ring = keyRingFromConfig(loadConfig({ ENCRYPTION_KEYS: spec(['k1', k1], ['k2', k2]), ENCRYPTION_KEY_ID: 'k2' }));
    expect([ring.keyIds, ring.currentKeyId]).toEqual([['k1', 'k2'], 'k2']);
    expect(keyRingFromConfig(loadConfig({})).currentKeyId).toBe(developmentKeyRing().currentKeyId);
    // The reporter ring seals under its own key and keeps the payload keys only to open rows sealed with them before it existed.
    const reporters = reporterKeyRingFromConfig(
      loadConfig({ ENCRYPTION_KEYS: spec(['k1', k1]), ENCRYPTION_KEY_ID: 'k1', REPORTER_KEYS: spec(['r1', k2]), REPORTER_KEY_ID: 'r1' }),
    );
    expect([reporters.keyIds, reporters.currentKeyId]).toEqual([['r1', 'k1'], 'r1']);
    expect(reporterKeyRingFromConfig(loadConfig({})).currentKeyId).toBe(DEVELOPMENT_REPORTER_KEY_ID);
  });
});

const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('payload codec', () => {
  test('when payloads are encoded, then each is binary/encrypted with the key id, hides its content, and decodes back to the original', async () => {
    const codec = new EncryptionCodec(KeyRing.parse(spec(['k1', k1]), 'k1'));
    const original = [payload({ reporter: { name: 'Zhou Xiaoyun' } }), payload(null), payload('plain')];
    const encoded = await codec.encode(original);
    for (const p of encoded) {
      expect(text(p.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(p.metadata![KEY_ID_METADATA])).toBe('k1');
      expect(Buffer.from(p.data!).includes(Buffer.from('Zhou Xiaoyun'))).toBe(false);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([{ reporter: { name: 'Zhou Xiaoyun' } }, null, 'plain']);
  });

  test('when the current key rotates, then payloads encoded under the old key still decode, and unencrypted payloads pass through', async () => {
    const old = await new EncryptionCodec(KeyRing.parse(spec(['k1', k1]), 'k1')).encode([payload('from before')]);
    const rotated = new EncryptionCodec(KeyRing.parse(spec(['k1', k1], ['k2', k2]), 'k2'));
    const fresh = await rotated.encode([payload('from after')]);
    expect(text(fresh[0].metadata![KEY_ID_METADATA])).toBe('k2');
    const clear = payload('recorded without a codec');
    const decoded = await rotated.decode([...old, ...fresh, clear]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['from before', 'from after', 'recorded without a codec']);
  });
});

describe('the sealed identity (inner layer)', () => {
  const caseId = 'EC-2026-0000007';
  const reporter = {
    anonymous: false,
    name: 'Zhou Xiaoyun',
    phone: '13700001111',
    email: 'xiaoyun@example.org',
    address: 'Lane 3',
    consentToShareWithUnit: true,
  };
  const payloadRing = KeyRing.parse(spec(['k1', k1]), 'k1');
  const reporterRing = KeyRing.parse(spec(['r1', k2]), 'r1');

  test('when a reporter is sealed for the workflow, then the flags stay in clear, the identity is one sealed part, and it opens only with the reporter ring for its case', () => {
    const carried = sealReporterFields(reporterRing, caseId, reporter);
    expect(carried).toEqual({
      anonymous: false,
      consentToShareWithUnit: true,
      identity: [{ sealed: 'reporter', keyId: 'r1', data: expect.any(String) }],
    });
    expect(JSON.stringify(carried)).not.toMatch(/Zhou|13700001111|xiaoyun|Lane 3/);
    expect(openReporter(reporterRing, caseId, carried)).toEqual(reporter);
    expect(() => openReporter(reporterRing, 'EC-2026-0000008', carried)).toThrow(DecryptionError);
    expect(() => openReporter(payloadRing, caseId, carried)).toThrow(DecryptionError);
    // An anonymous reporter has no identity to seal.
    expect(sealReporterFields(reporterRing, caseId, { anonymous: true, consentToShareWithUnit: false })).toEqual({
      anonymous: true,
      consentToShareWithUnit: false,
    });
  });

  test('when a supplement patches the identity, then its sealed part is appended and a later field wins; an old clear reporter opens as it is', () => {
    const registered = sealReporterFields(reporterRing, caseId, {
      anonymous: false,
      name: 'Zhou Xiaoyun',
      phone: '111',
      consentToShareWithUnit: false,
    });
    const patch = sealReporterFields(reporterRing, caseId, { phone: '13700001111', consentToShareWithUnit: true });
    const merged = mergeReporter(registered, patch);
    expect(merged.identity).toHaveLength(2);
    expect(openReporter(reporterRing, caseId, merged)).toEqual({
      anonymous: false,
      name: 'Zhou Xiaoyun',
      phone: '13700001111',
      consentToShareWithUnit: true,
    });
    // A case started before sealing, then supplemented through the sealing API.
    const old = mergeReporter({ anonymous: false, name: 'Zhou Xiaoyun', phone: '111', consentToShareWithUnit: false }, patch);
    expect(openReporter(reporterRing, caseId, old)).toEqual({
      anonymous: false,
      name: 'Zhou Xiaoyun',
      phone: '13700001111',
      consentToShareWithUnit: true,
    });
  });

  test('when the operator codec decodes payloads, then it opens the payload layer, leaves the sealed identity sealed, and redacts a clear one from before sealing', async () => {
    const sealedInput = payload({ caseId, intake: { title: 't', reporter: sealReporterFields(reporterRing, caseId, reporter) } });
    const oldInput = payload({ caseId, intake: { title: 't', location: { address: 'Riverside 1' }, reporter } });
    const oldSupplement = payload({ reporter: { phone: '13700001111' }, note: 'n' });
    const oldState = payload({
      resume: { intake: { reporter: { anonymous: false, name: 'Zhou Xiaoyun', consentToShareWithUnit: false } } },
    });
    const encoded = await new EncryptionCodec(payloadRing).encode([sealedInput, oldInput, oldSupplement, oldState]);
    const decoded = (await new OperatorCodec(payloadRing).decode([...encoded, oldInput])).map((p) =>
      defaultPayloadConverter.fromPayload(p),
    );
    expect(JSON.stringify(decoded)).not.toMatch(/Zhou|13700001111|xiaoyun|Lane 3/);
    expect(decoded[0]).toEqual(defaultPayloadConverter.fromPayload(sealedInput));
    const redactedReporter = {
      anonymous: false,
      name: REDACTED_IDENTITY,
      phone: REDACTED_IDENTITY,
      email: REDACTED_IDENTITY,
      address: REDACTED_IDENTITY,
      consentToShareWithUnit: true,
    };
    // The complaint's own location keeps its address: only a reporter's fields are redacted.
    expect(decoded[1]).toEqual({ caseId, intake: { title: 't', location: { address: 'Riverside 1' }, reporter: redactedReporter } });
    expect(decoded[2]).toEqual({ reporter: { phone: REDACTED_IDENTITY }, note: 'n' });
    expect(decoded[3]).toEqual({
      resume: { intake: { reporter: { anonymous: false, name: REDACTED_IDENTITY, consentToShareWithUnit: false } } },
    });
    // An unencrypted payload from before the codec is redacted the same way.
    expect(decoded[4]).toEqual(decoded[1]);
  });
});

describe('reporters at rest', () => {
  const reporter = { anonymous: false, name: 'Zhou Xiaoyun', phone: '13700001111', consentToShareWithUnit: false };

  test('when a sealed reporter row is opened for another case, then it does not open', () => {
    const ring = KeyRing.parse(spec(['k1', k1]), 'k1');
    const sealed = sealReporter(ring, 'EC-2026-0000001', reporter);
    const row = { key_id: sealed.keyId, reporter_enc: sealed.data, legacy_reporter: null };
    expect(reporterOf(ring, 'EC-2026-0000001', row)).toEqual(reporter);
    expect(() => reporterOf(ring, 'EC-2026-0000002', row)).toThrow(DecryptionError);
  });

  test('when the key rotates from k1 to k2, then resealing moves rows under k1 and clear legacy rows to k2, and every row still reads', async () => {
    const db = await createTestDatabase();
    try {
      const ringK1 = KeyRing.parse(spec(['k1', k1]), 'k1');
      const ringK2 = KeyRing.parse(spec(['k1', k1], ['k2', k2]), 'k2');
      const insertCase = (id: string) =>
        db.pool.query(
          `INSERT INTO cases (case_id, status, category, urgency, channel, division_code, title, owner_id, policy_version, received_at, view, last_seq)
           VALUES ($1, 'registered', 'air', 'normal', 'hotline', '370102', 't', 'clerk-1', 'v1', now(), '{}', 1)`,
          [id],
        );
      await insertCase('EC-2026-0000001');
      await insertCase('EC-2026-0000002');
      const sealed = sealReporter(ringK1, 'EC-2026-0000001', reporter);
      await db.pool.query(`INSERT INTO case_reporters (case_id, key_id, reporter_enc) VALUES ($1, $2, $3)`, [
        'EC-2026-0000001',
        sealed.keyId,
        sealed.data,
      ]);
      // A row from before migration 002.
      await db.pool.query(`INSERT INTO case_reporters (case_id, legacy_reporter) VALUES ($1, $2)`, [
        'EC-2026-0000002',
        JSON.stringify(reporter),
      ]);

      expect(await resealReporters(db.pool, ringK2)).toEqual({ resealed: 2, unreadable: 0 });
      const { rows } = await db.pool.query(`SELECT case_id, key_id, legacy_reporter FROM case_reporters ORDER BY case_id`);
      expect(rows).toEqual([
        { case_id: 'EC-2026-0000001', key_id: 'k2', legacy_reporter: null },
        { case_id: 'EC-2026-0000002', key_id: 'k2', legacy_reporter: null },
      ]);
      expect(await getReporter(db.pool, ringK2, 'EC-2026-0000001')).toEqual(reporter);
      expect(await getReporter(db.pool, ringK2, 'EC-2026-0000002')).toEqual(reporter);
      // Nothing is left under k1: the ring without it reads everything, and a second pass moves nothing.
      const ringK2Only = KeyRing.parse(spec(['k2', k2]), 'k2');
      expect(await getReporter(db.pool, ringK2Only, 'EC-2026-0000001')).toEqual(reporter);
      expect(await resealReporters(db.pool, ringK2Only)).toEqual({ resealed: 0, unreadable: 0 });
    } finally {
      await db.drop();
    }
  });

  test('when the reporter ring is introduced, then rows sealed with the payload key before it move to the reporter key, and the payload ring no longer opens them', async () => {
    const db = await createTestDatabase();
    try {
      const config = { ENCRYPTION_KEYS: spec(['k1', k1]), ENCRYPTION_KEY_ID: 'k1' };
      const payloadRing = keyRingFromConfig(loadConfig(config));
      const reporterRing = reporterKeyRingFromConfig(loadConfig({ ...config, REPORTER_KEYS: spec(['r1', k2]), REPORTER_KEY_ID: 'r1' }));
      await db.pool.query(
        `INSERT INTO cases (case_id, status, category, urgency, channel, division_code, title, owner_id, policy_version, received_at, view, last_seq)
         VALUES ('EC-2026-0000003', 'registered', 'air', 'normal', 'hotline', '370102', 't', 'clerk-1', 'v1', now(), '{}', 1)`,
      );
      const sealed = sealReporter(payloadRing, 'EC-2026-0000003', reporter);
      await db.pool.query(`INSERT INTO case_reporters (case_id, key_id, reporter_enc) VALUES ($1, $2, $3)`, [
        'EC-2026-0000003',
        sealed.keyId,
        sealed.data,
      ]);
      expect(await getReporter(db.pool, reporterRing, 'EC-2026-0000003')).toEqual(reporter);
      expect(await resealReporters(db.pool, reporterRing)).toEqual({ resealed: 1, unreadable: 0 });
      const { rows } = await db.pool.query(`SELECT key_id FROM case_reporters`);
      expect(rows).toEqual([{ key_id: 'r1' }]);
      expect(await getReporter(db.pool, reporterRing, 'EC-2026-0000003')).toEqual(reporter);
      await expect(getReporter(db.pool, payloadRing, 'EC-2026-0000003')).rejects.toThrow(DecryptionError);
    } finally {
      await db.drop();
    }
  });
});
