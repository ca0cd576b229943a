// The cart's cameras on a kiosk screen: the local preview of the active one (GET /cameras/preview,
// an MJPEG stream in an <img>) and the buttons that switch it (PUT /cameras/active). The call's
// screen and the téléexpertise request (views/expertise_request.js) show them.
import { api } from "../api.js";
import { h, reportError } from "../dom.js";
import { T } from "../i18n.js";

// The preview of the active camera. Its stream ends once the image has left the page (another
// screen, the lock screen), so the camera is not kept on, nor the resident filmed, for nobody.
export function cameraPreview({ cls, alt }) {
  const img = h("img", { class: cls, alt, src: "/api/v1/cameras/preview" });
  const watch = setInterval(() => {
    if (img.isConnected) return;
    clearInterval(watch);
    img.removeAttribute("src");
  }, 1000);
  return img;
}

// The cameras as buttons, the active one pressed, an unplugged one greyed; `notice` says why the
// picture changed by itself. `render(state)` shows a state the agent sent.
export function cameraSwitch(initial) {
  const el = h("div", { class: "camera-switch", role: "group", "aria-label": T.cameras.group });
  const notice = h("p", { class: "camera-notice", hidden: true });
  const render = (state) => {
    el.replaceChildren(...state.cameras.map((c) => h("button", {
      class: `button ${c.id === state.active ? "primary" : "secondary"}`, type: "button", "data-camera": c.id,
      "aria-pressed": String(c.id === state.active), disabled: !c.available,
      onclick: async () => {
        try { render(await api("PUT", "/cameras/active", { camera: c.id })); } catch (error) { reportError(error); }
      },
    }, c.available ? c.label : T.cameras.unplugged(c.label))));
    notice.textContent = state.notice || "";
    notice.hidden = !state.notice;
  };
  render(initial);
  return { el, notice, render };
}
