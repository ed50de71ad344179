import { z } from 'zod';
import { notifyChannels } from '../units';
import { text } from './case';
import { divisionCodeSchema } from './divisions';

/** The unit directory's schemas (domain/units.ts holds the rules): what the admin routes take. */

/** A unit's id: lower-case letters, digits and dashes ("bureau-370102"), as unit tokens carry it. */
export const unitIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'a unit id: lower-case letters, digits and dashes, at most 100');

export const notificationSchema = z
  .strictObject({
    channel: z.enum(notifyChannels),
    address: text(300).optional().describe('the e-mail address, phone number or URL; none for the platform'),
  })
  .refine((n) => (n.channel === 'platform') === (n.address === undefined), {
    message: "an address for 'email', 'sms' and 'webhook'; none for 'platform'",
    path: ['address'],
  });
export type UnitNotification = z.infer<typeof notificationSchema>;

export const newUnitSchema = z.strictObject({
  unitId: unitIdSchema,
  name: text(200),
  divisionCode: divisionCodeSchema,
  parentUnitId: unitIdSchema.optional(),
  notify: notificationSchema.default({ channel: 'platform' }),
});
export type NewUnit = z.infer<typeof newUnitSchema>;
