import { PNG } from 'pngjs';
import { create } from 'qrcode';
import { drawQrPng, QR_IMAGE_PX, withQrImage } from './qr-code-image';

/** Reads the drawn PNG back and samples every module's centre: the modules qrcode computed, and a light quiet zone. */
function readModules(png: Buffer, n: number) {
  const image = PNG.sync.read(png);
  const dark = (x: number, y: number) => image.data[(y * image.width + x) * 4] < 128;
  // The code is centred: find its top-left dark pixel (the finder pattern's corner) on the diagonal.
  let start = 0;
  while (!dark(start, start)) start++;
  // …and the right edge of the top-right finder pattern on that row.
  let end = image.width;
  while (!dark(end - 1, start)) end--;
  const scale = (end - start) / n;
  const modules: boolean[] = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) modules.push(dark(Math.floor(start + (x + 0.5) * scale), Math.floor(start + (y + 0.5) * scale)));
  }
  return { image, start, end, scale, modules };
}

describe('the QR code image', () => {
  const urls = ['weixin://wxpay/bizpayurl?pr=abcdefghijk', 'https://qr.alipay.com/bax01234567890abcdefghijklmnopqrstuvwxyz0123456789'];

  it.each(urls)('is a 264×264 PNG whose modules are the QR code of the URL, with at least a 4-module quiet zone (%s)', (url) => {
    const expected = create(url, { errorCorrectionLevel: 'M' }).modules;
    const { image, start, end, scale, modules } = readModules(drawQrPng(url), expected.size);
    expect([image.width, image.height]).toEqual([QR_IMAGE_PX, QR_IMAGE_PX]);
    expect(Number.isInteger(scale)).toBe(true);
    expect(start).toBeGreaterThanOrEqual(4 * scale);
    expect(image.width - end).toBeGreaterThanOrEqual(4 * scale);
    expect(modules).toEqual(Array.from(expected.data, Boolean));
  });

  it('is a data URL on an answer with a QR code, null without one', async () => {
    const view = { qr_code_url: urls[0] } as Parameters<typeof withQrImage>[0];
    const drawn = await withQrImage(view);
    expect(drawn.qr_code_image).toBe(`data:image/png;base64,${drawQrPng(urls[0]).toString('base64')}`);
    expect((await withQrImage({ ...view, qr_code_url: null } as Parameters<typeof withQrImage>[0])).qr_code_image).toBeNull();
  });
});
