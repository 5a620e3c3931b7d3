/** The operators' console sessions (never their tokens); admins revoke one, which ends it at once. */
import { Badge, Box, Text } from "@radix-ui/themes";
import { api, listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { AdminOnly } from "../session";
import { Table } from "../table";
import type { ConsoleSessionRow } from "../types";
import { ConfirmButton, formatTime, PageHeader } from "../ui";

const PAGE_SIZE = 25;

function operatorOf(row: ConsoleSessionRow): string {
  return row.operator.email ?? row.operator.subject;
}

export function ConsoleSessionsPage() {
  const filters = useFilters();
  const sessions = useLoad(
    () => listPage<ConsoleSessionRow>("/console/sessions", filters.page, PAGE_SIZE),
    [filters.page],
  );
  const revoke = async (id: string) => {
    await api("DELETE", `/console/sessions/${encodeURIComponent(id)}`);
    if (sessions.data?.items.find((row) => row.id === id)?.current) window.location.assign("/console/");
    else sessions.reload();
  };
  return (
    <Box>
      <PageHeader title="Console sessions" />
      <PagedTable
        list={sessions}
        cardsOnPhone
        empty="No active sessions."
        columns={
          <>
            <Table.ColumnHeaderCell>Operator</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Role</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Signed in</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Expires</Table.ColumnHeaderCell>
            <AdminOnly>
              <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
            </AdminOnly>
          </>
        }
        row={(row) => (
          <Table.Row key={row.id} data-session-id={row.id}>
            <Table.RowHeaderCell>
              {operatorOf(row)} {row.current ? <Badge color="indigo">you</Badge> : null}
              <Text as="div" size="1" color="gray">
                {row.operator.method} · last seen {formatTime(row.last_seen_at)}{" "}
                {row.ip ? `from ${row.ip}` : ""}
              </Text>
            </Table.RowHeaderCell>
            <Table.Cell>{row.role}</Table.Cell>
            <Table.Cell className="wide-only">{formatTime(row.created_at)}</Table.Cell>
            <Table.Cell className="wide-only">{formatTime(row.expires_at)}</Table.Cell>
            <AdminOnly>
              <Table.Cell>
                <ConfirmButton
                  label="Revoke"
                  question={`End the session of ${operatorOf(row)}? Its next request is refused.`}
                  onConfirm={() => revoke(row.id)}
                />
              </Table.Cell>
            </AdminOnly>
          </Table.Row>
        )}
        filters={filters}
      />
    </Box>
  );
}
