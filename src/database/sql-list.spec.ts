import { sqlList } from './sql-list';

describe('sqlList', () => {
  it('writes the constants out as the hand-written list was', () => {
    expect(sqlList(['processing', 'success', 'abnormal'])).toBe(`'processing', 'success', 'abnormal'`);
    expect(sqlList(['duplicate_payment'])).toBe(`'duplicate_payment'`);
  });

  it('refuses anything but plain lower-case words', () => {
    for (const value of [`x'); DROP TABLE refunds; --`, 'Success', '', 'a b']) {
      expect(() => sqlList(['success', value])).toThrow(/own constants only/);
    }
  });
});
