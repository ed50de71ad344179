import { createHmac } from 'node:crypto';
import type { ReporterDigests, ReporterIndexer } from '../db/reporters';
import type { Reporter } from '../domain/case';
import { normaliseFor, type ReporterIndexKind } from '../domain/reporter-index';
import { parseKeySpec } from './encryption';

/**
 * The reporter's blind index (docs/privacy.md "Finding a case by its caller"): HMAC-SHA-256 of the
 * normalised phone number, e-mail and name (domain/reporter-index.ts), under a ring of keys of its
 * own (`REPORTER_INDEX_KEYS`, `REPORTER_INDEX_KEY_ID`), never a key of the payload or reporter ring.
 * The projection stores the digests beside the sealed reporter (db/reporters.ts); a search computes
 * the digest of what the clerk typed under every key of the ring, so that rows indexed under the
 * previous key are still found while `npm run reporters:reindex` (or the next worker start) moves
 * them to the current one.
 */

export class ReporterIndex implements ReporterIndexer {
  private constructor(
    readonly currentKeyId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {}

  /** A ring from the `id:base64,id:base64` spelling (32-byte keys); `currentKeyId` must be one of them. */
  static parse(spec: string, currentKeyId: string): ReporterIndex {
    const keys = new Map(Object.entries(parseKeySpec(spec)).map(([id, k]) => [id, Buffer.from(k)]));
    if (!keys.has(currentKeyId))
      throw new Error(`the current index key id "${currentKeyId}" is not in the ring (${[...keys.keys()].join(', ')})`);
    return new ReporterIndex(currentKeyId, keys);
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** The digests of a reporter under the current key: what the projection stores. */
  digestsOf(reporter: Pick<Reporter, ReporterIndexKind>): ReporterDigests {
    const key = this.keys.get(this.currentKeyId)!;
    const digest = (kind: ReporterIndexKind) => {
      const value = reporter[kind];
      const normal = value === undefined ? undefined : normaliseFor[kind](value);
      return normal === undefined ? null : hmac(key, kind, normal);
    };
    return { keyId: this.currentKeyId, phone: digest('phone'), email: digest('email'), name: digest('name') };
  }

  /** The digests a search looks for: the value normalised, under every key of the ring. Undefined when it normalises to nothing. */
  searchDigests(kind: ReporterIndexKind, value: string): Buffer[] | undefined {
    const normal = normaliseFor[kind](value);
    if (normal === undefined) return undefined;
    return [...this.keys.values()].map((key) => hmac(key, kind, normal));
  }
}

/** The field's name goes into the MAC: a phone number and a name with the same characters differ. */
function hmac(key: Buffer, kind: ReporterIndexKind, normal: string): Buffer {
  return createHmac('sha256', key).update(`${kind}:${normal}`, 'utf8').digest();
}

/**
 * Used only where NODE_ENV is not production, like the other development keys: a fixed, public key
 * of its own (runtime/config.ts refuses it in production).
 */
export const DEVELOPMENT_REPORTER_INDEX_KEY_ID = 'reporter-index-dev';
export const DEVELOPMENT_REPORTER_INDEX_KEY: Buffer = Buffer.from('ecoloop-dev-reporter-index-key!!');
export const DEVELOPMENT_REPORTER_INDEX_KEYS = `${DEVELOPMENT_REPORTER_INDEX_KEY_ID}:${DEVELOPMENT_REPORTER_INDEX_KEY.toString('base64')}`;

export function developmentReporterIndex(): ReporterIndex {
  return ReporterIndex.parse(DEVELOPMENT_REPORTER_INDEX_KEYS, DEVELOPMENT_REPORTER_INDEX_KEY_ID);
}

/** The index ring of a loaded configuration (runtime/config.ts has validated it; unset outside production: the development key). */
export function reporterIndexFromConfig(config: { REPORTER_INDEX_KEYS?: string; REPORTER_INDEX_KEY_ID?: string }): ReporterIndex {
  if (!config.REPORTER_INDEX_KEYS) return developmentReporterIndex();
  return ReporterIndex.parse(config.REPORTER_INDEX_KEYS, config.REPORTER_INDEX_KEY_ID ?? '');
}
