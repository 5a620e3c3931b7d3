/** The console's entry: theme, router (base /console/) and the signed-in shell. */
import "@radix-ui/themes/styles.css";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { Theme } from "@radix-ui/themes";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./app";
import { useAppearance } from "./appearance";

function Root() {
  const appearance = useAppearance();
  return (
    <Theme appearance={appearance.appearance} accentColor="indigo" grayColor="slate" radius="medium">
      <BrowserRouter basename="/console">
        <App appearance={appearance} />
      </BrowserRouter>
    </Theme>
  );
}

const container = document.getElementById("root");
if (container) {
  createRoot(container).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
}
