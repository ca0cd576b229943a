// What the regional server wrote for the dossier (the expert's opinion typed on the regional
// platform, the signed report, letters), newest first; shown only when something came.
import { h } from "../dom.js";
import { T, frWhen } from "../i18n.js";

const R = () => T.fromRegion;

function item(dossierId, it) {
  const meta = [it.author ? R().by(it.author) : null, it.written_at ? frWhen(it.written_at) : null, R().received(frWhen(it.received_at))]
    .filter(Boolean).join(" · ");
  const body = it.kind === "note"
    ? (it.text || "").split(/\n+/).filter((line) => line.trim()).map((line) => h("p", {}, line))
    : it.kind === "document"
      ? [h("p", { class: "hint" }, R().document),
        h("a", { class: "button secondary", href: `/api/v1/dossiers/${dossierId}/documents/${it.document_id}`, download: it.title || "" },
          T.documents.download)]
      : [h("p", { class: "warning", role: "status" }, R().refused(it.text || ""))];
  return h("li", { class: `region-item region-${it.kind}` }, h("strong", {}, it.title || R().title), h("div", { class: "hint" }, meta), ...body);
}

export function regionCard(d) {
  if (!d.from_region?.length) return null;
  return h("section", { class: "card", id: "from-region" },
    h("h2", {}, R().title),
    h("p", { class: "hint" }, R().lead),
    h("ul", { class: "region-items" }, d.from_region.map((it) => item(d.id, it))));
}
