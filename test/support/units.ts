import type { Pool } from 'pg';
import { seedUnitDirectory } from '../../db/units';
import { seedUnits } from '../../domain/unit-seed';
import type { NewUnit } from '../../domain/schemas/units';

/**
 * The unit directory of every test database: the development seed (Shandong's bureaus,
 * `bureau-370102` and the like, domain/unit-seed.ts) and the units the tests hand cases to. The
 * tests' units cover the whole province (370000), so that a case anywhere in Shandong may go to any
 * of them; a test of the division rule creates its own narrower units.
 */
export const testUnitIds = [
  'unit-1',
  'unit-2',
  'unit-7',
  'unit-9',
  'unit-a',
  'unit-b',
  'unit-c',
  'unit-r',
  'unit-lixia',
  'unit-privacy-1',
  'unit-privacy-2',
  'unit-fault',
  'unit-canal',
  'unit-lists-1',
  'unit-lists-2',
  'licheng-bureau',
  'tianqiao-bureau',
] as const;

export const testUnits: readonly NewUnit[] = testUnitIds.map((unitId) => ({
  unitId,
  name: `Test unit ${unitId}`,
  divisionCode: '370000',
  notify: { channel: 'platform' },
}));

export async function seedTestUnits(pool: Pool): Promise<void> {
  await seedUnitDirectory(pool, [...seedUnits(), ...testUnits], { id: 'test-fixtures', role: 'admin' });
}
