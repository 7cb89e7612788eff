import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with OWASP's second recommended profile (19 MiB, t=2, p=1): about 20 ms here,
 * cheap enough for logins, costly enough for an offline attack.
 */
const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  // Unknown users still pay for one verification, so response time does not reveal which
  // emails have accounts.
  const target = passwordHash ?? DUMMY_HASH;
  try {
    const ok = await verify(target, password);
    return ok && passwordHash !== null;
  } catch {
    return false;
  }
}

const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$6VvPxeu5s8oFqGmLcI2Ujw$0oyrXT0C0zbC2oXasajj6z2OATGCqKR1TlnaPA1llYc';
