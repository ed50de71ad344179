import fs from 'node:fs';

/**
 * What the workflows import is evaluated again for every cached workflow (STYLE.md, "Workflows"):
 * the bundle the workers run must hold no schema library. Schemas live in domain/schemas/, which
 * the API, activities and db/ import; lint/layers.cjs forbids zod and domain/schemas/ to workflows/,
 * workflows/contracts/ and domain/. This test checks the result: the bundle built from
 * workers/worker.ts workflowsPath by the global setup, exactly as a worker builds it.
 */

/** The modules webpack put in the bundle, by their path from the project root ("./domain/case.ts"). */
function bundledModules(code: string): string[] {
  return [...code.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => m[1]);
}

describe('the workflow bundle', () => {
  const code = fs.readFileSync(process.env.ECOLOOP_TEST_WORKFLOW_BUNDLE!, 'utf8');
  const modules = bundledModules(code);

  test('when the workers bundle the workflows, then every workflow and the domain rules they use are in it', () => {
    expect(modules).toEqual(
      expect.arrayContaining(['./workflows/complaint.ts', './domain/complaint-lifecycle.ts', './domain/calendar.ts']),
    );
  });

  test('when the workers bundle the workflows, then no zod module and no schema of domain/schemas/ is in it', () => {
    expect(modules.filter((m) => m.includes('/node_modules/zod/') || m.startsWith('./domain/schemas/'))).toEqual([]);
    expect(code).not.toMatch(/node_modules\/zod\//);
  });
});
