// The server secret encrypts access keys at rest: a copy of the database alone does not reveal them.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { WsError } from '../errors.js';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

export interface Secret {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
  /** HMAC-SHA-256 (hex) under a key derived from the secret: stateless tokens that only this server can make. */
  mac(text: string): string;
}

/** WSGATE_SECRET when set; otherwise DATA_DIR/secret.key, generated with owner-only permissions. */
export function loadSecret(configured: string | undefined, dataDir: string): Secret {
  let material = configured;
  if (!material) {
    const file = path.join(dataDir, 'secret.key');
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    material = fs.readFileSync(file, 'utf8').trim();
  }
  return sealer(createHash('sha256').update(`wsgate access keys\0${material}`).digest());
}

function sealer(key: Buffer): Secret {
  const macKey = createHmac('sha256', key).update('wsgate challenge tokens').digest();
  return {
    mac: (text) => createHmac('sha256', macKey).update(text).digest('hex'),
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    decrypt(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown access key format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('cannot decrypt an access key: WSGATE_SECRET (or data/secret.key) differs from the one it was stored with');
      }
    },
  };
}

/** Hex: corebos-ws-lib's MD5 rewrites the text "rn" before hashing, so keys and tokens must never contain it. */
export const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

// OWASP's recommended scrypt cost (N=2^17, r=8, p=1: 128 MiB and a few hundred ms per hash). The cost is
// stored with each hash, so raising it later leaves existing passwords valid.
const SCRYPT = { N: 131072, r: 8, p: 1, maxmem: 256 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

let verifications = 0;

/** scrypt verifications run so far in this process (real and dummy ones): tests count them, not time them. */
export const scryptVerifications = () => verifications;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  verifications++;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(expected, actual);
}

/**
 * A hash of a random password nobody knows, at the cost above: logins that have no hash to check (unknown
 * user, user without a password, no valid token) check this one instead, so that they take as long as a
 * wrong password and the time of a failed login does not tell which user names exist.
 */
const DUMMY_HASH = 'scrypt$131072$8$1$EMmGxlm4IxFRy1Vo9cM9Pg$DRz-QdAxvhNFMP-4wUvcb1AR7L14IPH9e66X8S4xUmg';

export interface PasswordCheckLimits {
  /** scrypt verifications that run at once (each holds 128 MiB for a few hundred ms). */
  concurrency: number;
  /** Verifications that may wait for a turn; beyond them a login is refused at once. */
  queue: number;
}

/**
 * Password checks of logins, at most `concurrency` at a time, at most `queue` waiting: a flood of logins
 * costs bounded memory and CPU and is answered TOO_MANY_LOGIN_ATTEMPTS at once rather than piling up.
 */
export class PasswordChecker {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limits: PasswordCheckLimits) {}

  /** `stored` null: a dummy verification, as costly as a real one, that always fails. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    await this.turn();
    try {
      const valid = await verifyPassword(password, stored ?? DUMMY_HASH);
      return valid && stored !== null;
    } finally {
      // The slot goes to the next in line (running stays the same), so no newcomer jumps the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private async turn(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.limits.queue) {
      throw new WsError('TOO_MANY_LOGIN_ATTEMPTS', 'Too many logins are being checked at once: retry in a few seconds');
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}
