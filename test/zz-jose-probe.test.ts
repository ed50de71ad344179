import { mintToken } from '../api/auth';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
test('probe', async () => { expect(await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'clerk-1', role: 'clerk' })).toMatch(/\./); });
