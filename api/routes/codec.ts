import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import type { Logger } from '../../runtime/logger';
import { DecryptionError, OperatorCodec, type KeyRing } from '../../runtime/encryption';
import { commonProblems } from '../fields';
import { forbidden, HttpProblem } from '../problem';
import { mountRoutes, route, type Route } from '../validate';

/**
 * Temporal's remote codec protocol, for the Temporal UI and the `temporal` CLI
 * (`--codec-endpoint http://HOST:PORT/codec --codec-auth "Bearer <ops token>"`):
 * `POST /codec/decode` and `POST /codec/encode` take and return `{ "payloads": [...] }`, each
 * payload in protobuf JSON form (`metadata` values and `data` in base64), for the namespace in the
 * `X-Namespace` header. Decoding opens the payload layer only (`OperatorCodec`): the reporter's
 * identity stays sealed under the reporter ring, which this endpoint never has, and an identity in
 * clear in a payload from before it was sealed is redacted (docs/privacy.md "Two layers"). It still
 * shows every other field of every case, so only the `ops` role may use it, and every use is logged.
 *
 * History payloads are bigger than the API's 64 kB bodies: this table reads bodies up to 8 MB.
 * The browser-facing Temporal UI (`TEMPORAL_UI_URL`) gets CORS, preflight included. One table,
 * mounted by the router and described in the OpenAPI document.
 */

export interface CodecRoutesDeps {
  /** The payload ring only: never the reporter ring (AppDeps.reporterKeys). */
  keyRing: KeyRing;
  jwtSecret: string;
  /** The Temporal namespace whose payloads this key ring seals. */
  namespace: string;
  /** The Temporal UI's address; its origin may call the codec from the browser. */
  temporalUiUrl?: string;
  log: Logger;
}

/** A decode request carries the payloads of one history event or one page of them. */
const MAX_BODY = '8mb';
const MAX_PAYLOADS = 1000;

const payloadJson = z.object({
  metadata: z.record(z.string().min(1).max(256), z.base64()).default({}),
  data: z.base64().optional(),
});
export const codecBody = z.object({ payloads: z.array(payloadJson).max(MAX_PAYLOADS) });
type PayloadJson = z.infer<typeof payloadJson>;

function fromJson(p: PayloadJson): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** CORS for the Temporal UI's origin only; answers its preflight. Other origins get no CORS headers. */
function uiCors(temporalUiUrl: string | undefined): RequestHandler {
  const allowed = temporalUiUrl ? new URL(temporalUiUrl).origin : undefined;
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.get('origin');
    const fromUi = allowed !== undefined && origin === allowed;
    if (fromUi) {
      res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
    }
    if (req.method !== 'OPTIONS') return next();
    if (!fromUi) return next(forbidden('This origin may not call the codec.'));
    res
      .set({
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        'Access-Control-Max-Age': '600',
      })
      .status(204)
      .end();
  };
}

const namespaceHeaders = z.object({ 'x-namespace': z.string().max(256).optional().describe('the Temporal namespace (default: this one)') });
const payloadsAnswer = z.object({ payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()), data: z.string() })) });

function codecRoute(operation: 'encode' | 'decode'): Route<CodecRoutesDeps> {
  return route(
    {
      operationId: `${operation}Payloads`,
      method: 'post',
      path: `/codec/${operation}`,
      summary: operation === 'decode' ? 'Decrypt payloads (Temporal remote codec)' : 'Encrypt payloads (Temporal remote codec)',
      description:
        "For the Temporal UI and CLI; every use is logged. Operators only. Decoding never shows the reporter's identity: it stays sealed, and one in clear in an older payload is redacted.",
      tag: 'codec',
      access: ['ops'],
      headers: namespaceHeaders,
      body: codecBody,
      response: { status: 200, description: 'The payloads, in protobuf JSON form', schema: payloadsAnswer },
      problems: [...commonProblems, 413, 415, 422],
    },
    async (deps, { headers, body: { payloads } }, req, res) => {
      const namespace = headers['x-namespace'];
      if (namespace !== undefined && namespace !== deps.namespace) {
        throw forbidden(`This codec serves the namespace '${deps.namespace}' only.`);
      }
      const codec = new OperatorCodec(deps.keyRing);
      let result: Payload[];
      try {
        result = await codec[operation](payloads.map(fromJson));
      } catch (err) {
        if (err instanceof DecryptionError) throw new HttpProblem(422, 'Unprocessable Content', err.message);
        throw new HttpProblem(422, 'Unprocessable Content', 'A payload is not a valid encrypted payload.');
      }
      deps.log.info({ sub: req.principal!.sub, operation, namespace: deps.namespace, payloads: payloads.length }, 'codec used');
      res.set('Cache-Control', 'no-store').json({ payloads: result.map(toJson) });
    },
  );
}

export const codecRouteTable: Route<CodecRoutesDeps>[] = [codecRoute('encode'), codecRoute('decode')];

export function codecRoutes(deps: CodecRoutesDeps): Router {
  const router = Router();
  router.use('/codec', uiCors(deps.temporalUiUrl));
  mountRoutes(router, codecRouteTable, deps, { jwtSecret: deps.jwtSecret, bodyLimit: MAX_BODY });
  return router;
}
