// The Vectorize dashboard: watches and steers tasks through the HTTP API.
// No framework, no build step, nothing from elsewhere. Every API URL is relative ("tasks",
// "tasks/stats", …), so the page works at / and /dashboard and under the API prefix (/v1/api/).
//
// State lives in the page's URL query (task_type, status, tag, within_hours, limit, offset, and
// the open task), so a view can be bookmarked or shared; the API key lives in sessionStorage.
//
// Live updates: a "source" tells the page when something changed. The event stream
// (GET tasks/events, Server-Sent Events) patches the rows and the open detail in place as each
// change arrives and re-reads the list and the counts at most once a second; when the stream
// cannot be opened (an old server, a proxy that buffers) the page falls back to a poll every 2 s
// and tries the stream again later. Both pause while the tab is hidden. EventSource cannot send
// headers, so the API key also goes into a session cookie that only the event stream reads.
"use strict";

(function () {
  const TASK_TYPES = ["model_upload", "dataset_upload", "training", "evaluation", "synthesis"];
  const STATUSES = [
    { code: "Q", label: "Queued" },
    { code: "R", label: "Running" },
    { code: "D", label: "Done" },
    { code: "F", label: "Failed" },
    { code: "C", label: "Cancelled" },
  ];
  const STATUS_LABEL = Object.fromEntries(STATUSES.map((s) => [s.code, s.label]));
  const LIMITS = [10, 20, 50, 100];
  const POLL_MS = 2000;
  const CHART_EVERY = 5;      // the chart's sample is re-fetched every 5th refresh (10 s)
  const CHART_BUCKETS = 12;
  const KEY_STORAGE = "vectorize.apiKey";

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------------------------------
  // API key (sessionStorage, like /docs) and fetch

  let keyInMemory = "";  // when the browser refuses sessionStorage
  function apiKey() {
    try { return sessionStorage.getItem(KEY_STORAGE) || keyInMemory; } catch (e) { return keyInMemory; }
  }
  // The event stream's key (EventSource sends cookies, not headers). A session cookie, like the
  // sessionStorage entry; only GET /tasks/events reads it.
  function setKeyCookie(value) {
    document.cookie = "vectorize_api_key=" + (value ? encodeURIComponent(value) : "") +
      "; path=/; SameSite=Strict" + (value ? "" : "; max-age=0");
  }
  function setApiKey(value) {
    keyInMemory = value;
    setKeyCookie(value);
    try {
      if (value) sessionStorage.setItem(KEY_STORAGE, value);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch (e) { /* storage disabled: the key lasts until the page is left */ }
  }
  function authHeaders() {
    const key = apiKey();
    return key ? { Authorization: "Bearer " + key } : {};
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(describeError(status, body));
      this.status = status;
      this.body = body;
    }
  }

  function describeError(status, body) {
    if (body && typeof body === "object") {
      if (body.message) return status + ": " + body.message;
      if (Array.isArray(body.detail)) {
        return status + ": " + body.detail.map((d) => (d.loc || []).join(".") + " " + d.msg).join("; ");
      }
    }
    return "HTTP " + status;
  }

  // Returns {status, body}; throws ApiError for statuses not in `ok`.
  async function api(path, { method = "GET", body, ok = [200] } = {}) {
    const headers = { Accept: "application/json", ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    let parsed = null;
    const text = await res.text();
    if (text) { try { parsed = JSON.parse(text); } catch (e) { parsed = text; } }
    if (!ok.includes(res.status)) throw new ApiError(res.status, parsed);
    return { status: res.status, body: parsed };
  }

  // ------------------------------------------------------------------------------------------
  // View state ⇄ URL query

  function readState() {
    const q = new URLSearchParams(location.search);
    const int = (name, dflt, min, max) => {
      const v = parseInt(q.get(name), 10);
      return Number.isFinite(v) && v >= min && v <= max ? v : dflt;
    };
    return {
      types: q.getAll("task_type").filter((t) => TASK_TYPES.includes(t)),
      statuses: q.getAll("status").filter((s) => STATUS_LABEL[s]),
      tag: q.get("tag") || "",
      hours: int("within_hours", 24, 1, 1000000),
      limit: int("limit", 20, 1, 100),
      offset: int("offset", 0, 0, Number.MAX_SAFE_INTEGER),
      task: q.get("task") || "",
    };
  }

  function writeState(s, { push = false } = {}) {
    const q = new URLSearchParams();
    s.types.forEach((t) => q.append("task_type", t));
    s.statuses.forEach((c) => q.append("status", c));
    if (s.tag) q.set("tag", s.tag);
    q.set("within_hours", String(s.hours));
    q.set("limit", String(s.limit));
    if (s.offset) q.set("offset", String(s.offset));
    if (s.task) q.set("task", s.task);
    const url = location.pathname + "?" + q.toString();
    if (url !== location.pathname + location.search) {
      (push ? history.pushState : history.replaceState).call(history, null, "", url);
    }
  }

  // The filters the counts and the chart share with the table: types, tag and window (not the
  // statuses — the counts are by status — nor the page).
  function scopeQuery(s) {
    const q = new URLSearchParams();
    s.types.forEach((t) => q.append("task_type", t));
    if (s.tag) q.set("tag", s.tag);
    q.set("within_hours", String(s.hours));
    return q.toString();
  }

  // The API query for the table (the same filters, minus the page's own "task").
  function listQuery(s) {
    const q = new URLSearchParams();
    s.types.forEach((t) => q.append("task_type", t));
    s.statuses.forEach((c) => q.append("status", c));
    if (s.tag) q.set("tag", s.tag);
    q.set("within_hours", String(s.hours));
    q.set("limit", String(s.limit));
    q.set("offset", String(s.offset));
    return q.toString();
  }

  let state = readState();

  // ------------------------------------------------------------------------------------------
  // Small helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function relativeTime(iso, now = Date.now()) {
    if (!iso) return "";
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return iso;
    const s = Math.round((now - t) / 1000);
    const future = s < 0;
    const a = Math.abs(s);
    let text;
    if (a < 5) return "just now";
    if (a < 60) text = a + " s";
    else if (a < 3600) text = Math.floor(a / 60) + " min";
    else if (a < 86400) text = Math.floor(a / 3600) + " h";
    else text = Math.floor(a / 86400) + " d";
    return future ? "in " + text : text + " ago";
  }

  function absoluteTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString() + " (" + iso + ")";
  }

  // <time> with the relative text, and the absolute time in its tooltip.
  function timeEl(iso) {
    if (!iso) return el("span", { class: "muted", text: "—" });
    return el("time", { datetime: iso, title: absoluteTime(iso), "data-rel": iso, text: relativeTime(iso) });
  }

  function durationText(ms) {
    if (!Number.isFinite(ms) || ms < 0) return "";
    if (ms < 1000) return ms + " ms";
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min" + (Math.round(s % 60) ? " " + Math.round(s % 60) + " s" : "");
    const h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
    return h + " h" + (m ? " " + m + " min" : "");
  }

  function statusBadge(code) {
    return el("span", { class: "badge st-" + code, title: STATUS_LABEL[code] || code },
      el("span", { class: "dot", "aria-hidden": "true" }), STATUS_LABEL[code] || code);
  }

  function progressEl(task) {
    if (task.task_status !== "R" && task.progress == null) return el("span", { class: "muted", text: "—" });
    const frac = task.progress == null ? null : Math.max(0, Math.min(1, task.progress));
    const pct = frac == null ? null : Math.round(frac * 100);
    const bar = el("div", {
      class: "bar" + (frac == null ? " indeterminate" : ""), role: "progressbar",
      "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": pct == null ? undefined : String(pct),
      "aria-label": "Progress",
    }, el("div", { class: "fill" }));
    if (frac != null) bar.firstChild.style.width = pct + "%";
    const label = [pct == null ? "" : pct + "%", task.progress_msg || ""].filter(Boolean).join(" · ");
    return el("div", { class: "progress" }, bar, label ? el("span", { class: "pmsg", title: label, text: label }) : null);
  }

  function showNotice(text, kind = "error") {
    const n = $("notice");
    if (!text) { n.hidden = true; n.textContent = ""; return; }
    n.className = "notice " + kind;
    n.textContent = text;
    n.hidden = false;
  }

  // ------------------------------------------------------------------------------------------
  // Filters

  function buildFilters() {
    const types = $("type-checks");
    for (const t of TASK_TYPES) {
      const id = "ft-" + t;
      types.append(el("label", { for: id, class: "check" },
        el("input", { type: "checkbox", id, name: "task_type", value: t }), t.replace("_", " ")));
    }
    const sts = $("status-checks");
    for (const s of STATUSES) {
      const id = "fs-" + s.code;
      sts.append(el("label", { for: id, class: "check" },
        el("input", { type: "checkbox", id, name: "status", value: s.code }), statusBadge(s.code)));
    }
    const form = $("filters");
    form.addEventListener("change", (e) => {
      if (e.target.id === "f-tag") return;  // the tag applies on Enter or after typing stops
      applyForm();
    });
    let tagTimer = 0;
    $("f-tag").addEventListener("input", () => {
      clearTimeout(tagTimer);
      tagTimer = setTimeout(applyForm, 400);
    });
    form.addEventListener("submit", (e) => { e.preventDefault(); applyForm(); });
    form.addEventListener("reset", (e) => {
      e.preventDefault();
      state = { ...state, types: [], statuses: [], tag: "", offset: 0 };
      syncForm();
      changed();
    });
  }

  function ensureOption(select, value, label) {
    if (![...select.options].some((o) => o.value === String(value))) {
      select.append(el("option", { value: String(value), text: label }));
    }
    select.value = String(value);
  }

  function syncForm() {
    for (const box of document.querySelectorAll("#type-checks input")) box.checked = state.types.includes(box.value);
    for (const box of document.querySelectorAll("#status-checks input")) box.checked = state.statuses.includes(box.value);
    const tag = $("f-tag");
    if (document.activeElement !== tag) tag.value = state.tag;
    ensureOption($("f-hours"), state.hours, "last " + state.hours + " hours");
    ensureOption($("f-limit"), state.limit, String(state.limit));
  }

  function applyForm() {
    const checked = (sel) => [...document.querySelectorAll(sel)].filter((b) => b.checked).map((b) => b.value);
    state = {
      ...state,
      types: checked("#type-checks input"),
      statuses: checked("#status-checks input"),
      tag: $("f-tag").value.trim(),
      hours: parseInt($("f-hours").value, 10) || 24,
      limit: parseInt($("f-limit").value, 10) || 20,
      offset: 0,
    };
    changed();
  }

  // Any change of the view: into the URL, then fetch now.
  function changed({ chart = true } = {}) {
    writeState(state);
    syncForm();
    if (chart) chartAge = CHART_EVERY;
    refresh();
  }

  // ------------------------------------------------------------------------------------------
  // Counts per status (chips) and the chart

  function renderChips(stats) {
    const chips = $("chips");
    chips.textContent = "";
    // The stats carry the type and tag filters (scopeQuery), so the counts are those of the
    // table's tasks by status.
    $("counts-window").textContent = "(last " + state.hours + " h" +
      (state.types.length ? ", " + state.types.join(", ") : "") +
      (state.tag ? ", tag " + state.tag : "") + (stats ? ", " + stats.total + " in all" : "") + ")";
    for (const s of STATUSES) {
      const n = stats ? stats.by_status[s.code] || 0 : "…";
      const active = state.statuses.length === 1 && state.statuses[0] === s.code;
      chips.append(el("button", {
        type: "button", class: "chip st-" + s.code + (active ? " active" : ""),
        "aria-pressed": active ? "true" : "false", "data-status": s.code,
        title: active ? "Show every status" : "Show only " + s.label.toLowerCase() + " tasks",
        onclick: () => {
          state = { ...state, statuses: active ? [] : [s.code], offset: 0 };
          changed({ chart: false });
        },
      }, el("span", { class: "dot", "aria-hidden": "true" }), s.label, el("strong", { class: "count", text: String(n) })));
    }
  }

  // SVG elements are made in the namespace of the page's own <svg id="chart-svg">.
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS($("chart-svg").namespaceURI, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  // Bars of finished (D) and failed (F) tasks per time bucket over the window, by end time,
  // from a sample: the newest 100 D/F tasks of the window (the API's page limit). When the
  // window holds more, the note says so and the chart covers only the sample's span.
  function renderChart(sample, stats) {
    const root = $("chart-svg");
    root.textContent = "";
    $("chart-legend").hidden = !sample;
    const note = $("chart-note");
    if (!sample) { note.textContent = "Loading…"; return; }
    const now = Date.now();
    const start = now - state.hours * 3600 * 1000;
    const width = 360, height = 120, padL = 28, padB = 18, padT = 6;
    const bucketMs = (now - start) / CHART_BUCKETS;
    const done = new Array(CHART_BUCKETS).fill(0), failed = new Array(CHART_BUCKETS).fill(0);
    for (const t of sample) {
      const end = Date.parse(t.end_date || t.created_at);
      if (!Number.isFinite(end) || end < start) continue;
      const i = Math.min(CHART_BUCKETS - 1, Math.floor((end - start) / bucketMs));
      if (t.task_status === "D") done[i]++; else if (t.task_status === "F") failed[i]++;
    }
    const max = Math.max(1, ...done, ...failed);
    const plotW = width - padL, plotH = height - padB - padT;
    const bw = plotW / CHART_BUCKETS;
    root.setAttribute("viewBox", `0 0 ${width} ${height}`);
    root.setAttribute("aria-label", `Finished and failed tasks per ${durationText(bucketMs)} over the last ${state.hours} h: ` +
      `${done.reduce((a, b) => a + b, 0)} finished, ${failed.reduce((a, b) => a + b, 0)} failed`);
    root.append(svg("line", { x1: padL, y1: padT + plotH, x2: width, y2: padT + plotH, class: "axis" }));
    root.append(svg("text", { x: padL - 4, y: padT + 8, class: "tick", "text-anchor": "end" }, String(max)));
    root.append(svg("text", { x: padL - 4, y: padT + plotH, class: "tick", "text-anchor": "end" }, "0"));
    root.append(svg("text", { x: padL, y: height - 4, class: "tick" }, "-" + state.hours + " h"));
    root.append(svg("text", { x: width, y: height - 4, class: "tick", "text-anchor": "end" }, "now"));
    for (let i = 0; i < CHART_BUCKETS; i++) {
      const x = padL + i * bw;
      const from = new Date(start + i * bucketMs), to = new Date(start + (i + 1) * bucketMs);
      const pair = [["D", done[i]], ["F", failed[i]]];
      pair.forEach(([code, n], j) => {
        const h = (n / max) * plotH;
        const rect = svg("rect", {
          x: (x + 2 + j * (bw - 4) / 2).toFixed(1), y: (padT + plotH - h).toFixed(1),
          width: Math.max(1, (bw - 4) / 2 - 1).toFixed(1), height: Math.max(n ? 1 : 0, h).toFixed(1),
          class: "bar-" + code,
        });
        rect.append(svg("title", {}, `${n} ${code === "D" ? "finished" : "failed"}, ` +
          `${from.toLocaleTimeString()}–${to.toLocaleTimeString()}`));
        root.append(rect);
      });
    }
    const inWindow = stats ? (stats.by_status.D || 0) + (stats.by_status.F || 0) : null;
    let text = `${sample.length} finished or failed task${sample.length === 1 ? "" : "s"} that ended in the window, by end time, ` +
      `in ${CHART_BUCKETS} buckets of ${durationText(bucketMs)}.`;
    if (inWindow != null && inWindow > sample.length) {
      text += ` Only the newest ${sample.length} of ${inWindow} in the window are drawn.`;
    }
    note.textContent = text;
  }

  // ------------------------------------------------------------------------------------------
  // Table

  let lastRows = [];
  let lastMore = false;  // whether a task exists beyond the page shown

  function renderRows(list, more) {
    lastRows = list;
    lastMore = more;
    const tbody = $("rows");
    const focusedId = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.id : null;
    tbody.textContent = "";
    for (const t of list) {
      const tr = el("tr", {
        tabindex: "0", "data-id": t.id, "data-status": t.task_status,
        class: "row" + (t.id === state.task ? " selected" : ""),
        "aria-label": `${STATUS_LABEL[t.task_status]} ${t.task_type} task ${t.id}` + (t.tag ? `, tag ${t.tag}` : ""),
        "aria-selected": t.id === state.task ? "true" : "false",
      },
      el("td", { "data-label": "Status" }, statusBadge(t.task_status)),
      el("td", { "data-label": "Type", text: t.task_type }),
      el("td", { "data-label": "Tag" }, t.tag ? el("span", { class: "tag", text: t.tag }) : el("span", { class: "muted", text: "—" })),
      el("td", { "data-label": "Progress", class: "col-progress" }, progressEl(t)),
      el("td", { "data-label": "Created" }, timeEl(t.created_at)),
      el("td", { "data-label": "Ended" }, timeEl(t.end_date)),
      el("td", { "data-label": "Id" }, el("code", { class: "id", title: t.id, text: "…" + t.id.slice(-8) })));
      if (t.error_msg && t.task_status === "F") {
        tr.title = t.error_msg;
      }
      tbody.append(tr);
    }
    if (focusedId) {
      const again = tbody.querySelector(`tr[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
    $("empty").hidden = list.length > 0;
    const from = list.length ? state.offset + 1 : 0;
    $("range").textContent = list.length ? `${from}–${state.offset + list.length}` : "";
    $("page-label").textContent = `Page ${Math.floor(state.offset / state.limit) + 1}`;
    $("prev").disabled = state.offset === 0;
    $("next").disabled = !more;
  }

  function setupTable() {
    const tbody = $("rows");
    tbody.addEventListener("click", (e) => {
      const tr = e.target.closest("tr[data-id]");
      if (tr) openDetail(tr.dataset.id, tr);
    });
    tbody.addEventListener("keydown", (e) => {
      const tr = e.target.closest("tr[data-id]");
      if (!tr) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        openDetail(tr.dataset.id, tr);
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const next = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
        if (next) next.focus();
      }
    });
    $("prev").addEventListener("click", () => {
      state = { ...state, offset: Math.max(0, state.offset - state.limit) };
      changed({ chart: false });
    });
    $("next").addEventListener("click", () => {
      state = { ...state, offset: state.offset + state.limit };
      changed({ chart: false });
    });
  }

  // ------------------------------------------------------------------------------------------
  // Detail panel, cancel and retry

  let detailOpener = null;  // the row to give focus back to on close
  let lastDetail = null;

  function openDetail(id, opener) {
    detailOpener = opener || null;
    state = { ...state, task: id };
    writeState(state);
    for (const tr of document.querySelectorAll("#rows tr")) {
      const sel = tr.dataset.id === id;
      tr.classList.toggle("selected", sel);
      tr.setAttribute("aria-selected", sel ? "true" : "false");
    }
    const panel = $("detail");
    panel.hidden = false;
    document.body.classList.add("has-detail");
    $("detail-body").textContent = "Loading…";
    lastDetail = null;
    loadDetail().then(() => panel.focus());
  }

  function closeDetail() {
    const panel = $("detail");
    if (panel.hidden) return;
    panel.hidden = true;
    document.body.classList.remove("has-detail");
    state = { ...state, task: "" };
    writeState(state);
    for (const tr of document.querySelectorAll("#rows tr.selected")) {
      tr.classList.remove("selected");
      tr.setAttribute("aria-selected", "false");
    }
    const again = detailOpener && detailOpener.dataset
      ? document.querySelector(`#rows tr[data-id="${CSS.escape(detailOpener.dataset.id)}"]`) : null;
    if (again) again.focus(); else $("tasks-table").focus();
    detailOpener = null;
  }

  async function loadDetail() {
    if (!state.task) return;
    const id = state.task;
    try {
      const { body } = await api("tasks/" + encodeURIComponent(id));
      if (state.task !== id) return;
      lastDetail = body;
      renderDetail(body);
    } catch (e) {
      if (state.task !== id) return;
      if (e.status === 404 || e.status === 422) {
        $("detail-body").textContent = "";
        $("detail-body").append(el("p", { class: "error-box", text: "No such task: " + id + " (" + e.message + ")" }));
      } else {
        handleError(e);
      }
    }
  }

  function renderDetail(t) {
    $("detail-h").textContent = t.task_type + " task";
    const body = $("detail-body");
    const keepAction = body.querySelector(".action-result");
    const focusedAction = document.activeElement && body.contains(document.activeElement)
      ? document.activeElement.dataset.action : null;
    body.textContent = "";

    const head = el("div", { class: "detail-status" }, statusBadge(t.task_status),
      t.cancel_requested && t.task_status === "R" ? el("span", { class: "muted", text: " cancel requested" }) : null);
    body.append(head);

    if (t.error_msg) {
      body.append(el("div", { class: "error-box", role: "note" },
        el("strong", { text: t.task_status === "F" ? "Error" : "Message" }), el("pre", { text: t.error_msg })));
    }
    if (t.task_status === "R" || t.progress != null) body.append(progressEl(t));

    const actions = el("div", { class: "actions" });
    if (t.task_status === "Q" || t.task_status === "R") {
      actions.append(el("button", { type: "button", class: "danger", "data-action": "cancel",
        onclick: () => act("cancel", t) }, "Cancel task…"));
    }
    if (t.task_status === "F" || t.task_status === "C") {
      actions.append(el("button", { type: "button", class: "primary", "data-action": "retry",
        onclick: () => act("retry", t) }, "Retry task…"));
    }
    if (actions.childNodes.length) body.append(actions);
    if (keepAction) body.append(keepAction);

    const started = Date.parse(t.started_at), ended = Date.parse(t.end_date), created = Date.parse(t.created_at);
    const rows = [
      ["Id", el("code", { text: t.id })],
      ["Type", t.task_type],
      ["Tag", t.tag || "—"],
      ["Attempts", `${t.attempts} of ${t.max_attempts}`],
      ["Worker", t.worker_id || "—"],
      ["Created", timeEl(t.created_at)],
      ["Started", timeEl(t.started_at)],
      ["Ended", timeEl(t.end_date)],
      ["Updated", timeEl(t.updated_at)],
      ["Waited", Number.isFinite(started) ? durationText(started - created) : "—"],
      ["Ran", Number.isFinite(started) ? durationText((Number.isFinite(ended) ? ended : Date.now()) - started) +
        (Number.isFinite(ended) ? "" : " so far") : "—"],
      ["Run after", timeEl(t.run_after)],
      ["Lease until", timeEl(t.lease_expires_at)],
    ];
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of rows) dl.append(el("dt", { text: k }), el("dd", {}, v));
    body.append(dl);

    body.append(el("h3", { text: "Inputs" }), el("pre", { class: "json", tabindex: "0", text: JSON.stringify(t.inputs, null, 2) }));
    body.append(el("h3", { text: "Result" }), el("pre", { class: "json", tabindex: "0", text: t.result == null ? "—" : JSON.stringify(t.result, null, 2) }));
    const produced = producedLinks(t.result);
    if (produced) body.append(produced);

    if (focusedAction) {
      const again = body.querySelector(`[data-action="${focusedAction}"]`);
      if (again) again.focus();
    }
  }

  // Ids of what a task produced (dataset_id, model_id…), shown so they can be copied; the API
  // has no dataset or model pages yet to link to.
  function producedLinks(result) {
    if (!result || typeof result !== "object") return null;
    const keys = Object.keys(result).filter((k) => /(^|_)(dataset|model)(_id|_name|_path)?$/.test(k));
    if (!keys.length) return null;
    const ul = el("ul", { class: "produced" });
    for (const k of keys) ul.append(el("li", {}, el("strong", { text: k + ": " }), el("code", { text: String(result[k]) })));
    return el("div", {}, el("h3", { text: "Produced" }), ul);
  }

  function confirmDialog(text, yesLabel, danger = false) {
    const dlg = $("confirm");
    $("confirm-text").textContent = text;
    $("confirm-yes").textContent = yesLabel;
    $("confirm-yes").className = danger ? "danger" : "primary";
    return new Promise((resolve) => {
      const done = () => { dlg.removeEventListener("close", done); resolve(dlg.returnValue === "ok"); };
      dlg.addEventListener("close", done);
      dlg.returnValue = "";
      if (typeof dlg.showModal === "function") {
        dlg.showModal();
        $("confirm-no").focus();
      } else {
        resolve(window.confirm(text));
      }
    });
  }

  async function act(kind, t) {
    const what = kind === "cancel"
      ? (t.task_status === "Q" ? "Cancel this queued task? It will not run." :
        "Cancel this running task? The job stops at its next safe point.")
      : "Retry this task? It is queued again with a fresh attempt count.";
    const ok = await confirmDialog(`${what}\n${t.task_type} · ${t.id}`, kind === "cancel" ? "Cancel task" : "Retry task", kind === "cancel");
    if (!ok) { focusAction(kind); return; }
    let msg, cls;
    try {
      const res = await api(`tasks/${encodeURIComponent(t.id)}/${kind}`, { method: "POST", ok: [200, 202, 409] });
      if (res.status === 409) {
        cls = "warn";
        msg = `409 Conflict: ${res.body && res.body.message ? res.body.message : "the task's state does not allow this"}`;
      } else {
        cls = "ok";
        const st = res.body && res.body.task_status ? STATUS_LABEL[res.body.task_status] : "";
        msg = res.status === 200
          ? `200 OK: cancelled${st ? " (now " + st + ")" : ""}.`
          : kind === "cancel"
            ? `202 Accepted: cancellation requested; the job stops at its next safe point.`
            : `202 Accepted: queued again${st ? " (now " + st + ")" : ""}.`;
      }
    } catch (e) {
      cls = "warn";
      msg = e.message;
      if (e.status === 401) handleError(e);
    }
    const body = $("detail-body");
    const old = body.querySelector(".action-result");
    if (old) old.remove();
    body.append(el("p", { class: "action-result " + cls, role: "status", text: msg }));
    await refresh();
    focusAction(kind);
  }

  function focusAction(kind) {
    const b = $("detail-body").querySelector(`[data-action="${kind}"]`);
    if (b) b.focus(); else $("detail").focus();
  }

  // ------------------------------------------------------------------------------------------
  // Refresh: one round of the table, the counts, the chart (every CHART_EVERY-th time) and the
  // open task. Overlapping calls coalesce.

  let chartAge = CHART_EVERY;
  let chartSample = null;
  let chartStats = null;
  let inFlight = null, again = false;
  let lastOk = 0;

  function refresh() {
    if (inFlight) { again = true; return inFlight; }
    inFlight = (async () => {
      try {
        do {
          again = false;
          await refreshOnce();
        } while (again);
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  }

  async function refreshOnce() {
    const s = state;
    try {
      const wantChart = chartAge >= CHART_EVERY;
      const [list, stats, sample] = await Promise.all([
        api("tasks?" + listQuery(s)),
        api("tasks/stats?" + scopeQuery(s)),
        wantChart ? api(`tasks?${scopeQuery(s)}&status=D&status=F&limit=100`) : null,
      ]);
      // A full page may be the last one: look one task further before offering "Older".
      const more = list.body.length === s.limit
        ? (await api("tasks?" + listQuery({ ...s, offset: s.offset + s.limit, limit: 1 }))).body.length > 0
        : false;
      if (s !== state) { again = true; return; }  // the view changed meanwhile
      renderRows(list.body, more);
      renderChips(stats.body);
      // The sample and the counts it is compared with come from the same moment.
      if (wantChart) { chartSample = sample.body; chartStats = stats.body; chartAge = 0; } else { chartAge++; }
      renderChart(chartSample, chartStats);
      if (state.task) await loadDetail();
      lastOk = Date.now();
      showNotice("");
      updateLiveLabel();
    } catch (e) {
      handleError(e);
    }
  }

  function handleError(e) {
    if (e instanceof ApiError && e.status === 401) {
      showNotice(apiKey() ? "The server refused this API key (401). Enter another one above."
        : "This server requires an API key (401). Enter it above.");
      $("apikey").focus({ preventScroll: true });
    } else if (e instanceof ApiError) {
      showNotice("The server answered " + e.message);
    } else {
      showNotice("Cannot reach the server: " + (e && e.message ? e.message : e));
    }
    updateLiveLabel();
  }

  // Relative times tick without a fetch.
  function tickTimes() {
    const now = Date.now();
    for (const t of document.querySelectorAll("time[data-rel]")) t.textContent = relativeTime(t.dataset.rel, now);
    updateLiveLabel();
  }

  // ------------------------------------------------------------------------------------------
  // Live sources. A source has start() and stop() and calls onChange when data may have changed.

  function createPollingSource(onChange, intervalMs) {
    let timer = 0;
    return {
      kind: "poll",
      start() { if (!timer) { onChange(); timer = setInterval(onChange, intervalMs); } },
      stop() { clearInterval(timer); timer = 0; },
    };
  }

  // GET tasks/events: every change of every task (the counts need them all, not just the
  // table's filter). onTask(task) per `task` event; onChange() when the whole view should be
  // re-read (stream (re)opened, `reload`); onFail() when the stream is unusable.
  function createEventSource(onTask, onChange, onFail) {
    let es = null, openTimer = 0;
    const self = {
      kind: "events",
      connected: false,
      start() {
        if (es) return;
        es = new EventSource("tasks/events");
        // A stream that does not open soon (a buffering proxy, a dead server) counts as failed.
        openTimer = setTimeout(() => { if (!self.connected) fail(); }, 10000);
        es.addEventListener("open", () => { self.connected = true; clearTimeout(openTimer); onChange(); });
        es.addEventListener("task", (e) => {
          try { onTask(JSON.parse(e.data)); } catch (err) { onChange(); }
        });
        es.addEventListener("reload", () => onChange());
        es.addEventListener("error", () => {
          self.connected = false;
          // CONNECTING: the browser reconnects by itself (with Last-Event-ID). CLOSED: it gave up
          // (e.g. 401 or an answer that is not an event stream).
          if (es && es.readyState === EventSource.CLOSED) fail();
          updateLiveLabel();
        });
      },
      stop() { clearTimeout(openTimer); if (es) es.close(); es = null; self.connected = false; },
    };
    function fail() { self.stop(); onFail(); }
    return self;
  }

  // A change from the stream: patch the row and the open detail now, re-read list and counts
  // soon (new rows, order, counts, chart) — at most once a second however many events arrive.
  let rereadTimer = 0;
  function scheduleReread() {
    if (rereadTimer) return;
    rereadTimer = setTimeout(() => { rereadTimer = 0; refresh(); }, 1000);
  }
  function applyTaskEvent(t) {
    lastEvent = Date.now();
    const i = lastRows.findIndex((r) => r.id === t.id);
    if (i >= 0) {
      const row = { ...lastRows[i] };
      for (const k of Object.keys(row)) if (k in t) row[k] = t[k];
      const rows = lastRows.slice();
      rows[i] = row;
      renderRows(rows, lastMore);
    }
    if (state.task === t.id) { lastDetail = t; renderDetail(t); }
    scheduleReread();
    updateLiveLabel();
  }

  let lastEvent = 0;
  let streamRetry = 0;
  const STREAM_RETRY_MS = 30000;

  // The stream, or polling while the stream is unusable (retried every 30 s).
  function createLiveSource() {
    const poll = createPollingSource(refresh, POLL_MS);
    let events = null, current = null, running = false;
    function useEvents() {
      events = createEventSource(applyTaskEvent, () => { lastOk = Date.now(); refresh(); }, () => {
        current = poll;
        if (running) poll.start();
        updateLiveLabel();
        clearTimeout(streamRetry);
        streamRetry = setTimeout(() => { if (current === poll) { poll.stop(); useEvents(); if (running) current.start(); } }, STREAM_RETRY_MS);
      });
      current = events;
    }
    useEvents();
    return {
      get kind() { return current.kind; },
      get connected() { return current.kind === "events" ? current.connected : true; },
      start() { running = true; current.start(); },
      stop() { running = false; current.stop(); },
      restart() { clearTimeout(streamRetry); current.stop(); poll.stop(); useEvents(); if (running) current.start(); },
    };
  }

  let source = null;
  let userPaused = false;

  function updateLiveLabel() {
    const label = $("live-state");
    const running = !userPaused && !document.hidden;
    const last = Math.max(lastOk, lastEvent);
    const ago = last ? " · updated " + relativeTime(new Date(last).toISOString()) : "";
    let how = "";
    if (running && source) {
      how = source.kind === "events" ? (source.connected ? " (stream)" : " (connecting…)")
        : " (polling every 2 s)";
    }
    label.textContent = (running ? "● Live" : "❚❚ Paused") + how + ago;
    label.dataset.source = source ? source.kind : "";
    label.className = "live-state " + (running ? "on" : "off");
    const btn = $("live-toggle");
    btn.textContent = userPaused ? "Resume updates" : "Pause updates";
    btn.setAttribute("aria-pressed", userPaused ? "false" : "true");
  }

  function syncSource() {
    if (userPaused || document.hidden) source.stop(); else source.start();
    updateLiveLabel();
  }

  // ------------------------------------------------------------------------------------------

  function main() {
    buildFilters();
    syncForm();
    setupTable();
    renderChips(null);
    renderChart(null, null);

    const key = $("apikey");
    key.placeholder = apiKey() ? "a key is set" : "";
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      setApiKey(key.value);
      key.value = "";
      key.placeholder = apiKey() ? "a key is set" : "";
      showNotice("");
      chartAge = CHART_EVERY;
      if (source) source.restart();  // the stream reconnects with the new key
      refresh();
    });

    $("detail-close").addEventListener("click", closeDetail);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("detail").hidden && !$("confirm").open) {
        e.preventDefault();
        closeDetail();
      }
    });
    window.addEventListener("popstate", () => {
      state = readState();
      syncForm();
      if (state.task) openDetail(state.task); else closeDetail();
      refresh();
    });

    $("live-toggle").addEventListener("click", () => { userPaused = !userPaused; syncSource(); });
    document.addEventListener("visibilitychange", syncSource);

    writeState(state);
    if (state.task) openDetail(state.task);
    setKeyCookie(apiKey());
    source = createLiveSource();
    syncSource();
    setInterval(tickTimes, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
