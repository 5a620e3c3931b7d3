/**
 * Tables with Radix Themes' look (its class names) on plain elements. Radix's own Table wraps
 * itself in a ScrollArea, whose viewport inserts a `<style>` element at run time: the CSP
 * (`style-src 'self'`) refuses it. This keeps the API the pages use.
 */
import type { ReactNode } from "react";

type Justify = "start" | "center" | "end";

interface CellProps {
  children?: ReactNode;
  className?: string | undefined;
  justify?: Justify;
}

const classes = (...names: (string | undefined | false)[]) => names.filter(Boolean).join(" ");
const justified = (justify: Justify | undefined) => (justify ? `rt-r-ta-${justify}` : undefined);

function Root({
  children,
  className,
  size = "2",
  variant = "ghost",
}: {
  children: ReactNode;
  className?: string;
  size?: "1" | "2" | "3";
  variant?: "surface" | "ghost";
}) {
  return (
    <div
      className={classes(
        "rt-TableRoot",
        `rt-r-size-${size}`,
        `rt-variant-${variant}`,
        "table-scroll",
        className,
      )}
    >
      <table className="rt-TableRootTable">{children}</table>
    </div>
  );
}

function Header({ children }: { children: ReactNode }) {
  return <thead className="rt-TableHeader">{children}</thead>;
}

function Body({ children }: { children: ReactNode }) {
  return <tbody className="rt-TableBody">{children}</tbody>;
}

function Row({ children, ...data }: { children: ReactNode; [data: `data-${string}`]: string | number }) {
  return (
    <tr className="rt-TableRow" {...data}>
      {children}
    </tr>
  );
}

function ColumnHeaderCell({ children, className, justify }: CellProps) {
  return (
    <th
      scope="col"
      className={classes("rt-TableCell", "rt-TableColumnHeaderCell", justified(justify), className)}
    >
      {children}
    </th>
  );
}

function RowHeaderCell({ children, className, justify }: CellProps) {
  return (
    <th
      scope="row"
      className={classes("rt-TableCell", "rt-TableRowHeaderCell", justified(justify), className)}
    >
      {children}
    </th>
  );
}

function Cell({ children, className, justify }: CellProps) {
  return <td className={classes("rt-TableCell", justified(justify), className)}>{children}</td>;
}

export const Table = { Root, Header, Body, Row, ColumnHeaderCell, RowHeaderCell, Cell };
