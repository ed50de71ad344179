import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { XMLParser } from 'fast-xml-parser';
import { open311Routes } from '../api/routes/open311';
import { TemporalGateway } from '../api/temporal-gateway';
import { categories } from '../domain/policy';
import { DEVELOPMENT_OPEN311_API_KEY } from '../runtime/config';
import { createLogger } from '../runtime/logger';
import { developmentReporterKeyRing } from '../runtime/reporter-seal';
import { ApiHarness } from './support/api-harness';

/**
 * Open311 GeoReport v2 the way a client (FixMyStreet, a city app) uses it: `.json` and `.xml`
 * suffixes, form-encoded posts with an api_key, batch tokens, public reads without the reporter,
 * the updates feed, and errors as Open311 error lists.
 */

let api: ApiHarness;
let clerkToken: string;
beforeAll(async () => {
  api = await ApiHarness.create('open311');
  clerkToken = await api.token({ sub: 'clerk-311', role: 'clerk' });
});
afterAll(async () => {
  await api?.teardown();
});

const BASE = '/open311/v2';
const reporter = { first_name: 'Wang', last_name: 'Fangfang', email: 'wang.fangfang@example.cn', phone: '13800138123' };

function post(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return api.request('POST', `${BASE}/requests.json`, {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

/** A valid noise request at its own spot (so that it is not a duplicate of another test's). */
function noiseRequest(lat: string, long: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    api_key: DEVELOPMENT_OPEN311_API_KEY,
    jurisdiction_id: '370102',
    service_code: 'noise',
    lat,
    long,
    'attribute[noise_source]': 'construction',
    'attribute[time_of_day]': 'night',
    description: 'Pile driving every night after 23:00 at the Quancheng Road site.',
    ...reporter,
    ...extra,
  };
}

async function counts(): Promise<{ cases: string; tokens: string }> {
  const seq = await api.db.pool.query<{ last_value: string; is_called: boolean }>(`SELECT last_value, is_called FROM case_number_seq`);
  const tokens = await api.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM open311_tokens`);
  return { cases: `${seq.rows[0].last_value}/${seq.rows[0].is_called}`, tokens: tokens.rows[0].n };
}

function expectOpen311Errors(res: { status: number; body: unknown; headers: Headers }, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Array.isArray(res.body) && res.body.length > 0).toBe(true);
  for (const error of res.body as unknown[]) expect(error).toEqual({ code: String(status), description: expect.any(String) });
}

describe('Open311 discovery and services', () => {
  test('when a client reads discovery.json, then it names the GeoReport v2 endpoint with its url and formats', async () => {
    const res = await api.request('GET', `${BASE}/discovery.json`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      changeset: expect.stringMatching(/[+-]\d\d:\d\d$/),
      contact: expect.any(String),
      key_service: expect.any(String),
    });
    expect(res.body.endpoints).toEqual([
      {
        specification: 'http://wiki.open311.org/GeoReport_v2',
        url: `${api.baseUrl}${BASE}`,
        changeset: res.body.changeset,
        type: 'test',
        formats: ['application/json', 'text/xml'],
      },
    ]);
  });

  test('when a client lists services.json, then there is one batch service per complaint category', async () => {
    const res = await api.request('GET', `${BASE}/services.json?jurisdiction_id=370102`);
    expect(res.status).toBe(200);
    expect(res.body.map((s: { service_code: string }) => s.service_code)).toEqual([...categories]);
    for (const s of res.body)
      expect(s).toMatchObject({
        service_name: expect.any(String),
        type: 'batch',
        metadata: expect.any(Boolean),
        keywords: expect.any(String),
        group: expect.any(String),
      });
    expect(res.body.find((s: { service_code: string }) => s.service_code === 'odour').metadata).toBe(true);
    expect(res.body.find((s: { service_code: string }) => s.service_code === 'soil').metadata).toBe(false);
  });

  test('when a client reads the odour and noise definitions, then they carry their extra attributes', async () => {
    const odour = await api.request('GET', `${BASE}/services/odour.json`);
    expect(odour.status).toBe(200);
    expect(odour.body.service_code).toBe('odour');
    expect(odour.body.attributes).toEqual([
      expect.objectContaining({
        variable: true,
        code: 'time_of_day',
        datatype: 'singlevaluelist',
        required: true,
        order: 1,
        values: expect.arrayContaining([{ key: 'night', name: expect.any(String) }]),
      }),
    ]);
    const noise = await api.request('GET', `${BASE}/services/noise.json`);
    expect(noise.body.attributes.map((a: { code: string; required: boolean }) => [a.code, a.required])).toEqual([
      ['noise_source', true],
      ['time_of_day', false],
    ]);
  });

  test('when a client asks for .xml, then it gets the spec elements: services/service and service_definition/attributes/attribute', async () => {
    const res = await fetch(`${api.baseUrl}${BASE}/services.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    const xml = new XMLParser().parse(await res.text());
    expect(xml.services.service.map((s: { service_code: string }) => s.service_code)).toEqual([...categories]);
    const def = new XMLParser().parse(await (await fetch(`${api.baseUrl}${BASE}/services/odour.xml`)).text());
    expect(def.service_definition.service_code).toBe('odour');
    expect(def.service_definition.attributes.attribute).toMatchObject({ code: 'time_of_day', datatype: 'singlevaluelist', required: true });
    expect(def.service_definition.attributes.attribute.values.value.map((v: { key: string }) => v.key)).toContain('night');
  });
});

