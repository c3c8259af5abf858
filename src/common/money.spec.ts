import { billYuanToFen, fenToYuan, yuanToFen } from './money';

describe('money', () => {
  it.each([
    [1, '0.01'],
    [10, '0.10'],
    [29, '0.29'],
    [1990, '19.90'],
    [2990, '29.90'],
    [100, '1.00'],
    [0, '0.00'],
    [10_000_000_000, '100000000.00'],
  ])('%i fen is %s yuan and back', (fen, yuan) => {
    expect(fenToYuan(fen)).toBe(yuan);
    expect(yuanToFen(yuan)).toBe(fen);
  });

  it('reads yuan written with fewer decimals', () => {
    expect(yuanToFen('29.9')).toBe(2990);
    expect(yuanToFen('29')).toBe(2900);
    expect(yuanToFen('0.29')).toBe(29); // parseFloat('0.29') * 100 = 28.999999999999996
  });

  it.each(['', '-1.00', '1.001', '1e3', '01.00', '1.', '.5', ' 1.00', '1,00', '100000000.01', 'NaN', '0x10'])('refuses %j', (bad) =>
    expect(yuanToFen(bad)).toBeNull(),
  );

  it('refuses fen that are not non-negative integers', () => {
    expect(() => fenToYuan(1.5)).toThrow(RangeError);
    expect(() => fenToYuan(-1)).toThrow(RangeError);
  });
});

describe('bill amounts', () => {
  it.each([
    ['19.90', 1990],
    ['-29.90', -2990],
    [' 0.29\t', 29],
    ['0.01000', 1],
    ['-0.00', 0],
    ['7', 700],
  ])('%j is %i fen', (text, fen) => {
    expect(billYuanToFen(text)).toBe(fen);
  });
  it.each(['0.015', '1e3', '--1', '', '1.2.3'])('refuses %j', (bad) => expect(billYuanToFen(bad)).toBeNull());
});
