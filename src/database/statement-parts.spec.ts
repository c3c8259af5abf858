import { composeParts } from './statement-parts';

describe('composeParts', () => {
  const a = { key: 'a', ctes: 'a_rows AS (SELECT $1::int AS x, $2::text AS y)', values: [1, 'one'] };
  const b = { key: 'b', ctes: 'b_rows AS (INSERT INTO t (x) SELECT $1 RETURNING x)', values: [2] };

  it('numbers each part’s parameters after the parts before it, the final clause last', () => {
    const s = composeParts([a, b], { key: 'done', text: 'SELECT $1::int + (SELECT x FROM a_rows)', values: [3] });
    expect(s.text).toBe(
      'WITH a_rows AS (SELECT $1::int AS x, $2::text AS y),\nb_rows AS (INSERT INTO t (x) SELECT $3 RETURNING x)\nSELECT $4::int + (SELECT x FROM a_rows)',
    );
    expect(s.values).toEqual([1, 'one', 2, 3]);
    expect(s.name).toBe('a+b+done');
  });

  it('shifts two-digit placeholders whole', () => {
    const many = {
      key: 'm',
      ctes: `m AS (SELECT ${Array.from({ length: 11 }, (_, i) => `$${i + 1}`).join(', ')})`,
      values: Array(11).fill(0),
    };
    const s = composeParts([a, many], { key: 'f', text: 'SELECT 1', values: [] });
    expect(s.text).toContain('m AS (SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)');
  });

  it('keeps names within PostgreSQL’s 63 bytes, distinct for distinct long keys', () => {
    const long = (k: string) => ({ key: k, ctes: 'x AS (SELECT 1)', values: [] });
    const one = composeParts([long('a'.repeat(40)), long('b'.repeat(40))], { key: 'end-one', text: 'SELECT 1', values: [] });
    const two = composeParts([long('a'.repeat(40)), long('b'.repeat(40))], { key: 'end-two', text: 'SELECT 1', values: [] });
    expect(Buffer.byteLength(one.name)).toBeLessThanOrEqual(63);
    expect(one.name).not.toBe(two.name);
  });
});
