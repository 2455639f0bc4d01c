import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/**
 * Security headers for a JSON API, set by helmet before anything else runs, so error answers (401, 404, 500)
 * carry them too: nothing may frame or run a response (`Content-Security-Policy: default-src 'none';
 * frame-ancestors 'none'`, `X-Frame-Options: DENY`), no MIME sniffing, no `Referer` leaving with links.
 * HSTS only behind a TLS-terminating proxy (`trustedProxyHops` > 0): on a bare HTTP port it would mean nothing.
 */
export function securityHeaders({ trustedProxyHops }: { trustedProxyHops: number }): Middleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: trustedProxyHops > 0 ? { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true } : false,
  });
}
