import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import pino from 'pino';
import type { Principal } from '../api/auth';
import { ApiHarness } from './support/api-harness';
import { quietRuntime } from './support/temporal';

/**
 * Case lists for people (docs/api.md "Listing and finding cases"), through the API with each role's
 * token, against the real Temporal dev server and PostgreSQL: a clerk's own cases, a unit's, the
 * sort orders, dates as dates, keyset pages with a total; finding a case by the caller's phone
 * number, e-mail or name (clerks and supervisors only) while neither the database (pg_dump) nor the
 * logs hold the number in clear; free text in Chinese from one character on.
 */

const UNIT = 'unit-lists-1';
const OTHER_UNIT = 'unit-lists-2';

/** The caller of case 0, as the clerk typed it at registration; they phone back and give it in other spellings. */
const PHONE = '+86 138-4471-2093';
const PHONE_SPELLINGS = ['13844712093', '0086 138 4471 2093', '8613844712093', '138 4471 2093'];
/** Every form the number could take in a dump or a log line. */
const PHONE_NEEDLES = ['13844712093', '8613844712093', '138-4471-2093', '4471-2093', '44712093'];
const EMAIL = 'Wang.Caller7731@Example.org';
const NAME = '王  晓明';

const complaint = (i: number, title: string, description: string, reporter?: object) => ({
  channel: 'hotline',
  category: (['water', 'air', 'noise', 'odour', 'dust'] as const)[i % 5],
  divisionCode: '370102',
  title,
  description,
  ...(reporter && { reporter }),
});

/** Log lines of the API (pino) and of the worker (the Temporal runtime's logger), everything from trace up. */
const logLines: string[] = [];

let api: ApiHarness;
const tokens: Record<string, string> = {};
const ids: string[] = [];

beforeAll(async () => {
  quietRuntime(new DefaultLogger('TRACE', (entry: LogEntry) => logLines.push(`${entry.message} ${JSON.stringify(entry.meta ?? {})}`)));
  const log = pino({ level: 'trace', name: 'api' }, { write: (line: string) => logLines.push(line) });
  api = await ApiHarness.create('lists', { log });
  const principals: Record<string, Principal> = {
    clerk: { sub: 'clerk-lists-a', role: 'clerk' },
    otherClerk: { sub: 'clerk-lists-b', role: 'clerk' },
    unit: { sub: 'unit-lists-user', role: 'unit', unitId: UNIT },
    supervisor: { sub: 'sup-lists', role: 'supervisor', divisions: ['3701'] },
    farSupervisor: { sub: 'sup-lists-far', role: 'supervisor', divisions: ['44'] },
    inspector: { sub: 'insp-lists', role: 'inspector' },
    analyst: { sub: 'ana-lists', role: 'analyst' },
    ops: { sub: 'ops-lists', role: 'ops' },
  };
  for (const [who, p] of Object.entries(principals)) tokens[who] = await api.token(p);

  const cases = [
    complaint(0, '化工厂夜间排放废水', '河水发黑，气味刺鼻。', { anonymous: false, phone: PHONE, email: EMAIL, name: NAME }),
    complaint(1, 'Chemical smell near the school', 'Strong odour every morning.', { anonymous: false, phone: '+86 139 0000 1111' }),
    complaint(2, '工地噪声扰民', '深夜施工，噪声很大。'),
    complaint(3, 'Dust from the quarry', '粉尘覆盖了整条街。'),
    complaint(4, '垃圾堆放', '小区门口垃圾发臭。'),
  ];
  for (const [i, body] of cases.entries()) {
    const token = i === 3 ? tokens.otherClerk : tokens.clerk;
    const res = await api.request('POST', '/v1/complaints', { token, body });
    expect(res.status).toBe(201);
    ids.push(res.body.caseId);
  }
  // Two cases to the unit, one to another unit, so that the deadlines differ by kind.
  for (const [id, unitId] of [
    [ids[0], UNIT],
    [ids[2], UNIT],
    [ids[4], OTHER_UNIT],
  ]) {
    expect((await api.request('POST', `/v1/complaints/${id}/accept`, { token: tokens.clerk, body: { unitId } })).status).toBe(200);
  }
  expect(
    (await api.request('POST', `/v1/complaints/${ids[2]}/escalation`, { token: tokens.supervisor, body: { reason: 'slow', level: 2 } }))
      .status,
  ).toBe(200);
  // Every case projected, with its last decision.
  await api.eventually(
    '/v1/complaints?pageSize=50',
    tokens.clerk,
    (b) => b.total === 5 && b.items.some((c: any) => c.escalationLevel === 2),
  );
  await api.eventually(`/v1/complaints?unit=${OTHER_UNIT}`, tokens.clerk, (b) => b.total === 1);
}, 120_000);

afterAll(async () => {
  await api?.teardown();
});

