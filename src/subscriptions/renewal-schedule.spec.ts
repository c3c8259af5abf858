import { deductionWindowFrom, nextStep, nextTryAfter, type ContractState, type CycleState } from './renewal-schedule';

const DAY = 86_400_000;
const T = new Date('2027-01-10T04:00:00Z'); // 12:00 Beijing
const contract = (over: Partial<ContractState> = {}): ContractState => ({
  provider: 'alipay',
  nextRenewalAt: T,
  graceEndsAt: null,
  merchantNotice: false,
  ...over,
});
const cycle = (over: Partial<CycleState> = {}): CycleState => ({
  status: 'open',
  tries: 0,
  nextTryAt: null,
  remindedAt: new Date(T.getTime() - 5 * DAY),
  noticedAt: null,
  orderPaid: false,
  deductionInFlight: false,
  ...over,
});
const at = (ms: number) => new Date(T.getTime() + ms);

describe('the renewal schedule', () => {
  it('WeChat Pay deducts only 07:00–22:00 Beijing time; Alipay at any hour', () => {
    expect(deductionWindowFrom('wechat', new Date('2027-01-10T00:00:00Z'))).toEqual(new Date('2027-01-10T00:00:00Z')); // 08:00
    expect(deductionWindowFrom('wechat', new Date('2027-01-10T14:30:00Z'))).toEqual(new Date('2027-01-10T23:00:00Z')); // 22:30 → 07:00 next day
    expect(deductionWindowFrom('wechat', new Date('2027-01-09T20:00:00Z'))).toEqual(new Date('2027-01-09T23:00:00Z')); // 04:00 → 07:00
    expect(deductionWindowFrom('alipay', new Date('2027-01-09T20:00:00Z'))).toEqual(new Date('2027-01-09T20:00:00Z'));
    expect(nextTryAfter(new Date('2027-01-10T04:00:00Z'))).toEqual(new Date('2027-01-10T23:00:00Z'));
  });

  it('waits for the reminder, reminds once, then deducts from a day before T', () => {
    expect(nextStep(contract({ nextRenewalAt: null }), null, T, 3)).toEqual({ step: 'init' });
    expect(nextStep(contract(), null, at(-6 * DAY), 3)).toEqual({ step: 'wait', until: at(-5 * DAY) });
    expect(nextStep(contract(), null, at(-5 * DAY), 3)).toEqual({ step: 'open_cycle' });
    expect(nextStep(contract(), cycle({ remindedAt: null }), at(-5 * DAY), 3)).toEqual({ step: 'remind' });
    expect(nextStep(contract(), cycle(), at(-5 * DAY), 3)).toEqual({ step: 'wait', until: at(-DAY) });
    expect(nextStep(contract(), cycle(), at(-DAY), 3)).toEqual({ step: 'deduct' });
    expect(nextStep(contract(), cycle({ deductionInFlight: true }), at(-DAY), 3)).toEqual({ step: 'query' });
    expect(nextStep(contract(), cycle({ orderPaid: true }), at(-DAY), 3)).toEqual({ step: 'advance' });
  });

  it('merchant notice: sent from T − 3 days, the deduction at least two days after it', () => {
    const c = contract({ provider: 'wechat', merchantNotice: true });
    expect(nextStep(c, cycle(), at(-4 * DAY), 3)).toEqual({ step: 'wait', until: at(-3 * DAY) });
    expect(nextStep(c, cycle(), at(-3 * DAY), 3)).toEqual({ step: 'notice' });
    const noticed = cycle({ noticedAt: at(-2 * DAY) });
    expect(nextStep(c, noticed, at(-DAY), 3)).toEqual({ step: 'wait', until: T });
    expect(nextStep(c, noticed, T, 3)).toEqual({ step: 'deduct' });
  });

  it('a failed try is recorded, retried the next day, lapses after the last try or at the end of grace', () => {
    expect(nextStep(contract(), cycle({ tries: 1 }), at(-DAY), 3)).toEqual({ step: 'record_failure' });
    const graced = contract({ graceEndsAt: at(3 * DAY) });
    const retry = nextTryAfter(at(-DAY));
    expect(nextStep(graced, cycle({ tries: 1, nextTryAt: retry }), at(-DAY), 3)).toEqual({ step: 'wait', until: retry });
    expect(nextStep(graced, cycle({ tries: 1, nextTryAt: retry }), retry, 3)).toEqual({ step: 'deduct' });
    expect(nextStep(graced, cycle({ tries: 3, nextTryAt: retry }), retry, 3)).toEqual({ step: 'lapse', reason: 'RETRIES_EXHAUSTED' });
    expect(nextStep(graced, cycle({ tries: 1, nextTryAt: at(4 * DAY) }), at(3 * DAY), 3)).toEqual({ step: 'lapse', reason: 'GRACE_ENDED' });
  });
});
