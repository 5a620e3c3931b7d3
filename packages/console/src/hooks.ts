/** Small hooks shared by the pages: loading data, and filters kept in the URL's query. */
import { type DependencyList, useCallback, useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on `reload`); an answer that arrives late is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => {
        if (call === latest.current) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (call === latest.current) setState((previous) => ({ ...previous, error, loading: false }));
      },
    );
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

/**
 * The page's filters, in the URL query so a filtered view can be shared and survives reload.
 * Changing a filter returns to page 1; the chosen project (`project`) is always kept.
 */
export function useFilters(): Filters {
  const [params, setParams] = useSearchParams();
  const get = useCallback((key: string) => params.get(key) ?? "", [params]);
  const set = useCallback(
    (changes: Record<string, string | number | null>, options: { keepPage?: boolean } = {}) => {
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          for (const [key, value] of Object.entries(changes)) {
            if (value === null || value === "") next.delete(key);
            else next.set(key, String(value));
          }
          if (!options.keepPage && !("page" in changes)) next.delete("page");
          return next;
        },
        { replace: false },
      );
    },
    [setParams],
  );
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  return { get, set, page, params };
}

export interface Filters {
  get: (key: string) => string;
  set: (changes: Record<string, string | number | null>, options?: { keepPage?: boolean }) => void;
  page: number;
  params: URLSearchParams;
}
