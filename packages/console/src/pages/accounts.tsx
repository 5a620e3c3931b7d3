/**
 * Linked accounts: search by owner id, owner name or label, filter by provider and status;
 * every filter and the page number live in the URL.
 */
import { Box, Button, Flex, Text } from "@radix-ui/themes";
import { type FormEvent, useState } from "react";
import { listAll, listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { Table } from "../table";
import { ACCOUNT_STATUSES, type Integration, type LinkedAccount } from "../types";
import { ConsoleLink, formatTime, NativeSelect, PageHeader, StatusBadge, TextInput } from "../ui";

const PAGE_SIZE = 25;

export function AccountsPage() {
  const filters = useFilters();
  const search = filters.get("search");
  const provider = filters.get("provider");
  const status = filters.get("status");
  const [draft, setDraft] = useState(search);
  const integrations = useLoad(() => listAll<Integration>("/integrations"), []);
  const accounts = useLoad(
    () =>
      listPage<LinkedAccount>("/accounts", filters.page, PAGE_SIZE, {
        search,
        providers: provider ? [provider] : undefined,
        status: status ? [status] : undefined,
      }),
    [search, provider, status, filters.page],
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    filters.set({ search: draft.trim() });
  };
  const providerOptions = [
    { value: "", label: "Any provider" },
    ...(integrations.data ?? []).map((i) => ({ value: i.provider, label: i.provider_name })),
  ];
  if (provider && !providerOptions.some((option) => option.value === provider)) {
    providerOptions.push({ value: provider, label: provider });
  }
  return (
    <Box>
      <PageHeader title="Accounts" />
      <form onSubmit={submit} aria-label="Filter accounts">
        <Flex gap="3" align="end" wrap="wrap" mb="4">
          <TextInput
            grow
            label="Owner id, owner name or label"
            name="search"
            value={draft}
            maxLength={255}
            placeholder="Search"
            onChange={(event) => setDraft(event.target.value)}
          />
          <NativeSelect
            label="Provider"
            name="provider"
            value={provider}
            onChange={(value) => filters.set({ provider: value })}
            options={providerOptions}
          />
          <NativeSelect
            label="Status"
            name="status"
            value={status}
            onChange={(value) => filters.set({ status: value })}
            options={[{ value: "", label: "Any status" }, ...ACCOUNT_STATUSES]}
          />
          <Button type="submit">Search</Button>
        </Flex>
      </form>
      <PagedTable
        list={accounts}
        empty="No account matches."
        columns={
          <>
            <Table.ColumnHeaderCell>Owner</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Provider</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Label</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Created</Table.ColumnHeaderCell>
          </>
        }
        row={(account) => (
          <Table.Row key={account.id}>
            <Table.RowHeaderCell>
              <ConsoleLink to={`/accounts/${encodeURIComponent(account.id)}`}>
                {account.origin_owner_name}
              </ConsoleLink>
              <Text as="div" size="1" color="gray">
                {account.origin_owner_id}
              </Text>
            </Table.RowHeaderCell>
            <Table.Cell>{account.provider_name ?? account.provider}</Table.Cell>
            <Table.Cell>
              <StatusBadge status={account.status} />
            </Table.Cell>
            <Table.Cell className="wide-only">{account.label ?? "—"}</Table.Cell>
            <Table.Cell className="wide-only">{formatTime(account.created_at)}</Table.Cell>
          </Table.Row>
        )}
        filters={filters}
      />
    </Box>
  );
}
