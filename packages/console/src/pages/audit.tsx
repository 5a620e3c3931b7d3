/** The audit log: every change, who made it (API key or console operator), when and from where. */
import { Badge, Box, Button, Flex, Text } from "@radix-ui/themes";
import { useState } from "react";
import { listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { Table } from "../table";
import type { AuditEvent } from "../types";
import { formatTime, NativeSelect, PageHeader, TextInput } from "../ui";

const PAGE_SIZE = 50;

export function AuditPage() {
  const filters = useFilters();
  const action = filters.get("action");
  const actorType = filters.get("actor_type");
  const targetId = filters.get("target_id");
  const [actionDraft, setActionDraft] = useState(action);
  const [targetDraft, setTargetDraft] = useState(targetId);
  const events = useLoad(
    () =>
      listPage<AuditEvent>("/audit_events", filters.page, PAGE_SIZE, {
        action,
        actor_type: actorType,
        target_id: targetId,
      }),
    [action, actorType, targetId, filters.page],
  );
  return (
    <Box>
      <PageHeader title="Audit log" />
      <form
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          filters.set({ action: actionDraft.trim(), target_id: targetDraft.trim() });
        }}
      >
        <Flex gap="3" align="end" wrap="wrap" mb="4">
          <TextInput
            label="Action"
            name="action"
            value={actionDraft}
            maxLength={100}
            placeholder="api_key.created"
            onChange={(e) => setActionDraft(e.target.value)}
          />
          <TextInput
            label="Target id"
            name="target_id"
            value={targetDraft}
            maxLength={255}
            onChange={(e) => setTargetDraft(e.target.value)}
          />
          <NativeSelect
            label="Actor"
            name="actor_type"
            value={actorType}
            onChange={(value) => filters.set({ actor_type: value })}
            options={[
              { value: "", label: "Anyone" },
              { value: "console", label: "Console" },
              { value: "api_key", label: "API key" },
              { value: "cli", label: "CLI" },
            ]}
          />
          <Button type="submit" variant="soft">
            Filter
          </Button>
        </Flex>
      </form>
      <PagedTable
        list={events}
        empty="No events."
        columns={
          <>
            <Table.ColumnHeaderCell className="wide-only">When</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Action</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Who</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Target</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">From</Table.ColumnHeaderCell>
          </>
        }
        row={(event) => (
          <Table.Row key={event.id} data-action={event.action}>
            <Table.Cell className="wide-only">{formatTime(event.occurred_at)}</Table.Cell>
            <Table.Cell>
              <Badge variant="soft">{event.action}</Badge>
              {/* On a phone the When column is hidden: the time goes under the action. */}
              <Text as="div" size="1" color="gray" className="phone-only">
                {formatTime(event.occurred_at)}
              </Text>
            </Table.Cell>
            <Table.Cell className="break-all">
              {event.actor.display}
              <Text as="div" size="1" color="gray">
                {event.actor.type}
              </Text>
            </Table.Cell>
            <Table.Cell className="wide-only">
              {event.target_type ? `${event.target_type} ${event.target_id ?? ""}` : "—"}
            </Table.Cell>
            <Table.Cell className="wide-only">
              {event.ip ?? "—"}
              {event.user_agent ? (
                <Text as="div" size="1" color="gray" className="truncate">
                  {event.user_agent}
                </Text>
              ) : null}
            </Table.Cell>
          </Table.Row>
        )}
        filters={filters}
        size="1"
      />
    </Box>
  );
}
