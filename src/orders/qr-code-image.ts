import { ApiPropertyOptional } from '@nestjs/swagger';
import { toDataURL } from 'qrcode';
import { DomainError } from '../common/errors/domain-error';
import { OrderView } from './order.view';

export const QR_IMAGE_INCLUDE = 'qr_code_image';

/** The answer that hands out a QR code: the order plus, when asked for, the code drawn for clients without a QR library. */
export class OrderWithQrImage extends OrderView {
  @ApiPropertyOptional({
    type: String, nullable: true, example: 'data:image/png;base64,iVBORw0KGgo…',
    description: 'only with ?include=qr_code_image: qr_code_url drawn as a PNG QR code (a data URL, 264×264 pixels); null when the order is not payable',
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

/**
 * Draws the order's QR code. Error correction M is what phone scanners read reliably from a screen;
 * the 4-module quiet zone is the minimum the QR standard asks for around the code.
 */
export async function withQrImage(view: OrderView): Promise<OrderWithQrImage> {
  const image = view.qr_code_url
    ? await toDataURL(view.qr_code_url, { errorCorrectionLevel: 'M', margin: 4, width: 264 })
    : null;
  return { ...view, qr_code_image: image };
}
