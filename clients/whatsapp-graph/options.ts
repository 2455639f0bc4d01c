import type { Tracer } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';

/** How the worker's Graph API client is set up (from `WHATSAPP_*` and `MEDIA_*`). */
export interface GraphClientOptions {
  /** `https://graph.facebook.com`, or a stand-in's URL. */
  baseUrl: string;
  /** `v23.0`: the version in request paths. */
  apiVersion: string;
  /** The token for numbers whose tenant names none of its own. */
  accessToken: string;
  /** Headers and body timeout of sends and media metadata requests. */
  timeoutMs: number;
  /** Headers timeout and longest stall of a media file download. */
  downloadTimeoutMs: number;
  /** Hosts media URLs may name (`*.domain` for subdomains): the bearer token goes to no other. */
  allowedMediaHosts: readonly string[];
  /** The pooled keep-alive agent every Graph and media request goes through; the worker owns and closes it. */
  dispatcher: Dispatcher;
  /** Each send is a client span of the running activity's trace (lib/tracing.ts); none without a tracer. */
  tracer?: Tracer;
}
