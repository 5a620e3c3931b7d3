/**
 * Shared pieces of the pages. Dialogs are the browser's own `<dialog>` and selects the native
 * `<select>`: Radix's Dialog, Select and ScrollArea insert `<style>` elements at run time,
 * which the console's CSP (`style-src 'self'`) refuses.
 */
import {
  Badge,
  Button,
  Callout,
  Card,
  Code,
  Flex,
  Heading,
  IconButton,
  Text,
  TextField,
} from "@radix-ui/themes";
import { type ComponentProps, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiFailure } from "./api";

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function errorText(error: unknown): string {
  if (error instanceof ApiFailure) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Callout.Root color="red" role="alert">
      <Callout.Text>{errorText(error)}</Callout.Text>
    </Callout.Root>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Flex justify="between" align="center" gap="3" wrap="wrap" mb="4">
      <Heading as="h1" size="6">
        {title}
      </Heading>
      {children ? (
        <Flex gap="2" wrap="wrap">
          {children}
        </Flex>
      ) : null}
    </Flex>
  );
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card size="2" mb="4">
      <Heading as="h2" size="4" mb="3">
        {title}
      </Heading>
      {children}
    </Card>
  );
}

const STATUS_COLOURS: Record<string, "green" | "red" | "amber" | "gray" | "blue"> = {
  active: "green",
  completed: "green",
  succeeded: "green",
  enabled: "green",
  error: "red",
  failed: "red",
  revoked: "red",
  expired: "amber",
  pending: "blue",
  opened: "blue",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLOURS[status] ?? "gray"} variant="soft">
      {status}
    </Badge>
  );
}

/** Previous / next over a list that answers pages; the page number is in the URL. */
export function Pager({
  page,
  hasMore,
  onPage,
}: {
  page: number;
  hasMore: boolean;
  onPage: (p: number) => void;
}) {
  if (page === 1 && !hasMore) return null;
  return (
    <Flex gap="3" align="center" justify="end" mt="3" aria-label="Pages">
      <Button variant="soft" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </Button>
      <Text size="2" color="gray">
        Page {page}
      </Text>
      <Button variant="soft" disabled={!hasMore} onClick={() => onPage(page + 1)}>
        Next
      </Button>
    </Flex>
  );
}

/** A labelled text field (the label names the input for screen readers and tests). */
export function TextInput({
  label,
  grow,
  ...input
}: { label: ReactNode; grow?: boolean } & ComponentProps<typeof TextField.Root>) {
  const id = useId();
  return (
    <div className={grow ? "field grow" : "field"}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <TextField.Root id={id} {...input} />
    </div>
  );
}

/** A native select with the theme's look (styles.css `.native-select`). */
export function NativeSelect({
  label,
  value,
  onChange,
  options,
  name,
  disabled,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly (string | { value: string; label: string })[];
  name?: string;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <select
        id={id}
        className="native-select"
        name={name}
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value)}
      >
        {options.map((option) => {
          const item = typeof option === "string" ? { value: option, label: option || "Any" } : option;
          return (
            <option key={item.value} value={item.value}>
              {item.label}
            </option>
          );
        })}
      </select>
    </div>
  );
}

/** A button that asks first, in a modal `<dialog>`, and then runs `onConfirm`. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  color = "red",
  variant = "soft",
  size = "2",
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => Promise<void> | void;
  color?: "red" | "gray" | "indigo";
  variant?: "soft" | "solid" | "outline";
  size?: "1" | "2";
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button color={color} variant={variant} size={size} onClick={() => dialog.current?.showModal()}>
        {label}
      </Button>
      <dialog ref={dialog} className="confirm-dialog" aria-label={label}>
        <Card size="3">
          <Flex direction="column" gap="3">
            <Text>{question}</Text>
            <ErrorNote error={error} />
            <Flex gap="2" justify="end">
              <Button variant="soft" color="gray" onClick={() => dialog.current?.close()}>
                Cancel
              </Button>
              <Button color={color} disabled={busy} onClick={confirm}>
                {confirmLabel ?? label}
              </Button>
            </Flex>
          </Flex>
        </Card>
      </dialog>
    </>
  );
}

/** Shows a value (a link, a key) with a button that copies it. */
export function CopyField({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(false), 2000);
    return () => window.clearTimeout(timer);
  }, [copied]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Flex gap="2" align="center" wrap="wrap" className="copy-field">
      <Code size="2" className="secret-value" aria-label={label}>
        {value}
      </Code>
      <Button size="1" variant="soft" onClick={copy}>
        {copied ? "Copied" : "Copy"}
      </Button>
    </Flex>
  );
}

/** A link inside the console that keeps the chosen project in the query. */
export function ConsoleLink({ to, children }: { to: string; children: ReactNode }) {
  const [params] = useSearchParams();
  const project = params.get("project");
  const [path, query = ""] = to.split("?");
  const next = new URLSearchParams(query);
  if (project && !next.has("project")) next.set("project", project);
  const text = next.toString();
  return <Link to={text ? `${path}?${text}` : (path ?? "/")}>{children}</Link>;
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text as="p" color="gray" size="2" my="3">
      {children}
    </Text>
  );
}

export function CloseButton({ onClick, label }: { onClick: () => void; label: string }) {
  return (
    <IconButton variant="ghost" color="gray" aria-label={label} onClick={onClick}>
      ×
    </IconButton>
  );
}
