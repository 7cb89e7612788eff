/**
 * Request body decoding for the fake Bot API. Telegram accepts parameters as a query string,
 * `application/json`, `application/x-www-form-urlencoded` or `multipart/form-data` (the latter
 * being required for file uploads), so the fake accepts all four.
 */

/** A file part of a multipart request, e.g. a photo uploaded by grammY's `InputFile`. */
export interface UploadedPart {
  /** The form field name; grammY uses a random id and references it as `attach://<id>`. */
  field: string;
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

/** Decoded parameters, exactly as they arrived on the wire (form fields stay strings). */
export interface DecodedBody {
  params: Record<string, unknown>;
  files: Map<string, UploadedPart>;
}

/** The body could not be decoded; the message becomes the `Bad Request: ...` description. */
export class BodyError extends Error {}

export function decodeBody(contentType: string | undefined, body: Buffer): DecodedBody {
  const files = new Map<string, UploadedPart>();
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.length === 0) return { params: {}, files };
  if (mediaType === 'application/json' || mediaType === '') return { params: decodeJson(body), files };
  if (mediaType === 'application/x-www-form-urlencoded') {
    return { params: Object.fromEntries(new URLSearchParams(body.toString('utf8'))), files };
  }
  if (mediaType === 'multipart/form-data') {
    const boundary = parameterOf(contentType ?? '', 'boundary');
    if (!boundary) throw new BodyError('multipart boundary is missing');
    return decodeMultipart(body, boundary);
  }
  throw new BodyError(`unsupported Content-Type ${mediaType}`);
}

function decodeJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BodyError("can't parse JSON object");
  }
  if (!isRecord(value)) throw new BodyError('JSON body must be an object');
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * A deliberately lenient multipart reader. Node's own `Request#formData()` is stricter than
 * Telegram: it rejects the headers grammY writes (`content-disposition:form-data;name="x"` with
 * no spaces, and an unquoted `filename=photo.jpg`), so it cannot stand in for the real server.
 */
function decodeMultipart(body: Buffer, boundary: string): DecodedBody {
  const params: Record<string, unknown> = {};
  const files = new Map<string, UploadedPart>();
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let position = body.indexOf(delimiter);
  if (position < 0) throw new BodyError('multipart body has no boundary');
  position += delimiter.length;
  for (;;) {
    if (body.subarray(position, position + 2).toString() === '--') break;
    const lineEnd = body.indexOf(CRLF, position);
    if (lineEnd < 0) throw new BodyError('multipart body is truncated');
    const headersStart = lineEnd + CRLF.length;
    // A part may have no headers at all, in which case its content starts right away.
    const headersEnd = body.subarray(headersStart, headersStart + 2).equals(CRLF)
      ? headersStart - CRLF.length
      : body.indexOf(HEADER_END, headersStart);
    if (headersEnd < 0) throw new BodyError('multipart part headers are truncated');
    const contentStart = headersEnd + HEADER_END.length;
    const contentEnd = body.indexOf(nextDelimiter, contentStart);
    if (contentEnd < 0) throw new BodyError('multipart body is not terminated');
    const headers = parseHeaders(body.subarray(headersStart, Math.max(headersStart, headersEnd)).toString());
    const disposition = headers.get('content-disposition') ?? '';
    const name = parameterOf(disposition, 'name');
    const filename = parameterOf(disposition, 'filename');
    const content = body.subarray(contentStart, contentEnd);
    if (name !== undefined && filename !== undefined) {
      const contentType = headers.get('content-type') ?? 'application/octet-stream';
      files.set(name, { field: name, filename, contentType, bytes: new Uint8Array(content) });
    } else if (name !== undefined) {
      params[name] = content.toString('utf8');
    }
    position = contentEnd + nextDelimiter.length;
  }
  return { params, files };
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** Reads `key=value` or `key="value"` out of a header such as Content-Type or Content-Disposition. */
function parameterOf(header: string, key: string): string | undefined {
  const pattern = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const match of `;${header}`.matchAll(pattern)) {
    if (match[1]?.toLowerCase() !== key) continue;
    const raw = (match[2] ?? '').trim();
    return raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return undefined;
}
