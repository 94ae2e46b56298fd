// The secrets page: connect to a job, edit its secrets locally, save the whole set at once.
//
// Rules the code keeps everywhere:
// - A value reaches the DOM only while its row is revealed (or its editor is open); masked
//   rows hold a fixed placeholder, so nothing about the value (not even its length) is there.
// - The token lives in the token field and inside the SecretsClient, nowhere else.
// - Text from the server or the user goes in through textContent, never as markup.
import {
  SecretsClient,
  limits,
  parseSecretsDocument,
  secretsSize,
  validateJob,
  validateSecretName,
  validateSecretValue,
  validateSecrets,
  validateSecretsDocument,
} from "./vendor/vdk-secrets/index.js";
import {
  diffSets,
  displayText,
  editorTypeOf,
  formatBytes,
  hasUnsafeInteger,
  isEmptyDiff,
  jsonText,
  kindOf,
  listNames,
  overlap,
  parseValueText,
  putEntry,
  rebase,
  sortedNames,
  touchedNames,
  valueToText,
} from "./model.js";
import { createHistoryPanel } from "./history.js";

const $ = (id) => document.getElementById(id);
const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

/** Builds an element: h("p", {class: "x"}, "text", child, ...). Text is never parsed as HTML. */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.filter((c) => c != null && c !== false));
  return node;
}

/** "1 secret", "2 secrets" */
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const DEFAULT_MAX_SET_BYTES = limits().maxSetBytes;
const PLACEHOLDER = "••••••••";
const TOKEN_PARAMS = ["token", "access_token", "accessToken", "bearer"];

const state = {
  client: null,
  job: null, // {baseUrl, team, job}
  base: null, // the set as last read from or saved to the server
  etag: null, // the version `base` is at
  working: null, // base plus local edits
  revealed: null, // the one name whose value is shown
  selected: new Set(),
  filter: "",
  busy: false,
  conflict: null, // {theirs, etag, server (diff), overlap}
  editing: null, // {original: name or null, touched: Set of field ids}
  fileSet: null, // a parsed file waiting for "Replace"
  maxSetBytes: DEFAULT_MAX_SET_BYTES, // the connected server's limit, when it tells
};

let historyPanel = null; // the History panel (history.js), made by start()

function pendingDiff() {
  return state.working ? diffSets(state.base, state.working) : { added: [], changed: [], removed: [] };
}

function isDirty() {
  return state.working != null && !isEmptyDiff(pendingDiff());
}

function jobLabel() {
  return state.job ? `${state.job.team}/${state.job.job}` : "";
}

