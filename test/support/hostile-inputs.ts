import { DEVELOPMENT_OPEN311_API_KEY } from '../../runtime/config';

/**
 * Hostile registrations, as a table: each entry is one thing wrong, sent once as a JSON
 * registration (`POST /v1/complaints`) and once as an Open311 request (`POST /open311/v2/requests.json`,
 * form-encoded). Every one must be refused with a 4xx (a problem document, or an Open311 error list)
 * that changes nothing: no case, no event, no case number drawn (test/hostile-input.test.ts).
 *
 * To add a class: push entries built with `both` (the same mutation on each side), or give each
 * side its own body. A side may be raw bytes (a `Buffer`), for what JSON or a form cannot spell.
 */

type Json = Record<string, unknown>;
type Form = Record<string, string>;

export interface HostileInput {
  /** What is wrong, as the test's name shows it. */
  name: string;
  /** The JSON registration body (a valid one with the change), or raw bytes sent as application/json. */
  json: Json | Buffer;
  /** The Open311 form (a valid request with the change), or raw bytes sent as a form. */
  open311: Form | Buffer;
  /** A field the refusal must name (in a 400's errors, or an Open311 error's description); unset for a 415. */
  names?: { json?: string; open311?: string };
}

/** A registration every check accepts (the test posts it first, to show the base is valid). */
export const validComplaint = (): Json => ({
  channel: 'web',
  category: 'water',
  divisionCode: '370102',
  title: 'Oil film on the canal',
  description: 'An oily film on the canal behind the dye works since Monday.',
  location: { lat: 36.67, lon: 117.02, address: 'Canal path behind No. 8 Gongye Road', siteId: 'dye-works-8' },
  reporter: { anonymous: false, name: 'Zhao Min', phone: '13912345678', address: 'Gongye Road 10', consentToShareWithUnit: false },
});

/** An Open311 request every check accepts ('soil' asks for no attributes). */
export const validOpen311 = (): Form => ({
  api_key: DEVELOPMENT_OPEN311_API_KEY,
  jurisdiction_id: '370102',
  service_code: 'soil',
  lat: '36.671',
  long: '117.021',
  address_string: 'Field behind No. 3 Gongye Road',
  address_id: 'plot-3',
  description: 'Drums leaking into the soil behind the works.',
  first_name: 'Zhao',
  last_name: 'Min',
  phone: '13912345678',
  account_id: 'acct-17',
  device_id: 'device-4',
});

/** One UTF-16 code unit or pair as percent-encoded bytes; a lone surrogate as the three bytes UTF-8 has no room for (WTF-8). */
function percentEncode(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < value.length && /[\udc00-\udfff]/.test(value[i + 1]);
    if (pair) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(value[i]);
  }
  return out;
}

/** A form as `application/x-www-form-urlencoded` bytes, sending lone surrogates as they are (not as U+FFFD). */
export function encodeForm(form: Form | Buffer): Buffer {
  if (Buffer.isBuffer(form)) return form;
  return Buffer.from(
    Object.entries(form)
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&'),
  );
}

