import { ApiPropertyOptional } from '@nestjs/swagger';
import { PNG } from 'pngjs';
import { create } from 'qrcode';
import { DomainError } from '../common/errors/domain-error';
import { OrderView } from './order.view';

export const QR_IMAGE_INCLUDE = 'qr_code_image';

/** The answer that hands out a QR code: the order plus, when asked for, the code drawn for clients without a QR library. */
export class OrderWithQrImage extends OrderView {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'data:image/png;base64,iVBORw0KGgo…',
    description:
      'only with ?include=qr_code_image: qr_code_url drawn as a PNG QR code (a data URL, 264×264 pixels); null when the order is not payable',
  })
  qr_code_image?: string | null;
}

/**
 * Whether the caller asked for the image. It is opt-in because drawing and deflating the PNG costs
 * milliseconds of CPU per order, which clients that draw their own codes should not pay for.
 */
export function wantsQrImage(include: unknown): boolean {
  if (include === undefined) return false;
  if (include === QR_IMAGE_INCLUDE) return true;
  throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [`include must be "${QR_IMAGE_INCLUDE}" when given`]);
}

/** The image's side in pixels (documented on qr_code_image). */
export const QR_IMAGE_PX = 264;
/** The quiet zone the QR standard asks for around the code, in modules (the minimum). */
const QUIET_MODULES = 4;

/**
 * Draws the order's QR code. Error correction M is what phone scanners read reliably from a screen.
 *
 * qrcode computes the code; the pixels are laid here, one grey byte per pixel, and pngjs encodes
 * them (rows filtered "up": a QR code's rows repeat module by module, so that leaves mostly zeros).
 * qrcode's own PNG renderer draws four-byte RGBA pixels at a fractional scale and pngjs then tries
 * five filters on every row: that was half of create-order's CPU; this is about a fifth of it, and
 * the PNG is smaller (about 1.5 kB). Modules are whole pixels (crisper for scanners), centred, with
 * at least the 4-module quiet zone.
 */
export function drawQrPng(text: string): Buffer {
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const scale = Math.floor(QR_IMAGE_PX / (n + 2 * QUIET_MODULES));
  const offset = Math.floor((QR_IMAGE_PX - n * scale) / 2);
  const pixels = Buffer.alloc(QR_IMAGE_PX * QR_IMAGE_PX, 255);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!modules.get(y, x)) continue;
      const left = offset + x * scale;
      for (let row = offset + y * scale, end = row + scale; row < end; row++) {
        pixels.fill(0, row * QR_IMAGE_PX + left, row * QR_IMAGE_PX + left + scale);
      }
    }
  }
  const grey = { colorType: 0, inputColorType: 0, inputHasAlpha: false, filterType: 2 } as const;
  const png = new PNG({ width: QR_IMAGE_PX, height: QR_IMAGE_PX, ...grey });
  png.data = pixels;
  return PNG.sync.write(png, grey);
}

export async function withQrImage(view: OrderView): Promise<OrderWithQrImage> {
  const image = view.qr_code_url ? `data:image/png;base64,${drawQrPng(view.qr_code_url).toString('base64')}` : null;
  return { ...view, qr_code_image: image };
}