describe('Open311 requests: file, resolve the token, read back', () => {
  test('when a client files a form-encoded request, then the token resolves to a case that reads back without the reporter, is listed and has updates', async () => {
    const filed = await post(noiseRequest('36.6512', '117.1201', { account_id: 'acct-77' }));
    expect(filed.status).toBe(201);
    expect(filed.body).toEqual([
      { token: expect.stringMatching(/^[0-9a-f]{32}$/), service_notice: expect.stringContaining('15 days'), account_id: 'acct-77' },
    ]);
    expect(filed.body[0].service_request_id).toBeUndefined();
    const { token } = filed.body[0];

    const [resolved] = await api.eventually(
      `${BASE}/tokens/${token}.json`,
      '',
      (b) => Boolean(b[0]?.service_request_id),
      'the token to resolve',
    );
    expect(resolved).toEqual({ token, service_request_id: expect.stringMatching(/^EC-\d{4}-\d{7}$/) });
    const id: string = resolved.service_request_id;

    const one = await api.request('GET', `${BASE}/requests/${id}.json`);
    expect(one.status).toBe(200);
    expect(one.body).toHaveLength(1);
    expect(one.body[0]).toMatchObject({
      service_request_id: id,
      status: 'open',
      status_notes: expect.any(String),
      service_code: 'noise',
      service_name: 'Noise',
      lat: 36.6512,
      long: 117.1201,
      requested_datetime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/),
      updated_datetime: expect.stringMatching(/\+08:00$/),
      expected_datetime: expect.stringMatching(/\+08:00$/),
      agency_responsible: null,
    });
    expect(one.body[0].description).toContain('Pile driving every night');
    expect(one.body[0].description).toContain('Noise source: Construction site');
    // Never the reporter: none of what was sent about the person appears anywhere in the answer.
    const raw = JSON.stringify(one.body);
    for (const value of Object.values(reporter)) expect(raw).not.toContain(value);
    expect(raw).not.toMatch(/reporter|first_name|last_name|email|phone/i);

    // The reporter did reach the case, protected: the clerk sees them, the channel is open311.
    const asClerk = await api.request('GET', `/v1/complaints/${id}`, { token: clerkToken });
    expect(asClerk.status).toBe(200);
    expect(asClerk.body).toMatchObject({
      channel: 'open311',
      category: 'noise',
      divisionCode: '370102',
      owner: { id: 'open311:development', role: 'clerk' },
    });
    expect(asClerk.body.reporter).toMatchObject({ name: 'Wang Fangfang', phone: reporter.phone, email: reporter.email, anonymous: false });

    const open = await api.request('GET', `${BASE}/requests.json?service_code=noise,odour&status=open`);
    expect(open.status).toBe(200);
    expect(open.body.map((r: { service_request_id: string }) => r.service_request_id)).toContain(id);
    for (const value of Object.values(reporter)) expect(JSON.stringify(open.body)).not.toContain(value);
    const closed = await api.request('GET', `${BASE}/requests.json?service_code=noise&status=closed`);
    expect(closed.body.map((r: { service_request_id: string }) => r.service_request_id)).not.toContain(id);
    const byId = await api.request('GET', `${BASE}/requests.json?service_request_id=${id}&service_code=dust`);
    expect(byId.body.map((r: { service_request_id: string }) => r.service_request_id)).toEqual([id]);

    // Accepted over the staff API: the updates feed says IN_PROGRESS, the request names the unit.
    const accepted = await api.request('POST', `/v1/complaints/${id}/accept`, { token: clerkToken, body: { unitId: 'unit-lixia' } });
    expect(accepted.status).toBe(200);
    const start = encodeURIComponent(new Date(Date.now() - 3600_000).toISOString());
    const end = encodeURIComponent(new Date(Date.now() + 3600_000).toISOString());
    const feed = await api.request('GET', `${BASE}/servicerequestupdates.json?start_date=${start}&end_date=${end}`);
    expect(feed.status).toBe(200);
    const ours = feed.body.filter((u: { service_request_id: string }) => u.service_request_id === id);
    expect(ours.map((u: { status: string }) => u.status)).toEqual(['OPEN', 'OPEN', 'IN_PROGRESS']);
    expect(ours[2]).toEqual({
      update_id: expect.any(String),
      service_request_id: id,
      status: 'IN_PROGRESS',
      updated_datetime: expect.stringMatching(/\+08:00$/),
      description: expect.any(String),
      media_url: null,
    });
    expect(new Set(ours.map((u: { update_id: string }) => u.update_id)).size).toBe(3);
    const after = await api.request('GET', `${BASE}/requests/${id}.json`);
    expect(after.body[0]).toMatchObject({
      status: 'open',
      agency_responsible: 'unit-lixia',
      expected_datetime: expect.stringMatching(/\+08:00$/),
    });
  });

  test('when a client reads a request as .xml, then it gets service_requests/request with the fields and no reporter', async () => {
    const filed = await post(noiseRequest('36.7001', '117.3001', { description: 'Drilling <at night> & "weekends"' }));
    const [resolved] = await api.eventually(`${BASE}/tokens/${filed.body[0].token}.json`, '', (b) => Boolean(b[0]?.service_request_id));
    const res = await fetch(`${api.baseUrl}${BASE}/requests/${resolved.service_request_id}.xml`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><service_requests><request>/);
    const xml = new XMLParser({ parseTagValue: false }).parse(text);
    expect(xml.service_requests.request).toMatchObject({
      service_request_id: resolved.service_request_id,
      service_code: 'noise',
      status: 'open',
    });
    expect(xml.service_requests.request.description).toContain('Drilling <at night> & "weekends"');
    for (const value of Object.values(reporter)) expect(text).not.toContain(value);
  });

  test('when the same form is posted again with the same Idempotency-Key, then the same token comes back and one case exists', async () => {
    const headers = { 'idempotency-key': `o311-${Date.now()}-retry` };
    const form = noiseRequest('36.6001', '116.9001', {
      service_code: 'dust',
      'attribute[dust_source]': 'road',
      'attribute[noise_source]': '',
      'attribute[time_of_day]': '',
    });
    const first = await post(form, headers);
    const second = await post(form, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body[0].token).toBe(first.body[0].token);
    const rows = await api.db.pool.query(`SELECT case_id FROM open311_tokens WHERE token = $1`, [first.body[0].token]);
    expect(rows.rows).toHaveLength(1);

    const before = await counts();
    const other = await post({ ...form, description: 'Something else entirely.' }, headers);
    expectOpen311Errors(other, 400);
    expect(await counts()).toEqual(before);
  });
});

