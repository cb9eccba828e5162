import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { invalid } from '../staff/validate';

export const maxImageBytes = 5 * 1024 * 1024;

/** The type an image really is, read from its first bytes: a browser's or client's declared type is not trusted. */
export function sniffImageType(bytes: Uint8Array): 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp' | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v)) return 'image/png';
  if (b.length >= 6 && String.fromCharCode(...b.slice(0, 6)).match(/^GIF8[79]a$/)) return 'image/gif';
  if (b.length >= 12 && String.fromCharCode(...b.slice(0, 4)) === 'RIFF' && String.fromCharCode(...b.slice(8, 12)) === 'WEBP') return 'image/webp';
  return null;
}

/** Size and type, checked before anything is written. */
export function checkImage(bytes: Uint8Array): 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp' {
  if (bytes.byteLength > maxImageBytes) throw invalid([{ field: 'image', key: 'update.imageTooLarge', vars: { max: '5 MB' } }]);
  const type = sniffImageType(bytes);
  if (!type) throw invalid([{ field: 'image', key: 'update.imageNotImage' }]);
  return type;
}

export async function storeImage(db: Kysely<Database> | Transaction<Database>, staffId: number | null, bytes: Uint8Array): Promise<number> {
  const type = checkImage(bytes);
  const row = await db
    .insertInto('images')
    .values({
      content_type: type,
      bytes: Buffer.from(bytes),
      size: bytes.byteLength,
      width: null,
      height: null,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      created_by: staffId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
