import type { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { allSearchAttributes } from '../domain/search-attributes';

const GRPC_UNIMPLEMENTED = 12;

/**
 * Register the project's custom search attributes on the server, idempotently. The dev server gets
 * them on its command line; a production cluster gets them here (or from the admin-tools job); the
 * time-skipping test server, which cannot list them, gets all of them added.
 */
export async function registerSearchAttributes(connection: Connection | NativeConnection, namespace: string): Promise<string[]> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw err;
  }
  const missing = allSearchAttributes.filter((key) => !(key.name in existing));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
  });
  return missing.map((key) => key.name);
}
