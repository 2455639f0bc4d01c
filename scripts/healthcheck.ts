/**
 * The image's HEALTHCHECK: `node dist/scripts/healthcheck.js [url]` exits 0 when the URL answers 2xx within 4 s.
 * Default: the API's readiness on 127.0.0.1:$API_PORT (3000); compose points the worker's at its own endpoint.
 * Slim images have no curl; Node has fetch.
 */
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.API_PORT ?? '3000'}/health/ready`;

fetch(url, { signal: AbortSignal.timeout(4_000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
