import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import type { Logger } from '../../runtime/logger';
import { DecryptionError, OperatorCodec, type KeyRing } from '../../runtime/encryption';
import { authenticate } from '../auth';
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
 * The browser-facing Temporal UI (`TEMPORAL_UI_URL`) gets CORS, preflight included. In development
 * (`CODEC_TRUST_LOCAL_UI`, which `npm start` sets for its own dev server's UI, bound to loopback) a
 * request from that UI's origin without a token is taken as `ops`: the dev server's UI has no
 * sign-in. Everywhere else the UI passes the signed-in operator's token. One table, mounted by the
 * router and described in the OpenAPI document.
 */

export interface CodecRoutesDeps {
  /** The payload ring only: never the reporter ring (AppDeps.reporterKeys). */
  keyRing: KeyRing;
  jwtSecret: string;
  /** The Temporal namespace whose payloads this key ring seals. */
  namespace: string;
  /** The Temporal UI's address; its origin may call the codec from the browser. */
  temporalUiUrl?: string;
  /** Development only (CODEC_TRUST_LOCAL_UI): the UI at temporalUiUrl, on loopback, calls without a token, as `ops`. */
  codecTrustsLocalUi?: boolean;
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

/** What the Temporal UI sends with a codec request (its data-encoder service): `Authorization` and `Authorization-Extras` when it passes the operator's tokens. */
const UI_REQUEST_HEADERS = 'Authorization, Authorization-Extras, Content-Type, X-Namespace';

/**
 * The origins of the Temporal UI at `temporalUiUrl`. A UI on loopback is the same UI whether the
 * browser names it 127.0.0.1, localhost or [::1], so each of these names with its port counts.
 */
export function uiOrigins(temporalUiUrl: string | undefined): Set<string> {
  if (!temporalUiUrl) return new Set();
  const url = new URL(temporalUiUrl);
  const origins = new Set([url.origin]);
  if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) origins.add(`${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`);
  }
  return origins;
}

/** CORS for the Temporal UI's origin only; answers its preflight. Other origins get no CORS headers. */
function uiCors(allowed: Set<string>): RequestHandler {
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.get('origin');
    const fromUi = origin !== undefined && allowed.has(origin);
    if (fromUi) {
      res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
    }
    if (req.method !== 'OPTIONS') return next();
    if (!fromUi) return next(forbidden('This origin may not call the codec.'));
    res.set({
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': UI_REQUEST_HEADERS,
      'Access-Control-Max-Age': '600',
    });
    // Chromium's Private Network Access asks before a page reaches a loopback address.
    if (req.get('access-control-request-private-network') === 'true') res.set('Access-Control-Allow-Private-Network', 'true');
    res.status(204).end();
  };
}

/** Who the trusted local development UI is, in the codec's log. */
export const LOCAL_UI_PRINCIPAL = { sub: 'temporal-ui (local development, no sign-in)', role: 'ops' } as const;

/**
 * The codec's token check: a bearer token with the `ops` role, as on every route; in development
 * (codecTrustsLocalUi) a request without a token from the local UI's origin is taken as `ops`.
 * A token, when sent, is always checked.
 */
function codecAuthentication(deps: CodecRoutesDeps, uiOrigin: Set<string>): RequestHandler {
  const bearer = authenticate(deps.jwtSecret);
  if (!deps.codecTrustsLocalUi) return bearer;
  return (req, res, next) => {
    const origin = req.get('origin');
    if (req.get('authorization') === undefined && origin !== undefined && uiOrigin.has(origin)) {
      req.principal = { ...LOCAL_UI_PRINCIPAL };
      return next();
    }
    return bearer(req, res, next);
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
  const origins = uiOrigins(deps.temporalUiUrl);
  router.use('/codec', uiCors(origins));
  mountRoutes(router, codecRouteTable, deps, {
    jwtSecret: deps.jwtSecret,
    bodyLimit: MAX_BODY,
    authenticate: codecAuthentication(deps, origins),
  });
  return router;
}
