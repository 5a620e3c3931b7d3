/**
 * Webhooks: the project's endpoints (create, send a test event, rotate the signing secret,
 * which is shown once) and the deliveries with their status, latency and error (replay).
 */
import { Badge, Box, Button, Callout, Card, Flex, Heading, Text } from "@radix-ui/themes";
import { type FormEvent, useState } from "react";
import { api, listAll, listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { AdminOnly } from "../session";
import { Table } from "../table";
import type { WebhookDeliveryRow, WebhookEndpoint } from "../types";
import {
  CloseButton,
  ConfirmButton,
  CopyField,
  Empty,
  ErrorNote,
  formatTime,
  NativeSelect,
  PageHeader,
  Section,
  StatusBadge,
  TextInput,
} from "../ui";

const PAGE_SIZE = 25;

function NewEndpointForm({ onCreated }: { onCreated: (secret: string) => void }) {
  const [url, setUrl] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const created = await api<{ secret: string }>("POST", "/webhooks/endpoints", { url: url.trim() });
      setUrl("");
      onCreated(created.secret);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={submit} aria-label="New webhook endpoint">
      <Flex gap="3" align="end" wrap="wrap" mb="3">
        <TextInput
          grow
          label="Endpoint URL"
          name="url"
          type="url"
          required
          maxLength={2000}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <Button type="submit">Add endpoint</Button>
      </Flex>
      <ErrorNote error={error} />
    </form>
  );
}

