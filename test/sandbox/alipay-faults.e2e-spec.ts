// Answer-level faults of the Alipay emulation (sandbox/README.md#fault-modes, docs/alipay.md#answer-signatures), seen through the real
// alipay-sdk with validateSign: forged or spoiled answers must make the SDK throw.
import { AlipayRequestError } from 'alipay-sdk';
import { startSandbox, type Sandbox } from '../../sandbox';
import { alipayClient, http, tradeNo } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
afterEach(() => http('DELETE', `${sb.url}/sandbox/faults`));

const exec = (method: string, biz: Record<string, unknown>) => alipayClient(sb).exec(method, { bizContent: biz }, { validateSign: true });
const precreate = (no: string) =>
  exec('alipay.trade.precreate', { out_trade_no: no, total_amount: '19.90', subject: '会员月卡', timeout_express: '15m' });
const query = (no: string) => exec('alipay.trade.query', { out_trade_no: no });

describe('faults', () => {
  const fault = (body: Record<string, unknown>) => http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', times: 1, ...body });
  const stored = async (no: string) => (await http('GET', `${sb.url}/sandbox/trades/${no}`)).status === 200;
  async function rejected(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected the SDK call to fail');
  }

  it('error-500: HTTP 500, the SDK throws, nothing stored', async () => {
    await fault({ op: 'precreate', mode: 'error-500' });
    const no = tradeNo();
    const err = await rejected(precreate(no));
    expect(err).toBeInstanceOf(AlipayRequestError);
    expect(err.message).toMatch(/500/);
    expect(await stored(no)).toBe(false);
  });

  it('bad-signature and unsigned: the SDK rejects the answer, though the precreate happened', async () => {
    for (const mode of ['bad-signature', 'unsigned']) {
      await fault({ op: 'precreate', mode });
      const no = tradeNo();
      await rejected(precreate(no));
      expect(await stored(no)).toBe(true);
    }
  });

  it('garbage: a 200 that is not JSON; the SDK throws', async () => {
    await fault({ op: 'query', mode: 'garbage' });
    const err = await rejected(query('X1'));
    expect(err).toBeInstanceOf(AlipayRequestError);
  });

  it('hang: never answers; the SDK times out', async () => {
    await fault({ op: 'query', mode: 'hang' });
    const err = await rejected(
      alipayClient(sb, { timeout: 300 }).exec('alipay.trade.query', { bizContent: { out_trade_no: 'X1' } }, { validateSign: true }),
    );
    expect(err).toBeInstanceOf(AlipayRequestError);
  });

  it('rate-limit answers 20000; system-error-after-commit answers ACQ.SYSTEM_ERROR after committing', async () => {
    await fault({ op: 'precreate', mode: 'rate-limit' });
    expect(await precreate(tradeNo())).toMatchObject({ code: '20000', subCode: 'isp.unknow-error' });
    await fault({ op: 'precreate', mode: 'system-error-after-commit' });
    const no = tradeNo();
    expect(await precreate(no)).toMatchObject({ code: '40004', subCode: 'ACQ.SYSTEM_ERROR' });
    expect(await stored(no)).toBe(true);
  });
});
