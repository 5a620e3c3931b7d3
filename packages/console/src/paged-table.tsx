/**
 * One page of a list as a table, with what every list page shows around it: the load's error, a
 * line when there is nothing to show, and the pager (whose page lives in the URL).
 *
 * On a phone a table never scrolls sideways: columns marked `wide-only` hide, and with
 * `cardsOnPhone` each row becomes a card (its cells wrap under the row's title, the column
 * headers hide), for tables whose every cell reads without its header (badges, buttons, times).
 */
import type { ReactNode } from "react";
import type { PageOf } from "./api";
import type { Filters } from "./hooks";
import { Table } from "./table";
import { Empty, ErrorNote, Pager } from "./ui";

export function PagedTable<T>({
  list,
  empty,
  columns,
  row,
  filters,
  size,
  variant = "surface",
  cardsOnPhone = false,
}: {
  /** The page loaded so far (`undefined` while the first load runs) and the load's error. */
  list: { data: PageOf<T> | undefined; error: unknown };
  empty: ReactNode;
  /** The header row's cells. */
  columns: ReactNode;
  /** One `Table.Row` (with its key) for an item. */
  row: (item: T) => ReactNode;
  /** The page's filters: the pager moves their `page`. */
  filters: Pick<Filters, "page" | "set">;
  size?: "1" | "2";
  variant?: "surface" | "ghost";
  cardsOnPhone?: boolean;
}) {
  const items = list.data?.items;
  return (
    <>
      <ErrorNote error={list.error} />
      {items && items.length === 0 ? <Empty>{empty}</Empty> : null}
      {items && items.length > 0 ? (
        <Table.Root
          variant={variant}
          {...(size ? { size } : {})}
          className={cardsOnPhone ? "responsive-table cards-on-phone" : "responsive-table"}
        >
          <Table.Header>
            <Table.Row>{columns}</Table.Row>
          </Table.Header>
          <Table.Body>{items.map(row)}</Table.Body>
        </Table.Root>
      ) : null}
      <Pager
        page={filters.page}
        hasMore={list.data?.hasMore ?? false}
        onPage={(page) => filters.set({ page })}
      />
    </>
  );
}
