import { Context } from '@temporalio/activity';
import { noTranscriber, type Transcriber } from '../clients/transcriber';
import { sniffAudioMime } from '../clients/transcriber/audio';
import { mimeEssence, parseMediaRef, type TranscribeAudioInput, type TranscribeAudioResult } from '../lib/domain/media';
import type { Logger } from '../lib/log';
import type { MediaStore } from '../lib/media-store';
import { invalidMediaRequest, storeFailure } from './media';

export interface TranscriptionActivityDeps {
  /** Where `downloadMedia` put the voice notes. */
  store: MediaStore;
  /** From `TRANSCRIPTION_*`: none ({@link noTranscriber}), or the OpenAI-compatible one. */
  transcriber: Transcriber;
  log: Logger;
}

/** Reads a stored file's first bytes (enough to tell its audio format). */
async function head(store: MediaStore, ref: string): Promise<Buffer | undefined> {
  const stream = await store.open(ref);
  if (!stream) return undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= 16) stream.destroy();
    });
    stream.on('close', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** The voice-note activity; `createActivities` wires it to the worker's store and transcriber. */
export function createTranscriptionActivities({ store, transcriber, log }: TranscriptionActivityDeps) {
  return {
    /**
     * What the guest said in a voice note, through the configured {@link Transcriber}: `{ text: null }` when there
     * is none (the default), when it heard nothing, or when the object is no longer stored. Failures:
     * `TranscriptionUnavailable` (retryable), `TranscriptionRejected` and `MediaInvalidRequest` (not).
     */
    async transcribeAudio(input: TranscribeAudioInput): Promise<TranscribeAudioResult> {
      const parsed = parseMediaRef(input.ref);
      if (!parsed || parsed.tenantId !== input.tenantId)
        throw invalidMediaRequest('ref is not a media ref of this tenant');
      if (transcriber === noTranscriber) return { text: null };
      const ctx = Context.current();
      let mimeType = input.mimeType;
      let audio: Blob | undefined;
      try {
        if (mimeType === undefined) {
          const first = await head(store, input.ref);
          if (first) mimeType = sniffAudioMime(first) ?? 'audio/ogg';
        }
        audio = await store.openBlob(input.ref, mimeType && mimeEssence(mimeType));
      } catch (err) {
        throw storeFailure(err, 'read an object');
      }
      if (!audio) {
        log.warn({ tenantId: input.tenantId }, 'voice note no longer stored; not transcribed');
        return { text: null };
      }
      // Proves the worker is alive while the service works (a heartbeat timeout then catches a dead worker).
      const beat = setInterval(() => ctx.heartbeat(), 2_000);
      try {
        const text = await transcriber.transcribe({
          audio,
          mimeType: mimeType ?? 'audio/ogg',
          signal: ctx.cancellationSignal,
          ...(input.language ? { language: input.language } : {}),
        });
        return text === null ? { text: null } : { text };
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
