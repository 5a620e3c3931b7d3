/**
 * API keys of the project: listed by their start and last four characters only; a new or
 * rotated key is shown once, in the answer to that request, and never again.
 */
import { Badge, Box, Button, Callout, Flex, Text } from "@radix-ui/themes";
import { useState } from "react";
import { api, listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { AdminOnly } from "../session";
import { Table } from "../table";
import type { ApiKey, CreatedApiKey } from "../types";
import { CloseButton, ConfirmButton, CopyField, ErrorNote, formatTime, PageHeader } from "../ui";

const PAGE_SIZE = 25;

export function ApiKeysPage() {
  const filters = useFilters();
  const keys = useLoad(() => listPage<ApiKey>("/api_keys", filters.page, PAGE_SIZE), [filters.page]);
  const [shown, setShown] = useState<{ key: CreatedApiKey; rotated: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async () => {
    setError(null);
    try {
      setShown({ key: await api<CreatedApiKey>("POST", "/api_keys", {}), rotated: false });
      keys.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const rotate = async (id: string) => {
    setShown({
      key: await api<CreatedApiKey>("POST", `/api_keys/${encodeURIComponent(id)}/rotate`, {}),
      rotated: true,
    });
    keys.reload();
  };
  const revoke = async (id: string) => {
    await api("DELETE", `/api_keys/${encodeURIComponent(id)}`);
    keys.reload();
  };
  return (
    <Box>
      <PageHeader title="API keys">
        <AdminOnly>
          <Button onClick={create}>Create key</Button>
        </AdminOnly>
      </PageHeader>
      <ErrorNote error={error} />
      {shown ? (
        <Callout.Root color="green" mb="4" data-testid="new-key">
          <Flex direction="column" gap="2">
            <Flex justify="between" align="center" gap="3">
              <Text weight="bold">
                {shown.rotated ? "The key was rotated (the old one no longer works)." : "Key created."} Copy
                it now: it is not shown again.
              </Text>
              <CloseButton label="Hide the key" onClick={() => setShown(null)} />
            </Flex>
            <CopyField value={shown.key.key} label="New API key" />
          </Flex>
        </Callout.Root>
      ) : null}
      <PagedTable
        list={keys}
        cardsOnPhone
        empty="No API keys."
        columns={
          <>
            <Table.ColumnHeaderCell>Key</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Created</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
            <AdminOnly>
              <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
            </AdminOnly>
          </>
        }
        row={(key) => (
          <Table.Row key={key.id} data-key-id={key.id}>
            <Table.RowHeaderCell>
              <code>
                {key.start ?? "chk_"}…{key.last_four}
              </code>
              <Text as="div" size="1" color="gray">
                {key.id}
              </Text>
            </Table.RowHeaderCell>
            <Table.Cell className="wide-only">{formatTime(key.created_at)}</Table.Cell>
            <Table.Cell>
              {key.revoked_at ? (
                <Badge color="red">revoked {formatTime(key.revoked_at)}</Badge>
              ) : (
                <Badge color="green">active</Badge>
              )}
            </Table.Cell>
            <AdminOnly>
              <Table.Cell>
                {key.revoked_at ? null : (
                  <Flex gap="2" wrap="wrap">
                    <ConfirmButton
                      label="Rotate"
                      color="indigo"
                      question={`Rotate the key ending ${key.last_four}? A new key is made and this one stops working at once.`}
                      onConfirm={() => rotate(key.id)}
                    />
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke the key ending ${key.last_four}? Requests with it get 401 from now on.`}
                      onConfirm={() => revoke(key.id)}
                    />
                  </Flex>
                )}
              </Table.Cell>
            </AdminOnly>
          </Table.Row>
        )}
        filters={filters}
      />
    </Box>
  );
}