/** `body` with `value` at the dotted `path` (`undefined` removes it). */
function withField(body: Json, path: string, value: unknown): Json {
  const out = structuredClone(body);
  const keys = path.split('.');
  let at: Json = out;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Json;
  const last = keys[keys.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
  return out;
}

function withForm(form: Form, changes: Record<string, string | undefined>): Form {
  const out = { ...form };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A JSON body with `bytes` spliced in as the value of the title (bytes JSON cannot escape). */
function jsonWithRawTitle(bytes: number[]): Buffer {
  const [before, after] = JSON.stringify(withField(validComplaint(), 'title', 'MARK')).split('MARK');
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

/** A form with `bytes` as the description's value, percent-encoded or raw. */
function formWithDescriptionBytes(bytes: number[], raw: boolean): Buffer {
  const rest = new URLSearchParams(withForm(validOpen311(), { description: undefined })).toString();
  const value = raw ? Buffer.from(bytes) : Buffer.from(bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return Buffer.concat([Buffer.from(`${rest}&description=`), value]);
}

// ---- The classes ----

/** Text that must never be stored: C0 controls but tab and newline, DEL, lone surrogates. */
const badTexts: Array<[string, string]> = [
  ['a NUL', 'before\u0000after'],
  ['a backspace', 'unit-0\u0008O'],
  ['a bell', 'ring\u0007ring'],
  ['an escape sequence', 'red\u001b[31mtext'],
  ['a vertical tab', 'one\u000btwo'],
  ['a form feed', 'page\u000cbreak'],
  ['a DEL', 'delete\u007fme'],
  ['a unit separator', 'a\u001fb'],
  ['a lone high surrogate', 'broken \ud800 pair'],
  ['a lone low surrogate', 'broken \udc00 pair'],
  ['a reversed surrogate pair', 'swapped \udc00\ud800'],
];

/** Every free-text field of a registration, JSON and Open311: paired so that each bad text reaches each. */
const jsonTextFields = [
  'title',
  'description',
  'location.address',
  'location.siteId',
  'reporter.name',
  'reporter.phone',
  'reporter.address',
];
const open311TextFields = ['description', 'address_string', 'address_id', 'first_name', 'last_name', 'phone', 'account_id', 'device_id'];

const textCases: HostileInput[] = badTexts.flatMap(([what, value], i) =>
  jsonTextFields.map((field, j) => {
    const formField = open311TextFields[(i + j) % open311TextFields.length];
    return {
      name: `${what} in ${field} / ${formField}`,
      json: withField(validComplaint(), field, value),
      open311: withForm(validOpen311(), { [formField]: value }),
      names: { json: field, open311: formField },
    };
  }),
);

/** Bytes that are not UTF-8: a stray continuation byte, an overlong NUL, a surrogate encoded in UTF-8, a truncated sequence. */
const badBytes: Array<[string, number[]]> = [
  ['the byte FF', [0x41, 0xff, 0x42]],
  ['an overlong NUL (C0 80)', [0x41, 0xc0, 0x80]],
  ['a UTF-8-encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['a truncated sequence (E6 B1)', [0xe6, 0xb1]],
];
const encodingCases: HostileInput[] = badBytes.flatMap(([what, bytes], i) => [
  {
    name: `${what}: not UTF-8 (percent-encoded in the form)`,
    json: jsonWithRawTitle(bytes),
    open311: formWithDescriptionBytes(bytes, false),
    names: { open311: 'description' },
  },
  {
    name: `${what}: not UTF-8 (raw in the form)`,
    json: jsonWithRawTitle([...bytes].reverse().concat(i % 2 ? [0x80] : [0xfe])),
    open311: formWithDescriptionBytes(bytes, true),
  },
]);

/** Over each field's limit by one character. */
const long = (n: number) => '长'.repeat(n);
const lengthCases: HostileInput[] = [
  {
    name: 'a title of 201 characters / a description of 4001',
    json: withField(validComplaint(), 'title', long(201)),
    open311: withForm(validOpen311(), { description: long(4001) }),
    names: { json: 'title', open311: 'description' },
  },
  {
    name: 'a description of 4001 characters / an address_string of 501',
    json: withField(validComplaint(), 'description', long(4001)),
    open311: withForm(validOpen311(), { address_string: long(501) }),
    names: { json: 'description', open311: 'address_string' },
  },
  {
    name: 'an address of 501 characters / a first_name of 101',
    json: withField(validComplaint(), 'location.address', long(501)),
    open311: withForm(validOpen311(), { first_name: long(101) }),
    names: { json: 'location.address', open311: 'first_name' },
  },
  {
    name: 'a reporter name of 201 characters / an address_id of 201',
    json: withField(validComplaint(), 'reporter.name', long(201)),
    open311: withForm(validOpen311(), { address_id: long(201) }),
    names: { json: 'reporter.name', open311: 'address_id' },
  },
  {
    name: 'a phone of 51 characters / a phone of 51',
    json: withField(validComplaint(), 'reporter.phone', '1'.repeat(51)),
    open311: withForm(validOpen311(), { phone: '1'.repeat(51) }),
    names: { json: 'reporter.phone', open311: 'phone' },
  },
];

/** Unknown keys are refused, naming them, never dropped. */
const unknownKeyCases: HostileInput[] = [
  {
    name: 'an unknown key in location / an unknown form field',
    json: withField(validComplaint(), 'location.floor', 3),
    open311: withForm(validOpen311(), { floor: '3' }),
    names: { json: 'floor', open311: 'floor' },
  },
  {
    name: 'an unknown key in reporter / a bracketed form field',
    json: withField(validComplaint(), 'reporter.idCard', '370102199001011234'),
    open311: withForm(validOpen311(), { 'reporter[id_card]': '370102199001011234' }),
    names: { json: 'idCard', open311: 'reporter[id_card]' },
  },
  {
    name: 'an unknown key in the body / a misspelt field',
    json: withField(validComplaint(), 'priority', 'high'),
    open311: withForm(validOpen311(), { descripton: 'typo' }),
    names: { json: 'priority', open311: 'descripton' },
  },
  {
    name: 'a deeply nested object in location / a nested form key',
    json: withField(validComplaint(), 'location.extra', JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`)),
    open311: withForm(validOpen311(), { 'location[a][b][c]': '1' }),
    names: { json: 'extra', open311: 'location[a][b][c]' },
  },
];

/** A point is lat and lon together, or neither. */
const pointCases: HostileInput[] = [
  {
    name: 'lat without lon',
    json: withField(validComplaint(), 'location.lon', undefined),
    open311: withForm(validOpen311(), { long: undefined }),
    names: { json: 'location.lon', open311: 'long' },
  },
  {
    name: 'lon without lat',
    json: withField(validComplaint(), 'location.lat', undefined),
    open311: withForm(validOpen311(), { lat: undefined }),
    names: { json: 'location.lat', open311: 'lat' },
  },
  {
    name: 'a latitude of 91',
    json: withField(validComplaint(), 'location.lat', 91),
    open311: withForm(validOpen311(), { lat: '91' }),
    names: { json: 'location.lat', open311: 'lat' },
  },
];

/** receivedAt outside the policy's bounds (Open311 takes no time: a client's own time field is an unknown field). */
const day = 86_400_000;
const timeCases: HostileInput[] = [
  ['the year 1', '0001-01-01T00:00:00Z'],
  ['the year 2000', '2000-01-01T00:00:00+08:00'],
  ['the year 2099', '2099-01-01T00:00:00+08:00'],
  ['31 days ago', () => new Date(Date.now() - 31 * day).toISOString()],
  ['an hour ahead', () => new Date(Date.now() + 3_600_000).toISOString()],
].map(([what, at]) => {
  const value = typeof at === 'function' ? at() : at;
  return {
    name: `receivedAt ${what as string}`,
    json: withField(validComplaint(), 'receivedAt', value),
    open311: withForm(validOpen311(), { requested_datetime: value }),
    names: { json: 'receivedAt', open311: 'requested_datetime' },
  };
});

export const hostileInputs: HostileInput[] = [
  ...textCases,
  ...encodingCases,
  ...lengthCases,
  ...unknownKeyCases,
  ...pointCases,
  ...timeCases,
];
