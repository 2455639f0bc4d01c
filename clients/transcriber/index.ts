import { ApplicationFailure } from '@temporalio/common';
import { FormData, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ErrorType } from '../../lib/domain/errors';
import {
  describeError,
  isNetworkError,
  parseJsonOrUndefined,
  readCapped,
  ResponseTooLargeError,
  retryAfterMs,
} from '../../lib/http';
import { addressRefusal } from '../../lib/network-policy';
import { retryableFailure } from '../../lib/failures';
import { audioFileExtension } from './audio';

/** An OpenAI-compatible transcription service (`TRANSCRIPTION_*`). */
export interface TranscriptionService {
  url: string;
  apiKey: string | undefined;
  model: string;
}

export interface TranscriptionInput {
  /** The recording, read lazily as it is sent (the media store hands out a file-backed Blob). */
  audio: Blob;
  /** As Meta reported it, e.g. `audio/ogg; codecs=opus` for a voice note. */
  mimeType: string;
  /** ISO-639-1 hint (`es`, `en`); the service detects the language when absent. */
  language?: string;
  /** Aborts the request (the activity was cancelled). */
  signal?: AbortSignal;
}

/**
 * Turns a voice note into text. Pluggable: the default does no transcription (null), so the guest is told staff
 * will listen; {@link createTranscriber} returns one that calls an OpenAI-compatible service when configured.
 * Errors are `ApplicationFailure`s: `TranscriptionUnavailable` (retryable) or `TranscriptionRejected` (not).
 */
export interface Transcriber {
  /** The text spoken, or null when this transcriber does not transcribe or heard nothing. */
  transcribe(input: TranscriptionInput): Promise<string | null>;
}

/** The default: no transcription. */
export const noTranscriber: Transcriber = {
  transcribe: () => Promise.resolve(null),
};

const transcriptionSchema = z.object({ text: z.string() });

/** A transcript is a few kB; an answer larger than this is cut off rather than read into memory. */
export const maxTranscriptionResponseBytes = 1024 * 1024;
const errorSchema = z.object({ error: z.object({ message: z.string() }).partial() });

/**
 * The endpoint to POST to. TRANSCRIPTION_URL may be the service's base (`https://api.openai.com`), its `/v1`
 * root, or the full `/v1/audio/transcriptions` URL.
 */
export function transcriptionEndpoint(url: string): string {
  const parsed = new URL(url);
  const pathname = parsed.pathname.replace(/\/+$/, '');
  if (/\/audio\/transcriptions$/.test(pathname)) parsed.pathname = pathname;
  else if (/\/v\d+$/.test(pathname)) parsed.pathname = `${pathname}/audio/transcriptions`;
  else parsed.pathname = `${pathname}/v1/audio/transcriptions`;
  return parsed.toString();
}

/**
 * The transcriber for the configuration: none when `TRANSCRIPTION_URL` is unset; otherwise one that POSTs the
 * audio as multipart form data (`file`, `model`, `language`, `response_format=json`) to an OpenAI-compatible
 * `/v1/audio/transcriptions` endpoint, streaming the file. `http` must apply the network policy
 * (`createHttpAgent({ addressPolicy })` with `TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS`): a refused address is a
 * non-retryable `ConfigurationFailure`. Answers over {@link maxTranscriptionResponseBytes} are cut off.
 */
export function createTranscriber(
  config: TranscriptionService | undefined,
  http: Dispatcher,
  options: { timeoutMs?: number } = {},
): Transcriber {
  if (!config) return noTranscriber;
  const endpoint = transcriptionEndpoint(config.url);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { apiKey, model } = config;

  return {
    async transcribe({ audio, mimeType, language, signal }) {
      const form = new FormData();
      form.append('file', audio, `voice.${audioFileExtension(mimeType)}`);
      form.append('model', model);
      form.append('response_format', 'json');
      if (language) form.append('language', language);
      let response: Dispatcher.ResponseData;
      try {
        response = await request(endpoint, {
          method: 'POST',
          dispatcher: http,
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          body: form,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        if (signal?.aborted) throw err;
        const refused = addressRefusal(err);
        if (refused) {
          throw ApplicationFailure.nonRetryable(
            `Transcription service address refused: ${refused.message}; set TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS=true ` +
              'for a self-hosted service on a private network',
            ErrorType.ConfigurationFailure,
            { kind: 'transcription_address' },
          );
        }
        if (isNetworkError(err)) {
          throw ApplicationFailure.retryable(
            `Transcription unreachable: ${describeError(err)}`,
            ErrorType.TranscriptionUnavailable,
          );
        }
        throw err;
      }
      let text: string;
      try {
        text = await readCapped(response, maxTranscriptionResponseBytes);
      } catch (err) {
        if (signal?.aborted) throw err;
        throw ApplicationFailure.retryable(
          `Transcription answer ${err instanceof ResponseTooLargeError ? 'has' : 'cut off:'} ${err instanceof Error ? err.message : String(err)}`,
          ErrorType.TranscriptionUnavailable,
        );
      }
      const json = parseJsonOrUndefined(text);
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        const parsed = transcriptionSchema.safeParse(json);
        if (!parsed.success) {
          throw ApplicationFailure.retryable(
            `Transcription answered HTTP ${status} without a text`,
            ErrorType.TranscriptionUnavailable,
          );
        }
        const spoken = parsed.data.text.trim();
        return spoken === '' ? null : spoken;
      }
      const serviceMessage = errorSchema.safeParse(json).data?.error.message?.slice(0, 200) ?? 'no error message';
      const message = `Transcription failed: HTTP ${status}: ${serviceMessage}`;
      if (status >= 500 || status === 429 || status === 408) {
        const delay = retryAfterMs(response.headers['retry-after']);
        throw retryableFailure(ErrorType.TranscriptionUnavailable, message, { httpStatus: status }, delay);
      }
      throw ApplicationFailure.nonRetryable(message, ErrorType.TranscriptionRejected, { httpStatus: status });
    },
  };
}
