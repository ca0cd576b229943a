// « Externalisation de la vidéo » (seed 000 §2.4, seed 001 §3.2): the cart's picture in a window
// of its own, above every other window, that the doctor may move to a second screen or keep over
// the dossier. The browser's Picture-in-Picture; where it has none (Firefox), no button.
import { h, toast } from "/static/js/dom.js";

const OUT = "Vidéo dans une fenêtre à part";
const BACK = "Remettre la vidéo dans la page";

export function pipButton(video) {
  if (!document.pictureInPictureEnabled || typeof video.requestPictureInPicture !== "function") return null;
  const button = h("button", { id: "pip", class: "button control", type: "button", "aria-pressed": "false", disabled: true }, OUT);
  const show = (out) => { button.setAttribute("aria-pressed", String(out)); button.textContent = out ? BACK : OUT; };
  button.addEventListener("click", async () => {
    try {
      if (document.pictureInPictureElement === video) await document.exitPictureInPicture();
      else await video.requestPictureInPicture();
    } catch {
      toast("Le navigateur n'a pas pu sortir la vidéo dans une fenêtre à part.", "error");
    }
  });
  // Nothing to put in a window before the cart's first picture.
  video.addEventListener("loadedmetadata", () => { button.disabled = false; });
  video.addEventListener("emptied", () => { button.disabled = true; });
  video.addEventListener("enterpictureinpicture", () => show(true));
  video.addEventListener("leavepictureinpicture", () => show(false));
  return button;
}
