/** Light or dark: the system's preference unless the operator chose one (kept in localStorage). */
import { useEffect, useState } from "react";

export type AppearanceChoice = "system" | "light" | "dark";
const STORAGE_KEY = "connect-hub-console-appearance";

function storedChoice(): AppearanceChoice {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

export function useAppearance() {
  const [choice, setChoice] = useState<AppearanceChoice>(storedChoice);
  const query = window.matchMedia("(prefers-color-scheme: dark)");
  const [systemDark, setSystemDark] = useState(query.matches);
  useEffect(() => {
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const listener = (event: MediaQueryListEvent) => setSystemDark(event.matches);
    media.addEventListener("change", listener);
    return () => media.removeEventListener("change", listener);
  }, []);
  const appearance: "light" | "dark" = choice === "system" ? (systemDark ? "dark" : "light") : choice;
  useEffect(() => {
    document.documentElement.style.colorScheme = appearance;
  }, [appearance]);
  const choose = (next: AppearanceChoice) => {
    setChoice(next);
    try {
      if (next === "system") window.localStorage.removeItem(STORAGE_KEY);
      else window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Storage refused (private mode): the choice lasts for this page only.
    }
  };
  /** The toggle cycles light <-> dark from what is shown now. */
  const toggle = () => choose(appearance === "dark" ? "light" : "dark");
  return { appearance, choice, choose, toggle };
}
