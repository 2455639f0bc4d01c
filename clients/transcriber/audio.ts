import { mimeEssence } from '../../lib/domain/media';

/**
 * File extensions by MIME type. OpenAI's endpoint decides the format from the file name (it takes flac, mp3, mp4,
 * mpeg, mpga, m4a, ogg, wav, webm); servers built on ffmpeg (whisper.cpp, faster-whisper) take aac and amr too.
 */
const extensions: Record<string, string> = {
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
};

/** The file extension the service should see for a recording of this MIME type (`ogg` when unknown). */
export function audioFileExtension(mimeType: string): string {
  return extensions[mimeEssence(mimeType)] ?? 'ogg';
}

/** The MIME type of an audio file from its first bytes, for refs stored without one. */
export function sniffAudioMime(head: Buffer): string | undefined {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (ascii(0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(0, 5) === '#!AMR') return 'audio/amr';
  if (ascii(4, 8) === 'ftyp') return 'audio/mp4';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(0, 3) === 'ID3') return 'audio/mpeg';
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    // MPEG frame sync; layer bits 00 under MPEG-2/4 sync 0xFFF is an ADTS (AAC) header.
    return (head[1]! & 0xf6) === 0xf0 ? 'audio/aac' : 'audio/mpeg';
  }
  return undefined;
}
