/**
 * Options shared by the CLI's commands, checked by commander before anything runs, so a bad
 * value is reported as the option's fault (`--overlap`) with nothing opened or changed.
 */
import { type Command, InvalidArgumentError } from "commander";
import type { Db } from "../db/database.js";
import { DEFAULT_ORGANIZATION, DEFAULT_PROJECT } from "../tenancy/service.js";
import { findOrganizationByName, findProjectByName, type Project } from "../tenancy/store.js";
import { CliError } from "./errors.js";

export interface ProjectOptions {
  project: string;
  organization: string;
}

export function withProjectOptions(command: Command): Command {
  return command
    .option("--project <name>", "project name", DEFAULT_PROJECT)
    .option("--organization <name>", "organization name", DEFAULT_ORGANIZATION);
}

/** An existing project; refuses a name that does not exist rather than creating it. */
export async function existingProject(db: Db, options: ProjectOptions): Promise<Project> {
  const organization = await findOrganizationByName(db.kysely, options.organization);
  const project = organization
    ? await findProjectByName(db.kysely, Number(organization.id), options.project)
    : undefined;
  if (!project) {
    throw new CliError(
      `no project "${options.project}" in organization "${options.organization}": check --project and --organization (\`connect-hub keys create\` makes one)`,
    );
  }
  return project;
}

/** A commander parser for a whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number, unit = "") {
  return (raw: string): number => {
    const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`It must be a whole number${unit} from ${min} to ${max}.`);
    }
    return value;
  };
}

/** A commander parser for a comma-separated list (blanks dropped). */
export function commaList(raw: string): string[] {
  return raw
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}
