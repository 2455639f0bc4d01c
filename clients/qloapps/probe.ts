import { request } from 'undici';
import { createHttpAgent } from '../../lib/http';

/**
 * Whether a QloApps shop answers its webservice at `baseUrl`, or redirects it elsewhere: QloApps sends any request
 * whose host is not the shop's domain (`PS_SHOP_DOMAIN`) to its front office with a 302, before authentication, so
 * an anonymous GET of `/api/` shows it. Answers the host redirected to, or undefined when the shop answers itself
 * or cannot be reached within `timeoutMs` (then nothing can be said yet; the worker reports a redirect when it calls).
 * The address rule of the worker's PMS calls applies (`allowPrivateNetworks`).
 */
export async function shopRedirect(
  baseUrl: string,
  options: { timeoutMs: number; allowPrivateNetworks: boolean },
): Promise<string | undefined> {
  const agent = createHttpAgent({
    maxConnectionsPerOrigin: 1,
    connectTimeoutMs: options.timeoutMs,
    addressPolicy: { allowPrivateNetworks: options.allowPrivateNetworks },
  });
  const url = `${baseUrl.replace(/\/+$/, '')}/api/?output_format=JSON`;
  try {
    const res = await request(url, {
      method: 'GET',
      dispatcher: agent,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      // DNS and a stalled TLS handshake too: the whole check is bounded.
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await res.body.dump({ limit: 64 * 1024 });
    if (res.statusCode < 300 || res.statusCode >= 400) return undefined;
    const location = res.headers.location;
    const target = Array.isArray(location) ? location[0] : location;
    try {
      return target ? new URL(target, url).host : 'another address';
    } catch {
      return 'another address';
    }
  } catch {
    return undefined;
  } finally {
    await agent.close().catch(() => undefined);
  }
}
