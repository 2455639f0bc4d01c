/**
 * Secrets are stored by reference (`env:NAME`), never in Postgres. The worker resolves a reference
 * against its own environment, given to it at the entry point.
 */
export type SecretResolver = (ref: string) => string | undefined;

export const secretRefPattern = /^env:[A-Z_][A-Z0-9_]*$/;

export function createSecretResolver(env: Record<string, string | undefined>): SecretResolver {
  return (ref) => {
    if (!secretRefPattern.test(ref)) return undefined;
    const value = env[ref.slice('env:'.length)];
    return value === undefined || value === '' ? undefined : value;
  };
}
