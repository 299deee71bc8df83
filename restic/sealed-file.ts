/**
 * The sealed format of our private cache files (the snapshot cache, the key store):
 * `magic ‖ header ‖ nonce(12) ‖ AES-256-GCM(plaintext) ‖ tag(16)`, authenticated together with
 * `magic ‖ header ‖ context` (context: the repository the file belongs to), so a file of another
 * format, version, repository or key, or with a changed header, never opens.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface SealedFormat {
  /** Names the format and its version. */
  readonly magic: Buffer;
  /** Bytes between the magic and the nonce, e.g. a salt the key is derived with; 0 for none. */
  readonly headerBytes: number;
}

function additionalData(format: SealedFormat, header: Uint8Array, context: string): Buffer {
  return Buffer.concat([format.magic, header, Buffer.from(context, "utf8")]);
}

/** Seals `plaintext` under `key` with a new random nonce; `header` must be `format.headerBytes` long. */
export function sealFile(format: SealedFormat, o: { readonly key: Uint8Array; readonly context: string; readonly header?: Uint8Array }, plaintext: Uint8Array): Buffer {
  const header = o.header ?? new Uint8Array(0);
  if (header.length !== format.headerBytes) throw new RangeError(`sealed file header must be ${format.headerBytes} bytes, got ${header.length}`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", o.key, nonce);
  cipher.setAAD(additionalData(format, header, o.context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([format.magic, header, nonce, body, cipher.getAuthTag()]);
}

/**
 * The plaintext of a sealed file; undefined when it is not a file of this format and context
 * under the key `keyFor` gives for its header (too short, other magic, tampered, other key).
 */
export function openFile(format: SealedFormat, o: { readonly keyFor: (header: Buffer) => Uint8Array; readonly context: string }, file: Uint8Array): Buffer | undefined {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const start = format.magic.length + format.headerBytes + NONCE_BYTES;
  if (bytes.length < start + TAG_BYTES || !bytes.subarray(0, format.magic.length).equals(format.magic)) return undefined;
  const header = bytes.subarray(format.magic.length, format.magic.length + format.headerBytes);
  try {
    const decipher = createDecipheriv("aes-256-gcm", o.keyFor(header), bytes.subarray(start - NONCE_BYTES, start));
    decipher.setAAD(additionalData(format, header, o.context));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(start, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
