import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { casePolicy, defaultPolicy, resolveLimits } from '../../domain/policy';
import { parsePolicy } from '../../domain/schemas/policy';
import { loadPolicy } from '../../runtime/policy-file';

describe('the policy document', () => {
  test('when nothing overrides it, then the limits are the national regulation defaults of DOMAIN.md', () => {
    const l = resolveLimits(defaultPolicy, 'air', 'normal');
    expect(l.accept).toEqual({ amount: 15, unit: 'days' });
    expect(l.handle).toEqual({ amount: 60, unit: 'days' });
    expect(l.maxExtension).toEqual({ amount: 30, unit: 'days' });
    expect(l.reviewRequestWindow).toEqual({ amount: 30, unit: 'days' });
    expect(l.reviewDue).toEqual({ amount: 30, unit: 'days' });
  });

  test('when a case is urgent, then urgent overrides apply over the category ones, in hours', () => {
    const policy = parsePolicy({ categories: { water: { handle: { amount: 45, unit: 'days' }, rework: { amount: 9, unit: 'days' } } } });
    expect(resolveLimits(policy, 'water', 'normal').handle).toEqual({ amount: 45, unit: 'days' });
    expect(resolveLimits(policy, 'water', 'urgent').handle).toEqual({ amount: 24, unit: 'hours' });
    expect(resolveLimits(policy, 'water', 'normal').rework).toEqual({ amount: 9, unit: 'days' });
    // Ladder and callback overrides merge field by field.
    expect(resolveLimits(policy, 'air', 'urgent').callback).toEqual({ attempts: 3, spacing: { amount: 4, unit: 'hours' } });
  });

  test('when a policy file overrides some values, then the rest keep their defaults and the file is validated', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-policy-'));
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(good, JSON.stringify({ version: 'province-2027', defaults: { accept: { amount: 10, unit: 'working_days' } } }));
    const policy = loadPolicy(good);
    expect(policy.version).toBe('province-2027');
    expect(policy.defaults.accept).toEqual({ amount: 10, unit: 'working_days' });
    expect(policy.defaults.handle).toEqual({ amount: 60, unit: 'days' });

    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ defaults: { warningAt: 1.5 } }));
    expect(() => loadPolicy(bad)).toThrow(/POLICY_FILE=.*bad\.json is not a valid policy.*warningAt/s);
    expect(() => loadPolicy(path.join(dir, 'missing.json'))).toThrow(/POLICY_FILE=.*missing\.json/);
    fs.rmSync(dir, { recursive: true });
  });

  test('when a case starts, then it carries a snapshot of the policy, so later changes do not reach it', () => {
    const policy = parsePolicy({ version: 'v1' });
    const snapshot = casePolicy(policy, 'noise', 'normal');
    const changed = parsePolicy({ version: 'v2', defaults: { accept: { amount: 3, unit: 'days' } } });
    expect(snapshot.version).toBe('v1');
    expect(snapshot.limits.accept).toEqual({ amount: 15, unit: 'days' });
    expect(casePolicy(changed, 'noise', 'normal').limits.accept).toEqual({ amount: 3, unit: 'days' });
    // A plain JSON value: it crosses the workflow boundary unchanged.
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });
});
