// babelrec's chat page: no build step, no CDN. Every item field is set with textContent, never
// parsed as HTML, so an item titled <img src=x onerror=...> shows as text.
"use strict";

const REFINEMENTS = {
  zh: ["只要英文的", "只要中文的", "不限语言", "换一批"],
  en: ["only English", "only Chinese", "any language", "more"],
  es: ["solo en inglés", "solo en chino", "cualquier idioma", "más"],
};
const LIKE = { zh: (n) => `类似第${n}个`, en: (n) => `more like number ${n}`, es: (n) => `más como el número ${n}` };
const ACTION_LABELS = { zh: ["喜欢", "不喜欢"], en: ["Like", "Not this"], es: ["Me gusta", "No"] };
const DISLIKE = { zh: (n) => `不要第${n}个`, en: (n) => `not number ${n}`, es: (n) => `no el número ${n}` };

// Where a card's title came from, in the page's language (display.source; machine names its model).
const SOURCE_LABELS = {
  zh: { catalog: "目录提供的译文", machine: (m) => `机器翻译（${m}）`, untranslated: "原文（未翻译）", flagged: "机器翻译未通过检查，显示原文" },
  en: { catalog: "translation from the catalog", machine: (m) => `machine translation (${m})`, untranslated: "original (not translated)", flagged: "the machine translation failed its check: original shown" },
  es: { catalog: "traducción del catálogo", machine: (m) => `traducción automática (${m})`, untranslated: "original (sin traducir)", flagged: "la traducción automática no pasó la revisión: se muestra el original" },
};

const $ = (id) => document.getElementById(id);
const session = sessionStorage.getItem("babelrec-session") || `web-${crypto.randomUUID()}`;
sessionStorage.setItem("babelrec-session", session);

function lang() { return $("lang").value; }

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function addTurn(role, text) {
  const turn = element("li", `turn ${role}`);
  const body = element("div", "text", text);
  body.dir = "auto";
  turn.appendChild(body);
  $("conversation").appendChild(turn);
  return turn;
}

// One evidence entry (babelrec.evidence): a history item or a phrase with its cosine, or a
// cultural note with its source.
function evidenceText(entry) {
  const similarity = (value) => Number(value).toFixed(2);
  if (entry.kind === "history") return `${entry.title} (${similarity(entry.similarity)})`;
  if (entry.kind === "interest") return `“${entry.phrase}” (${similarity(entry.similarity)})`;
  if (entry.text) return entry.source ? `${entry.text} [${entry.source}]` : entry.text;
  return JSON.stringify(entry);
}

function card(pick) {
  const node = $("card").content.firstElementChild.cloneNode(true);
  const item = pick.item;
  node.dataset.itemId = item.id;
  node.dataset.language = item.language || "";
  node.querySelector(".rank").textContent = `#${pick.rank}`;
  node.querySelector(".lang").textContent = item.language || "?";
  node.querySelector(".region").textContent = item.region || "";
  node.querySelector(".category").textContent = item.category || "";
  const display = pick.display || null;
  node.querySelector(".title").textContent = display ? display.title : item.title;
  node.querySelector(".summary").textContent = display ? display.summary : "";
  node.dataset.displaySource = display ? display.source : "";
  const labels = SOURCE_LABELS[lang()] || SOURCE_LABELS.en;
  const source = node.querySelector(".source");
  if (display && display.fallback) {
    source.textContent = labels.flagged;
    source.classList.add("flagged");
  } else if (display && display.source === "machine") {
    source.textContent = labels.machine(display.model || "?");
  } else if (display && display.source === "catalog") {
    source.textContent = labels.catalog;
  } else if (display && !display.in_user_language) {
    source.textContent = labels.untranslated;
  }
  if (display && display.title !== item.title) {
    const original = node.querySelector(".original");
    original.textContent = item.title;
    original.hidden = false;
  }
  node.querySelector(".explanation").textContent = pick.explanation ? pick.explanation.text : "";
  const scores = node.querySelector(".scores");
  for (const [name, value] of Object.entries(pick.scores || {})) {
    if (value === null) continue;
    scores.appendChild(element("dt", "", name));
    scores.appendChild(element("dd", "", Number(value).toFixed(3)));
  }
  const evidence = (pick.explanation && pick.explanation.evidence) || pick.evidence || [];
  for (const entry of evidence) {
    scores.appendChild(element("dt", "", entry.kind || "evidence"));
    scores.appendChild(element("dd", "", evidenceText(entry)));
  }
  const [likeLabel, dislikeLabel] = ACTION_LABELS[lang()];
  node.querySelector(".like").textContent = likeLabel;
  node.querySelector(".dislike").textContent = dislikeLabel;
  node.querySelector(".like").addEventListener("click", () => send(LIKE[lang()](pick.rank)));
  node.querySelector(".dislike").addEventListener("click", () => send(DISLIKE[lang()](pick.rank)));
  return node;
}

function showRefinements() {
  const box = $("refinements");
  box.replaceChildren();
  for (const text of REFINEMENTS[lang()]) {
    const button = element("button", "refine", text);
    button.type = "button";
    button.addEventListener("click", () => send(text));
    box.appendChild(button);
  }
}

async function send(message) {
  if (!message.trim()) return;
  addTurn("user", message);
  const headers = { "Content-Type": "application/json" };
  const key = $("api-key").value;
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(`/v1/chat/${encodeURIComponent(session)}`, {
      method: "POST", headers, body: JSON.stringify({ message }),
    });
  } catch (error) {
    addTurn("assistant error", String(error));
    return;
  }
  const body = await response.json();
  if (!response.ok) {
    if (response.status === 401) $("key-label").hidden = false;
    addTurn("assistant error", body.detail || response.statusText);
    return;
  }
  const turn = addTurn("assistant", body.text);
  turn.dataset.language = body.language;
  const cards = element("ol", "cards");
  for (const pick of body.recommendations) cards.appendChild(card(pick));
  turn.appendChild(cards);
  for (const warning of body.warnings || []) turn.appendChild(element("div", "error", warning));
  turn.scrollIntoView({ block: "end" });
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const message = $("message").value;
  $("message").value = "";
  send(message);
});
$("lang").addEventListener("change", () => {
  document.documentElement.lang = lang();
  showRefinements();
});
const preferred = (navigator.language || "en").slice(0, 2);
if (REFINEMENTS[preferred]) $("lang").value = preferred;
document.documentElement.lang = lang();
showRefinements();
