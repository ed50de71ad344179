import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/**
 * The payloads of a Temporal history, and the codec endpoint's protobuf JSON form of them: for the
 * tests that look for the reporter's identity in histories, raw and decoded.
 */

/** Every Payload in a protobuf message tree, with the path where it sits. */
export function payloadsIn(node: unknown, path = ''): Array<{ path: string; payload: Payload }> {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => payloadsIn(n, `${path}[${i}]`));
  const o = node as Record<string, unknown>;
  if (o.metadata && typeof o.metadata === 'object' && (o.data === undefined || o.data === null || o.data instanceof Uint8Array)) {
    const meta = o.metadata as Record<string, unknown>;
    if (Object.values(meta).every((v) => v instanceof Uint8Array) && 'encoding' in meta) return [{ path, payload: o }];
  }
  return Object.entries(o).flatMap(([k, v]) => payloadsIn(v, path ? `${path}.${k}` : k));
}

/** The payloads a person could read in a history: not the search attributes (never encrypted) nor the SDK's patch markers. */
export function userPayloadsOf(history: temporal.api.history.v1.IHistory): Array<{ path: string; payload: Payload }> {
  return payloadsIn(history.events).filter((f) => !/searchAttributes|markerRecordedEventAttributes\.details\.patch-data/.test(f.path));
}

export interface PayloadJson {
  metadata: Record<string, string>;
  data: string;
}

/** A payload in the remote codec protocol's protobuf JSON form. */
export function payloadToJson(p: Payload): PayloadJson {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** What a decoded payload says: its encoding and its data as text (JSON for `json/plain`). */
export function readJsonPayload(p: PayloadJson): { encoding: string; text: string } {
  return {
    encoding: Buffer.from(p.metadata.encoding ?? '', 'base64').toString('utf8'),
    text: Buffer.from(p.data, 'base64').toString('utf8'),
  };
}
