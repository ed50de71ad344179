import fs from 'node:fs';
import path from 'node:path';

/**
 * The record of the answers that did not match /openapi.json (test/support/response-validation.ts):
 * pending for the test running now (test/support/response-validation-hooks.ts), and appended to the
 * run's directory (`ECOLOOP_TEST_RESPONSE_VALIDATION`) for the global teardown. No validator here,
 * so that every test file's setup can read it cheaply.
 */

export interface ResponseViolation {
  method: string;
  /** The request's path and query, as sent. */
  url: string;
  /** The documented path of the operation, e.g. `/v1/complaints/{caseId}`. */
  route: string;
  status: number;
  /** The validator's message and each error with its JSON path in the answer (`/response/...`). */
  message: string;
  errors: { path: string; message: string }[];
}

/** One line per violation: what to fix, and where. */
export function describeViolation(v: ResponseViolation): string {
  const errors = v.errors.length ? v.errors.map((e) => `\n    at ${e.path}: ${e.message}`).join('') : ` ${v.message}`;
  const url = v.url.length > 200 ? `${v.url.slice(0, 200)}...` : v.url;
  return `${v.method} ${url} (${v.route}) answered ${v.status}, not as /openapi.json says:${errors}`;
}

/** The violations seen in this test file since the last `takeViolations()`. */
const pending: ResponseViolation[] = [];

export function takeViolations(): ResponseViolation[] {
  return pending.splice(0, pending.length);
}

/** The run's record of violations (a directory, one file per test process), or undefined outside `npm test`. */
export function violationsDirectory(): string | undefined {
  return process.env.ECOLOOP_TEST_RESPONSE_VALIDATION || undefined;
}

export function recordViolation(v: ResponseViolation): void {
  pending.push(v);
  // One plain line at once (the test fails with the full list at its end).
  process.stderr.write(`API document violation: ${describeViolation(v)}\n`);
  const dir = violationsDirectory();
  if (dir) fs.appendFileSync(path.join(dir, `${process.pid}.jsonl`), `${JSON.stringify(v)}\n`);
}
