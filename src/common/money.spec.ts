import { billFee, billYuanToFen, feeToYuan, fenToYuan, yuanToFen } from './money';

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

describe('bill fees', () => {
  it.each([
    ['0.11940', { milliFen: 11_940, decimals: 5 }, '0.11940'],
    ['0.00001', { milliFen: 1, decimals: 5 }, '0.00001'],
    ['-0.18000', { milliFen: -18_000, decimals: 5 }, '-0.18000'],
    ['0.00000', { milliFen: 0, decimals: 5 }, '0.00000'],
    ['-0.00', { milliFen: 0, decimals: 2 }, '0.00'],
    [' -0.12\t', { milliFen: -12_000, decimals: 2 }, '-0.12'],
    ['3', { milliFen: 300_000, decimals: 0 }, '3'],
    ['123456.78901', { milliFen: 12_345_678_901, decimals: 5 }, '123456.78901'],
  ])('%j is %o and is written back as %s', (text, fee, shown) => {
    expect(billFee(text)).toEqual(fee);
    expect(feeToYuan(fee)).toBe(shown);
  });

  it('adds up exactly where fen would not: 0.6 % of 19.90 three times', () => {
    const fee = billFee('0.11940')!;
    // Rounded to the fen each line would be 0.12 three times, 0.36; the provider's total says 0.35820.
    expect(feeToYuan({ milliFen: fee.milliFen * 3, decimals: 5 })).toBe('0.35820');
  });

  it.each(['', '0.000001', '1e-3', '0x10', '01.5', '.5', '1.', '--1', '1,00', '99999999999999.00000'])('refuses %j', (bad) =>
    expect(billFee(bad)).toBeNull(),
  );

  it('refuses what is not a fee when writing one', () => {
    expect(() => feeToYuan({ milliFen: 1.5, decimals: 5 })).toThrow(RangeError);
    expect(() => feeToYuan({ milliFen: 1, decimals: 6 })).toThrow(RangeError);
  });
});
