/**
 * Connect sessions: recent ones with their state and what became of them (the account they
 * produced), filtered in the URL; admins create one and copy its auth link. The session token
 * is part of that link and is shown only in the answer to the create, never listed.
 */
import { Box, Button, Card, Flex, Heading, Text } from "@radix-ui/themes";
import { type FormEvent, useState } from "react";
import { api, listAll, listPage } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { AdminOnly } from "../session";
import { Table } from "../table";
import {
  CONNECT_SESSION_STATES,
  type ConnectSessionSummary,
  type CreatedConnectSession,
  type Integration,
} from "../types";
import {
  CloseButton,
  ConsoleLink,
  CopyField,
  ErrorNote,
  formatTime,
  NativeSelect,
  PageHeader,
  StatusBadge,
  TextInput,
} from "../ui";

const PAGE_SIZE = 25;

function CreateSessionForm({ providers, onCreated }: { providers: Integration[]; onCreated: () => void }) {
  const [ownerId, setOwnerId] = useState("");
  const [ownerName, setOwnerName] = useState("");
  const [provider, setProvider] = useState("");
  const [label, setLabel] = useState("");
  const [created, setCreated] = useState<CreatedConnectSession | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api<CreatedConnectSession>("POST", "/connect_sessions", {
        origin_owner_id: ownerId.trim(),
        origin_owner_name: ownerName.trim(),
        provider: provider || undefined,
        label: label.trim() || undefined,
      });
      setCreated(session);
      onCreated();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card mb="4">
      <Heading as="h2" size="4" mb="3">
        New connect session
      </Heading>
      <form onSubmit={submit} aria-label="New connect session">
        <Flex gap="3" wrap="wrap" align="end">
          <TextInput
            label="Owner id"
            name="origin_owner_id"
            required
            maxLength={255}
            value={ownerId}
            onChange={(e) => setOwnerId(e.target.value)}
          />
          <TextInput
            label="Owner name"
            name="origin_owner_name"
            required
            maxLength={255}
            value={ownerName}
            onChange={(e) => setOwnerName(e.target.value)}
          />
          <NativeSelect
            label="Provider"
            name="provider"
            value={provider}
            onChange={setProvider}
            options={[
              { value: "", label: "Any enabled" },
              ...providers
                .filter((p) => p.enabled)
                .map((p) => ({ value: p.provider, label: p.provider_name })),
            ]}
          />
          <TextInput
            label="Label (optional)"
            name="label"
            maxLength={255}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
          />
          <Button type="submit" disabled={busy}>
            Create
          </Button>
        </Flex>
      </form>
      <Box mt="3">
        <ErrorNote error={error} />
      </Box>
      {created ? (
        <Card variant="surface" mt="3" data-testid="created-session">
          <Flex justify="between" align="center">
            <Text size="2" weight="bold">
              Auth link (valid until {formatTime(created.expires_at)}): send it to your customer's user.
            </Text>
            <CloseButton label="Hide the link" onClick={() => setCreated(null)} />
          </Flex>
          <CopyField value={created.auth_link_url} label="Auth link" />
        </Card>
      ) : null}
    </Card>
  );
}

export function ConnectSessionsPage() {
  const filters = useFilters();
  const state = filters.get("state");
  const owner = filters.get("origin_owner_id");
  const provider = filters.get("provider");
  const [ownerDraft, setOwnerDraft] = useState(owner);
  const integrations = useLoad(() => listAll<Integration>("/integrations"), []);
  const sessions = useLoad(
    () =>
      listPage<ConnectSessionSummary>("/connect_sessions", filters.page, PAGE_SIZE, {
        state,
        origin_owner_id: owner,
        provider,
      }),
    [state, owner, provider, filters.page],
  );
  return (
    <Box>
      <PageHeader title="Connect sessions" />
      <AdminOnly>
        <CreateSessionForm providers={integrations.data ?? []} onCreated={sessions.reload} />
      </AdminOnly>
      <form
        aria-label="Filter sessions"
        onSubmit={(event) => {
          event.preventDefault();
          filters.set({ origin_owner_id: ownerDraft.trim() });
        }}
      >
        <Flex gap="3" align="end" wrap="wrap" mb="4">
          <TextInput
            label="Owner id"
            name="owner"
            value={ownerDraft}
            maxLength={255}
            onChange={(e) => setOwnerDraft(e.target.value)}
          />
          <NativeSelect
            label="State"
            name="state"
            value={state}
            onChange={(value) => filters.set({ state: value })}
            options={[{ value: "", label: "Any state" }, ...CONNECT_SESSION_STATES]}
          />
          <NativeSelect
            label="Provider"
            name="provider-filter"
            value={provider}
            onChange={(value) => filters.set({ provider: value })}
            options={[
              { value: "", label: "Any provider" },
              ...(integrations.data ?? []).map((p) => ({ value: p.provider, label: p.provider_name })),
            ]}
          />
          <Button type="submit" variant="soft">
            Filter
          </Button>
        </Flex>
      </form>
      <PagedTable
        list={sessions}
        empty="No connect session matches."
        columns={
          <>
            <Table.ColumnHeaderCell>Owner</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>State</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Provider</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Created</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Outcome</Table.ColumnHeaderCell>
          </>
        }
        row={(session) => (
          <Table.Row key={session.id}>
            <Table.RowHeaderCell>
              {session.origin_owner_name}
              <Text as="div" size="1" color="gray">
                {session.origin_owner_id}
              </Text>
            </Table.RowHeaderCell>
            <Table.Cell>
              <StatusBadge status={session.state} />
            </Table.Cell>
            <Table.Cell className="wide-only">{session.provider ?? "any"}</Table.Cell>
            <Table.Cell className="wide-only">{formatTime(session.created_at)}</Table.Cell>
            <Table.Cell>
              {session.account_id ? (
                <ConsoleLink to={`/accounts/${encodeURIComponent(session.account_id)}`}>account</ConsoleLink>
              ) : session.state === "expired" ? (
                "expired without a connection"
              ) : session.opened_at ? (
                `opened ${formatTime(session.opened_at)}`
              ) : (
                `expires ${formatTime(session.expires_at)}`
              )}
            </Table.Cell>
          </Table.Row>
        )}
        filters={filters}
      />
    </Box>
  );
}
