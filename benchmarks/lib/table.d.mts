/** Formats one cell: '—' for a missing value, numbers with precision that suits their size. */
export declare function formatCell(value: unknown): string;
/** Formats `rows` as an aligned plain-text table; `columns` picks and orders the keys. */
export declare function formatRows(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string;
