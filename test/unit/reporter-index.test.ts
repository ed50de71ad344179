import { normaliseEmail, normaliseName, normalisePhone } from '../../domain/reporter-index';
import { developmentReporterIndex, ReporterIndex } from '../../runtime/reporter-index';

describe('the normal spelling of what the blind index holds', () => {
  test.each([
    ['+86 138-0013-8000', '8613800138000'],
    ['0086 13800138000', '8613800138000'],
    ['8613800138000', '8613800138000'],
    ['138 0013 8000', '8613800138000'],
    ['１３８００１３８０００', '8613800138000'],
    ['010-1234 5678', '861012345678'],
    ['+86 10 12345678', '861012345678'],
    ['+44 20 7946 0000', '442079460000'],
    ['12369', '12369'],
  ])('when the phone number is %j, then it is %j', (given, normal) => {
    expect(normalisePhone(given)).toBe(normal);
  });

  test('when a value holds nothing to index, then there is no spelling', () => {
    expect(normalisePhone('--')).toBeUndefined();
    expect(normaliseEmail('  ')).toBeUndefined();
    expect(normaliseName('\u3000')).toBeUndefined();
  });

  test('when e-mails and names differ in case, spaces or Unicode form, then they are one spelling', () => {
    expect(normaliseEmail('  Wang.Caller@Example.ORG ')).toBe('wang.caller@example.org');
    expect(normaliseName(' 王\u3000 晓明 ')).toBe('王 晓明');
    expect(normaliseName('Zhou  Xiao\tYun')).toBe('zhou xiao yun');
    expect(normaliseName('Jose\u0301')).toBe(normaliseName('Jos\u00e9'));
  });
});

describe('the digests', () => {
  const index = developmentReporterIndex();

  test('when the same caller is given in two spellings, then the digests are equal; another field with the same text differs', () => {
    const a = index.digestsOf({ phone: '+86 138 0013 8000', name: '13800138000' });
    const b = index.digestsOf({ phone: '13800138000' });
    expect(a.phone!.equals(b.phone!)).toBe(true);
    expect(a.name!.equals(a.phone!)).toBe(false);
    expect(b.name).toBeNull();
    expect(a.phone!.toString('hex')).not.toContain('13800138000');
  });

  test('when a search is made under a ring of two keys, then it looks for the digest under each', () => {
    const k = (n: number) => Buffer.alloc(32, n).toString('base64');
    const ring = ReporterIndex.parse(`old:${k(1)},new:${k(2)}`, 'new');
    const old = ReporterIndex.parse(`old:${k(1)}`, 'old');
    const digests = ring.searchDigests('phone', '138 0013 8000')!;
    expect(digests).toHaveLength(2);
    expect(digests.some((d) => d.equals(old.digestsOf({ phone: '13800138000' }).phone!))).toBe(true);
    expect(ring.digestsOf({ phone: '13800138000' }).keyId).toBe('new');
  });
});