describe('Open311 errors', () => {
  test('when api_key is missing or wrong, then 403 with an Open311 error list, and nothing is registered', async () => {
    const before = await counts();
    const { api_key: _k, ...noKey } = noiseRequest('36.5', '117.5');
    const missing = await post(noKey);
    expectOpen311Errors(missing, 403);
    expect(missing.body).toEqual([{ code: '403', description: 'api_key is required.' }]);
    const wrong = await post({ ...noKey, api_key: 'not-a-key-of-anyone-here' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual([{ code: '403', description: 'Invalid api_key.' }]);
    expect(await counts()).toEqual(before);
  });

  test('when the service_code is unknown, the location is missing or a required attribute is missing, then 400 with an Open311 error list, and nothing is registered', async () => {
    const before = await counts();
    const unknown = await post(noiseRequest('36.5', '117.5', { service_code: 'graffiti' }));
    expectOpen311Errors(unknown, 400);
    expect(unknown.body[0].description).toMatch(/service_code/);

    const { lat: _lat, long: _long, ...noLocation } = noiseRequest('0', '0');
    const located = await post(noLocation);
    expectOpen311Errors(located, 400);
    expect(located.body[0].description).toMatch(/location is required/);

    const attribute = await post(noiseRequest('36.5', '117.5', { 'attribute[noise_source]': '' }));
    expectOpen311Errors(attribute, 400);
    expect(attribute.body[0].description).toMatch(/attribute\[noise_source\]/);

    const notListed = await post(noiseRequest('36.5', '117.5', { 'attribute[noise_source]': 'dragons' }));
    expectOpen311Errors(notListed, 400);

    const json = await api.request('POST', `${BASE}/requests.json`, { body: noiseRequest('36.5', '117.5') });
    expectOpen311Errors(json, 400);
    expect(json.body[0].description).toMatch(/x-www-form-urlencoded/);
    expect(await counts()).toEqual(before);
  });

  test('when a request id, token, service or path is unknown, then 404 with an Open311 error list', async () => {
    expectOpen311Errors(await api.request('GET', `${BASE}/requests/EC-2000-0000001.json`), 404);
    expectOpen311Errors(await api.request('GET', `${BASE}/requests/not-a-case.json`), 404);
    expectOpen311Errors(await api.request('GET', `${BASE}/tokens/${'0'.repeat(32)}.json`), 404);
    expectOpen311Errors(await api.request('GET', `${BASE}/services/graffiti.json`), 404);
    expectOpen311Errors(await api.request('GET', `${BASE}/nothing-here.json`), 404);
  });

  test('when a read has bad filters, then 400 with an Open311 error list naming the field', async () => {
    const badDate = await api.request('GET', `${BASE}/requests.json?start_date=yesterday`);
    expectOpen311Errors(badDate, 400);
    expect(badDate.body[0].description).toMatch(/^start_date/);
    const tooLong = await api.request('GET', `${BASE}/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z`);
    expectOpen311Errors(tooLong, 400);
    expectOpen311Errors(await api.request('GET', `${BASE}/requests.json?status=pending`), 400);
    expectOpen311Errors(await api.request('GET', `${BASE}/services.csv`), 400);
  });

  test('when an .xml request fails, then the errors come as errors/error elements', async () => {
    const res = await fetch(`${api.baseUrl}${BASE}/requests/EC-2000-0000001.xml`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    const xml = new XMLParser({ parseTagValue: false }).parse(await res.text());
    expect(xml.errors.error).toEqual({ code: '404', description: expect.any(String) });
  });

  test('when a client exceeds the rate limit, then 429 with an Open311 error list', async () => {
    const app = express().use(
      open311Routes({
        temporal: new TemporalGateway(api.client, 10_000, api.taskQueue),
        pool: api.db.pool,
        policy: () => api.policy,
        log: createLogger('silent', 'open311-test'),
        reporterKeys: developmentReporterKeyRing(),
        open311: { apiKeys: [], rateLimitPerMinute: 2, environment: 'test' },
      }),
    );
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/open311/v2/services.json`;
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(url)).status);
      expect(statuses).toEqual([200, 200, 429]);
      const limited = await fetch(url);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await limited.json()).toEqual([{ code: '429', description: expect.any(String) }]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
