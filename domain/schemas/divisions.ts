import { z } from 'zod';
import { isDivisionCode, isDivisionPrefix } from '../divisions';

/** The division directory's codes as the API takes them (domain/divisions.ts holds the directory). */

/** A division of the directory, as bodies and Open311's jurisdiction_id carry it: "000000" and unknown codes are refused. */
export const divisionCodeSchema = z
  .string()
  .regex(/^\d{6}$/, 'a six-digit administrative division code')
  .refine(isDivisionCode, 'no such division in the directory of administrative divisions (GB/T 2260)');

/** A division code or a prefix of one ("37" a province, "3701" a city) that names a division of the directory. */
export const divisionPrefixSchema = z
  .string()
  .regex(/^\d{2,6}$/, 'a division code or a prefix of one (2 to 6 digits)')
  .refine(isDivisionPrefix, 'names no division in the directory (GB/T 2260): "37" a province, "3701" a city, or a six-digit code');
