import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DecryptionError, KeyRing, pack, unpack } from '../db/key-ring';

/**
 * The key ring of the configuration and the Temporal payload codec built on it. The ring itself
 * (AES-256-GCM, key rotation by key id) is db/key-ring.ts; it is re-exported here for the callers
 * that configure encryption.
 */
export { DecryptionError, KEY_BYTES, KeyRing, pack, parseKeySpec, unpack, type Sealed } from '../db/key-ring';

/**
 * Used only where NODE_ENV is not production (development, tests), like DEVELOPMENT_JWT_SECRET:
 * a fixed, public key. runtime/config.ts refuses it in production.
 */
export const DEVELOPMENT_KEY_ID = 'dev';
export const DEVELOPMENT_KEY: Buffer = Buffer.from('ecoloop-dev-key-not-for-prod-use');
export const DEVELOPMENT_ENCRYPTION_KEYS = `${DEVELOPMENT_KEY_ID}:${DEVELOPMENT_KEY.toString('base64')}`;

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

  // Async without an await: PayloadCodec returns promises, and a failure must reject, not throw.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const sealed = this.ring.encrypt(temporal.api.common.v1.Payload.encode(payload).finish());
      return {
        metadata: { [ENCODING_METADATA]: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(sealed.keyId) },
        data: pack(sealed),
      };
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await
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
