import { describeViolation, takeViolations } from './response-violations';

/**
 * In every test file of the suite (jest `setupFilesAfterEnv`): a test during which the in-process
 * API gave an answer that does not match /openapi.json fails, naming each answer, whether or not
 * the test looked at it. Answers given in a `beforeAll` fail the file's first test; in an
 * `afterAll`, the file.
 */
function failOnViolations(): void {
  const violations = takeViolations();
  if (!violations.length) return;
  throw new Error(
    `The API answered ${violations.length} time(s) not as /openapi.json says (the document is the contract: fix the schema or the answer):\n` +
      violations.map((v) => `- ${describeViolation(v)}`).join('\n'),
  );
}

afterEach(failOnViolations);
afterAll(failOnViolations);
