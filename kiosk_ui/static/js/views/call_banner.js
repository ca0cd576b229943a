// « Téléconsultation en cours — Revenir à l'appel »: one element for the whole kiosk, shown by
// app.js while a call goes on and the person is elsewhere, and placed by the shell in the strip
// under the top bar of whichever screen is shown (in the page's flow: it covers no title or
// button, as a floating banner did).
import { h } from "../dom.js";

export const callBanner = h("div", { class: "call-banner", role: "status", hidden: true },
  h("span", {}, "Téléconsultation en cours"),
  h("button", { class: "button primary", type: "button" }, "Revenir à l'appel"));
