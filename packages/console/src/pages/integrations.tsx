/**
 * Integrations: the provider catalog (`GET /providers`) beside the project's integrations
 * (`GET /integrations`), searchable; admins enable or disable one and set an OAuth2 client id
 * and secret. The secret is write-only: the API says only whether one is set, and the field is
 * always empty. Below, the project's allowed origins and connect page theme (`PATCH /project`).
 */
import { Badge, Box, Button, Callout, Flex, Switch, Text, TextArea } from "@radix-ui/themes";
import { type FormEvent, useMemo, useState } from "react";
import { api, listAll } from "../api";
import { useFilters, useLoad } from "../hooks";
import { PagedTable } from "../paged-table";
import { useSession } from "../session";
import { Table } from "../table";
import type { Integration, ProjectSettings, ProviderSummary, ThemeSettings } from "../types";
import { CloseButton, ErrorNote, NativeSelect, PageHeader, Section, TextInput } from "../ui";

const PAGE_SIZE = 20;

function OAuthForm({
  provider,
  integration,
  onSaved,
  onClose,
}: {
  provider: ProviderSummary;
  integration: Integration | undefined;
  onSaved: () => void;
  onClose: () => void;
}) {
  const [clientId, setClientId] = useState(integration?.client_id ?? "");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await api("PUT", `/integrations/${encodeURIComponent(provider.key)}`, {
        client_id: clientId.trim() || null,
        ...(secret ? { client_secret: secret } : {}),
      });
      setSecret("");
      setSaved(true);
      onSaved();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={submit} aria-label={`OAuth client of ${provider.name}`} className="inline-form">
      <Flex gap="3" wrap="wrap" align="end">
        <TextInput
          grow
          label="Client id"
          name="client_id"
          value={clientId}
          maxLength={500}
          onChange={(e) => setClientId(e.target.value)}
        />
        <TextInput
          grow
          label={
            <>
              Client secret (
              {integration?.client_secret_set ? "set; type a new one to replace it" : "not set"})
            </>
          }
          name="client_secret"
          type="password"
          autoComplete="off"
          value={secret}
          maxLength={2000}
          placeholder={integration?.client_secret_set ? "••••••••" : ""}
          onChange={(e) => setSecret(e.target.value)}
        />
        <Button type="submit">Save</Button>
        <CloseButton label="Close" onClick={onClose} />
      </Flex>
      {saved ? (
        <Text size="1" color="green" role="status">
          Saved.
        </Text>
      ) : null}
      <ErrorNote error={error} />
    </form>
  );
}

function ProjectSettingsForm() {
  const { canChange } = useSession();
  const project = useLoad(() => api<ProjectSettings>("GET", "/project"), []);
  if (project.error) return <ErrorNote error={project.error} />;
  if (!project.data) return null;
  return (
    <ProjectSettingsFields
      key={project.data.id}
      initial={project.data}
      canChange={canChange}
      onSaved={project.reload}
    />
  );
}

