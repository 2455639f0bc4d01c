import { ActivityFailure, log } from '@temporalio/workflow';
import type { DownloadMediaResult } from '../../lib/domain/media';
import type { MediaMessageType, MessageRecord } from '../../lib/domain/conversation';
import { configFailureIn } from '../../lib/domain/errors';
import type { Language } from '../../lib/domain/language';
import type { InboundMessage } from '../../lib/domain/messages';
import { mediaReply, receivedReply } from '../../lib/domain/templates';
import type { TenantProfile } from '../../lib/domain/tenants';
import { downloadMedia, transcribeAudio } from './activity-options';
import { understandAndAct } from './dialogue';
import { reply } from './replies';
import type { ConversationMemory } from './state';

/**
 * Downloads a photo, voice note or file as it arrives (Meta's links expire), keeps its store reference in
 * the state for staff, and answers: a transcribed voice note is understood like typed text; one nobody
 * transcribed is flagged for staff.
 */
export async function receiveMedia(
  memory: ConversationMemory,
  message: InboundMessage,
  type: MediaMessageType,
  record: MessageRecord,
  hotel: TenantProfile,
  lang: Language,
): Promise<void> {
  const item = message.media;
  if (!item) return reply(memory, message, receivedReply(lang, 'media'), 'media');
  let stored: DownloadMediaResult;
  try {
    stored = await downloadMedia.executeWithOptions({ summary: `download ${type} ${item.id}` }, [
      {
        tenantId: hotel.id,
        mediaId: item.id,
        type,
        tokenRef: hotel.whatsappTokenRef,
        ...(item.mimeType !== undefined ? { declaredMimeType: item.mimeType } : {}),
        ...(item.sha256 !== undefined ? { declaredSha256: item.sha256 } : {}),
      },
    ]);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Media could not be downloaded', { messageId: message.id, error: err.cause?.message });
    record.media = { rejected: 'unavailable' };
    memory.staffRequested = true;
    memory.noteConfigFailure(configFailureIn(err));
    return reply(memory, message, mediaReply(lang, 'not_found'), 'media');
  }
  if (stored.kind === 'rejected') {
    record.media = { rejected: stored.reason };
    // The file is fine but could not be kept: a person has to look at the storage and follow up.
    if (stored.reason === 'quota_exceeded' || stored.reason === 'storage_full') memory.staffRequested = true;
    return reply(memory, message, mediaReply(lang, stored.reason), 'media');
  }
  record.media = { ref: stored.ref, mimeType: stored.mimeType, size: stored.size };
  if (type !== 'audio') return reply(memory, message, receivedReply(lang, 'media'), 'media');
  let transcript: string | null = null;
  try {
    ({ text: transcript } = await transcribeAudio.executeWithOptions({ summary: `transcribe ${item.id}` }, [
      { tenantId: hotel.id, ref: stored.ref, language: lang, mimeType: stored.mimeType },
    ]));
  } catch (err) {
    // Transcription is a convenience: when it fails, staff listen instead.
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Voice note not transcribed', { messageId: message.id, error: err.cause?.message });
    memory.noteConfigFailure(configFailureIn(err));
  }
  if (transcript) {
    record.text = transcript;
    return understandAndAct(memory, message, transcript, hotel, lang);
  }
  memory.staffRequested = true;
  return reply(memory, message, mediaReply(lang, 'voice_note_for_staff'), 'voice_note');
}
