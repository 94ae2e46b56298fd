// One secrets page, put together: its state, its parts and their events, inside `root` (the
// document, or the shadow root of a <vdk-job-secrets> element). Every part finds its elements
// through `$`, so two pages on one document never touch each other's.
import * as vdk from "./vendor/vdk-secrets/index.js";
import { createActions } from "./actions.js";
import { createConnect, DEFAULT_MAX_SET_BYTES } from "./connect.js";
import { createEditor } from "./editor.js";
import { createFile } from "./file.js";
import { createHistoryPanel } from "./history.js";
import { createMessages } from "./messages.js";
import { putEntry } from "./model.js";
import { render, renderCounts } from "./render.js";
import { createRows } from "./rows.js";
import { createSave } from "./save.js";
import { PageState } from "./state.js";

/** The bytes of one `"name":value` entry in compact JSON, from the package. */
function entrySize(name, value) {
  if (typeof vdk.secretEntrySize === "function") return vdk.secretEntrySize(name, value);
  const one = {};
  putEntry(one, name, value);
  return vdk.secretsSize(one) - 2;
}

/**
 * Makes the page inside `root` and wires it. `options`:
 * - `defaultBaseUrl()`: the server to use when the URL field is empty;
 * - `jobChosen(team, job)`: called when a job is about to load (the standalone page puts it
 *   in the address);
 * - `emit(type, detail)`: tells the host about "loaded", "saved" and "conflict".
 * Returns the page's controller: `connect()`, `isDirty()`, `state`, and `connected()` /
 * `disconnected()`, for when the page enters or leaves the document.
 */
export function createPage(root, options = {}) {
  const $ = (id) => root.getElementById(id);
  const state = new PageState({ set: (secrets) => vdk.secretsSize(secrets), entry: entrySize }, DEFAULT_MAX_SET_BYTES);
  const ctx = {
    $,
    state,
    defaultBaseUrl: options.defaultBaseUrl || (() => location.origin),
    jobChosen: options.jobChosen || (() => {}),
    emit: options.emit || (() => {}),
    ...createMessages($),
    render: () => render(ctx),
    renderCounts: () => renderCounts(ctx),
    setBusy(busy, message) {
      // Handlers return early while busy instead of disabling buttons: disabling the focused
      // button would drop keyboard focus to the top of the page.
      state.busy = busy;
      $("secrets-section").setAttribute("aria-busy", busy ? "true" : "false");
      if (message) ctx.announce(message);
      ctx.render();
    },
  };
  ctx.rows = createRows($, state);
  ctx.editor = createEditor(ctx);
  const connect = createConnect(ctx);
  const save = createSave(ctx);
  const actions = createActions(ctx);
  const file = createFile(ctx);

  $("connect-form").addEventListener("submit", (event) => {
    event.preventDefault();
    connect.connect();
  });
  for (const id of ["team", "job"]) $(id).addEventListener("input", () => connect.recheck(id));
  $("rows").addEventListener("click", actions.onRowClick);
  $("rows").addEventListener("change", actions.onRowChange);
  $("select-all").addEventListener("change", actions.onSelectAll);
  $("filter").addEventListener("input", actions.onFilter);
  $("add").addEventListener("click", () => {
    if (!state.busy) ctx.editor.open(null);
  });
  $("delete-selected").addEventListener("click", actions.deleteSelected);
  $("delete-all").addEventListener("click", actions.deleteAll);
  $("reload").addEventListener("click", connect.reload);
  $("save").addEventListener("click", save.save);
  $("discard").addEventListener("click", save.discard);
  $("conflict-reload").addEventListener("click", save.conflictReload);
  $("conflict-reapply").addEventListener("click", save.conflictReapply);
  ctx.editor.wire();
  file.wire();
  ctx.history = createHistoryPanel({
    $,
    client: () => state.client,
    etag: () => state.etag,
    current: () => state.base,
    isDirty: () => state.isDirty(),
    isBusy: () => state.busy,
    setBusy: ctx.setBusy,
    adopt(secrets, etag) {
      state.adopt(secrets, etag);
      ctx.render();
      connect.warnAboutRounding(secrets);
    },
    confirm: ctx.confirm,
    announce: ctx.announce,
    showError: ctx.showError,
    clearAlert: ctx.clearAlert,
    concealList() {
      if (!state.revealed) return;
      state.revealed = null;
      ctx.rows.update();
    },
  });

  // A value left on screen (in the list or the History panel's comparison) should not outlive
  // the user's attention.
  function onVisibility() {
    if (!document.hidden) return;
    ctx.history.conceal();
    if (state.revealed) {
      state.revealed = null;
      ctx.rows.update();
    }
  }

  $("connect").disabled = false;
  return {
    state,
    connect: () => connect.connect(),
    isDirty: () => state.isDirty(),
    showError: ctx.showError,
    /** Listens to the document while the page is in it (and not after, so it can be collected). */
    connected() {
      document.addEventListener("visibilitychange", onVisibility);
      ctx.rows.attach();
    },
    disconnected() {
      document.removeEventListener("visibilitychange", onVisibility);
      ctx.rows.detach();
    },
  };
}
