/**
 * One linked account: its setup information (never credentials), status and the reasons for
 * it, its history, and (for admins) verify and delete.
 */
import { Badge, Box, Button, Callout, DataList, Flex, Text } from "@radix-ui/themes";
import { useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { api, listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { AdminOnly } from "../session";
import { Table } from "../table";
import type { AccountHistoryEvent, AccountVerification, LinkedAccount } from "../types";
import {
  ConfirmButton,
  ConsoleLink,
  Empty,
  ErrorNote,
  formatTime,
  PageHeader,
  Section,
  StatusBadge,
} from "../ui";

const HISTORY_PAGE_SIZE = 20;

function eventDetail(event: AccountHistoryEvent): string {
  const parts: string[] = [];
  if (event.status_before !== event.status_after) {
    parts.push(event.status_before ? `${event.status_before} → ${event.status_after}` : event.status_after);
  }
  if (event.reason) parts.push([event.reason.code, event.reason.description].filter(Boolean).join(": "));
  const fields = event.details?.fields;
  if (Array.isArray(fields) && fields.length > 0) parts.push(`changed ${fields.join(", ")}`);
  const refreshes = event.details?.refreshes;
  if (typeof refreshes === "number" && refreshes > 1) {
    parts.push(`${refreshes} refreshes since ${formatTime(String(event.details?.first_refreshed_at))}`);
  }
  return parts.join(" · ") || "—";
}

export function AccountDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const filters = useFilters();
  const account = useLoad(() => api<LinkedAccount>("GET", `/accounts/${encodeURIComponent(id)}`), [id]);
  const history = useLoad(
    () =>
      listPage<AccountHistoryEvent>(
        `/accounts/${encodeURIComponent(id)}/history`,
        filters.page,
        HISTORY_PAGE_SIZE,
      ),
    [id, filters.page],
  );
  const [verification, setVerification] = useState<AccountVerification["verification"] | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [verifying, setVerifying] = useState(false);

  const verify = async () => {
    setVerifying(true);
    setActionError(null);
    try {
      const answer = await api<AccountVerification>("POST", `/accounts/${encodeURIComponent(id)}/verify`);
      setVerification(answer.verification);
      account.reload();
      history.reload();
    } catch (error) {
      setActionError(error);
    } finally {
      setVerifying(false);
    }
  };
  const remove = async () => {
    await api("DELETE", `/accounts/${encodeURIComponent(id)}`);
    const project = params.get("project");
    navigate(project ? `/accounts?project=${encodeURIComponent(project)}` : "/accounts");
  };

  const data = account.data;
  return (
    <Box>
      <ConsoleLink to="/accounts">← Accounts</ConsoleLink>
      <PageHeader
        title={data ? `${data.origin_owner_name} · ${data.provider_name ?? data.provider}` : "Account"}
      >
        <AdminOnly>
          {data ? (
            <>
              <Button variant="soft" disabled={verifying} onClick={verify}>
                {verifying ? "Verifying…" : "Verify"}
              </Button>
              <ConfirmButton
                label="Delete"
                question={`Delete this account of ${data.origin_owner_name}? Its credentials are deleted too; this cannot be undone.`}
                confirmLabel="Delete account"
                onConfirm={remove}
              />
            </>
          ) : null}
        </AdminOnly>
      </PageHeader>
      <ErrorNote error={account.error ?? actionError} />
      {verification ? (
        <Callout.Root color={verification.result === "verified" ? "green" : "red"} mb="4" role="status">
          <Callout.Text>
            Verification: {verification.result}
            {verification.status_code ? ` (HTTP ${verification.status_code})` : ""}: {verification.message}
          </Callout.Text>
        </Callout.Root>
      ) : null}
      {data ? (
        <>
          <Section title="Account">
            <DataList.Root orientation={{ initial: "vertical", sm: "horizontal" }}>
              <DataList.Item>
                <DataList.Label>Status</DataList.Label>
                <DataList.Value>
                  <StatusBadge status={data.status} />
                </DataList.Value>
              </DataList.Item>
              <DataList.Item>
                <DataList.Label>Id</DataList.Label>
                <DataList.Value>{data.id}</DataList.Value>
              </DataList.Item>
              <DataList.Item>
                <DataList.Label>Owner</DataList.Label>
                <DataList.Value>
                  {data.origin_owner_name} ({data.origin_owner_id})
                </DataList.Value>
              </DataList.Item>
              <DataList.Item>
                <DataList.Label>Provider</DataList.Label>
                <DataList.Value>
                  {data.provider_name ?? data.provider} <Badge variant="outline">{data.auth_type}</Badge>
                </DataList.Value>
              </DataList.Item>
              <DataList.Item>
                <DataList.Label>Label</DataList.Label>
                <DataList.Value>{data.label ?? "—"}</DataList.Value>
              </DataList.Item>
              <DataList.Item>
                <DataList.Label>Created</DataList.Label>
                <DataList.Value>{formatTime(data.created_at)}</DataList.Value>
              </DataList.Item>
              <DataList.Item>
                <DataList.Label>Updated</DataList.Label>
                <DataList.Value>{formatTime(data.updated_at)}</DataList.Value>
              </DataList.Item>
            </DataList.Root>
          </Section>
          <Section title="Status reasons">
            {(data.status_reasons ?? []).length === 0 ? <Empty>None.</Empty> : null}
            <Flex direction="column" gap="2" data-testid="status-reasons">
              {(data.status_reasons ?? []).map((reason) => (
                <Callout.Root key={`${reason.timestamp}-${reason.code}`} color="red" variant="surface">
                  <Callout.Text>
                    <Text weight="bold">{reason.code ?? "reason"}</Text>: {reason.description ?? ""}{" "}
                    <Text color="gray" size="1">
                      {formatTime(reason.timestamp)}
                    </Text>
                  </Callout.Text>
                </Callout.Root>
              ))}
            </Flex>
          </Section>
          <Section title="Setup information">
            {Object.keys(data.setup_information ?? {}).length === 0 ? <Empty>None.</Empty> : null}
            <DataList.Root>
              {Object.entries(data.setup_information ?? {}).map(([key, value]) => (
                <DataList.Item key={key}>
                  <DataList.Label>{key}</DataList.Label>
                  <DataList.Value>{typeof value === "string" ? value : JSON.stringify(value)}</DataList.Value>
                </DataList.Item>
              ))}
            </DataList.Root>
          </Section>
        </>
      ) : null}
      <Section title="History">
        <PagedTable
          list={history}
          cardsOnPhone
          empty="No events yet."
          columns={
            <>
              <Table.ColumnHeaderCell>When</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell>Event</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell>Details</Table.ColumnHeaderCell>
            </>
          }
          row={(event) => (
            <Table.Row key={event.id}>
              <Table.Cell>{formatTime(event.occurred_at)}</Table.Cell>
              <Table.Cell>
                <Badge variant="soft">{event.type}</Badge>
              </Table.Cell>
              <Table.Cell>{eventDetail(event)}</Table.Cell>
            </Table.Row>
          )}
          filters={filters}
          size="1"
          variant="ghost"
        />
      </Section>
    </Box>
  );
}
