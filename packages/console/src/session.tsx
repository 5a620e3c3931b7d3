/**
 * Who is signed in (`GET /console/session`), which project the console shows, and whether
 * change controls appear. The chosen project lives in the URL (`?project=`) for sessions
 * that may see every project; a project-bound session always shows its own.
 */
import { createContext, type ReactNode, useContext } from "react";
import type { ConsoleSession, ProjectSummary } from "./types";

export interface SessionInfo {
  session: ConsoleSession;
  projects: ProjectSummary[];
  projectId: string | null;
  projectName: string;
  /** Admins change; viewers only read (the API refuses them too). */
  canChange: boolean;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionInfo | null>(null);

export function SessionProvider({ value, children }: { value: SessionInfo; children: ReactNode }) {
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionInfo {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside a signed-in console");
  return value;
}

/** Renders its children only for operators who may change things. */
export function AdminOnly({ children }: { children: ReactNode }) {
  return useSession().canChange ? children : null;
}
