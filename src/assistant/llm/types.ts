import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';

export type { ChatCompletionMessage, ChatCompletionMessageParam, ChatCompletionTool };

/** Who a call is made for: usage rows, analytics and metrics are attributed to this scope. */
export interface LlmUsageScope {
  workspaceId: string;
  botId?: string;
  conversationId?: string;
  purpose: 'chat' | 'embeddings' | 'transcription' | 'vision';
}

export interface LlmChatRequest {
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  temperature?: number;
  maxTokens?: number;
}

export interface LlmChatResult {
  message: ChatCompletionMessage;
  usage: { promptTokens: number; completionTokens: number };
  /** Name of the provider that answered (`platform` for the platform default). */
  provider: string;
  model: string;
}

/** An OpenAI-compatible client over a workspace's provider chain (see `getLlm`). */
export interface LlmClient {
  /** A capability is available when some provider of the chain has a model for it. */
  capabilities: { chat: boolean; embeddings: boolean; transcription: boolean; vision: boolean };
  /**
   * The embeddings model `embed` uses (null without one). It names the vector space: `embed`
   * only falls over to providers with this same model, so vectors always stay comparable.
   */
  embeddingsModel: string | null;
  /** OpenAI chat completion with tools, through the fallback chain. */
  chat(request: LlmChatRequest, scope: LlmUsageScope): Promise<LlmChatResult>;
  /** One vector per text, in order. */
  embed(texts: string[], scope: LlmUsageScope): Promise<number[][]>;
  /** Speech to text through `/audio/transcriptions`. */
  transcribe(
    audio: { data: Buffer; filename: string; mimeType?: string },
    scope: LlmUsageScope,
  ): Promise<string>;
  /** What the vision model sees in the image, prompted by `prompt`. */
  describeImage(
    image: { data: Buffer; mimeType: string },
    prompt: string,
    scope: LlmUsageScope,
  ): Promise<string>;
}

/**
 * Every provider of the chain failed (429, 5xx, timeout, connection error, unusable answer) or
 * was skipped by its open circuit breaker; or none has a model for the capability (`attempts`
 * empty). The caller falls back to the offline responder.
 */
export class LlmUnavailableError extends Error {
  readonly attempts: Array<{ provider: string; error: string }>;
  constructor(message: string, attempts: Array<{ provider: string; error: string }>) {
    super(message);
    this.name = 'LlmUnavailableError';
    this.attempts = attempts;
  }
}

/**
 * A provider refused the request itself (a 4xx other than 408/429: bad request, wrong key,
 * unknown model, context too long). No other provider is tried: the request would fail there
 * too, or the configuration needs fixing.
 */
export class LlmRequestError extends Error {
  readonly provider: string;
  readonly status: number | undefined;
  constructor(message: string, options: { provider: string; status: number | undefined; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'LlmRequestError';
    this.provider = options.provider;
    this.status = options.status;
  }
}
