/**
 * The page an operator without a session sees: the CLI command that prints a sign-in link,
 * and the SSO button when the server has an OpenID Connect provider configured. A refused
 * link (used or expired) is explained by the server's own page; `?error=` here says the same
 * when the server sends the browser back to the console instead.
 */
import { Box, Button, Callout, Card, Code, Flex, Heading, IconButton, Text } from "@radix-ui/themes";
import { useSearchParams } from "react-router";
import { api } from "../api";
import type { useAppearance } from "../appearance";
import { useLoad } from "../hooks";

interface ConsoleConfig {
  oidc: { enabled: boolean; name?: string };
}

const REFUSALS: Record<string, string> = {
  link: "This sign-in link was used or has expired; ask for a new one with `connect-hub console link`.",
  oidc: "Your identity provider signed you in, but this identity is not allowed to use the console.",
};

export function SignInPage({ appearance }: { appearance: ReturnType<typeof useAppearance> }) {
  const config = useLoad(() => api<ConsoleConfig>("GET", "/console/config"), []);
  const [params] = useSearchParams();
  const error = params.get("error");
  const refusal = error ? (REFUSALS[error] ?? REFUSALS.link) : null;
  const oidc = config.data?.oidc;
  return (
    <Flex align="center" justify="center" className="full-height" p="4">
      <Card size="4" className="sign-in-card">
        <Flex justify="between" align="center" mb="4">
          <Heading as="h1" size="6">
            Connect Hub console
          </Heading>
          <IconButton
            variant="ghost"
            color="gray"
            aria-label={appearance.appearance === "dark" ? "Use light theme" : "Use dark theme"}
            onClick={appearance.toggle}
          >
            {appearance.appearance === "dark" ? "☀" : "☾"}
          </IconButton>
        </Flex>
        {refusal ? (
          <Callout.Root color="red" role="alert" mb="4">
            <Callout.Text>{refusal}</Callout.Text>
          </Callout.Root>
        ) : null}
        <Flex direction="column" gap="3">
          <Text as="p">Sign in with a link from the server's command line. On the server, run:</Text>
          <Code size="3" className="command">
            npx connect-hub console link --role admin
          </Code>
          <Text as="p" size="2" color="gray">
            It prints a link for one sign-in, valid for 10 minutes. Add <Code>--project &lt;id&gt;</Code> to
            limit the session to one project, or <Code>--role viewer</Code> for read-only access.
          </Text>
          {oidc?.enabled ? (
            <Box mt="2">
              <Button asChild size="3">
                <a href="/console/oidc/start">{oidc.name ?? "Sign in with single sign-on"}</a>
              </Button>
            </Box>
          ) : null}
        </Flex>
      </Card>
    </Flex>
  );
}
