import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { reporterIdentityFields } from '../domain/case';

/**
 * AES-256-GCM with key rings, in two layers (docs/privacy.md):
 * - the payload ring (`ENCRYPTION_KEYS`, `ENCRYPTION_KEY_ID`; `keyRingFromConfig`) seals every
 *   Temporal payload through the payload codec below. The codec endpoint (api/routes/codec.ts) holds
 *   it, so operators can read histories;
 * - the reporter ring (`REPORTER_KEYS`, `REPORTER_KEY_ID`; runtime/reporter-seal.ts) seals the
 *   reporter's identity as a field of its own inside those payloads, and in PostgreSQL
 *   (db/reporters.ts). The codec never has it: a decoded payload shows the identity sealed.
 * Every ciphertext names the id of the key that sealed it, so keys rotate without re-encrypting
 * anything at once: new data uses the current key, old data opens with the key it names, as long
 * as that key stays in the ring.
 */

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A sealed message: the key it was sealed with, the nonce, and the ciphertext with its tag appended. */
export interface Sealed {
  keyId: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

/** Opening failed: an unknown key id, a wrong key, or a tampered ciphertext. The message names no data. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export class KeyRing {
  private constructor(
    readonly currentKeyId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {}

  /** A ring from key bytes by id; `currentKeyId` must be one of them. */
  static of(keys: Record<string, Uint8Array>, currentKeyId: string): KeyRing {
    const map = new Map<string, Buffer>();
    for (const [id, key] of Object.entries(keys)) {
      if (!KEY_ID.test(id)) throw new Error(`key id "${id}" must be 1 to 64 letters, digits, '.', '_' or '-'`);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" must be ${KEY_BYTES} bytes, not ${key.length}`);
      map.set(id, Buffer.from(key));
    }
    if (!map.has(currentKeyId)) throw new Error(`the current key id "${currentKeyId}" is not in the ring (${[...map.keys()].join(', ')})`);
    return new KeyRing(currentKeyId, map);
  }

  /** A ring from the `ENCRYPTION_KEYS` spelling: `id:base64,id:base64`. Throws naming what is wrong. */
  static parse(spec: string, currentKeyId: string): KeyRing {
    return KeyRing.of(parseKeySpec(spec), currentKeyId);
  }

  /**
   * A ring holding the keys of `this` and of `others`, sealing under `this`'s current key: the
   * reporter ring keeps the payload keys that sealed PostgreSQL rows before it existed, to open them
   * until the worker has re-sealed them. Ids must not repeat across the rings (runtime/config.ts checks it).
   */
  with(...others: KeyRing[]): KeyRing {
    const map = new Map(this.keys);
    for (const other of others) for (const [id, key] of other.keys) if (!map.has(id)) map.set(id, key);
    return new KeyRing(this.currentKeyId, map);
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Seal under the current key. `aad` binds the ciphertext to a context (it must be given again to open). */
  encrypt(plaintext: Uint8Array, aad?: Uint8Array): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    if (aad) cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { keyId: this.currentKeyId, iv, ciphertext };
  }

  /** `encrypt`, packed into one byte string (`pack`) for a bytea column: db/reporters.ts seals with it. */
  seal(plaintext: Uint8Array, aad?: Uint8Array): { keyId: string; data: Buffer } {
    const sealed = this.encrypt(plaintext, aad);
    return { keyId: sealed.keyId, data: pack(sealed) };
  }

  /** Open what `seal` packed, with the key it names. */
  open(sealed: { keyId: string; data: Uint8Array }, aad?: Uint8Array): Uint8Array {
    return this.decrypt(unpack(sealed.keyId, sealed.data), aad);
  }

  /** Open with the key the message names. */
  decrypt(sealed: Sealed, aad?: Uint8Array): Uint8Array {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new DecryptionError(`no key "${sealed.keyId}" in the ring (keys: ${this.keyIds.join(', ')})`);
    if (sealed.iv.length !== IV_BYTES || sealed.ciphertext.length < TAG_BYTES) throw new DecryptionError('the ciphertext is malformed');
    const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES);
    const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES);
    const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new DecryptionError(`the ciphertext does not open with key "${sealed.keyId}" (wrong key, context or tampered)`);
    }
  }
}

/** `iv || ciphertext || tag`: one byte string for a payload's data or a bytea column. */
export function pack(sealed: Sealed): Buffer {
  return Buffer.concat([sealed.iv, sealed.ciphertext]);
}

export function unpack(keyId: string, bytes: Uint8Array): Sealed {
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('the ciphertext is malformed');
  return { keyId, iv: bytes.subarray(0, IV_BYTES), ciphertext: bytes.subarray(IV_BYTES) };
}

/**
 * Parse `id:base64,id:base64` into key bytes by id. Throws one Error naming every bad entry
 * (never the key material itself).
 */
