// skillmap page: search and map against the JSON API. Statement text comes from exports and is
// untrusted: it is only ever inserted with textContent, never as HTML.
"use strict";

const LEVELS = ["emerging", "developing", "proficient", "advanced"];
const $ = (id) => document.getElementById(id);

function el(tag, opts = {}, children = []) {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  if (opts.text !== undefined) e.textContent = opts.text;
  for (const c of children) e.appendChild(c);
  return e;
}

// The statement with [start, end) code point ranges wrapped in <mark>, built as DOM text nodes.
function highlighted(text, ranges) {
  const chars = Array.from(text);
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const [a, b] of ranges || []) {
    if (a > at) frag.appendChild(document.createTextNode(chars.slice(at, a).join("")));
    frag.appendChild(el("mark", { text: chars.slice(a, b).join("") }));
    at = b;
  }
  if (at < chars.length) frag.appendChild(document.createTextNode(chars.slice(at).join("")));
  return frag;
}

// The API key, when the server asks for one: kept for this tab only (session storage), given
// once in the key form or as a #key=... link fragment, which is removed from the address.
const KEY_ITEM = "skillmap-api-key";

async function api(url, options = {}) {
  const key = sessionStorage.getItem(KEY_ITEM);
  const headers = Object.assign({}, options.headers || {});
  if (key) headers["Authorization"] = "Bearer " + key;
  const resp = await fetch(url, Object.assign({}, options, { headers }));
  const body = await resp.json().catch(() => ({}));
  if (resp.status === 401) {
    if (key) sessionStorage.removeItem(KEY_ITEM);
    $("key-form").hidden = false;
  }
  if (!resp.ok) throw new Error((body.error && body.error.message) || resp.statusText);
  return body;
}

function takeKeyFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    sessionStorage.setItem(KEY_ITEM, fragment.get("key"));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function hitItem(h) {
  const li = el("li", { cls: "hit" });
  const meta = el("div", { cls: "meta" });
  meta.appendChild(el("span", { cls: "soc", text: h.soc + " " }));
  meta.appendChild(document.createTextNode(h.title + " "));
  meta.appendChild(el("span", { cls: "level", text: h.level }));
  meta.appendChild(document.createTextNode(" score " + h.score.toFixed(2)));
  li.appendChild(meta);
  const p = el("div", { cls: "statement" });
  p.appendChild(highlighted(h.statement, h.highlights));
  li.appendChild(p);
  return li;
}

// A list of statements, each with its level and highlighted words.
function evidenceList(items) {
  const ul = el("ul", { cls: "evidence" });
  for (const e of items) {
    const item = el("li");
    item.appendChild(el("span", { cls: "level", text: e.level }));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(highlighted(e.statement, e.highlights));
    ul.appendChild(item);
  }
  return ul;
}

function occupationItem(o) {
  const li = el("li", { cls: "hit occupation" });
  const meta = el("div", { cls: "meta" });
  meta.appendChild(el("span", { cls: "soc", text: o.soc + " " }));
  meta.appendChild(document.createTextNode(o.title + " · score " + o.score.toFixed(2) + " · " +
    LEVELS.map((l) => l + " " + (o.levels[l] || 0)).join(", ")));
  li.appendChild(meta);
  li.appendChild(evidenceList(o.hits));
  return li;
}

async function runSearch(pushState) {
  const q = $("q").value.trim();
  const results = $("results");
  results.replaceChildren();
  if (!q) { $("search-summary").textContent = ""; return; }
  const params = new URLSearchParams({ q });
  for (const box of document.querySelectorAll("input[name=level]:checked")) params.append("level", box.value);
  if ($("soc").value) params.append("soc", $("soc").value);
  const byOcc = $("by-occupation").checked;
  if (byOcc) params.set("by", "occupation");
  params.set("limit", "20");
  if (pushState) history.replaceState(null, "", "?" + new URLSearchParams({ q }).toString());
  try {
    const r = await api("/api/search?" + params.toString());
    if (byOcc) {
      $("search-summary").textContent = r.total + " occupation(s) · " + r.took_ms.toFixed(1) + " ms";
      for (const o of r.occupations) results.appendChild(occupationItem(o));
    } else {
      $("search-summary").textContent = r.total + " statement(s), " + r.total_all_terms +
        " with every word · " + r.took_ms.toFixed(1) + " ms";
      for (const h of r.hits) results.appendChild(hitItem(h));
    }
  } catch (e) {
    $("search-summary").textContent = "error: " + e.message;
  }
}

