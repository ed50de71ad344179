import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../runtime/config';
import { isDivisionPrefix } from '../domain/divisions';
import { mintToken, principalSchema } from './auth';

/**
 * `npm run token -- <role> [--sub ID] [--unit UNIT] [--division CODE ...] [--expires 12h]`
 * prints a bearer token signed with JWT_SECRET (the development secret when unset).
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      sub: { type: 'string' },
      unit: { type: 'string' },
      division: { type: 'string', multiple: true },
      expires: { type: 'string', default: '12h' },
    },
  });
  const role = positionals[0];
  const parsed = principalSchema.safeParse({
    sub: values.sub ?? `${role}-dev`,
    role,
    unitId: values.unit ?? (role === 'unit' ? 'bureau-370102' : undefined),
    divisions: values.division ?? (role === 'supervisor' ? ['37'] : undefined),
  });
  const unknown = (values.division ?? []).filter((d) => !isDivisionPrefix(d));
  if (unknown.length) {
    process.stderr.write(`no such division in the directory (GB/T 2260): ${unknown.join(', ')}\n`);
    process.exit(2);
  }
  if (!parsed.success) {
    process.stderr.write(
      `usage: npm run token -- <clerk|unit|supervisor|inspector|analyst|ops|admin> [--sub ID] [--unit UNIT] [--division CODE]...\n` +
        parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n') +
        '\n',
    );
    process.exit(2);
  }
  process.stdout.write(`${await mintToken(config.JWT_SECRET, parsed.data, values.expires)}\n`);
}

void main();
