import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from './domain/errors';

/**
 * Secrets are stored by reference, never in Postgres. A tenant's reference names a variable in the worker's
 * environment, and only one inside that tenant's own namespace: `env:TENANT_<ID>_<NAME>`, where `<ID>` is the
 * tenant id upper-cased with `-` as `_` (tenant `hotel-demo`: `env:TENANT_HOTEL_DEMO_PMS_KEY`). So a tenant's
 * settings can never name the worker's own secrets (`WHATSAPP_ACCESS_TOKEN`, `DATABASE_URL`, ...) or another
 * tenant's, whoever wrote them.
 */
export type SecretResolver = (tenantId: string, ref: string) => string | undefined;

/** The shape of any reference the API stores: `env:NAME`. */
export const secretRefPattern = /^env:[A-Z_][A-Z0-9_]*$/;

/** `env:TENANT_<ID>_`: what every reference of `tenantId` starts with. */
export function tenantSecretNamespace(tenantId: string): string {
  return `env:TENANT_${tenantId.toUpperCase().replace(/-/g, '_')}_`;
}

/** The rule in words, for error messages: `env:TENANT_HOTEL_DEMO_<NAME>`. */
export function tenantSecretRule(tenantId: string): string {
  return `${tenantSecretNamespace(tenantId)}<NAME>`;
}

/** Whether `ref` is a reference inside `tenantId`'s namespace, with a non-empty name after the prefix. */
export function isTenantSecretRef(tenantId: string, ref: string): boolean {
  const namespace = tenantSecretNamespace(tenantId);
  return secretRefPattern.test(ref) && ref.startsWith(namespace) && ref.length > namespace.length;
}

/**
 * Resolves a tenant's reference against the environment given at the entry point; `undefined` when the
 * reference is outside the tenant's namespace, or names an unset or empty variable.
 */
export function createSecretResolver(env: Record<string, string | undefined>): SecretResolver {
  return (tenantId, ref) => {
    if (!isTenantSecretRef(tenantId, ref)) return undefined;
    const value = env[ref.slice('env:'.length)];
    return value === undefined || value === '' ? undefined : value;
  };
}

/**
 * The secret `ref` of tenant `tenantId` names, or an `ApplicationFailure` of type `SecretUnavailable`:
 * - non-retryable when the reference is outside the tenant's namespace (or no tenant is given): no retry or
 *   redeploy can make it valid, and it must never be looked up;
 * - retryable when it is inside the namespace but the variable is unset: a fixed deployment recovers.
 * The message names the reference, never a value. `what` says which setting it is (`PMS credentials`).
 */
export function requireSecret(
  secrets: SecretResolver,
  tenantId: string | null | undefined,
  ref: string,
  what: string,
): string {
  if (!tenantId || !isTenantSecretRef(tenantId, ref)) {
    throw ApplicationFailure.create({
      type: ErrorType.SecretUnavailable,
      nonRetryable: true,
      message: tenantId
        ? `${what} reference ${ref} of tenant ${tenantId} is outside its namespace: it must be ${tenantSecretRule(tenantId)}`
        : `${what} reference ${ref} was given without a tenant: refused`,
    });
  }
  const value = secrets(tenantId, ref);
  if (value === undefined) {
    throw ApplicationFailure.retryable(
      `${what} reference ${ref} of tenant ${tenantId} resolves to nothing on this worker`,
      ErrorType.SecretUnavailable,
    );
  }
  return value;
}