const list = async (query: string, who = 'clerk') => api.request('GET', `/v1/complaints?${query}`, { token: tokens[who] });
const caseIds = (body: { items: Array<{ caseId: string }> }) => body.items.map((i) => i.caseId);

describe('case lists for people', () => {
  test('when a clerk lists owner=me, then only the cases it registered, without an empty timeline, every instant ISO 8601', async () => {
    const res = await list('owner=me');
    expect(res.status).toBe(200);
    expect(caseIds(res.body).sort()).toEqual([ids[0], ids[1], ids[2], ids[4]].sort());
    expect(res.body.total).toBe(4);
    for (const item of res.body.items) {
      expect(item).not.toHaveProperty('timeline');
      expect(item.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    }
    expect(caseIds((await list('owner=me', 'otherClerk')).body)).toEqual([ids[3]]);
  });

  test('when a unit lists unit=me, then its own cases only; unit=me from another role is refused (400)', async () => {
    const res = await list('unit=me', 'unit');
    expect(res.status).toBe(200);
    expect(caseIds(res.body).sort()).toEqual([ids[0], ids[2]].sort());
    expect((await list(`unit=${OTHER_UNIT}`, 'unit')).status).toBe(403);
    expect((await list('unit=me', 'clerk')).status).toBe(400);
  });

  test('when cases are sorted by due, escalation or receipt, then in that order, both ways', async () => {
    const due = (await list('sort=due')).body.items as Array<{ caseId: string; deadline?: { dueAt: string } }>;
    const dueTimes = due.map((c) => (c.deadline ? Date.parse(c.deadline.dueAt) : Infinity));
    expect(dueTimes).toEqual([...dueTimes].sort((a, b) => a - b));
    const dueDesc = (await list('sort=due&order=desc')).body.items.map((c: { caseId: string }) => c.caseId);
    expect(dueDesc).toEqual(due.map((c) => c.caseId).reverse());

    const escalated = (await list('sort=escalation')).body.items;
    expect(escalated[0].caseId).toBe(ids[2]);
    expect(escalated[0].escalationLevel).toBe(2);
    const ascending = (await list('sort=escalation&order=asc')).body.items;
    expect(ascending[ascending.length - 1].caseId).toBe(ids[2]);

    const received = (await list('sort=received&order=asc')).body.items.map((c: { receivedAt: string }) => Date.parse(c.receivedAt));
    expect(received).toEqual([...received].sort((a, b) => a - b));
  });

  test('when from and to are dates, then whole local days; dueBefore and overdue filter by the running deadline', async () => {
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10); // the policy's UTC+08:00 calendar
    const yesterday = new Date(Date.now() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10);
    expect((await list(`from=${today}&to=${today}`)).body.total).toBe(5);
    expect((await list(`to=${yesterday}`)).body.total).toBe(0);
    expect((await list(`from=${today}&to=2020-01-01`)).status).toBe(400);
    expect((await list(`from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).body.total).toBe(5);
    expect((await list('from=2026-02-30')).status).toBe(400);

    const all = (await list('sort=due')).body.items as Array<{ caseId: string; deadline?: { dueAt: string } }>;
    const first = Date.parse(all[0].deadline!.dueAt);
    const before = new Date(first + 1).toISOString();
    const due = await list(`dueBefore=${encodeURIComponent(before)}`);
    expect(caseIds(due.body)).toEqual(all.filter((c) => c.deadline && Date.parse(c.deadline.dueAt) < first + 1).map((c) => c.caseId));
    expect((await list('dueBefore=2000-01-01')).body.total).toBe(0);
    expect((await list('overdue=true')).body.total).toBe(0);
  });

  test('when pages follow the cursor, then every case comes once with the same total, and a cursor of another query is refused', async () => {
    for (const sort of ['received', 'due', 'escalation']) {
      const seen: string[] = [];
      let query = `sort=${sort}&pageSize=2`;
      for (let pages = 0; pages < 5; pages++) {
        const res = await list(query);
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(5);
        seen.push(...caseIds(res.body));
        if (!res.body.nextCursor) break;
        query = `sort=${sort}&pageSize=2&cursor=${res.body.nextCursor}`;
      }
      expect(seen).toEqual(caseIds((await list(`sort=${sort}&pageSize=50`)).body));
    }
    const first = await list('pageSize=2');
    expect((await list(`pageSize=2&category=water&cursor=${first.body.nextCursor}`)).status).toBe(400);
    expect((await list(`pageSize=2&sort=due&cursor=${first.body.nextCursor}`)).status).toBe(400);
    expect((await list(`pageSize=2&page=2&cursor=${first.body.nextCursor}`)).status).toBe(400);
    expect((await list('cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
    // Offset pages still work.
    expect((await list('pageSize=2&page=3')).body).toMatchObject({ page: 3, total: 5, items: [expect.anything()] });
  });

  test('when text is searched in Chinese, then one, two or more characters find it in the title or the description; Latin text and case numbers too', async () => {
    expect(caseIds((await list(`q=${encodeURIComponent('化工厂')}`)).body)).toEqual([ids[0]]);
    expect(caseIds((await list(`q=${encodeURIComponent('噪声')}`)).body)).toEqual([ids[2]]);
    expect(caseIds((await list(`q=${encodeURIComponent('臭')}`)).body)).toEqual([ids[4]]);
    expect(caseIds((await list(`q=${encodeURIComponent('粉尘覆盖')}`)).body)).toEqual([ids[3]]);
    expect(caseIds((await list(`q=${encodeURIComponent('废气')}`)).body)).toEqual([]);
    expect(caseIds((await list('q=chemical')).body)).toEqual([ids[1]]);
    expect(caseIds((await list(`q=${ids[3]}`)).body)).toEqual([ids[3]]);
    expect((await list(`q=${encodeURIComponent('a\nb')}`)).status).toBe(400);
  });

  test('when the address is in the read model, then free text finds it', async () => {
    await api.db.pool.query(`UPDATE cases SET address = '历下区泉城路 180 号' WHERE case_id = $1`, [ids[1]]);
    expect(caseIds((await list(`q=${encodeURIComponent('泉城路')}`)).body)).toEqual([ids[1]]);
  });
});

describe('finding a case by its caller', () => {
  test('when a clerk gives the phone number in any spelling, then the case is found; the e-mail and the name too', async () => {
    for (const spelling of [PHONE, ...PHONE_SPELLINGS]) {
      const res = await list(`reporterPhone=${encodeURIComponent(spelling)}`);
      expect({ spelling, status: res.status, found: caseIds(res.body) }).toEqual({ spelling, status: 200, found: [ids[0]] });
    }
    expect(caseIds((await list(`reporterPhone=${encodeURIComponent('+86 138 4471 2094')}`)).body)).toEqual([]);
    expect(caseIds((await list(`reporterEmail=${encodeURIComponent(' wang.caller7731@example.ORG ')}`)).body)).toEqual([ids[0]]);
    expect(caseIds((await list(`reporterName=${encodeURIComponent('王 晓明')}`)).body)).toEqual([ids[0]]);
    expect(caseIds((await list(`reporterName=${encodeURIComponent('王晓明')}`)).body)).toEqual([]);
    // Combined with other filters, AND.
    expect(caseIds((await list(`reporterPhone=${PHONE_SPELLINGS[0]}&status=handling`)).body)).toEqual([ids[0]]);
    expect(caseIds((await list(`reporterPhone=${PHONE_SPELLINGS[0]}&category=air`)).body)).toEqual([]);
    expect((await list('reporterPhone=--')).status).toBe(400);
  });

  test('when a supervisor searches by the caller, then within its divisions; any other role is refused (403)', async () => {
    expect(caseIds((await list(`reporterPhone=${PHONE_SPELLINGS[0]}`, 'supervisor')).body)).toEqual([ids[0]]);
    expect((await list(`reporterPhone=${PHONE_SPELLINGS[0]}`, 'farSupervisor')).body.total).toBe(0);
    for (const who of ['unit', 'inspector', 'analyst', 'ops']) {
      for (const filter of [`reporterPhone=${PHONE_SPELLINGS[0]}`, `reporterEmail=${encodeURIComponent(EMAIL)}`, 'reporterName=x']) {
        const res = await list(filter, who);
        expect({ who, filter, status: res.status }).toEqual({ who, filter, status: 403 });
      }
    }
  });

  test('when the database is dumped and the logs are read, then the phone number is nowhere in clear', async () => {
    const dump = await promisify(execFile)('pg_dump', ['--no-owner', '--dbname', api.db.url], {
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'buffer',
    });
    const bytes = dump.stdout as Buffer;
    // The dump holds the cases (it is the right database), but no spelling of the number, in text or as bytea hex.
    expect(bytes.includes(Buffer.from(ids[0]))).toBe(true);
    expect(bytes.includes(Buffer.from('化工厂夜间排放废水'))).toBe(true);
    const inDump = PHONE_NEEDLES.filter(
      (n) => bytes.includes(Buffer.from(n)) || bytes.includes(Buffer.from(Buffer.from(n).toString('hex'))),
    );
    expect(inDump).toEqual([]);
    for (const n of [EMAIL.toLowerCase(), 'Caller7731', '晓明'])
      expect({ n, found: bytes.includes(Buffer.from(n)) }).toEqual({ n, found: false });

    // The logs of this run: the API's and the worker's, from trace up, searches by phone included.
    expect(logLines.length).toBeGreaterThan(0);
    const logs = logLines.join('\n');
    expect(PHONE_NEEDLES.filter((n) => logs.includes(n))).toEqual([]);
    expect(logs).not.toContain('Caller7731');
  });
});
