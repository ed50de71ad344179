import type { Server } from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../../api/app';
import { defaultPolicy } from '../../domain/policy';
import { DEVELOPMENT_JWT_SECRET } from '../../runtime/config';
import { developmentKeyRing } from '../../runtime/encryption';
import { developmentReporterKeyRing } from '../../runtime/reporter-seal';
import { developmentReporterIndex } from '../../runtime/reporter-index';
import { createLogger } from '../../runtime/logger';
import { suiteResponseValidation } from './response-validation';

/** What a caller must give; the rest defaults to the development settings (secret, key, silent log, default policy). */
export type InProcessApiDeps = Pick<AppDeps, 'client' | 'connection' | 'pool' | 'taskQueue'> & Partial<AppDeps>;

export interface InProcessApi {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  server: Server;
  /** The Express app itself, for tests that inspect what it mounts. */
  app: Express;
  /** Closes the server (open keep-alive connections included); the caller's client, connection and pool stay open. */
  stop(): Promise<void>;
}

/**
 * The HTTP API (api/app.ts `createApp`) in this process on an ephemeral port of 127.0.0.1: the one
 * in-process API starter of the tests, the fault runs and the benchmarks. Under jest (the global
 * setup asks for it) every answer is validated against /openapi.json (test/support/response-validation.ts).
 */
export async function startInProcessApi(deps: InProcessApiDeps): Promise<InProcessApi> {
  const app = createApp({
    policy: () => defaultPolicy,
    jwtSecret: DEVELOPMENT_JWT_SECRET,
    log: createLogger('silent', 'api-test'),
    keyRing: developmentKeyRing(),
    reporterKeys: developmentReporterKeyRing(),
    reporterIndex: developmentReporterIndex(),
    responseCheck: suiteResponseValidation(),
    ...deps,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    app,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
