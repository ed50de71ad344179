import { openApiDocument } from '../../api/openapi';
import { allRoutes } from '../../api/routes';
import { intakeSchema, text } from '../../domain/schemas/case';

/**
 * Free text (domain/case.ts `text`): what every text field of every schema takes. A NUL reaching
 * PostgreSQL fails the projection on every retry, so it is refused at the edge, with the other
 * control characters and lone surrogates.
 */

const field = text(200);
const intake = (title: string) =>
  intakeSchema.safeParse({ channel: 'web', category: 'air', divisionCode: '370102', title, description: 'Smoke at night' });

test.each([
  ['a NUL', 'Smoke\u0000'],
  ['a backspace', 'Smo\u0008ke'],
  ['an escape', '\u001b[31mSmoke'],
  ['a DEL', 'Smoke\u007f'],
  ['a lone high surrogate', 'Smoke \ud800'],
  ['a lone low surrogate', '\udc00 smoke'],
])('when a text holds %s, then it is refused', (_what, value) => {
  expect(field.safeParse(value).success).toBe(false);
  expect(intake(value).success).toBe(false);
});

test('when a text holds tabs, line breaks and a surrogate pair, then it is taken, CRLF as LF', () => {
  expect(field.parse('Smoke\tat night\r\nevery day\rsince 🏭')).toBe('Smoke\tat night\nevery day\nsince 🏭');
});

test('when a text is decomposed Unicode, then it is stored NFC', () => {
  const decomposed = 'Cafe\u0301 chimney';
  const stored = field.parse(decomposed);
  expect(stored).toBe('Caf\u00e9 chimney');
  expect(stored.length).toBe(decomposed.length - 1);
});

test('when a text is only blanks or too long, then it is refused', () => {
  expect(field.safeParse(' \r\n ').success).toBe(false);
  expect(text(5).safeParse('smoke!').success).toBe(false);
});

test("when the API document describes a registration, then each text field's length limit is in it (maxLength)", () => {
  const doc = openApiDocument(allRoutes()) as any;
  const body = doc.paths['/v1/complaints'].post.requestBody.content['application/json'].schema;
  expect(body.additionalProperties).toBe(false);
  expect(body.properties.title.maxLength).toBe(200);
  expect(body.properties.description.maxLength).toBe(4000);
  expect(body.properties.location.properties.address.maxLength).toBe(500);
  expect(body.properties.location.additionalProperties).toBe(false);
  expect(body.properties.reporter.properties.name.maxLength).toBe(200);
  const form = doc.paths['/open311/v2/requests.{format}'].post.requestBody.content['application/x-www-form-urlencoded'].schema;
  expect(form.properties.description.maxLength).toBe(4000);
  expect(form.properties.address_string.maxLength).toBe(500);
});
