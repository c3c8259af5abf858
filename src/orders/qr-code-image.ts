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
 * PNG encoding of a black-and-white image: one grey byte per pixel instead of RGBA, and every row
 * filtered against the row above ("up"). A QR code's rows repeat module by module, so "up" leaves
 * mostly zeros; pngjs's default tries all five filters on every row of four-byte pixels, which was
 * half of create-order's CPU. The PNG is also smaller (about 1.7 kB against 2.8 kB).
 */
const PNG_OPTIONS = { colorType: 0, filterType: 2 } as const;

/**
 * Draws the order's QR code. Error correction M is what phone scanners read reliably from a screen;
 * the 4-module quiet zone is the minimum the QR standard asks for around the code.
 */
export async function withQrImage(view: OrderView): Promise<OrderWithQrImage> {
  const image = view.qr_code_url
    // A fresh options object per call: qrcode writes the image size into it.
    ? await toDataURL(view.qr_code_url, { errorCorrectionLevel: 'M', margin: 4, width: 264, rendererOpts: { ...PNG_OPTIONS } as object })
    : null;
  return { ...view, qr_code_image: image };
}