function versionOf(etag) {
  return etag ? etag.replace(/^W\//, "").replace(/"/g, "") : "unknown";
}

// ---------------------------------------------------------------------------------------
// Messages

function announce(text) {
  $("status").textContent = text;
}

function clearAlert() {
  $("alert").replaceChildren();
}

/** Shows a SecretsError (or anything thrown) as what / why / what to do, in the alert region. */
function showError(error) {
  const what = (error && error.what) || "Something went wrong";
  const why = (error && (error.why || error.message)) || String(error);
  const countermeasures = (error && error.countermeasures) || "Reload the page and try again.";
  const problems = (error && Array.isArray(error.problems) && error.problems) || [];
  const status = error && typeof error.status === "number" ? ` (HTTP ${error.status})` : "";
  const dismiss = h("button", { type: "button", class: "small" }, "Dismiss");
  dismiss.addEventListener("click", () => {
    clearAlert();
    $("main").focus();
  });
  const parts = [
    h("p", { class: "alert-what" }, what + status),
    h("p", {}, h("span", { class: "label" }, "Why: "), why),
    h("p", {}, h("span", { class: "label" }, "What to do: "), countermeasures),
    problems.length ? problemList(problems) : null,
    dismiss,
  ];
  $("alert").replaceChildren(...parts.filter(Boolean));
}

function problemText(problem, fallbackKey) {
  return `${problem.key || fallbackKey}: ${problem.message}`;
}

function problemList(problems, fallbackKey = "secrets") {
  return h("ul", { class: "problems" }, ...problems.map((p) => h("li", {}, problemText(p, fallbackKey))));
}

/** Writes problems under a field and marks it invalid (or clears both). */
function setFieldMessage(input, messageId, problems, fallbackKey) {
  const target = $(messageId);
  target.replaceChildren(...problems.map((p) => h("span", { class: "line" }, problemText(p, fallbackKey))));
  if (problems.length) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// ---------------------------------------------------------------------------------------
// Busy state: one request at a time.

// Handlers return early while busy instead of disabling buttons: disabling the focused
// button would drop keyboard focus to the top of the page.
function setBusy(busy, message) {
  state.busy = busy;
  $("secrets-section").setAttribute("aria-busy", busy ? "true" : "false");
  if (message) announce(message);
  render();
}

/** Marks a button unavailable while keeping it focusable (aria-disabled, not disabled). */
function setAvailable(button, available) {
  if (available) button.removeAttribute("aria-disabled");
  else button.setAttribute("aria-disabled", "true");
}

// ---------------------------------------------------------------------------------------
// Rendering

function render() {
  if (historyPanel) historyPanel.update();
  const section = $("secrets-section");
  if (!state.working) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  $("job-label").textContent = jobLabel();
  $("version-text").textContent = `Server version ${versionOf(state.etag)} at ${state.job.baseUrl}`;
  renderRows();
  renderToolbar();
  renderSize();
  renderChanges();
  renderConflict();
}

function shownNames() {
  const needle = state.filter.trim().toLowerCase();
  const names = sortedNames(state.working);
  return needle ? names.filter((n) => n.toLowerCase().includes(needle)) : names;
}

function actionButton(action, name, label) {
  return h(
    "button",
    { type: "button", class: "small", dataset: { action, name, focusKey: `${action}:${name}` } },
    label,
    h("span", { class: "visually-hidden" }, ` ${name}`),
  );
}

function renderRows() {
  // Rows are rebuilt; keep keyboard focus on the same control of the same row.
  const active = document.activeElement;
  const focusKey = active && $("rows").contains(active) ? active.dataset.focusKey : null;

  const diff = pendingDiff();
  const added = new Set(diff.added);
  const changed = new Set(diff.changed);
  const names = shownNames();
  const rows = names.map((name) => {
    const value = state.working[name];
    const revealed = state.revealed === name;
    const badge = added.has(name) ? "new" : changed.has(name) ? "edited" : null;
    const checkbox = h("input", {
      type: "checkbox",
      "aria-label": `Select ${name}`,
      dataset: { name, focusKey: `select:${name}` },
    });
    checkbox.checked = state.selected.has(name);
    const valueCell = revealed
      ? h("pre", { class: "value" }, displayText(value))
      : [
          h("span", { class: "masked", "aria-hidden": "true" }, PLACEHOLDER),
          h("span", { class: "visually-hidden" }, "hidden"),
        ];
    return h(
      "tr",
      { dataset: { name }, class: badge ? `row-${badge}` : null },
      h("td", { class: "col-select" }, checkbox),
      h(
        "th",
        { scope: "row", class: "col-name" },
        h("span", { class: "name" }, name),
        badge ? h("span", { class: "badge" }, badge) : null,
      ),
      h("td", { class: "col-type", "data-label": "Type" }, kindOf(value)),
      h("td", { class: "col-value", "data-label": "Value" }, ...[valueCell].flat()),
      h(
        "td",
        { class: "col-actions" },
        h(
          "div",
          { class: "row-actions" },
          actionButton("reveal", name, revealed ? "Hide" : "Show"),
          actionButton("copy", name, "Copy"),
          actionButton("edit", name, "Edit"),
          actionButton("delete", name, "Delete"),
        ),
      ),
    );
  });
  $("rows").replaceChildren(...rows);

  const total = Object.keys(state.working).length;
  $("secrets-table").hidden = names.length === 0;
  const empty = $("empty-text");
  empty.hidden = names.length !== 0;
  empty.textContent =
    total === 0
      ? "This job has no secrets. Add one, or overwrite all from a file."
      : `No secret name contains “${state.filter.trim()}”.`;
  $("filter-count").textContent =
    state.filter.trim() && total ? `Showing ${names.length} of ${total}` : plural(total, "secret");

  const selectAll = $("select-all");
  const shownSelected = names.filter((n) => state.selected.has(n)).length;
  selectAll.checked = names.length > 0 && shownSelected === names.length;
  selectAll.indeterminate = shownSelected > 0 && shownSelected < names.length;

  if (focusKey) {
    const again = $("rows").querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
    else $("secrets-heading").focus();
  }
}

function renderToolbar() {
  const count = state.selected.size;
  const deleteSelected = $("delete-selected");
  deleteSelected.textContent = count ? `Delete selected (${count})` : "Delete selected";
  setAvailable(deleteSelected, count > 0);
  setAvailable($("delete-all"), Object.keys(state.working).length > 0);
}

function renderSize() {
  let size;
  try {
    size = secretsSize(state.working);
  } catch {
    size = NaN;
  }
  const meter = $("size-meter");
  meter.max = state.maxSetBytes;
  meter.low = Math.round(state.maxSetBytes * 0.75);
  meter.high = Math.round(state.maxSetBytes * 0.9);
  meter.optimum = 0;
  meter.value = Number.isFinite(size) ? Math.min(size, state.maxSetBytes) : 0;
  const over = size > state.maxSetBytes;
  const percent = Number.isFinite(size) ? Math.round((size / state.maxSetBytes) * 1000) / 10 : 0;
  $("size-text").textContent = Number.isFinite(size)
    ? `${formatBytes(size)} of ${formatBytes(state.maxSetBytes)} (${percent}%)` +
      (over ? `: over the limit by ${formatBytes(size - state.maxSetBytes)}; the server will refuse it` : "")
    : "The size cannot be measured";
  $("size-text").classList.toggle("over", over);
}

function renderChanges() {
  const diff = pendingDiff();
  const count = touchedNames(diff).length;
  $("changes-summary").textContent = count
    ? `${plural(count, "unsaved change")}. Nothing is sent until you save.`
    : "None. Edits stay in this page until you save.";
  $("changes-list").replaceChildren(...diffItems(diff));
  setAvailable($("save"), count > 0 && state.conflict == null);
  setAvailable($("discard"), count > 0);
  $("changes").classList.toggle("dirty", count > 0);
}

/** "Added: a, b" lines of a diff. */
function diffItems(diff) {
  const lines = [
    ["Added", diff.added],
    ["Changed", diff.changed],
    ["Removed", diff.removed],
  ];
  return lines
    .filter(([, names]) => names.length)
    .map(([label, names]) => h("li", {}, h("span", { class: "label" }, `${label}: `), names.join(", ")));
}

function renderConflict() {
  const panel = $("conflict");
  const conflict = state.conflict;
  panel.hidden = conflict == null;
  if (!conflict) return;
  const changes = touchedNames(conflict.server).length;
  const saved = `Someone saved version ${versionOf(conflict.etag)} after you loaded version ${versionOf(state.etag)}`;
  $("conflict-summary").textContent = changes
    ? `${saved}. Changed on the server:`
    : `${saved}, with the same secrets you loaded.`;
  $("conflict-list").replaceChildren(...diffItems(conflict.server));
  $("conflict-overlap").textContent = conflict.overlap.length
    ? `You changed ${listNames(conflict.overlap)} too; if you reapply, your version wins.`
    : "None of these is a secret you changed.";
}

// ---------------------------------------------------------------------------------------
// Dialogs

/** An accessible yes/no dialog; resolves to true when confirmed. Focus starts on Cancel. */
function confirmDialog({ title, body, ok = "Delete", danger = true }) {
  const dialog = $("confirm-dialog");
  const opener = document.activeElement;
  $("confirm-title").textContent = title;
  const parts = [body].flat().filter(Boolean);
  $("confirm-body").replaceChildren(...parts.map((part) => (typeof part === "string" ? h("p", {}, part) : part)));
  const okButton = $("confirm-ok");
  okButton.textContent = ok;
  okButton.className = danger ? "danger" : "primary";
  return new Promise((resolve) => {
    const finish = (answer) => {
      okButton.onclick = null;
      $("confirm-cancel").onclick = null;
      dialog.oncancel = null;
      dialog.close();
      if (!answer && opener && opener.isConnected) opener.focus();
      resolve(answer);
    };
    okButton.onclick = () => finish(true);
    $("confirm-cancel").onclick = () => finish(false);
    dialog.oncancel = (event) => {
      event.preventDefault();
      finish(false);
    };
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

function nameListNode(names) {
  return h("ul", { class: "name-list" }, ...names.map((n) => h("li", {}, n)));
}

// ---------------------------------------------------------------------------------------
// Connecting and loading

async function onConnect(event) {
  event.preventDefault();
  if (state.busy) return;
  clearAlert();
  const baseUrl = $("base-url").value.trim() || location.origin;
  const team = $("team").value.trim();
  const job = $("job").value.trim();
  const token = $("token").value.trim();

  const problems = validateJob(team, job);
  setFieldMessage(
    $("team"),
    "team-msg",
    problems.filter((p) => p.key === "team"),
    "team",
  );
  setFieldMessage(
    $("job"),
    "job-msg",
    problems.filter((p) => p.key === "job"),
    "job",
  );
  setFieldMessage($("base-url"), "base-url-msg", [], "url");
  setFieldMessage($("token"), "token-msg", [], "token");
  if (problems.length) {
    $(problems[0].key === "job" ? "job" : "team").focus();
    return;
  }

  const sameJob = state.job && state.job.baseUrl === baseUrl && state.job.team === team && state.job.job === job;
  if (isDirty()) {
    const discard = await confirmDialog({
      title: "Discard unsaved changes?",
      body: [
        `Loading ${sameJob ? "again" : `${team}/${job}`} drops your unsaved changes to ${jobLabel()}.`,
        nameListNode(touchedNames(pendingDiff())),
      ],
      ok: "Discard and load",
    });
    if (!discard) return;
  }

  let client;
  try {
    client = new SecretsClient({ baseUrl, team, job, token: token || undefined });
  } catch (error) {
    const fields = { base_url: ["base-url", "base-url-msg"], token: ["token", "token-msg"] };
    const placed = (error.problems || []).filter((p) => fields[p.key]);
    for (const p of placed) setFieldMessage($(fields[p.key][0]), fields[p.key][1], [p], p.key);
    if (placed.length) $(fields[placed[0].key][0]).focus();
    else showError(error);
    return;
  }
  state.busy = true; // no second connect while the limit is asked for
  const maxSetBytes = await serverLimit(baseUrl);
  state.busy = false;
  if (maxSetBytes !== DEFAULT_MAX_SET_BYTES) {
    client.free();
    client = new SecretsClient({ baseUrl, team, job, token: token || undefined, maxSetBytes });
  }
  if (state.client) state.client.free();
  state.client = client;
  state.maxSetBytes = maxSetBytes;
  state.job = { baseUrl, team, job };
  // A new job starts from nothing: never show one job's secrets under another's name.
  state.working = state.base = state.etag = state.conflict = null;
  state.revealed = null;
  state.selected.clear();
  state.filter = "";
  $("filter").value = "";
  keepJobInAddress(team, job);
  render();
  if (await loadFromServer()) $("secrets-heading").focus();
}

/**
 * The set size limit the server reports on /health (the reference server does), or the
 * package's default when it reports none, as the Control Service does not: the size meter and
 * the check before Save then use the limit of the server that will judge the set.
 */
async function serverLimit(baseUrl) {
  try {
    const url = new URL("health", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    const response = await fetch(url, { credentials: "omit", cache: "no-store", signal: AbortSignal.timeout(5000) });
    const limit = (await response.json()).maxSetBytes;
    return Number.isSafeInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_SET_BYTES;
  } catch {
    return DEFAULT_MAX_SET_BYTES;
  }
}

/** Puts team and job (and nothing else secret) in the address, so that it can be shared. */
function keepJobInAddress(team, job) {
  const url = new URL(location.href);
  for (const key of TOKEN_PARAMS) url.searchParams.delete(key);
  url.searchParams.set("team", team);
  url.searchParams.set("job", job);
  history.replaceState(null, "", url);
}

/** Makes the server's set at `etag` both the base and the working copy, with nothing pending. */
function adoptServerSet(secrets, etag) {
  state.base = secrets;
  state.working = structuredClone(secrets);
  state.etag = etag;
  state.conflict = null;
  state.revealed = null;
  state.selected.clear();
}

async function loadFromServer() {
  setBusy(true, `Loading the secrets of ${jobLabel()}…`);
  try {
    const { secrets, etag } = await state.client.getAllSecretsVersioned();
    adoptServerSet(secrets, etag);
    const size = Object.keys(secrets).length;
    announce(`Loaded ${plural(size, "secret")} of ${jobLabel()} (version ${versionOf(etag)}).`);
    warnAboutRounding(secrets);
    return true;
  } catch (error) {
    showError(error);
    announce("");
    return false;
  } finally {
    setBusy(false);
  }
}

/** The package keeps integers exact up to 64 bits; anything larger arrives rounded. */
function warnAboutRounding(secrets) {
  const names = sortedNames(secrets).filter((name) => hasUnsafeInteger(secrets[name]));
  if (!names.length) return;
  showError({
    what: "Some numbers cannot be kept exactly by this page",
    why:
      `${listNames(names)} ${names.length === 1 ? "holds" : "hold"} an integer beyond the 64-bit range, ` +
      "which arrives rounded",
    countermeasures:
      "The set cannot be saved from this page while such a secret holds the rounded number: store the " +
      "number as a string, or change it with a tool that keeps exact numbers.",
  });
}

async function onReload() {
  if (state.busy) return;
  if (isDirty()) {
    const discard = await confirmDialog({
      title: "Discard unsaved changes?",
      body: [
        "Reloading replaces your working copy with the server's secrets.",
        nameListNode(touchedNames(pendingDiff())),
      ],
      ok: "Discard and reload",
    });
    if (!discard) return;
  }
  clearAlert();
  await loadFromServer();
}

// ---------------------------------------------------------------------------------------
// Saving and conflicts

async function onSave() {
  if (state.busy) return;
  if (state.conflict) {
    announce("Choose first: reload the server's version, or reapply your edits on it.");
    $("conflict-heading").focus();
    return;
  }
  if (!isDirty()) {
    announce("Nothing to save: there are no unsaved changes.");
    return;
  }
  clearAlert();
  const problems = validateSecrets(state.working, state.maxSetBytes);
  if (problems.length) {
    showError({
      what: "Not saved: the secrets break the server's rules",
      why: `${plural(problems.length, "problem was", "problems were")} found before sending anything.`,
      countermeasures: "Fix each secret listed below, then save again.",
      problems,
    });
    return;
  }
  const diff = pendingDiff();
  setBusy(true, `Saving the secrets of ${jobLabel()}…`);
  try {
    const etag = await state.client.setAllSecrets(state.working, state.etag);
    state.base = structuredClone(state.working);
    if (etag) {
      state.etag = etag;
    } else {
      // Without a version in the answer, read one so that the next save can be checked.
      const read = await state.client.getAllSecretsVersioned();
      state.base = read.secrets;
      state.working = structuredClone(read.secrets);
      state.etag = read.etag;
    }
    const parts = [
      diff.added.length && `${diff.added.length} added`,
      diff.changed.length && `${diff.changed.length} changed`,
      diff.removed.length && `${diff.removed.length} removed`,
    ].filter(Boolean);
    announce(`Saved: ${parts.join(", ")}. Server version ${versionOf(state.etag)}.`);
  } catch (error) {
    if (error && error.code === "conflict") {
      await showConflict(error);
    } else {
      showError(error);
      announce("");
    }
  } finally {
    setBusy(false);
  }
  if (state.conflict) $("conflict-heading").focus();
}

async function showConflict(error) {
  try {
    const { secrets, etag } = await state.client.getAllSecretsVersioned();
    const mine = diffSets(state.base, state.working);
    const server = diffSets(state.base, secrets);
    state.conflict = { theirs: secrets, etag, server, overlap: overlap(mine, server) };
    showError(error);
    announce("Not saved: the secrets changed on the server. Choose how to go on.");
  } catch (readError) {
    showError(readError);
  }
}

function onConflictReload() {
  if (state.busy || !state.conflict) return;
  const { theirs, etag } = state.conflict;
  adoptServerSet(theirs, etag);
  clearAlert();
  render();
  announce(`Loaded server version ${versionOf(etag)}; your edits were discarded.`);
  $("secrets-heading").focus();
}

function onConflictReapply() {
  if (state.busy || !state.conflict) return;
  const { theirs, etag } = state.conflict;
  state.working = rebase(state.base, state.working, theirs);
  state.base = theirs;
  state.etag = etag;
  state.conflict = null;
  state.revealed = null;
  for (const name of [...state.selected]) if (!own(state.working, name)) state.selected.delete(name);
  clearAlert();
  render();
  announce(`Your edits are applied on server version ${versionOf(etag)}. Review them, then save.`);
  $("changes-heading").focus();
}

async function onDiscard() {
  if (state.busy) return;
  if (!isDirty()) {
    announce("Nothing to discard: there are no unsaved changes.");
    return;
  }
  const confirmed = await confirmDialog({
    title: "Discard unsaved changes?",
    body: ["Your working copy goes back to the secrets as loaded.", nameListNode(touchedNames(pendingDiff()))],
    ok: "Discard changes",
  });
  if (!confirmed) return;
  state.working = structuredClone(state.base);
  state.revealed = null;
  state.selected.clear();
  render();
  announce("Changes discarded.");
  $("secrets-heading").focus();
}

// ---------------------------------------------------------------------------------------
// Row actions

async function onRowClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button || state.busy) return;
  const name = button.dataset.name;
  if (!own(state.working, name)) return;
  switch (button.dataset.action) {
    case "reveal":
      // One value at a time: showing another hides the previous one.
      state.revealed = state.revealed === name ? null : name;
      if (state.revealed) historyPanel.conceal();
      render();
      break;
    case "copy":
      await copyValue(name);
      break;
    case "edit":
      openEditor(name);
      break;
    case "delete":
      await deleteNames([name], `Delete ${name}?`);
      break;
  }
}

function onRowChange(event) {
  const box = event.target;
  if (box.type !== "checkbox" || !box.dataset.name) return;
  if (box.checked) state.selected.add(box.dataset.name);
  else state.selected.delete(box.dataset.name);
  render();
}

function onSelectAll() {
  const names = shownNames();
  const all = $("select-all").checked;
  for (const name of names) {
    if (all) state.selected.add(name);
    else state.selected.delete(name);
  }
  render();
}

async function copyValue(name) {
  const value = state.working[name];
  const text = typeof value === "string" ? value : jsonText(value);
  try {
    await navigator.clipboard.writeText(text);
    announce(`Copied the value of ${name} to the clipboard.`);
  } catch {
    showError({
      what: `The value of ${name} was not copied`,
      why: "the browser did not allow this page to write to the clipboard",
      countermeasures: "Allow clipboard access for this page, or show the value and copy it by hand.",
    });
  }
}

async function deleteNames(names, title) {
  const confirmed = await confirmDialog({
    title,
    body: [
      names.length > 1 ? nameListNode(names) : null,
      names.length === 1
        ? "It is removed from your working copy; the server keeps it until you save."
        : "They are removed from your working copy; the server keeps them until you save.",
    ].filter(Boolean),
    ok: names.length === 1 ? "Delete" : `Delete ${names.length}`,
  });
  if (!confirmed) return;
  for (const name of names) {
    delete state.working[name];
    state.selected.delete(name);
    if (state.revealed === name) state.revealed = null;
  }
  render();
  announce(`Deleted ${names.length === 1 ? names[0] : `${names.length} secrets`} (not saved yet).`);
  $("secrets-heading").focus();
}

async function onDeleteSelected() {
  if (state.busy) return;
  const names = sortedNames(state.working).filter((n) => state.selected.has(n));
  if (!names.length) announce("Nothing selected: tick the secrets to delete first.");
  else await deleteNames(names, `Delete ${names.length} selected ${names.length === 1 ? "secret" : "secrets"}?`);
}

async function onDeleteAll() {
  if (state.busy) return;
  const names = sortedNames(state.working);
  if (!names.length) announce("There are no secrets to delete.");
  else await deleteNames(names, `Delete all ${names.length} secrets of ${jobLabel()}?`);
}

// ---------------------------------------------------------------------------------------
// The editor (add and edit)

const TYPE_HINTS = {
  string: "Kept exactly as typed, line breaks included.",
  number: "A number such as 5432, -1 or 0.25.",
  json: 'JSON: a list such as [1, 2], an object such as {"user": "app"}, true, false or null.',
};

function openEditor(name) {
  const editing = name != null;
  state.editing = { original: editing ? name : null, touched: new Set(editing ? ["edit-name", "edit-value"] : []) };
  const value = editing ? state.working[name] : "";
  const type = editing ? editorTypeOf(value) : "string";
  $("edit-title").textContent = editing ? `Edit ${name}` : "Add a secret";
  $("edit-ok").textContent = editing ? "Apply" : "Add";
  $("edit-name").value = editing ? name : "";
  $("edit-type").value = type;
  $("edit-value").value = editing ? valueToText(value, type) : "";
  validateEditor();
  $("edit-dialog").showModal();
  (editing ? $("edit-value") : $("edit-name")).focus();
}

/** Live validation with the package's rules; returns the secret when it can be kept. */
function validateEditor() {
  const name = $("edit-name").value;
  const type = $("edit-type").value;
  const key = name || "value";
  $("edit-type-hint").textContent = TYPE_HINTS[type];

  const nameProblems = validateSecretName(name);
  if (name !== state.editing.original && own(state.working, name)) {
    nameProblems.push({ key: name, message: "already exists; edit that secret, or choose another name" });
  }
  const parsed = parseValueText($("edit-value").value, type);
  const valueProblems = parsed.ok ? validateSecretValue(key, parsed.value) : [{ key, message: parsed.message }];

  // A field shows problems once it was typed in (or the user tried to keep the secret).
  const touched = state.editing.touched;
  setFieldMessage($("edit-name"), "edit-name-msg", touched.has("edit-name") ? nameProblems : [], "name");
  setFieldMessage($("edit-value"), "edit-value-msg", touched.has("edit-value") ? valueProblems : [], key);
  const ok = nameProblems.length === 0 && valueProblems.length === 0;
  return { ok, name, value: parsed.value, nameProblems };
}

function onEditorInput(event) {
  if (!state.editing) return;
  if (event.target.id !== "edit-type") state.editing.touched.add(event.target.id);
  validateEditor();
}

function onEditorSubmit(event) {
  event.preventDefault();
  if (!state.editing) return;
  state.editing.touched.add("edit-name").add("edit-value");
  const result = validateEditor();
  if (!result.ok) {
    (result.nameProblems.length ? $("edit-name") : $("edit-value")).focus();
    return;
  }
  const { original } = state.editing;
  if (original != null && original !== result.name) {
    delete state.working[original];
    if (state.selected.delete(original)) state.selected.add(result.name);
  }
  putEntry(state.working, result.name, result.value);
  if (state.revealed === original) state.revealed = null;
  $("edit-dialog").close();
  render();
  const verb = original == null ? "Added" : original === result.name ? "Changed" : `Renamed ${original} to`;
  announce(`${verb} ${result.name} (not saved yet).`);
  const focusTarget =
    original == null ? $("add") : $("rows").querySelector(`[data-focus-key="${CSS.escape(`edit:${result.name}`)}"]`);
  (focusTarget || $("secrets-heading")).focus();
}

function onEditorClosed() {
  // The value was in the DOM only while the editor was open.
  $("edit-value").value = "";
  $("edit-name").value = "";
  state.editing = null;
}

// ---------------------------------------------------------------------------------------
// Overwrite from a file

async function onFileChosen() {
  const input = $("file-input");
  if (state.busy) {
    input.value = "";
    return;
  }
  const file = input.files && input.files[0];
  if (!file) return;
  let text;
  try {
    text = await file.text();
  } catch {
    showError({
      what: `${file.name} could not be read`,
      why: "the browser could not read the file",
      countermeasures: "Choose the file again.",
    });
    return;
  } finally {
    // Choosing the same file again must trigger a new preview.
    input.value = "";
  }
  const problems = validateSecretsDocument(text, state.maxSetBytes);
  const apply = $("file-apply");
  if (problems.length) {
    state.fileSet = null;
    $("file-title").textContent = "This file cannot be used";
    $("file-summary").textContent = `${file.name} breaks ${plural(problems.length, "rule")}; nothing was changed.`;
    $("file-details").replaceChildren(problemList(problems, "document"));
    apply.hidden = true;
    $("file-cancel").textContent = "Close";
  } else {
    const fileSet = parseSecretsDocument(text);
    const diff = diffSets(state.working, fileSet);
    const size = Object.keys(fileSet).length;
    state.fileSet = fileSet;
    $("file-title").textContent = "Overwrite all from a file";
    $("file-summary").textContent = isEmptyDiff(diff)
      ? `${file.name} holds the same ${plural(size, "secret")} as your working copy; nothing would change.`
      : `${file.name} holds ${plural(size, "secret")}. Replacing your working copy with it changes these ` +
        "(values stay hidden; nothing is sent until you save):";
    const groups = [
      ["Added", diff.added],
      ["Changed", diff.changed],
      ["Removed", diff.removed],
    ]
      .filter(([, names]) => names.length)
      .map(([label, names]) =>
        h("div", { class: "group" }, h("h3", {}, `${label} (${names.length})`), nameListNode(names)),
      );
    const unchanged = size - diff.added.length - diff.changed.length;
    if (unchanged > 0 && !isEmptyDiff(diff)) groups.push(h("p", { class: "hint" }, `${unchanged} unchanged.`));
    $("file-details").replaceChildren(...groups);
    apply.hidden = isEmptyDiff(diff);
    $("file-cancel").textContent = "Cancel";
  }
  $("file-dialog").showModal();
  $("file-cancel").focus();
}

function onFileApply() {
  if (!state.fileSet) return;
  state.working = state.fileSet;
  state.fileSet = null;
  state.revealed = null;
  state.selected.clear();
  $("file-dialog").close();
  render();
  announce("Your working copy now holds the file's secrets (not saved yet).");
  $("secrets-heading").focus();
}

// ---------------------------------------------------------------------------------------
// Start

function takeJobFromAddress() {
  const params = new URLSearchParams(location.search);
  $("base-url").value = location.origin;
  $("team").value = params.get("team") || "";
  $("job").value = params.get("job") || "";
  const carried = TOKEN_PARAMS.filter((key) => params.has(key));
  if (carried.length) {
    const url = new URL(location.href);
    for (const key of carried) url.searchParams.delete(key);
    history.replaceState(null, "", url);
    showError({
      what: "A token in the address was ignored and removed from it",
      why: "addresses are kept in history, logs and screenshots, so this page never takes a token from one",
      countermeasures:
        "Paste the token into the Access token field; it stays in this tab's memory only. " +
        "Treat the token that was in the address as exposed.",
    });
  }
}

export async function start() {
  takeJobFromAddress();

  $("connect-form").addEventListener("submit", onConnect);
  for (const id of ["team", "job"]) {
    $(id).addEventListener("input", () => {
      // Live feedback once the field was flagged; no nagging before the first Load.
      if (!$(id).hasAttribute("aria-invalid")) return;
      const problems = validateJob($("team").value.trim(), $("job").value.trim()).filter((p) => p.key === id);
      setFieldMessage($(id), `${id}-msg`, problems, id);
    });
  }

  $("rows").addEventListener("click", onRowClick);
  $("rows").addEventListener("change", onRowChange);
  $("select-all").addEventListener("change", onSelectAll);
  $("filter").addEventListener("input", () => {
    state.filter = $("filter").value;
    render();
  });
  $("add").addEventListener("click", () => {
    if (!state.busy) openEditor(null);
  });
  $("delete-selected").addEventListener("click", onDeleteSelected);
  $("delete-all").addEventListener("click", onDeleteAll);
  $("reload").addEventListener("click", onReload);
  $("save").addEventListener("click", onSave);
  $("discard").addEventListener("click", onDiscard);
  $("conflict-reload").addEventListener("click", onConflictReload);
  $("conflict-reapply").addEventListener("click", onConflictReapply);
  historyPanel = createHistoryPanel({
    client: () => state.client,
    etag: () => state.etag,
    current: () => state.base,
    isDirty,
    isBusy: () => state.busy,
    setBusy,
    adopt(secrets, etag) {
      adoptServerSet(secrets, etag);
      render();
      warnAboutRounding(secrets);
    },
    confirm: confirmDialog,
    announce,
    showError,
    clearAlert,
    concealList() {
      if (!state.revealed) return;
      state.revealed = null;
      render();
    },
  });

  const form = $("edit-form");
  form.addEventListener("input", onEditorInput);
  form.addEventListener("change", onEditorInput);
  form.addEventListener("submit", onEditorSubmit);
  $("edit-value").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  $("edit-cancel").addEventListener("click", () => $("edit-dialog").close());
  $("edit-dialog").addEventListener("close", onEditorClosed);

  $("file-input").addEventListener("change", onFileChosen);
  $("file-cancel").addEventListener("click", () => $("file-dialog").close());
  $("file-apply").addEventListener("click", onFileApply);
  $("file-dialog").addEventListener("close", () => {
    state.fileSet = null;
    $("file-details").replaceChildren();
  });

  window.addEventListener("beforeunload", (event) => {
    if (!isDirty()) return;
    event.preventDefault();
    // Older browsers need returnValue set to show the prompt.
    event.returnValue = "";
  });
  // A value left on screen should not outlive the user's attention.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && state.revealed) {
      state.revealed = null;
      render();
    }
  });

  $("connect").disabled = false;
}
