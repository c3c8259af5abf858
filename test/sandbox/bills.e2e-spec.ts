// The sandbox's daily bills against the published formats (docs/reconciliation.md), read with the
// real SDKs and checked with node:crypto, node:zlib, fflate and iconv-lite (not with sandbox/ code).
import { unzipSync } from 'fflate';
import * as iconv from 'iconv-lite';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { type Sandbox, startSandbox } from '../../sandbox';
import { addDays, beijingDayOf } from '../../src/common/beijing-day';
import { alipayClient, http, sandboxPay, tradeNo, wechatClient } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
});
afterAll(() => sb.close());

const beijingDay = (offsetDays = 0) => addDays(beijingDayOf(new Date()), offsetDays);
const control = (method: string, path: string, body?: object) =>
  http(method, `${sb.url}${path}`, body, body ? { 'content-type': 'application/json' } : {});

async function paidWechat(totalFen: number): Promise<string> {
  const no = tradeNo('B');
  const w = sb.credentials.wechat;
  const res = await wechatClient(sb).v3.pay.transactions.native.post<any>({
    appid: w.appId,
    mchid: w.mchId,
    description: '会员, 月卡',
    out_trade_no: no,
    notify_url: 'https://memberpay.example/api/v1/payment/wechat/callback',
    amount: { total: totalFen, currency: 'CNY' },
  });
  expect((await sandboxPay(sb, { qr: res.data.code_url, delivery: 'none' })).status).toBe(200);
  return no;
}

const applyWechat = (day: string) =>
  wechatClient(sb).v3.bill.tradebill.get<any>({ params: { bill_date: day, bill_type: 'ALL', tar_type: 'GZIP' } });
async function downloadWechat(url: string) {
  const { searchParams } = new URL(url);
  return wechatClient(sb).v3.billdownload.file.get<any>({ params: Object.fromEntries(searchParams), responseType: 'arraybuffer' });
}

describe('WeChat Pay trade bill', () => {
  it('is served for today, signed, with the SHA1 of the gzipped file it downloads in the published layout', async () => {
    const a = await paidWechat(1990);
    const b = await paidWechat(29);
    const applied = await applyWechat(beijingDay());
    expect(applied.data).toMatchObject({
      hash_type: 'SHA1',
      hash_value: expect.stringMatching(/^[0-9a-f]{40}$/),
      download_url: expect.stringContaining('/v3/billdownload/file?token='),
    });
    const file = await downloadWechat(applied.data.download_url);
    expect(file.headers['wechatpay-signature']).toBeUndefined();
    const bytes = gunzipSync(Buffer.from(file.data));
    expect(createHash('sha1').update(bytes).digest('hex')).toBe(applied.data.hash_value);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0].split(',')).toHaveLength(27);
    expect(lines[0]).toMatch(/^交易时间,公众账号ID,商户号,/);
    const details = lines.slice(1, -3);
    for (const row of details) expect(row.split(',`').length === 27 && row.startsWith('`')).toBe(true);
    const byNo = Object.fromEntries(details.map((row) => row.slice(1).split(',`')).map((cells) => [cells[6], cells]));
    expect(byNo[a]).toEqual(expect.arrayContaining(['SUCCESS', 'NATIVE', 'CNY', '19.90']));
    expect(byNo[b][12]).toBe('0.29');
    expect(lines.at(-3)).toBe('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额');
    expect(lines.at(-2)!.startsWith(`\`${details.length},`)).toBe(true);
  });

  it('answers NO_STATEMENT_EXIST for a day without trades and refuses a day still to come', async () => {
    const empty = await applyWechat('2020-01-01').catch((e) => e);
    expect([empty.response?.status, empty.response?.data?.code]).toEqual([400, 'NO_STATEMENT_EXIST']);
    const future = await applyWechat(beijingDay(2)).catch((e) => e);
    expect(future.response?.status).toBe(400);
  });

  it('injects faults: not ready, a wrong hash, a missing row and an amount that differs', async () => {
    const omitted = await paidWechat(100);
    const changed = await paidWechat(200);
    await control('POST', '/sandbox/bills/tweaks', { provider: 'wechat', out_trade_no: omitted, omit: true });
    await control('POST', '/sandbox/bills/tweaks', { provider: 'wechat', out_trade_no: changed, amount_fen: 1 });
    await control('POST', '/sandbox/faults', { provider: 'wechat', op: 'bill', mode: 'bill-not-ready', times: 1 });
    const creating = await applyWechat(beijingDay()).catch((e) => e);
    expect(creating.response?.data?.code).toBe('STATEMENT_CREATING');
    await control('POST', '/sandbox/faults', { provider: 'wechat', op: 'bill', mode: 'bill-wrong-hash', times: 1 });
    const applied = await applyWechat(beijingDay());
    const bytes = gunzipSync(Buffer.from((await downloadWechat(applied.data.download_url)).data));
    expect(createHash('sha1').update(bytes).digest('hex')).not.toBe(applied.data.hash_value);
    const text = bytes.toString('utf8');
    expect(text).not.toContain(omitted);
    expect(text).toMatch(new RegExp(`\`${changed},.*?\`0\\.01,`));
    await control('DELETE', '/sandbox/bills/tweaks');
  });
});

describe('Alipay trade bill', () => {
  it('is a ZIP of GBK CSV files with GBK names, # lines around the header, ids padded with a tab', async () => {
    const no = tradeNo('B');
    const pre = await alipayClient(sb).exec(
      'alipay.trade.precreate',
      { bizContent: { out_trade_no: no, total_amount: '19.90', subject: '会员月卡' } },
      { validateSign: true },
    );
    expect((await sandboxPay(sb, { qr: pre.qrCode ?? pre.qr_code, delivery: 'none' })).status).toBe(200);
    const res = await alipayClient(sb).exec(
      'alipay.data.dataservice.bill.downloadurl.query',
      { bizContent: { bill_type: 'trade', bill_date: beijingDay() } },
      { validateSign: true },
    );
    const url = res.billDownloadUrl ?? res.bill_download_url;
    const zip = Buffer.from(await (await fetch(url)).arrayBuffer());
    const files = Object.entries(unzipSync(zip)).map(([name, data]) => ({
      name: iconv.decode(Buffer.from(name, 'latin1'), 'gbk'),
      text: iconv.decode(Buffer.from(data), 'gbk'),
    }));
    expect(files.map((f) => f.name).sort()).toEqual(
      [expect.stringMatching(/^\d+0156_\d{8}_业务明细\(汇总\)\.csv$/), expect.stringMatching(/^\d+0156_\d{8}_业务明细\.csv$/)].sort(),
    );
    const detail = files.find((f) => f.name.endsWith('_业务明细.csv'))!.text.split('\r\n');
    expect(detail[1]).toMatch(/^#账号：\[2088\d+\]$/);
    expect(detail[4]).toMatch(/^支付宝交易号,商户订单号,业务类型,.*,订单金额（元）,.*,退款批次号\/请求号,服务费（元）,分润（元）,备注$/);
    const row = detail.find((l) => l.includes(no))!.split(',');
    expect(row[1]).toBe(`${no}\t`);
    expect(row.slice(2, 3).concat(row[11])).toEqual(['交易', '19.90']);
    expect(detail.filter((l) => l.startsWith('#')).length).toBeGreaterThanOrEqual(6);
    expect((await fetch(url.replace(/token=\w+/, 'token=expired'))).status).toBe(404);
  });
});