export function WebhooksPage() {
  const filters = useFilters();
  const endpointId = filters.get("endpoint_id");
  const status = filters.get("status");
  const endpoints = useLoad(() => listAll<WebhookEndpoint>("/webhooks/endpoints"), []);
  const deliveries = useLoad(
    () =>
      listPage<WebhookDeliveryRow>("/webhooks/deliveries", filters.page, PAGE_SIZE, {
        endpoint_id: endpointId,
        status,
      }),
    [endpointId, status, filters.page],
  );
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>) => {
    setError(null);
    setNotice(null);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    }
  };
  const sendTest = (id: string) =>
    run(async () => {
      await api("POST", `/webhooks/endpoints/${encodeURIComponent(id)}/test`, {});
      setNotice("Test event queued.");
      deliveries.reload();
    });
  const rotate = async (id: string) => {
    const rotated = await api<{ secret: string }>(
      "POST",
      `/webhooks/endpoints/${encodeURIComponent(id)}/rotate-secret`,
      {},
    );
    setSecret(rotated.secret);
    endpoints.reload();
  };
  const replay = (id: number) =>
    run(async () => {
      await api("POST", `/webhooks/deliveries/${id}/replay`, {});
      setNotice(`Delivery ${id} queued again.`);
      deliveries.reload();
    });
  const urlOf = (id: string) => endpoints.data?.find((endpoint) => endpoint.id === id)?.url ?? id;

  return (
    <Box>
      <PageHeader title="Webhooks" />
      <ErrorNote error={error ?? endpoints.error} />
      {notice ? (
        <Callout.Root color="green" mb="3" role="status">
          <Callout.Text>{notice}</Callout.Text>
        </Callout.Root>
      ) : null}
      {secret ? (
        <Callout.Root color="green" mb="3" data-testid="webhook-secret">
          <Flex direction="column" gap="2">
            <Flex justify="between" align="center">
              <Text weight="bold">Signing secret: copy it now, it is not shown again.</Text>
              <CloseButton label="Hide the secret" onClick={() => setSecret(null)} />
            </Flex>
            <CopyField value={secret} label="Signing secret" />
          </Flex>
        </Callout.Root>
      ) : null}
      <Section title="Endpoints">
        <AdminOnly>
          <NewEndpointForm
            onCreated={(created) => {
              setSecret(created);
              endpoints.reload();
            }}
          />
        </AdminOnly>
        {endpoints.data && endpoints.data.length === 0 ? <Empty>No endpoints.</Empty> : null}
        <Flex direction="column" gap="2">
          {(endpoints.data ?? []).map((endpoint) => (
            <Card key={endpoint.id} variant="surface" data-endpoint-id={endpoint.id}>
              <Flex justify="between" align="center" gap="3" wrap="wrap">
                <Box className="min-width-0">
                  <Text as="div" weight="medium" className="break-all">
                    {endpoint.url}
                  </Text>
                  <Text as="div" size="1" color="gray">
                    {endpoint.events.join(", ")} ·{" "}
                    {endpoint.enabled
                      ? "enabled"
                      : `disabled${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ""}`}
                    {endpoint.consecutive_failures > 0
                      ? ` · ${endpoint.consecutive_failures} failures in a row`
                      : ""}
                  </Text>
                </Box>
                <Flex gap="2" wrap="wrap">
                  <Button
                    size="1"
                    variant="soft"
                    color="gray"
                    onClick={() => filters.set({ endpoint_id: endpoint.id })}
                  >
                    Deliveries
                  </Button>
                  <AdminOnly>
                    <Button size="1" variant="soft" onClick={() => sendTest(endpoint.id)}>
                      Send test event
                    </Button>
                    <ConfirmButton
                      size="1"
                      label="Rotate secret"
                      color="indigo"
                      question="Make a new signing secret? The old one keeps signing beside it for 24 hours."
                      onConfirm={() => rotate(endpoint.id)}
                    />
                  </AdminOnly>
                </Flex>
              </Flex>
            </Card>
          ))}
        </Flex>
      </Section>
      <Heading as="h2" size="4" mb="3">
        Deliveries
      </Heading>
      <Flex gap="3" align="end" wrap="wrap" mb="3">
        <NativeSelect
          label="Endpoint"
          name="endpoint_id"
          value={endpointId}
          onChange={(value) => filters.set({ endpoint_id: value })}
          options={[
            { value: "", label: "All endpoints" },
            ...(endpoints.data ?? []).map((e) => ({ value: e.id, label: e.url })),
          ]}
        />
        <NativeSelect
          label="Status"
          name="status"
          value={status}
          onChange={(value) => filters.set({ status: value })}
          options={[{ value: "", label: "Any status" }, "pending", "succeeded", "failed"]}
        />
      </Flex>
      <PagedTable
        list={deliveries}
        cardsOnPhone
        empty="No deliveries."
        columns={
          <>
            <Table.ColumnHeaderCell>Event</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Endpoint</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Attempts</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Last answer</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Updated</Table.ColumnHeaderCell>
            <AdminOnly>
              <Table.ColumnHeaderCell />
            </AdminOnly>
          </>
        }
        row={(delivery) => (
          <Table.Row key={delivery.id} data-delivery-id={delivery.id}>
            <Table.RowHeaderCell>
              <Badge variant="soft">{delivery.event_type}</Badge>
              <Text as="div" size="1" color="gray">
                {delivery.event_id}
              </Text>
            </Table.RowHeaderCell>
            <Table.Cell>
              <StatusBadge status={delivery.status} />
            </Table.Cell>
            <Table.Cell className="wide-only break-all">{urlOf(delivery.endpoint_id)}</Table.Cell>
            <Table.Cell className="wide-only">{delivery.attempts}</Table.Cell>
            <Table.Cell>
              {delivery.last_status_code ?? "—"}
              {delivery.last_latency_ms !== null ? ` · ${delivery.last_latency_ms} ms` : ""}
              {delivery.last_error ? (
                <Text as="div" size="1" color="red">
                  {delivery.last_error}
                </Text>
              ) : null}
            </Table.Cell>
            <Table.Cell className="wide-only">{formatTime(delivery.updated_at)}</Table.Cell>
            <AdminOnly>
              <Table.Cell>
                <Button size="1" variant="soft" onClick={() => replay(delivery.id)}>
                  Replay
                </Button>
              </Table.Cell>
            </AdminOnly>
          </Table.Row>
        )}
        filters={filters}
        size="1"
      />
    </Box>
  );
}
