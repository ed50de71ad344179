/**
 * The hotspot grid: the map cut into square cells of `cellSizeDegrees` (policy: analysis.hotspots).
 * A cell is named by its row and column, counted from the equator and the prime meridian, so that
 * reports (db/reports.ts computes the same cells in SQL) and warning watchers agree on it.
 */

/** Guards against 36.66 / 0.01 = 3665.9999999999995: a point on a cell's edge belongs to the cell above it. */
export const GRID_EPSILON = 1e-9;

export interface GridCell {
  /** `<size>:<row>:<col>`, stable for one cell size. */
  key: string;
  row: number;
  col: number;
  /** The cell's centre. */
  lat: number;
  lon: number;
}

export function gridCell(lat: number, lon: number, cellSizeDegrees: number): GridCell {
  const row = Math.floor(lat / cellSizeDegrees + GRID_EPSILON);
  const col = Math.floor(lon / cellSizeDegrees + GRID_EPSILON);
  return cellOf(row, col, cellSizeDegrees);
}

export function cellOf(row: number, col: number, cellSizeDegrees: number): GridCell {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    key: `${cellSizeDegrees}:${row}:${col}`,
    row,
    col,
    lat: round((row + 0.5) * cellSizeDegrees),
    lon: round((col + 0.5) * cellSizeDegrees),
  };
}

/** "36.665N 117.025E": how a person finds the cell on a map. */
export function cellLabel(cell: Pick<GridCell, 'lat' | 'lon'>): string {
  const ns = cell.lat >= 0 ? 'N' : 'S';
  const ew = cell.lon >= 0 ? 'E' : 'W';
  return `${Math.abs(cell.lat).toFixed(3)}${ns} ${Math.abs(cell.lon).toFixed(3)}${ew}`;
}
