import type { FastifyRequest } from 'fastify';

/** Absolute base URL for links in mails and responses: PUBLIC_URL, else what the caller used. */
export function baseUrlOf(publicUrl: string | undefined, request: FastifyRequest): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}
