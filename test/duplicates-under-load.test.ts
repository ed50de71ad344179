import { ApiHarness } from './support/api-harness';

/**
 * Duplicates exact under load (activities/intake.ts, docs/lifecycle.md "Duplicates under load"):
 * N complaints about one site give one primary case and N−1 linked to it, whether they arrive at
 * the same moment or one right after the other, through the API, a worker and the Temporal dev
 * server. The read model lags behind the workflows; the decision must not depend on it.
 */

let api: ApiHarness;
let clerk: string;
beforeAll(async () => {
  api = await ApiHarness.create('dup-load');
  clerk = await api.token({ sub: 'clerk-li', role: 'clerk' });
});
afterAll(async () => {
  await api?.teardown();
});

const N = 8;

/** A complaint about the site `siteId` at (lat, lon), each from another complainant. */
function complaint(siteId: string, lat: number, lon: number, i: number) {
  return {
    channel: 'hotline',
    category: 'odour',
    divisionCode: '370112',
    title: `Solvent smell from the coating plant (${i + 1})`,
    description: 'A strong solvent smell over the housing estate every evening.',
    location: { siteId, lat, lon, address: 'No. 3 Gongye North Road' },
    reporter: { anonymous: false, name: `Complainant ${i + 1}`, phone: `1380000000${i}`, consentToShareWithUnit: false },
  };
}

async function register(body: unknown): Promise<string> {
  const res = await api.request('POST', '/v1/complaints', { token: clerk, body });
  if (res.status !== 201) throw new Error(`registration: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.caseId;
}

/** Each case once its intake has decided (it left `registered`), as the clerk reads it. */
async function settled(caseIds: string[]): Promise<any[]> {
  return Promise.all(
    caseIds.map((id) => api.eventually(`/v1/complaints/${id}`, clerk, (b) => b.status !== 'registered', `intake of ${id}`)),
  );
}

/** One primary, handled on its own, and every other case linked to it (and listed by it). */
async function expectOnePrimary(caseIds: string[]): Promise<void> {
  const views = await settled(caseIds);
  const primaries = views.filter((v) => v.mergedInto === undefined);
  expect(primaries.map((v) => v.caseId)).toHaveLength(1);
  const [primary] = primaries;
  expect(primary.status).toBe('pending_acceptance');
  const linked = views.filter((v) => v.mergedInto === primary.caseId);
  expect(linked).toHaveLength(N - 1);
  for (const v of linked) expect(v.closure).toBe('duplicate');
  const listed = await api.eventually(
    `/v1/complaints/${primary.caseId}`,
    clerk,
    (b) => b.linkedCases.length === N - 1,
    `the ${N - 1} duplicates listed by the primary`,
  );
  expect([...listed.linkedCases].sort()).toEqual(linked.map((v) => v.caseId).sort());
}

describe('duplicates under load', () => {
  test(`when ${N} complaints about one site are registered at the same moment, then one is the primary and ${N - 1} are linked to it`, async () => {
    const bodies = Array.from({ length: N }, (_, i) => complaint('coating-plant-simultaneous', 36.6512, 117.1201, i));
    const caseIds = await Promise.all(bodies.map(register));
    await expectOnePrimary(caseIds);
  });

  test(`when ${N} complaints about one site are registered one right after the other, then one is the primary and ${N - 1} are linked to it`, async () => {
    const caseIds: string[] = [];
    // Each answered before the next is sent; nearby points, not only the same site id.
    for (let i = 0; i < N; i++) caseIds.push(await register(complaint('coating-plant-back-to-back', 37.4012 + i * 0.0001, 118.2203, i)));
    await expectOnePrimary(caseIds);
  });
});
