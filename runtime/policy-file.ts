import fs from 'node:fs';
import { defaultPolicy, type Policy } from '../domain/policy';
import { parsePolicy } from '../domain/schemas/policy';

/** The policy in force: the defaults, overridden by POLICY_FILE when set. Fails fast on a bad file. */
export function loadPolicy(file: string | undefined): Policy {
  if (!file) return defaultPolicy;
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`POLICY_FILE=${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parsePolicy(document);
  } catch (err) {
    throw new Error(`POLICY_FILE=${file} is not a valid policy: ${(err as Error).message}`, { cause: err });
  }
}
