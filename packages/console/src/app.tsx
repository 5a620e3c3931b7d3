/**
 * The signed-in shell: finds the session (a 401 shows the sign-in page), the projects the
 * operator may see, and the project shown; then the header, the navigation and the pages.
 */
import { Badge, Button, Flex, IconButton, Spinner, Text } from "@radix-ui/themes";
import { useEffect, useMemo, useState } from "react";
import { NavLink, Route, Routes, useLocation, useSearchParams } from "react-router";
import { ApiFailure, api, setRequestScope } from "./api";
import type { useAppearance } from "./appearance";
import { useLoad } from "./hooks";
import { AccountDetailPage } from "./pages/account-detail";
import { AccountsPage } from "./pages/accounts";
import { ApiKeysPage } from "./pages/api-keys";
import { AuditPage } from "./pages/audit";
import { ConnectSessionsPage } from "./pages/connect-sessions";
import { ConsoleSessionsPage } from "./pages/console-sessions";
import { IntegrationsPage } from "./pages/integrations";
import { OverviewPage } from "./pages/overview";
import { SignInPage } from "./pages/sign-in";
import { WebhooksPage } from "./pages/webhooks";
import { type SessionInfo, SessionProvider } from "./session";
import type { ConsoleSession, ProjectSummary } from "./types";
import { ErrorNote, NativeSelect } from "./ui";

const NAVIGATION = [
  { to: "/", label: "Overview" },
  { to: "/accounts", label: "Accounts" },
  { to: "/connect-sessions", label: "Connect sessions" },
  { to: "/integrations", label: "Integrations" },
  { to: "/api-keys", label: "API keys" },
  { to: "/webhooks", label: "Webhooks" },
  { to: "/audit", label: "Audit log" },
  { to: "/console-sessions", label: "Console sessions" },
] as const;

type Appearance = ReturnType<typeof useAppearance>;

async function loadSession(): Promise<{ session: ConsoleSession; projects: ProjectSummary[] } | null> {
  try {
    const session = await api<ConsoleSession>("GET", "/console/session");
    setRequestScope({ csrfToken: session.csrf_token });
    const projects = await api<ProjectSummary[]>("GET", "/projects");
    return { session, projects };
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) return null;
    throw error;
  }
}

export function App({ appearance }: { appearance: Appearance }) {
  const loaded = useLoad(loadSession, []);
  if (loaded.loading && !loaded.data) {
    return (
      <Flex align="center" justify="center" className="full-height">
        <Spinner size="3" />
      </Flex>
    );
  }
  if (loaded.error) {
    return (
      <Flex p="6" direction="column" gap="3">
        <ErrorNote error={loaded.error} />
        <Button onClick={loaded.reload}>Try again</Button>
      </Flex>
    );
  }
  if (!loaded.data) return <SignInPage appearance={appearance} />;
  return <SignedIn session={loaded.data.session} projects={loaded.data.projects} appearance={appearance} />;
}

function SignedIn({
  session,
  projects,
  appearance,
}: {
  session: ConsoleSession;
  projects: ProjectSummary[];
  appearance: Appearance;
}) {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const allProjects = session.project === null;
  const wanted = params.get("project");
  const projectId =
    session.project?.id ?? (projects.some((p) => p.id === wanted) ? wanted : projects[0]?.id) ?? null;
  // Set before the pages below render, so their first request already names the project.
  setRequestScope({ projectId: allProjects ? projectId : null });

  useEffect(() => {
    if (allProjects && projectId && wanted !== projectId) {
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          next.set("project", projectId);
          return next;
        },
        { replace: true },
      );
    }
  }, [allProjects, projectId, wanted, setParams]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the menu closes whenever the page changes
  useEffect(() => setMenuOpen(false), [location.pathname]);

  const info = useMemo<SessionInfo>(
    () => ({
      session,
      projects,
      projectId,
      projectName: session.project?.name ?? projects.find((p) => p.id === projectId)?.name ?? "",
      canChange: session.role === "admin",
      signOut: async () => {
        await api("POST", "/console/sign-out");
        window.location.assign("/console/");
      },
    }),
    [session, projects, projectId],
  );
  const operator = session.operator.email ?? session.operator.subject;
  const projectQuery = allProjects && projectId ? `?project=${encodeURIComponent(projectId)}` : "";

  return (
    <SessionProvider value={info}>
      <div className="shell" data-menu-open={menuOpen ? "true" : "false"}>
        <header className="topbar">
          <Flex align="center" gap="3">
            <IconButton
              className="menu-button"
              variant="ghost"
              aria-label="Menu"
              aria-expanded={menuOpen}
              onClick={() => setMenuOpen((open) => !open)}
            >
              ☰
            </IconButton>
            <Text weight="bold" size="3">
              Connect Hub
            </Text>
            {allProjects ? (
              <div className="project-picker">
                <NativeSelect
                  label="Project"
                  name="project"
                  value={projectId ?? ""}
                  onChange={(value) => setParams({ project: value })}
                  options={projects.map((p) => ({
                    value: p.id,
                    label: p.organization_name ? `${p.organization_name} / ${p.name}` : p.name,
                  }))}
                />
              </div>
            ) : (
              <Text size="2" color="gray" className="project-name">
                {info.projectName}
              </Text>
            )}
          </Flex>
          <Flex align="center" gap="3">
            <Text size="2" color="gray" className="operator">
              {operator}
            </Text>
            <Badge color={session.role === "admin" ? "indigo" : "gray"}>{session.role}</Badge>
            <IconButton
              variant="soft"
              color="gray"
              aria-label={appearance.appearance === "dark" ? "Use light theme" : "Use dark theme"}
              onClick={appearance.toggle}
            >
              {appearance.appearance === "dark" ? "☀" : "☾"}
            </IconButton>
            <Button variant="soft" color="gray" onClick={info.signOut}>
              Sign out
            </Button>
          </Flex>
        </header>
        <nav className="sidebar" aria-label="Console">
          {NAVIGATION.map((item) => (
            <NavLink
              key={item.to}
              to={`${item.to}${projectQuery}`}
              end={item.to === "/"}
              className="nav-link"
            >
              {item.label}
            </NavLink>
          ))}
        </nav>
        <main className="content">
          <Routes key={projectId ?? "none"}>
            <Route path="/" element={<OverviewPage />} />
            <Route path="/accounts" element={<AccountsPage />} />
            <Route path="/accounts/:id" element={<AccountDetailPage />} />
            <Route path="/connect-sessions" element={<ConnectSessionsPage />} />
            <Route path="/integrations" element={<IntegrationsPage />} />
            <Route path="/api-keys" element={<ApiKeysPage />} />
            <Route path="/webhooks" element={<WebhooksPage />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/console-sessions" element={<ConsoleSessionsPage />} />
            <Route path="*" element={<OverviewPage />} />
          </Routes>
        </main>
      </div>
    </SessionProvider>
  );
}