function levelBars(scores, best) {
  const grid = el("div", { cls: "bars" });
  for (const l of LEVELS) {
    const v = scores[l] || 0;
    grid.appendChild(el("span", { text: l }));
    const bar = el("div", { cls: "bar" + (l === best ? " best" : "") });
    const fill = el("span");
    fill.style.width = Math.round(v * 100) + "%";
    bar.appendChild(fill);
    grid.appendChild(bar);
    grid.appendChild(el("span", { text: Math.round(v * 100) + "%" }));
  }
  return grid;
}

function matchItem(m) {
  const li = el("li", { cls: "match" });
  const meta = el("div", { cls: "meta" });
  meta.appendChild(el("span", { cls: "soc", text: m.soc + " " }));
  meta.appendChild(document.createTextNode(m.title + " · confidence " + Math.round(m.confidence * 100) + "% · level "));
  meta.appendChild(el("span", { cls: "level", text: m.level }));
  li.appendChild(meta);
  li.appendChild(levelBars(m.level_scores, m.level));
  if (m.evidence.length) {
    li.appendChild(el("div", { cls: "muted", text: "evidence" }));
    li.appendChild(evidenceList(m.evidence));
  }
  if (m.gap.length) {
    li.appendChild(el("div", { cls: "muted", text: "not covered by the posting" }));
    const ul = el("ul", { cls: "gap" });
    for (const g of m.gap) ul.appendChild(el("li", { text: "[" + g.level + "] " + g.statement }));
    li.appendChild(ul);
  }
  return li;
}

async function runMap() {
  const text = $("map-text").value;
  const title = $("map-title").value.trim();
  const matches = $("matches");
  matches.replaceChildren();
  if (!text.trim() && !title) { $("map-summary").textContent = ""; return; }
  try {
    const body = { text, top: 5 };
    if (title) body.title = title;
    const r = await api("/api/map", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let summary = r.matches.length + " match(es)";
    if (r.uncertain) {
      summary += " · uncertain" + (r.shared_group ? ": the closest share " + r.shared_group.code + " " + r.shared_group.name : "");
    }
    if (r.seniority.length) summary += " · seniority: " + r.seniority.map((c) => c.phrase.trim()).join(", ");
    $("map-summary").textContent = summary;
    $("map-summary").className = r.uncertain ? "muted uncertain" : "muted";
    for (const m of r.matches) matches.appendChild(matchItem(m));
  } catch (e) {
    $("map-summary").textContent = "error: " + e.message;
  }
}

async function loadStats() {
  try {
    const s = await api("/api/stats");
    $("stats").textContent = s.occupations + " occupations, " + s.statements + " statements";
    for (const g of s.groups) {
      const opt = el("option", { text: g.code + " " + g.name });
      opt.value = g.code;
      $("soc").appendChild(opt);
    }
  } catch (e) {
    $("stats").textContent = "stats unavailable: " + e.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  takeKeyFromFragment();
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_ITEM, key);
    $("api-key").value = "";
    $("key-form").hidden = true;
    loadStats();
    runSearch(false);
    runMap();
  });
  $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); runSearch(true); });
  $("map-form").addEventListener("submit", (ev) => { ev.preventDefault(); runMap(); });
  $("by-occupation").addEventListener("change", () => runSearch(false));
  loadStats();
  // A link reproduces a view: ?q= runs a search and ?map= maps a posting on load.
  const params = new URLSearchParams(location.search);
  if (params.get("q")) { $("q").value = params.get("q"); runSearch(false); }
  if (params.get("map")) { $("map-text").value = params.get("map"); runMap(); }
});
