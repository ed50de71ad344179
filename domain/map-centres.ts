/**
 * Approximate centres of Shandong's sixteen cities, for the plain map of the report's hotspots
 * (api/report-html.ts). Geometry only: the names come from the division directory (domain/divisions.ts).
 */
export interface CityCentre {
  /** The city's division code. */
  code: string;
  lat: number;
  lon: number;
}

export const shandongCityCentres: readonly CityCentre[] = [
  { code: '370100', lat: 36.651, lon: 117.12 },
  { code: '370200', lat: 36.067, lon: 120.383 },
  { code: '370300', lat: 36.813, lon: 118.055 },
  { code: '370400', lat: 34.81, lon: 117.323 },
  { code: '370500', lat: 37.434, lon: 118.675 },
  { code: '370600', lat: 37.464, lon: 121.448 },
  { code: '370700', lat: 36.707, lon: 119.162 },
  { code: '370800', lat: 35.415, lon: 116.587 },
  { code: '370900', lat: 36.2, lon: 117.088 },
  { code: '371000', lat: 37.513, lon: 122.121 },
  { code: '371100', lat: 35.417, lon: 119.527 },
  { code: '371300', lat: 35.105, lon: 118.356 },
  { code: '371400', lat: 37.436, lon: 116.359 },
  { code: '371500', lat: 36.457, lon: 115.985 },
  { code: '371600', lat: 37.382, lon: 117.971 },
  { code: '371700', lat: 35.233, lon: 115.481 },
];
