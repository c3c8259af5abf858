import { ApiProperty } from '@nestjs/swagger';
import { toDataURL } from 'qrcode';
import { OrderView } from './order.view';

/** The answer that hands out a QR code: the order plus the code drawn, for clients without a QR library. */
export class OrderWithQrImage extends OrderView {
  @ApiProperty({
    type: String, nullable: true, example: 'data:image/png;base64,iVBORw0KGgo…',
    description: 'qr_code_url drawn as a PNG QR code (a data URL, 264×264 pixels); null when the order is not payable',
  })
  qr_code_image: string | null;
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
