/** Aligned plain-text tables: columns separated by two spaces, no escape codes. */

export type Align = 'left' | 'right'

export interface Column {
  header: string
  align?: Align
}

/** Lines of a table whose columns are as wide as their widest cell (header included). */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string[] {
  const widths = columns.map((column, i) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[i] ?? ''))),
  )
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? ''
        const fill = ' '.repeat(widths[i]! - width(cell))
        return column.align === 'right' ? fill + cell : cell + fill
      })
      .join('  ')
      .trimEnd()
  return [line(columns.map((column) => column.header)), ...rows.map(line)]
}

/** Display width; counts code points, which is right for the names people use most. */
function width(text: string): number {
  return [...text].length
}
