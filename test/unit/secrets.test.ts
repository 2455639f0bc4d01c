import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/domain/errors';
import * as secrets from '../../lib/secrets';

/** The secret-reference rule of finding 1: a tenant's reference resolves only inside `env:TENANT_<ID>_<NAME>`. */

const env = {
  WHATSAPP_ACCESS_TOKEN: 'worker-token-0123456789',
  DEMO_PMS_KEY: 'old-demo-key',
  TENANT_HOTEL_DEMO_PMS_KEY: 'demo-key',
  TENANT_HOTEL_PMS_KEY: 'hotel-key',
  TENANT_HOTEL_DEMO_EMPTY: '',
};
const resolve = secrets.createSecretResolver(env);

describe('createSecretResolver(env)(tenantId, ref)', () => {
  it('resolves a reference in the tenant namespace: id upper-cased, - as _', () => {
    expect(resolve('hotel-demo', 'env:TENANT_HOTEL_DEMO_PMS_KEY')).toBe('demo-key');
    expect(resolve('hotel', 'env:TENANT_HOTEL_PMS_KEY')).toBe('hotel-key');
  });

  it.each([
    ['a worker secret', 'hotel-demo', 'env:WHATSAPP_ACCESS_TOKEN'],
    ['the pre-namespace demo key', 'hotel-demo', 'env:DEMO_PMS_KEY'],
    ["another tenant's secret", 'hotel-demo', 'env:TENANT_HOTEL_PMS_KEY'],
    ['the bare prefix', 'hotel-demo', 'env:TENANT_HOTEL_DEMO_'],
    ['an empty value', 'hotel-demo', 'env:TENANT_HOTEL_DEMO_EMPTY'],
    ['a lower-case name', 'hotel-demo', 'env:tenant_hotel_demo_pms_key'],
    ['another scheme', 'hotel-demo', 'file:/etc/passwd'],
  ])('resolves %s to nothing', (_name, tenantId, ref) => {
    expect(resolve(tenantId, ref)).toBeUndefined();
  });
});

describe('requireSecret', () => {
  const failure = (fn: () => unknown): ApplicationFailure => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ApplicationFailure) return err;
      throw err;
    }
    throw new Error('expected a failure');
  };

  it('returns the value inside the namespace', () => {
    expect(secrets.requireSecret(resolve, 'hotel-demo', 'env:TENANT_HOTEL_DEMO_PMS_KEY', 'PMS key')).toBe('demo-key');
  });

  it('refuses a reference outside the namespace for good: non-retryable SecretUnavailable naming the rule', () => {
    const f = failure(() => secrets.requireSecret(resolve, 'hotel-demo', 'env:WHATSAPP_ACCESS_TOKEN', 'PMS key'));
    expect(f.type).toBe(ErrorType.SecretUnavailable);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('env:TENANT_HOTEL_DEMO_<NAME>');
    expect(f.message).not.toContain(env.WHATSAPP_ACCESS_TOKEN);
  });

  it('refuses a reference when no tenant is given', () => {
    const f = failure(() => secrets.requireSecret(resolve, undefined, 'env:TENANT_HOTEL_DEMO_PMS_KEY', 'PMS key'));
    expect([f.type, f.nonRetryable]).toEqual([ErrorType.SecretUnavailable, true]);
  });

  it('fails retryably when a reference in the namespace names nothing (the deployment may be fixed)', () => {
    const f = failure(() => secrets.requireSecret(resolve, 'hotel-demo', 'env:TENANT_HOTEL_DEMO_MISSING', 'PMS key'));
    expect([f.type, f.nonRetryable]).toEqual([ErrorType.SecretUnavailable, false]);
  });

  it('states the rule for a tenant id', () => {
    expect(secrets.tenantSecretNamespace('hotel-demo')).toBe('env:TENANT_HOTEL_DEMO_');
    expect(secrets.isTenantSecretRef('hotel-demo', 'env:TENANT_HOTEL_DEMO_PMS_KEY')).toBe(true);
    expect(secrets.isTenantSecretRef('hotel-demo', 'env:TENANT_HOTEL_PMS_KEY')).toBe(false);
  });
});
