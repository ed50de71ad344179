import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { defaultPayloadConverter } from '@temporalio/common';
import { mintToken } from '../api/auth';
import { problemHandler } from '../api/problem';
import { codecRoutes } from '../api/routes/codec';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../runtime/config';
import { developmentKeyRing, EncryptionCodec } from '../runtime/encryption';
import { createLogger } from '../runtime/logger';

/**
 * Who may use the codec from a browser (issue #13, point 2): the Temporal UI's origin gets CORS for
 * what the UI sends (Content-Type, X-Namespace; Authorization and Authorization-Extras when it passes
 * the operator's tokens); in development (CODEC_TRUST_LOCAL_UI) that local UI decodes without a
 * token; everywhere else a token with the ops role is required, as before. The codec's router on
 * an ephemeral port, with the development key ring.
 */

const UI = 'http://127.0.0.1:18233';
const keyRing = developmentKeyRing();

async function serve(codecTrustsLocalUi: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(
    codecRoutes({
      keyRing,
      jwtSecret: DEVELOPMENT_JWT_SECRET,
      namespace: 'default',
      temporalUiUrl: UI,
      codecTrustsLocalUi,
      log: createLogger('silent', 'test'),
    }),
  );
  app.use(problemHandler(() => undefined));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function sealedBody(): Promise<string> {
  const [sealed] = await new EncryptionCodec(keyRing).encode([defaultPayloadConverter.toPayload({ title: 'Oily sheen' })]);
  return JSON.stringify({
    payloads: [
      {
        metadata: Object.fromEntries(Object.entries(sealed.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(sealed.data!).toString('base64'),
      },
    ],
  });
}

async function decode(
  base: string,
  headers: Record<string, string>,
): Promise<{ status: number; title?: string; allowOrigin: string | null }> {
  const res = await fetch(`${base}/codec/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: await sealedBody(),
  });
  const body = (await res.json()) as { payloads?: { data: string }[] };
  const title = res.ok ? (JSON.parse(Buffer.from(body.payloads![0].data, 'base64').toString()) as { title: string }).title : undefined;
  return { status: res.status, title, allowOrigin: res.headers.get('access-control-allow-origin') };
}

describe('the codec and the Temporal UI', () => {
  test("when the UI's origin sends its preflight (by 127.0.0.1 or localhost), then it may POST with the headers the UI sends; another origin may not", async () => {
    const codec = await serve(false);
    try {
      for (const origin of [UI, 'http://localhost:18233']) {
        const res = await fetch(`${codec.url}/codec/decode`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,authorization-extras,content-type,x-namespace',
          },
        });
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
        expect(allowed).toEqual(expect.arrayContaining(['authorization', 'authorization-extras', 'content-type', 'x-namespace']));
      }
      const foreign = await fetch(`${codec.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await codec.close();
    }
  });

  test('when the codec trusts the local UI, then the UI decodes without a token; no other origin, no origin at all, nor a non-ops token does', async () => {
    const codec = await serve(true);
    const clerk = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'clerk-1', role: 'clerk' });
    try {
      expect(await decode(codec.url, { origin: UI })).toEqual({ status: 200, title: 'Oily sheen', allowOrigin: UI });
      expect(await decode(codec.url, { origin: 'http://localhost:18233' })).toMatchObject({ status: 200, title: 'Oily sheen' });
      expect(await decode(codec.url, { origin: 'http://evil.example' })).toMatchObject({ status: 401, allowOrigin: null });
      expect(await decode(codec.url, { origin: 'http://127.0.0.1:9999' })).toMatchObject({ status: 401 });
      expect(await decode(codec.url, {})).toMatchObject({ status: 401 });
      // A token, when sent, is checked: the UI passing a clerk's token gets what a clerk gets.
      expect(await decode(codec.url, { origin: UI, authorization: `Bearer ${clerk}` })).toMatchObject({ status: 403 });
    } finally {
      await codec.close();
    }
  });

  test('when the codec does not trust the UI (production), then the UI needs an ops token: none is 401, clerk and admin 403, ops 200', async () => {
    const codec = await serve(false);
    const token = (role: 'clerk' | 'admin' | 'ops') => mintToken(DEVELOPMENT_JWT_SECRET, { sub: `${role}-1`, role });
    try {
      expect(await decode(codec.url, { origin: UI })).toMatchObject({ status: 401 });
      expect(await decode(codec.url, { origin: UI, authorization: `Bearer ${await token('clerk')}` })).toMatchObject({ status: 403 });
      expect(await decode(codec.url, { origin: UI, authorization: `Bearer ${await token('admin')}` })).toMatchObject({ status: 403 });
      expect(await decode(codec.url, { origin: UI, authorization: `Bearer ${await token('ops')}` })).toEqual({
        status: 200,
        title: 'Oily sheen',
        allowOrigin: UI,
      });
    } finally {
      await codec.close();
    }
  });

  test('when CODEC_TRUST_LOCAL_UI=true outside development, or off loopback, then the configuration refuses it; in development on loopback it is accepted', () => {
    const dev = { NODE_ENV: 'development', HOST: '127.0.0.1', TEMPORAL_UI_URL: UI, CODEC_TRUST_LOCAL_UI: 'true' };
    expect(loadConfig(dev).CODEC_TRUST_LOCAL_UI).toBe(true);
    for (const bad of [
      {
        NODE_ENV: 'production',
        JWT_SECRET: 'x'.repeat(32),
        ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
        ENCRYPTION_KEY_ID: 'k1',
      },
      { NODE_ENV: 'test' },
      { HOST: '0.0.0.0' },
      { TEMPORAL_UI_URL: 'http://ops.example.org:8233' },
      { TEMPORAL_UI_URL: '' },
    ]) {
      expect(() => loadConfig({ ...dev, ...bad })).toThrow(/CODEC_TRUST_LOCAL_UI/);
    }
  });
});
