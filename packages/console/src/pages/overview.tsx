/**
 * Overview of the project: the connect funnel (sessions created, opened, completed, expired
 * without a connection) over the chosen range, charts by day or week, connections by
 * provider, accounts in error and webhook delivery success. From `GET /stats/overview`.
 */
import { Box, Card, Grid, SegmentedControl, Text, useThemeContext } from "@radix-ui/themes";
import { useMemo } from "react";
import { api } from "../api";
import { type ChartSeries, TimeChart } from "../chart";
import { useFilters, useLoad } from "../hooks";
import { Table } from "../table";
import type { Overview } from "../types";
import { ConsoleLink, Empty, ErrorNote, PageHeader, Section } from "../ui";

function FunnelStep({ label, value, of }: { label: string; value: number; of: number }) {
  const share = of > 0 ? Math.round((value / of) * 100) : 0;
  return (
    <Card className="funnel-step" data-testid={`funnel-${label.toLowerCase().replaceAll(" ", "-")}`}>
      <Text as="div" size="2" color="gray">
        {label}
      </Text>
      <Text as="div" size="7" weight="bold" className="funnel-value">
        {value}
      </Text>
      <div className="funnel-bar" aria-hidden="true">
        <div className="funnel-fill" ref={(bar) => bar?.style.setProperty("width", `${share}%`)} />
      </div>
      <Text as="div" size="1" color="gray">
        {of > 0 ? `${share}% of created` : "—"}
      </Text>
    </Card>
  );
}

export function OverviewPage() {
  const filters = useFilters();
  const interval = filters.get("interval") === "week" ? "week" : "day";
  const overview = useLoad(
    () => api<Overview>("GET", "/stats/overview", undefined, { interval }),
    [interval],
  );
  const { appearance } = useThemeContext();
  const data = overview.data;

  const totals = useMemo(() => {
    const sum = { created: 0, opened: 0, completed: 0, expired: 0, succeeded: 0, failed: 0 };
    for (const bucket of data?.buckets ?? []) {
      sum.created += bucket.sessions_created;
      sum.opened += bucket.sessions_opened;
      sum.completed += bucket.sessions_completed;
      sum.expired += bucket.sessions_expired_unconnected;
      sum.succeeded += bucket.webhook_deliveries_succeeded;
      sum.failed += bucket.webhook_deliveries_failed;
    }
    return sum;
  }, [data]);

  const charts = useMemo(() => {
    const buckets = data?.buckets ?? [];
    const times = buckets.map((bucket) => Date.parse(bucket.start) / 1000);
    const sessions: ChartSeries[] = [
      { label: "Created", values: buckets.map((b) => b.sessions_created), colourVariable: "--indigo-9" },
      { label: "Opened", values: buckets.map((b) => b.sessions_opened), colourVariable: "--cyan-9" },
      { label: "Completed", values: buckets.map((b) => b.sessions_completed), colourVariable: "--green-9" },
      {
        label: "Expired unconnected",
        values: buckets.map((b) => b.sessions_expired_unconnected),
        colourVariable: "--amber-9",
      },
    ];
    const deliveries: ChartSeries[] = [
      {
        label: "Succeeded",
        values: buckets.map((b) => b.webhook_deliveries_succeeded),
        colourVariable: "--green-9",
      },
      { label: "Failed", values: buckets.map((b) => b.webhook_deliveries_failed), colourVariable: "--red-9" },
    ];
    return { times, sessions, deliveries };
  }, [data]);

  const deliveries = totals.succeeded + totals.failed;
  const successRate = deliveries > 0 ? `${Math.round((totals.succeeded / deliveries) * 1000) / 10}%` : "—";

  return (
    <Box>
      <PageHeader title="Overview">
        <SegmentedControl.Root
          value={interval}
          onValueChange={(value) => filters.set({ interval: value === "day" ? null : value })}
          aria-label="Interval"
        >
          <SegmentedControl.Item value="day">By day</SegmentedControl.Item>
          <SegmentedControl.Item value="week">By week</SegmentedControl.Item>
        </SegmentedControl.Root>
      </PageHeader>
      <ErrorNote error={overview.error} />
      <Section title="Connect funnel">
        <Grid columns={{ initial: "2", md: "4" }} gap="3" aria-label="Funnel">
          <FunnelStep label="Created" value={totals.created} of={totals.created} />
          <FunnelStep label="Opened" value={totals.opened} of={totals.created} />
          <FunnelStep label="Completed" value={totals.completed} of={totals.created} />
          <FunnelStep label="Expired unconnected" value={totals.expired} of={totals.created} />
        </Grid>
      </Section>
      <Grid columns={{ initial: "1", md: "2" }} gap="4">
        <Card>
          {data ? (
            <TimeChart
              title="Connect sessions"
              times={charts.times}
              series={charts.sessions}
              appearance={appearance}
            />
          ) : null}
        </Card>
        <Card>
          {data ? (
            <TimeChart
              title="Webhook deliveries"
              times={charts.times}
              series={charts.deliveries}
              appearance={appearance}
            />
          ) : null}
        </Card>
      </Grid>
      <Grid columns={{ initial: "1", md: "3" }} gap="4" mt="4">
        <Card>
          <Text as="div" size="2" color="gray">
            Accounts in error
          </Text>
          <Text as="div" size="7" weight="bold" data-testid="accounts-in-error">
            {data?.accounts_in_error ?? "—"}
          </Text>
          <ConsoleLink to="/accounts?status=error">See them</ConsoleLink>
        </Card>
        <Card>
          <Text as="div" size="2" color="gray">
            Webhook delivery success
          </Text>
          <Text as="div" size="7" weight="bold" data-testid="webhook-success">
            {successRate}
          </Text>
          <Text size="1" color="gray">
            {totals.succeeded} succeeded, {totals.failed} failed
          </Text>
        </Card>
        <Card>
          <Text as="div" size="2" color="gray">
            Connected accounts
          </Text>
          <Text as="div" size="7" weight="bold">
            {data ? data.accounts_by_provider.reduce((sum, row) => sum + row.total, 0) : "—"}
          </Text>
        </Card>
      </Grid>
      <Box mt="4">
        <Section title="Connections by provider">
          {data && data.accounts_by_provider.length === 0 ? <Empty>No linked accounts yet.</Empty> : null}
          {data && data.accounts_by_provider.length > 0 ? (
            <Table.Root size="1">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Provider</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Active</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">In error</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Total</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {data.accounts_by_provider.map((row) => (
                  <Table.Row key={row.provider}>
                    <Table.RowHeaderCell>
                      <ConsoleLink to={`/accounts?provider=${encodeURIComponent(row.provider)}`}>
                        {row.provider}
                      </ConsoleLink>
                    </Table.RowHeaderCell>
                    <Table.Cell justify="end">{row.active}</Table.Cell>
                    <Table.Cell justify="end">{row.error}</Table.Cell>
                    <Table.Cell justify="end">{row.total}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root>
          ) : null}
        </Section>
      </Box>
    </Box>
  );
}
