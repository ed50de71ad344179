import fs from 'node:fs';
import path from 'node:path';
import { describeViolation, violationsDirectory, type ResponseViolation } from './response-violations';

/** The answers of the run that did not match /openapi.json (each also failed its own test). */
function recordedViolations(): ResponseViolation[] {
  const dir = violationsDirectory();
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .flatMap((file) => fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as ResponseViolation);
}

export default async function globalTeardown(): Promise<void> {
  const violations = recordedViolations();
  const teardown = (globalThis as Record<string, unknown>).__ECOLOOP_TEARDOWN__ as (() => Promise<void>) | undefined;
  await teardown?.();
  if (violations.length) {
    throw new Error(
      `${violations.length} answer(s) of the run did not match /openapi.json:\n${violations.map((v) => `- ${describeViolation(v)}`).join('\n')}`,
    );
  }
}
