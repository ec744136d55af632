/**
 * JSON text for a `jsonb` parameter. PostgreSQL's text holds no NUL character, so `jsonb` refuses the `\u0000`
 * escape that `JSON.stringify` writes for one: a NUL in any string of `value` is written as U+FFFD instead, so a
 * task whose data or history holds one (the tasks API stores records exactly as sent) cannot fail the statement.
 * @example
 * await db.query('SELECT * FROM jsonb_to_recordset($1::jsonb) AS r (step text)', [jsonbText([{ step: 'a\0b' }])]);
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' && item.includes('\0') ? item.replaceAll('\0', '\uFFFD') : item));
}

/**
 * SQL that casts a text column holding JSON (`summary`, `record`) to `jsonb` even when one of its strings holds a NUL
 * (written `\u0000`, which `jsonb` refuses): the escape is read as U+FFFD, as `jsonbText` writes it.
 */
export const jsonbOf = (column: string) => `replace(${column}, '\\u0000', '\\ufffd')::jsonb`;
