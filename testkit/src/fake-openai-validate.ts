/**
 * Request validation for the fake OpenAI API, after OpenAI's own: the same checks a client
 * trips on against the real service (missing model, empty messages, a `tool` message that
 * answers no earlier tool call, bad tool names, out-of-range temperature), answered with
 * OpenAI's error shape `{"error":{"message","type","param","code"}}`.
 */
import { isRecord } from './fake-telegram-body.ts';

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A request the fake refuses, with the HTTP status and the body OpenAI would send. */
export class FakeOpenAIError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error.message);
  }
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null) {
  return new FakeOpenAIError(400, { error: { message, type: 'invalid_request_error', param, code } });
}

/** One content part of a user message as the fake understands it. */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; url: string; mimeType: string | undefined; bytes: number };

/** A chat message after validation: text and image parts flattened for responders. */
export interface ChatMessageView {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  /** Every text part joined with newlines ('' when none). */
  text: string;
  parts: ContentPart[];
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  toolCallId: string | undefined;
  raw: Record<string, unknown>;
}

/** What a chat responder sees of a request. */
export interface ChatRequestView {
  model: string;
  messages: ChatMessageView[];
  /** Names of the functions offered as tools. */
  tools: string[];
  stream: boolean;
  /** The text of the last user message ('' when none). */
  lastUserText: string;
  /** Image parts of the last user message. */
  images: Array<Extract<ContentPart, { type: 'image_url' }>>;
  /** The JSON body as received. */
  body: Record<string, unknown>;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Validates a `/v1/chat/completions` body; throws FakeOpenAIError(400) like OpenAI. */
export function parseChatRequest(body: Record<string, unknown>): ChatRequestView {
  const model = body.model;
  if (typeof model !== 'string' || model === '') {
    throw invalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  if (!Array.isArray(body.messages)) {
    throw invalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  }
  if (body.messages.length === 0) {
    throw invalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  checkNumber(body, 'temperature', 0, 2);
  checkNumber(body, 'top_p', 0, 1);
  if (body.max_tokens !== undefined && body.max_tokens !== null) checkPositiveInteger(body, 'max_tokens');
  if (body.max_completion_tokens !== undefined && body.max_completion_tokens !== null)
    checkPositiveInteger(body, 'max_completion_tokens');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    throw invalidRequest(`Invalid type for 'stream': expected a boolean.`, 'stream', 'invalid_type');
  }
  const tools = parseTools(body.tools);
  const messages = body.messages.map((message, index) => parseMessage(message, index));
  checkToolMessages(messages);
  let lastUser: ChatMessageView | undefined;
  for (const message of messages) if (message.role === 'user') lastUser = message;
  return {
    model,
    messages,
    tools,
    stream: body.stream === true,
    lastUserText: lastUser?.text ?? '',
    images: (lastUser?.parts ?? []).filter((part) => part.type === 'image_url'),
    body,
  };
}

function checkNumber(body: Record<string, unknown>, key: string, min: number, max: number) {
  const value = body[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidRequest(`Invalid type for '${key}': expected a decimal.`, key, 'invalid_type');
  }
  if (value < min) {
    throw invalidRequest(
      `Invalid '${key}': decimal below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
      key,
      'decimal_below_min_value',
    );
  }
  if (value > max) {
    throw invalidRequest(
      `Invalid '${key}': decimal above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
      key,
      'decimal_above_max_value',
    );
  }
}

function checkPositiveInteger(body: Record<string, unknown>, key: string) {
  const value = body[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidRequest(`Invalid '${key}': expected an integer >= 1.`, key, 'invalid_value');
  }
}

function parseTools(tools: unknown): string[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalidRequest(`Invalid type for 'tools': expected an array.`, 'tools');
  return tools.map((tool, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function') {
      throw invalidRequest(`Invalid value for '${param}.type': expected 'function'.`, `${param}.type`);
    }
    const fn = tool.function;
    if (!isRecord(fn) || typeof fn.name !== 'string') {
      throw invalidRequest(`Missing required parameter: '${param}.function.name'.`, `${param}.function.name`);
    }
    if (!FUNCTION_NAME.test(fn.name)) {
      throw invalidRequest(
        `Invalid '${param}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        `${param}.function.name`,
        'invalid_value',
      );
    }
    if (fn.parameters !== undefined && !isRecord(fn.parameters)) {
      throw invalidRequest(
        `Invalid type for '${param}.function.parameters': expected an object.`,
        `${param}.function.parameters`,
      );
    }
    return fn.name;
  });
}

function parseMessage(message: unknown, index: number): ChatMessageView {
  const param = `messages[${index}]`;
  if (!isRecord(message)) throw invalidRequest(`Invalid type for '${param}': expected an object.`, param);
  const role = message.role;
  if (typeof role !== 'string' || !ROLES.has(role)) {
    throw invalidRequest(
      `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'developer'.`,
      `${param}.role`,
      'invalid_value',
    );
  }
  const parts = parseContent(message.content, param, role);
  const toolCalls: ChatMessageView['toolCalls'] = [];
  if (role === 'assistant' && message.tool_calls !== undefined && message.tool_calls !== null) {
    if (!Array.isArray(message.tool_calls))
      throw invalidRequest(
        `Invalid type for '${param}.tool_calls': expected an array.`,
        `${param}.tool_calls`,
      );
    message.tool_calls.forEach((call, callIndex) => {
      const callParam = `${param}.tool_calls[${callIndex}]`;
      const fn = isRecord(call) ? call.function : undefined;
      if (!isRecord(call) || typeof call.id !== 'string' || !isRecord(fn) || typeof fn.name !== 'string') {
        throw invalidRequest(
          `Invalid '${callParam}': expected {id, type, function: {name, arguments}}.`,
          callParam,
        );
      }
      if (typeof fn.arguments !== 'string') {
        throw invalidRequest(
          `Invalid type for '${callParam}.function.arguments': expected a string.`,
          `${callParam}.function.arguments`,
        );
      }
      toolCalls.push({ id: call.id, name: fn.name, arguments: fn.arguments });
    });
  }
  if (role === 'assistant' && parts.length === 0 && toolCalls.length === 0 && message.content == null) {
    throw invalidRequest(
      `Invalid value for '${param}.content': expected a string, got null.`,
      `${param}.content`,
    );
  }
  let toolCallId: string | undefined;
  if (role === 'tool') {
    if (typeof message.tool_call_id !== 'string') {
      throw invalidRequest(
        `Missing required parameter: '${param}.tool_call_id'.`,
        `${param}.tool_call_id`,
        'missing_required_parameter',
      );
    }
    toolCallId = message.tool_call_id;
  }
  const text = parts
    .filter((part) => part.type === 'text')
    .map((part) => part.text)
    .join('\n');
  return { role: role as ChatMessageView['role'], text, parts, toolCalls, toolCallId, raw: message };
}

function parseContent(content: unknown, param: string, role: string): ContentPart[] {
  if (content === undefined || content === null) {
    if (role === 'assistant') return [];
    throw invalidRequest(
      `Invalid value for '${param}.content': expected a string, got null.`,
      `${param}.content`,
    );
  }
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) {
    throw invalidRequest(
      `Invalid type for '${param}.content': expected one of a string or array of objects.`,
      `${param}.content`,
    );
  }
  return content.map((part, index) => {
    const partParam = `${param}.content[${index}]`;
    if (!isRecord(part))
      throw invalidRequest(`Invalid type for '${partParam}': expected an object.`, partParam);
    if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
    if (part.type === 'image_url' && role === 'user') {
      const image = part.image_url;
      if (!isRecord(image) || typeof image.url !== 'string') {
        throw invalidRequest(
          `Missing required parameter: '${partParam}.image_url.url'.`,
          `${partParam}.image_url.url`,
        );
      }
      return describeImageUrl(image.url, partParam);
    }
    throw invalidRequest(
      `Invalid value: '${String(part.type)}'. Supported values are: 'text' and 'image_url'.`,
      `${partParam}.type`,
      'invalid_value',
    );
  });
}

function describeImageUrl(url: string, param: string): ContentPart {
  const dataUrl = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(url);
  if (dataUrl) {
    const bytes = dataUrl[2] ? Buffer.from(dataUrl[3] ?? '', 'base64').length : (dataUrl[3] ?? '').length;
    if (bytes === 0)
      throw invalidRequest(
        'You uploaded an unsupported image. Please make sure your image is valid.',
        param,
        'invalid_image',
      );
    return { type: 'image_url', url, mimeType: dataUrl[1], bytes };
  }
  if (!/^https?:\/\//.test(url)) {
    throw invalidRequest(
      `Invalid image URL: '${param}.image_url.url'. Expected a base64-encoded data URL or an http(s) URL.`,
      param,
      'invalid_image_url',
    );
  }
  return { type: 'image_url', url, mimeType: undefined, bytes: 0 };
}

/**
 * OpenAI refuses a `tool` message that does not answer a tool call of the assistant message
 * before it, and an assistant's tool calls left unanswered when the conversation goes on.
 */
function checkToolMessages(messages: ChatMessageView[]) {
  let pending = new Set<string>();
  messages.forEach((message, index) => {
    if (message.role === 'tool') {
      if (!message.toolCallId || !pending.has(message.toolCallId)) {
        throw invalidRequest(
          `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`,
          `messages.[${index}].role`,
        );
      }
      pending.delete(message.toolCallId);
      return;
    }
    if (pending.size > 0) {
      throw invalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(', ')}`,
        `messages.[${index}].role`,
      );
    }
    pending = new Set(message.toolCalls.map((call) => call.id));
  });
}

/** Validates a `/v1/embeddings` body; returns the inputs as strings. */
export function parseEmbeddingsRequest(body: Record<string, unknown>): {
  model: string;
  inputs: string[];
  dimensions: number | undefined;
  encodingFormat: 'float' | 'base64';
} {
  const model = body.model;
  if (typeof model !== 'string' || model === '') {
    throw invalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  const input = body.input;
  let inputs: string[];
  if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.every((item) => typeof item === 'string')) inputs = input;
  else throw invalidRequest(`'input' must be a string or an array of strings.`, 'input', 'invalid_type');
  if (inputs.length === 0) throw invalidRequest(`'$.input' is invalid: empty array.`, 'input', 'empty_array');
  if (inputs.length > 2048) throw invalidRequest(`'$.input' is invalid: at most 2048 inputs.`, 'input');
  inputs.forEach((text, index) => {
    if (text === '')
      throw invalidRequest(`'$.input' is invalid: input[${index}] is an empty string.`, 'input');
  });
  const dimensions = body.dimensions;
  if (
    dimensions !== undefined &&
    (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)
  ) {
    throw invalidRequest(`Invalid 'dimensions': expected an integer >= 1.`, 'dimensions');
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw invalidRequest(
      `Invalid value for 'encoding_format': expected 'float' or 'base64'.`,
      'encoding_format',
    );
  }
  return {
    model,
    inputs,
    dimensions: typeof dimensions === 'number' ? dimensions : undefined,
    encodingFormat: format,
  };
}
