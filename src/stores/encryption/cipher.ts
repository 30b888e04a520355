import { ConfigError, StorageError } from '../../model/errors.js';
import type { QnoxLocalStore } from '../local-store.js';

/** How {@link encryptedStore} gets its key. */
export type EncryptionKeyOptions =
  | {
      /** An AES-GCM `CryptoKey` (may be non-extractable), e.g. from `crypto.subtle.generateKey`. */
      readonly key: CryptoKey;
    }
  | {
      /** A passphrase, stretched with PBKDF2-SHA-256 and a random salt kept in the store's meta area. */
      readonly passphrase: string;
      /**
       * PBKDF2 iterations.
       * @default 310000
       * @example 600_000
       */
      readonly iterations?: number;
    };

/** Meta key of the sealed value that proves a key opens this store. */
const CHECK = 'qnox.encryption.check';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** AES-GCM with a fresh random IV per record, plus a deterministic blind index for keys that must match. */
export class Cipher {
  constructor(private readonly key: CryptoKey) {}

  /**
   * Derives or takes the key, then proves it against the check value kept in the
   * store's meta area (written on first use) before any record is touched: a
   * wrong passphrase or key fails here, with a {@link ConfigError}, instead of
   * quarantining every record it cannot read.
   */
  static async create(inner: QnoxLocalStore, options: EncryptionKeyOptions): Promise<Cipher> {
    const cipher = await Cipher.#derive(inner, options);
    await cipher.#verify(inner, 'key' in options ? 'key' : 'passphrase');
    return cipher;
  }

  async #verify(inner: QnoxLocalStore, option: string): Promise<void> {
    if (!inner.getMeta || !inner.putMeta) return;
    const check = await inner.getMeta(CHECK);
    if (check === undefined) {
      await inner.putMeta(CHECK, await this.seal(CHECK));
      return;
    }
    const ok = await this.open(check).then(
      (value) => value === CHECK,
      () => false,
    );
    if (!ok)
      throw new ConfigError(
        option,
        'does not open this store: it was encrypted with another key (nothing was changed)',
      );
  }

  static async #derive(inner: QnoxLocalStore, options: EncryptionKeyOptions): Promise<Cipher> {
    if ('key' in options) {
      if (options.key?.algorithm?.name !== 'AES-GCM')
        throw new ConfigError('key', 'must be an AES-GCM CryptoKey');
      return new Cipher(options.key);
    }
    if (typeof options.passphrase !== 'string' || options.passphrase === '') {
      throw new ConfigError('passphrase', 'must be a non-empty string');
    }
    if (!inner.getMeta || !inner.putMeta) {
      throw new ConfigError(
        'passphrase',
        'the wrapped store has no meta area (getMeta/putMeta) to keep the salt; pass a key',
      );
    }
    let salt = await inner.getMeta('qnox.encryption.salt');
    if (salt === undefined) {
      salt = toBase64(crypto.getRandomValues(new Uint8Array(16)));
      await inner.putMeta('qnox.encryption.salt', salt);
    }
    const material = await crypto.subtle.importKey(
      'raw',
      encoder.encode(options.passphrase),
      'PBKDF2',
      false,
      ['deriveKey'],
    );
    const key = await crypto.subtle.deriveKey(
      {
        name: 'PBKDF2',
        hash: 'SHA-256',
        salt: fromBase64(salt),
        iterations: options.iterations ?? 310_000,
      },
      material,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
    return new Cipher(key);
  }

  async seal(value: unknown): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv },
      this.key,
      encoder.encode(JSON.stringify(value)),
    );
    return `${toBase64(iv)}.${toBase64(new Uint8Array(data))}`;
  }

  async open<T>(sealed: unknown): Promise<T> {
    if (typeof sealed !== 'string' || !sealed.includes('.'))
      throw new StorageError('Encrypted record is malformed');
    const [iv, data] = sealed.split('.') as [string, string];
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(iv) },
        this.key,
        fromBase64(data),
      );
      return JSON.parse(decoder.decode(plain)) as T;
    } catch (cause) {
      throw new StorageError(
        'Encrypted record failed authentication (tampered, or a different key)',
        { cause },
      );
    }
  }

  /**
   * Same input, same output, nothing readable: for ordering and cache keys the
   * store must compare. The IV is derived from the input (a synthetic IV), so
   * distinct inputs never share one.
   */
  async blind(value: string): Promise<string> {
    const bytes = encoder.encode(`qnox-blind:${value}`);
    const iv = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)).slice(0, 12);
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, this.key, bytes);
    return toBase64(new Uint8Array(data).slice(-16));
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
