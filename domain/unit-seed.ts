import { divisionName, divisionOf, divisionsUnder } from './divisions';
import type { NewUnit } from './schemas/units';

/**
 * The handling units the development stack and the demo start with (`npm start` seeds them; a unit
 * an admin changed or deactivated is left as it is): Shandong's provincial department of ecology
 * and environment, a bureau for each of its cities under it, and a bureau for each county-level
 * division under its city's bureau. Ids are `dept-370000`, `bureau-370100`, `bureau-370102`, ...
 * (what bench/demo.ts and `npm run token -- unit` use). Names from the division directory.
 */
export const SEED_PROVINCE = '370000';

export function seedUnits(province = SEED_PROVINCE): NewUnit[] {
  const top = divisionOf(province);
  if (!top) throw new Error(`seed: no division ${province}`);
  const dept = `dept-${province}`;
  const units: NewUnit[] = [{ unitId: dept, name: `${top.name}生态环境厅`, divisionCode: province, notify: { channel: 'platform' } }];
  for (const city of divisionsUnder(province)) {
    const cityBureau = `bureau-${city.code}`;
    units.push({
      unitId: cityBureau,
      name: `${city.name}生态环境局`,
      divisionCode: city.code,
      parentUnitId: dept,
      notify: { channel: 'platform' },
    });
    for (const county of divisionsUnder(city.code)) {
      units.push({
        unitId: `bureau-${county.code}`,
        name: `${divisionName(county.code)}生态环境局`,
        divisionCode: county.code,
        parentUnitId: cityBureau,
        notify: { channel: 'platform' },
      });
    }
  }
  return units;
}
