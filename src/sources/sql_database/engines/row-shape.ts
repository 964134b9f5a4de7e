/**
 * Row objects for the drivers that hand values by position. Every row is a copy of one
 * template object, so all rows of a query share one shape (one hidden class) and stay fast
 * to fill, read and serialize. The template is a plain object: copies of a null-prototype
 * object (what `pg` builds its rows from) come out as slow dictionary-mode objects.
 */
export class RowShape {
  private readonly template: Record<string, null> = {};
  /** A column named `__proto__` must be defined, not assigned (that would set the prototype). */
  private readonly define: boolean;
  /** Every column can be set by plain assignment (`row[name] = value`), the fast way. */
  readonly plain: boolean;

  constructor(readonly names: readonly string[]) {
    for (const n of names) Object.defineProperty(this.template, n, { value: null, writable: true, enumerable: true, configurable: true });
    this.define = names.includes('__proto__');
    this.plain = !this.define;
  }

  /** A new row, every column null. */
  empty(): Record<string, unknown> {
    return { ...this.template };
  }

  set(row: Record<string, unknown>, i: number, value: unknown): void {
    if (this.define) Object.defineProperty(row, this.names[i]!, { value, writable: true, enumerable: true, configurable: true });
    else row[this.names[i]!] = value;
  }

  /** Rows from value arrays (a repeated name keeps its last value, as `pg` does). */
  fromArrays(arrays: readonly unknown[][]): Record<string, unknown>[] {
    const out = new Array<Record<string, unknown>>(arrays.length);
    const width = this.names.length;
    for (let r = 0; r < arrays.length; r++) {
      const values = arrays[r]!;
      const row = { ...this.template } as Record<string, unknown>;
      if (this.plain) for (let i = 0; i < width; i++) row[this.names[i]!] = values[i];
      else for (let i = 0; i < width; i++) this.set(row, i, values[i]);
      out[r] = row;
    }
    return out;
  }
}