export function parseKeySpec(spec: string): Record<string, Uint8Array> {
  const keys: Record<string, Uint8Array> = {};
  const problems: string[] = [];
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (!entries.length) problems.push('no key given (expected "id:base64-of-32-bytes,...")');
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon === -1 ? '' : entry.slice(0, colon);
    const material = colon === -1 ? '' : entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      problems.push(`entry ${i + 1} must be "id:base64" with an id of letters, digits, '.', '_' or '-'`);
      continue;
    }
    if (id in keys) {
      problems.push(`key id "${id}" appears twice`);
      continue;
    }
    const bytes = Buffer.from(material, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material) || bytes.length !== KEY_BYTES) {
      problems.push(`key "${id}" must be ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
      continue;
    }
    keys[id] = bytes;
  }
  if (problems.length) throw new Error(problems.join('; '));
  return keys;
}

/**
 * Used only where NODE_ENV is not production (development, tests), like DEVELOPMENT_JWT_SECRET:
 * a fixed, public key. runtime/config.ts refuses it in production.
 */
export const DEVELOPMENT_KEY_ID = 'dev';
export const DEVELOPMENT_KEY: Buffer = Buffer.from('ecoloop-dev-key-not-for-prod-use');
export const DEVELOPMENT_ENCRYPTION_KEYS = `${DEVELOPMENT_KEY_ID}:${DEVELOPMENT_KEY.toString('base64')}`;

/** The development key of the reporter ring (REPORTER_KEYS), distinct from the payload key in id and bytes. */
export const DEVELOPMENT_REPORTER_KEY_ID = 'reporter-dev';
export const DEVELOPMENT_REPORTER_KEY: Buffer = Buffer.from('ecoloop-dev-reporter-key-no-prod');
export const DEVELOPMENT_REPORTER_KEYS = `${DEVELOPMENT_REPORTER_KEY_ID}:${DEVELOPMENT_REPORTER_KEY.toString('base64')}`;

export function developmentKeyRing(): KeyRing {
  return KeyRing.parse(DEVELOPMENT_ENCRYPTION_KEYS, DEVELOPMENT_KEY_ID);
}

/** The ring of a loaded configuration (runtime/config.ts has validated it; unset outside production: the development key). */
export function keyRingFromConfig(config: { ENCRYPTION_KEYS?: string; ENCRYPTION_KEY_ID?: string }): KeyRing {
  if (!config.ENCRYPTION_KEYS) return developmentKeyRing();
  return KeyRing.parse(config.ENCRYPTION_KEYS, config.ENCRYPTION_KEY_ID ?? '');
}

// ---- Temporal payload codec ----

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const ENCODING_METADATA = 'encoding';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Encrypts every payload (the whole Payload protobuf, metadata included) into one
 * `binary/encrypted` payload carrying the key id. Decoding opens only `binary/encrypted` payloads
 * and passes any other through, so histories recorded before encryption still read and replay.
 * Codecs run outside the workflow sandbox: workflow bundles are unaffected.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const sealed = this.ring.encrypt(temporal.api.common.v1.Payload.encode(payload).finish());
      return {
        metadata: { [ENCODING_METADATA]: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(sealed.keyId) },
        data: pack(sealed),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncrypted(payload)) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
      if (!keyIdBytes) throw new DecryptionError(`an encrypted payload has no ${KEY_ID_METADATA}`);
      const plaintext = this.ring.decrypt(unpack(fromUtf8.decode(keyIdBytes), payload.data ?? new Uint8Array()));
      return temporal.api.common.v1.Payload.decode(plaintext);
    });
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[ENCODING_METADATA];
  return !!encoding && fromUtf8.decode(encoding) === ENCRYPTED_ENCODING;
}

/** The data converter of every EcoLoop client and worker. */
export function encryptingDataConverter(ring: KeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(ring)] };
}

// ---- What operators see: the codec endpoint's codec ----

const JSON_ENCODING = 'json/plain';

/** What a decoded payload shows in place of a reporter's identity field found in clear (a payload from before sealing). */
export const REDACTED_IDENTITY = { redacted: 'reporter' } as const;

/**
 * Replace every identity field (name, phone, e-mail, address) of every object under a `reporter`
 * key by `REDACTED_IDENTITY`, at any depth: the workflow input (`intake.reporter`), a supplement
 * (`reporter`), a projection (`reporter`), a continue-as-new state (`resume.intake.reporter`). The
 * flags and the sealed identity stay. Returns how many fields it redacted.
 */
export function redactClearReporters(value: unknown): { value: unknown; redacted: number } {
  let redacted = 0;
  const walk = (node: unknown, underReporter: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false));
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>).map(([key, v]) => {
        if (underReporter && (reporterIdentityFields as readonly string[]).includes(key) && typeof v === 'string') {
          redacted++;
          return [key, REDACTED_IDENTITY];
        }
        return [key, walk(v, key === 'reporter')];
      }),
    );
  };
  return { value: walk(value, false), redacted };
}

/** A JSON payload with any reporter identity in clear redacted; other payloads as they are. */
function redactPayload(payload: Payload): Payload {
  const encoding = payload.metadata?.[ENCODING_METADATA];
  if (!encoding || fromUtf8.decode(encoding) !== JSON_ENCODING) return payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8.decode(payload.data ?? new Uint8Array()));
  } catch {
    return payload;
  }
  const { value, redacted } = redactClearReporters(parsed);
  return redacted ? { ...payload, data: utf8.encode(JSON.stringify(value)) } : payload;
}

/**
 * The codec of the codec endpoint (api/routes/codec.ts), for operators: it opens the payload layer
 * with the payload ring and nothing more. The reporter's identity stays sealed (a `SealedIdentity`
 * marker: the reporter ring is never given here), and an identity found in clear, in a payload
 * written before it was sealed, is redacted. Encoding is the payload codec's.
 */
export class OperatorCodec implements PayloadCodec {
  private readonly payloads: EncryptionCodec;

  constructor(ring: KeyRing) {
    this.payloads = new EncryptionCodec(ring);
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return this.payloads.encode(payloads);
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return (await this.payloads.decode(payloads)).map(redactPayload);
  }
}
