import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';

const ISSUER = 'switchboard';
const AUDIENCE = 'switchboard-api';

const claimsSchema = z.object({ sub: z.uuid(), email: z.string(), sa: z.boolean().optional() });
export type AccessClaims = z.infer<typeof claimsSchema>;

/** Short-lived HS256 JWT carried as `Authorization: Bearer`. */
export async function signAccessToken(
  key: Uint8Array,
  claims: { userId: string; email: string; isSuperAdmin: boolean },
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({ email: claims.email, ...(claims.isSuperAdmin ? { sa: true } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

export async function verifyAccessToken(key: Uint8Array, token: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
    });
    return claimsSchema.parse(payload);
  } catch (cause) {
    const expired = cause instanceof errors.JWTExpired;
    throw new AppError('UNAUTHENTICATED', {
      message: expired ? 'Access token expired' : 'Invalid access token',
      details: { reason: expired ? 'expired' : 'invalid' },
      cause,
    });
  }
}