function ProjectSettingsFields({
  initial,
  canChange,
  onSaved,
}: {
  initial: ProjectSettings;
  canChange: boolean;
  onSaved: () => void;
}) {
  const [origins, setOrigins] = useState(initial.allowed_origins.join("\n"));
  const [theme, setTheme] = useState<ThemeSettings>(initial.theme ?? {});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const cleaned: ThemeSettings = {};
    if (theme.mode && theme.mode !== "auto") cleaned.mode = theme.mode;
    if (theme.accent) cleaned.accent = theme.accent;
    if (theme.background) cleaned.background = theme.background;
    if (theme.text) cleaned.text = theme.text;
    if (theme.radius !== undefined) cleaned.radius = theme.radius;
    try {
      await api("PATCH", "/project", {
        allowed_origins: origins
          .split(/\s+/)
          .map((line) => line.trim())
          .filter(Boolean),
        theme: cleaned,
      });
      setSaved(true);
      onSaved();
    } catch (failure) {
      setError(failure);
    }
  };
  const colour = (key: "accent" | "background" | "text", label: string) => (
    <TextInput
      label={<>{label} (#rrggbb)</>}
      name={`theme_${key}`}
      value={theme[key] ?? ""}
      disabled={!canChange}
      placeholder="default"
      maxLength={7}
      onChange={(e) => setTheme({ ...theme, [key]: e.target.value || undefined })}
    />
  );
  return (
    <form onSubmit={submit} aria-label="Project settings">
      <Flex direction="column" gap="3">
        <div className="field">
          <label htmlFor="allowed-origins" className="field-label">
            Allowed origins (one per line: your app's scheme://host[:port], which may embed the connect page)
          </label>
          <TextArea
            id="allowed-origins"
            name="allowed_origins"
            rows={3}
            value={origins}
            disabled={!canChange}
            onChange={(e) => setOrigins(e.target.value)}
          />
        </div>
        <Flex gap="3" wrap="wrap" align="end">
          <NativeSelect
            label="Connect page theme"
            name="theme_mode"
            value={theme.mode ?? "auto"}
            disabled={!canChange}
            onChange={(value) => setTheme({ ...theme, mode: value as ThemeSettings["mode"] })}
            options={[
              { value: "auto", label: "Follow the browser" },
              { value: "light", label: "Light" },
              { value: "dark", label: "Dark" },
            ]}
          />
          {colour("accent", "Accent")}
          {colour("background", "Background")}
          {colour("text", "Text")}
        </Flex>
        {canChange ? (
          <Box>
            <Button type="submit">Save settings</Button>
          </Box>
        ) : null}
        {saved ? (
          <Text size="1" color="green" role="status">
            Saved.
          </Text>
        ) : null}
        <ErrorNote error={error} />
      </Flex>
    </form>
  );
}

export function IntegrationsPage() {
  const { canChange } = useSession();
  const filters = useFilters();
  const search = filters.get("search").toLowerCase();
  const [draft, setDraft] = useState(filters.get("search"));
  const [configuring, setConfiguring] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const catalog = useLoad(() => listAll<ProviderSummary>("/providers"), []);
  const integrations = useLoad(() => listAll<Integration>("/integrations"), []);
  const byProvider = useMemo(
    () => new Map((integrations.data ?? []).map((integration) => [integration.provider, integration])),
    [integrations.data],
  );
  const matching = (catalog.data ?? []).filter(
    (provider) =>
      !search ||
      provider.name.toLowerCase().includes(search) ||
      provider.key.includes(search) ||
      provider.categories.some((category) => category.includes(search)),
  );
  // The catalog is searched here, in full, and shown a page at a time like the server's lists.
  const catalogPage = {
    data: catalog.data && {
      items: matching.slice((filters.page - 1) * PAGE_SIZE, filters.page * PAGE_SIZE),
      hasMore: filters.page * PAGE_SIZE < matching.length,
    },
    error: catalog.error ?? integrations.error ?? error,
  };
  const setEnabled = async (provider: ProviderSummary, enabled: boolean) => {
    setError(null);
    try {
      await api("PUT", `/integrations/${encodeURIComponent(provider.key)}`, { enabled });
      integrations.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Box>
      <PageHeader title="Integrations" />
      <form
        aria-label="Search the catalog"
        onSubmit={(event) => {
          event.preventDefault();
          filters.set({ search: draft.trim() });
        }}
      >
        <Flex gap="3" mb="4" align="end">
          <TextInput
            grow
            label="Provider name or category"
            name="search"
            value={draft}
            maxLength={100}
            placeholder="Search"
            onChange={(e) => setDraft(e.target.value)}
          />
          <Button type="submit">Search</Button>
        </Flex>
      </form>
      <PagedTable
        list={catalogPage}
        empty="No provider matches."
        columns={
          <>
            <Table.ColumnHeaderCell>Provider</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Categories</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Enabled</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell className="wide-only">Status</Table.ColumnHeaderCell>
          </>
        }
        row={(provider) => {
          const integration = byProvider.get(provider.key);
          const enabled = integration?.enabled ?? false;
          return (
            <Table.Row key={provider.key} data-provider={provider.key}>
              <Table.RowHeaderCell>
                <Text weight="medium">{provider.name}</Text>{" "}
                <Badge variant="outline" size="1">
                  {provider.auth_type}
                </Badge>
                {configuring === provider.key ? (
                  <OAuthForm
                    provider={provider}
                    integration={integration}
                    onSaved={integrations.reload}
                    onClose={() => setConfiguring(null)}
                  />
                ) : null}
              </Table.RowHeaderCell>
              <Table.Cell className="wide-only">{provider.categories.join(", ")}</Table.Cell>
              <Table.Cell>
                {canChange ? (
                  <Flex gap="3" align="center" wrap="wrap">
                    <Switch
                      checked={enabled}
                      aria-label={`Enable ${provider.name}`}
                      onCheckedChange={(checked) => setEnabled(provider, checked)}
                    />
                    {provider.auth_type === "oauth2" && configuring !== provider.key ? (
                      <Button size="1" variant="soft" onClick={() => setConfiguring(provider.key)}>
                        OAuth client
                      </Button>
                    ) : null}
                  </Flex>
                ) : (
                  <Text>{enabled ? "yes" : "no"}</Text>
                )}
              </Table.Cell>
              <Table.Cell className="wide-only">
                {integration?.enabled ? (
                  integration.ready ? (
                    <Badge color="green">ready</Badge>
                  ) : (
                    <Badge color="amber">needs client id and secret</Badge>
                  )
                ) : (
                  <Badge color="gray">off</Badge>
                )}
              </Table.Cell>
            </Table.Row>
          );
        }}
        filters={filters}
      />
      <Box mt="5">
        <Section title="Project settings">
          <ProjectSettingsForm />
        </Section>
      </Box>
      {!canChange ? (
        <Callout.Root color="gray" mt="3">
          <Callout.Text>You can read these settings; an admin can change them.</Callout.Text>
        </Callout.Root>
      ) : null}
    </Box>
  );
}
