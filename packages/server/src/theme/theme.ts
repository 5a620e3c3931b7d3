/**
 * The connect page's theme: a mode (`auto` follows the browser's prefers-color-scheme) and a
 * few optional tokens. Values are validated strictly by schema (hex colours, a bounded
 * integer), and the page applies them as CSS custom properties from its script, so nothing
 * here can inject CSS.
 */
import { type Static, Type } from "@sinclair/typebox";
import { StringEnum } from "../http/schema-types.js";

const HEX_COLOUR = "^#[0-9a-fA-F]{6}$";
const MAX_RADIUS_PX = 24;

const colour = (description: string) => Type.String({ pattern: HEX_COLOUR, description });

export const THEME_MODES = ["auto", "light", "dark"] as const;
export type ThemeMode = (typeof THEME_MODES)[number];

const mode = StringEnum(THEME_MODES, {
  description: "`auto` (the default) follows the browser's light or dark preference.",
});
const radius = Type.Integer({
  minimum: 0,
  maximum: MAX_RADIUS_PX,
  description: "Corner radius of the card, in CSS pixels.",
});

const themeProperties = {
  mode: Type.Optional(mode),
  accent: Type.Optional(colour("Buttons, links and focus ring, as #rrggbb.")),
  background: Type.Optional(colour("Page and card background, as #rrggbb.")),
  text: Type.Optional(colour("Text colour, as #rrggbb.")),
  radius: Type.Optional(radius),
};

/** A theme as set on a project; every token is optional. Referenced by responses. */
export const ThemeSettings = Type.Object(themeProperties, {
  additionalProperties: false,
  $id: "ThemeSettings",
});
/** The same, inline, for request bodies (validated on their own, without shared references). */
export const ThemeChanges = Type.Object(themeProperties, {
  additionalProperties: false,
  description: "Replaces the connect page's theme; `{}` restores the default.",
});
export type ThemeSettings = Static<typeof ThemeSettings>;

/**
 * The query parameters of an auth link that override the project's theme for that link, e.g.
 * `auth_link_url + "&theme=dark&theme_accent=%23ff5a1f"`.
 */
export const ThemeLinkQuery = {
  theme: Type.Optional(mode),
  theme_accent: Type.Optional(Type.String({ pattern: HEX_COLOUR })),
  theme_background: Type.Optional(Type.String({ pattern: HEX_COLOUR })),
  theme_text: Type.Optional(Type.String({ pattern: HEX_COLOUR })),
  theme_radius: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_RADIUS_PX })),
};
export interface ThemeLinkOverride {
  theme?: ThemeMode | undefined;
  theme_accent?: string | undefined;
  theme_background?: string | undefined;
  theme_text?: string | undefined;
  theme_radius?: number | undefined;
}

/** What the page model carries: every token present, null where the page keeps its own. */
export interface ResolvedTheme {
  mode: ThemeMode;
  accent: string | null;
  background: string | null;
  text: string | null;
  radius: number | null;
}

/** The project's theme with the link's overrides on top, token by token. */
export function resolveTheme(project: ThemeSettings, link: ThemeLinkOverride = {}): ResolvedTheme {
  return {
    mode: link.theme ?? project.mode ?? "auto",
    accent: link.theme_accent ?? project.accent ?? null,
    background: link.theme_background ?? project.background ?? null,
    text: link.theme_text ?? project.text ?? null,
    radius: link.theme_radius ?? project.radius ?? null,
  };
}
