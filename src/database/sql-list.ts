/**
 * A list of the code's own constants (statuses, kinds) written out as SQL literals for `IN (…)`:
 * the list has one source in the code while the statement's text stays what it would be written
 * by hand (planned with the values, the same text on every call). Hand-written because TypeORM's
 * raw queries offer no literal list; a bound array (`= ANY($1)`) would change each statement's
 * parameters. Only plain lower-case words pass: never a value from outside the code.
 */
export function sqlList(values: readonly string[]): string {
  for (const value of values) {
    if (!/^[a-z_]+$/.test(value)) throw new Error(`sqlList takes the code's own constants only, not ${JSON.stringify(value)}`);
  }
  return values.map((value) => `'${value}'`).join(', ');
}
