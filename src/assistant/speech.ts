import path from 'node:path';
import type { AppContext } from '../context.ts';
import type { ResponderAction, ResponderInput } from '../pipeline/simple-responder.ts';
import { truncateText } from '../platform/text.ts';
import { type AssistantConfig, say } from './config.ts';
import { getLlm, LlmRequestError, LlmUnavailableError } from './llm/index.ts';

// The OpenAI transcription endpoint takes files up to 25 MB.
const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

/**
 * A voice note or audio file: transcribed through the workspace's OpenAI-compatible
 * `/audio/transcriptions` endpoint, the transcript stored on the inbound message, then
 * answered like a text message. Without a transcription model (or when it fails), the
 * customer is told voice is not available and asked to type.
 */
export async function answerVoice(
  ctx: AppContext,
  input: ResponderInput,
  assistant: AssistantConfig,
  voice: { fileId?: string; type: string },
  answerText: (text: string) => Promise<ResponderAction[]>,
): Promise<ResponderAction[]> {
  const { scope, config, language } = input;
  const unavailable: ResponderAction[] = [{ type: 'reply', text: say(config, 'voiceUnavailable', language) }];
  if (assistant.mode === 'offline' || !voice.fileId) return unavailable;
  try {
    const llm = await getLlm(ctx, scope.workspaceId);
    if (!llm?.capabilities.transcription) return unavailable;
    const { data, path: filePath } = await input.downloadFile(voice.fileId);
    if (data.length > MAX_AUDIO_BYTES) return unavailable;
    const transcript = (
      await llm.transcribe(
        {
          data,
          filename: path.basename(filePath) || 'voice.ogg',
          mimeType: mimeTypeOf(filePath, voice.type),
        },
        {
          workspaceId: scope.workspaceId,
          botId: scope.botId,
          conversationId: scope.conversationId,
          purpose: 'transcription',
        },
      )
    ).trim();
    if (!transcript) return unavailable;
    return [
      { type: 'annotate_inbound', kind: 'transcript', text: truncateText(transcript, 4000) },
      ...(await answerText(transcript)),
    ];
  } catch (error) {
    if (!(error instanceof LlmUnavailableError || error instanceof LlmRequestError)) throw error;
    ctx.logger.warn({ err: error, workspaceId: scope.workspaceId }, 'assistant: transcription unavailable');
    return unavailable;
  }
}

function mimeTypeOf(filePath: string, type: string): string {
  const extension = path.extname(filePath).slice(1).toLowerCase();
  const known: Record<string, string> = {
    ogg: 'audio/ogg',
    oga: 'audio/ogg',
    opus: 'audio/ogg',
    mp3: 'audio/mpeg',
    m4a: 'audio/mp4',
    mp4: 'audio/mp4',
    wav: 'audio/wav',
    webm: 'audio/webm',
    flac: 'audio/flac',
  };
  return known[extension] ?? (type === 'voice' ? 'audio/ogg' : 'application/octet-stream');
}
