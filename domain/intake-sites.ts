import type { Location } from './case';
import type { Category } from './policy';

/**
 * Which intake decisions must not run side by side: two complaints of one category that could be
 * duplicates of each other (same site, or within the duplicate radius). The registration side
 * (activities/intake.ts) takes a lock on every key below before it looks for the case's primary and
 * records its own decision, so that N complaints about one site, however close together, find each
 * other: one primary and N−1 linked to it (docs/lifecycle.md, "Duplicates under load").
 *
 * Keys are grid cells at least `radiusMeters` on a side. Two points within the radius lie in the
 * same or adjacent cells, so each complaint locks its cell and the eight around it: any two that
 * could match share a key. Rows are bands of latitude; a band's cells are widened for its latitude
 * (a degree of longitude shrinks towards the poles) and for its neighbours' latitudes.
 */

const METERS_PER_DEGREE_LAT = 111_320;
/** Beyond this latitude a cell is the whole band: degrees of longitude are too short to divide. */
const POLAR_LATITUDE = 89;

/** The lock keys of one complaint: its site, and the cells of its coordinates and around them. */
export function duplicateLockKeys(category: Category, location: Location, radiusMeters: number): string[] {
  const keys: string[] = [];
  if (location.siteId) keys.push(`${category}:site:${location.siteId}`);
  const { lat, lon } = location;
  if (lat === undefined || lon === undefined) return keys;
  const height = radiusMeters / METERS_PER_DEGREE_LAT;
  const band = Math.floor(lat / height);
  for (let row = band - 1; row <= band + 1; row++) {
    const width = bandCellWidth(row, height);
    const col = Math.floor(lon / width);
    for (let c = col - 1; c <= col + 1; c++) keys.push(`${category}:cell:${radiusMeters}:${row}:${Number.isFinite(width) ? c : 0}`);
  }
  return [...new Set(keys)];
}

/** Degrees of longitude that span the radius anywhere in band `row` and the bands beside it. */
function bandCellWidth(row: number, height: number): number {
  const farthest = Math.max(Math.abs(row - 1), Math.abs(row + 2)) * height;
  if (farthest >= POLAR_LATITUDE) return Infinity;
  return height / Math.cos((farthest * Math.PI) / 180);
}
