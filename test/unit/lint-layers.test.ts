import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * Each layer rule (lint/layers.cjs, wired into eslint.config.mjs) fails on a violating import and
 * passes a conforming one. The files need not exist: the rule judges the importer's path and the
 * path the import resolves to.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS module shared with eslint.config.mjs
const layers = require('../../lint/layers.cjs') as { layerConfig: Record<string, unknown> };

const root = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, layers.layerConfig],
});

/** The layer-rule messages for `code` written in the file at `file` (relative to the root). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the layer rules', () => {
  test.each([
    ['domain/x.ts', "import { createPool } from '../db/pool';", 'domain may not import db/'],
    ['domain/x.ts', "import type { Pool } from '../db/pool';", 'domain may not import db/'],
    ['workflows/x.ts', "import { createPool } from '../db/pool';", 'workflows may not import db/'],
    ['workflows/x.ts', "import { createActivities } from '../activities';", 'workflows may not import activities/'],
    ['workflows/x.ts', "import { complaintWorkflow } from './complaint';", 'workflows may not import workflows/'],
    ['workflows/x.ts', "import fs from 'node:fs';", 'workflows may not import a Node built-in'],
    ['workflows/x.ts', "import { randomUUID } from 'crypto';", 'workflows may not import a Node built-in'],
    ['workflows/contracts/x.ts', "import { complaintWorkflow } from '../complaint';", 'contracts may not import workflows/'],
    ['workflows/contracts/x.ts', "import { z } from 'zod';", 'contracts may not import the package zod'],
    ['db/x.ts', "import { loadConfig } from '../runtime/config';", 'db may not import runtime/'],
    ['db/x.ts', "import type { Activities } from '../activities';", 'db may not import activities/'],
    ['db/x.ts', "export { statusQuery } from '../workflows/contracts/complaint';", 'db may not import contracts/'],
    ['api/x.ts', "import { complaintWorkflow } from '../workflows/complaint';", 'api may not import workflows/'],
    ['api/routes/x.ts', "import { pay } from '../../activities/payments';", 'api may not import activities/'],
    ['api/routes/x.ts', "import { syncSchedules } from '../../worker/schedules';", 'api may not import worker/'],
    ['activities/x.ts', "import { backlogSweepWorkflow } from '../workflows/backlog';", 'activities may not import workflows/'],
    ['worker/x.ts', "import { reportWorkflow } from '../workflows/monthly-report';", 'worker may not import workflows/'],
    ['runtime/x.ts', "import { createApp } from '../api/app';", 'runtime may not import api/'],
    ['api/x.ts', "import { generator } from '../bench/generator';", 'api may not import bench/'],
    ['db/x.ts', "import { createTestDatabase } from '../test/support/database';", 'db may not import testkit/'],
    ['test/x.test.ts', "import { run } from '../bench/intake';", 'test may not import bench/'],
    ['test/support/x.ts', "import { cases } from '../api-lifecycle.test';", 'testkit may not import test/'],
    ['bench/x.ts', "import { cases } from '../test/api-lifecycle.test';", 'bench may not import test/'],
    ['domain/x.ts', "const later = import('../db/pool');", 'domain may not import db/'],
    ['domain/x.ts', "import { z } from 'zod';", 'domain may not import the package zod'],
    ['domain/x.ts', "import { intakeSchema } from './schemas/case';", 'domain may not import schemas/'],
    ['workflows/x.ts', "import { z } from 'zod';", 'workflows may not import the package zod'],
    ['workflows/x.ts', "import { intakeSchema } from '../domain/schemas/case';", 'workflows may not import schemas/'],
    ['workflows/contracts/x.ts', "import { policySchema } from '../../domain/schemas/policy';", 'contracts may not import schemas/'],
  ])('when %s imports %s, then the lint fails: %s', async (file, code, message) => {
    const errors = await layerErrors(file, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`layers/allowed-imports: ${message}`);
  });

  test.each([
    ['domain/x.ts', "import { iso } from './instant';"],
    ['domain/x.ts', "import type { Intake } from './schemas/case';"],
    ['domain/schemas/x.ts', "import { z } from 'zod';"],
    ['api/x.ts', "import { intakeSchema } from '../domain/schemas/case';"],
    ['workflows/x.ts', "import type { createActivities } from '../activities';"],
    ['workflows/x.ts', "import { type createActivities } from '../activities';"],
    ['workflows/x.ts', "import { statusQuery } from './contracts/complaint';"],
    ['workflows/x.ts', "import { proxyActivities } from '@temporalio/workflow';"],
    ['workflows/x.ts', "import { addBusinessDays } from '../domain/calendar';"],
    ['workflows/index.ts', "export { complaintWorkflow } from './complaint';"],
    ['workflows/contracts/x.ts', "import { defineQuery } from '@temporalio/workflow';"],
    ['workflows/contracts/x.ts', "import type { CaseView } from '../../domain/case';"],
    ['db/x.ts', "import { inTransaction } from './transaction';"],
    ['db/x.ts', "import { iso } from '../domain/instant';"],
    ['api/routes/x.ts', "import { statusQuery } from '../../workflows/contracts/complaint';"],
    ['api/x.ts', "import { createPool } from '../db/pool';"],
    ['activities/x.ts', "import { loadConfig } from '../runtime/config';"],
    ['worker/x.ts', "import { createActivities } from '../activities';"],
    ['runtime/x.ts', "import { migrate } from '../db/migrate';"],
    ['test/x.test.ts', "import { complaintWorkflow } from '../workflows/complaint';"],
    ['bench/x.ts', "import { startApi } from '../test/support/api';"],
  ])('when %s imports %s, then the layer rules pass', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
