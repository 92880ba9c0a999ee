/**
 * The dashboard's table: a real `<table>` with column headers (`<th scope="col">`), an optional
 * caption that names it for screen readers, one row per item with a stable key, and a sentence
 * instead of the table when there are no rows. Pages describe columns; the look is kept here.
 */
import type { HTMLAttributes, ReactNode } from "react";

export interface Column<Row> {
  /** The column's heading; with `hideHeader`, heard by screen readers only (an actions column). */
  header: string;
  hideHeader?: boolean;
  /** What a row shows in this column. */
  cell: (row: Row, index: number) => ReactNode;
  align?: "left" | "center" | "right";
  /** A Tailwind width class, like "w-24". */
  width?: string;
  /** More classes for the column's cells, fixed or by row (like a state's colour). */
  className?: string | ((row: Row) => string);
  /** A tooltip for the cell (the whole value where the cell cuts it short). */
  title?: (row: Row) => string | undefined;
}

export interface DataTableProps<Row> {
  columns: readonly (Column<Row> | false | null | undefined)[];
  rows: readonly Row[];
  rowKey: (row: Row) => string | number;
  /** Names the table for screen readers (the tests find tables by it). */
  caption?: string;
  /** Shown instead of the table when there are no rows: a sentence, or a notice of the page's own. */
  empty?: ReactNode;
  /** Padding of every cell; the default is the compact look of cards. */
  cellPadding?: string;
  /** Lines between rows (default on). */
  ruled?: boolean;
  /** Stretch to the width of the container (default on). */
  fullWidth?: boolean;
  /** A white frame with rounded corners around the table (a page's main list). */
  framed?: boolean;
  /** More classes for a row (like a changed detail in bold). */
  rowClassName?: (row: Row) => string;
  /** Attributes of a row where it does more than show (a row moved with the keyboard). */
  rowProps?: (row: Row, index: number) => HTMLAttributes<HTMLTableRowElement>;
  /** Classes of the scrolling container (like a margin below). */
  className?: string;
}

const ALIGN = { left: "text-left", center: "text-center", right: "text-right" } as const;
const FRAME = "rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900";

function classes(...parts: (string | false | undefined)[]): string {
  return parts.filter(Boolean).join(" ");
}

export function DataTable<Row>({
  columns,
  rows,
  rowKey,
  caption,
  empty,
  cellPadding = "py-1 pr-3",
  ruled = true,
  fullWidth = true,
  framed = false,
  rowClassName,
  rowProps,
  className,
}: DataTableProps<Row>) {
  if (rows.length === 0 && empty !== undefined) {
    return typeof empty === "string" ? <p className="text-sm text-slate-500 dark:text-slate-400">{empty}</p> : <>{empty}</>;
  }
  const shown = columns.filter((column): column is Column<Row> => Boolean(column));
  return (
    <div className={classes("overflow-x-auto", framed && FRAME, className)}>
      <table className={classes(fullWidth && "w-full", "text-left text-sm")}>
        {caption ? <caption className="sr-only">{caption}</caption> : null}
        <thead className="text-xs text-slate-500 uppercase dark:text-slate-400">
          <tr>
            {shown.map((column) => (
              <th key={column.header} scope="col" className={classes(cellPadding, column.align && ALIGN[column.align], column.width)}>
                {column.hideHeader ? <span className="sr-only">{column.header}</span> : column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr
              key={rowKey(row)}
              {...rowProps?.(row, index)}
              className={classes(ruled && "border-t border-slate-100 dark:border-slate-800", rowClassName?.(row))}
            >
              {shown.map((column) => (
                <td
                  key={column.header}
                  title={column.title?.(row)}
                  className={classes(
                    cellPadding,
                    column.align && ALIGN[column.align],
                    column.width,
                    typeof column.className === "function" ? column.className(row) : column.className,
                  )}
                >
                  {column.cell(row, index)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
