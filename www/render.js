// Drawing the page from its state: the heading, the toolbar, the size meter, the pending
// changes and the conflict panel. The table is rows.js's; each part here costs the same at
// 10 secrets as at 4,500 (the diff and the size come ready from the state).
import { changeLines, diffGroups, plural, setAvailable } from "./dom.js";
import { formatBytes, listNames, touchedNames } from "./model.js";

export function versionOf(etag) {
  return etag ? etag.replace(/^W\//, "").replace(/"/g, "") : "unknown";
}

export function jobLabel(state) {
  return state.job ? `${state.job.team}/${state.job.job}` : "";
}

/** Draws everything that depends on the state. */
export function render(ctx) {
  const { $, state } = ctx;
  if (ctx.history) ctx.history.update();
  const section = $("secrets-section");
  if (!state.working) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  $("job-label").textContent = jobLabel(state);
  $("version-text").textContent = `Server version ${versionOf(state.etag)} at ${state.job.baseUrl}`;
  ctx.rows.update();
  renderCounts(ctx);
  renderSize(ctx);
  renderChanges(ctx);
  renderConflict(ctx);
}

/** The filter's count, the empty text, the select-all box and the toolbar's buttons. */
export function renderCounts({ $, state }) {
  const names = state.shownNames;
  const total = state.count;
  const filtered = state.filter.trim();
  $("secrets-table").hidden = names.length === 0;
  const empty = $("empty-text");
  empty.hidden = names.length !== 0;
  empty.textContent =
    total === 0
      ? "This job has no secrets. Add one, or overwrite all from a file."
      : `No secret name contains “${filtered}”.`;
  $("filter-count").textContent = filtered && total ? `Showing ${names.length} of ${total}` : plural(total, "secret");

  const selectAll = $("select-all");
  let shownSelected = 0;
  if (state.selected.size) {
    if (names === state.names) shownSelected = state.selected.size;
    else for (const name of names) if (state.selected.has(name)) shownSelected += 1;
  }
  selectAll.checked = names.length > 0 && shownSelected === names.length;
  selectAll.indeterminate = shownSelected > 0 && shownSelected < names.length;

  const count = state.selected.size;
  const deleteSelected = $("delete-selected");
  deleteSelected.textContent = count ? `Delete selected (${count})` : "Delete selected";
  setAvailable(deleteSelected, count > 0);
  setAvailable($("delete-all"), total > 0);
}

function renderSize({ $, state }) {
  const size = state.size;
  const max = state.maxSetBytes;
  const meter = $("size-meter");
  meter.max = max;
  meter.low = Math.round(max * 0.75);
  meter.high = Math.round(max * 0.9);
  meter.optimum = 0;
  meter.value = Number.isFinite(size) ? Math.min(size, max) : 0;
  const over = size > max;
  const percent = Number.isFinite(size) ? Math.round((size / max) * 1000) / 10 : 0;
  $("size-text").textContent = Number.isFinite(size)
    ? `${formatBytes(size)} of ${formatBytes(max)} (${percent}%)` +
      (over ? `: over the limit by ${formatBytes(size - max)}; the server will refuse it` : "")
    : "The size cannot be measured";
  $("size-text").classList.toggle("over", over);
}

function renderChanges({ $, state }) {
  const diff = state.diff;
  const count = touchedNames(diff).length;
  $("changes-summary").textContent = count
    ? `${plural(count, "unsaved change")}. Nothing is sent until you save.`
    : "None. Edits stay in this page until you save.";
  $("changes-list").replaceChildren(...changeLines(diffGroups(diff)));
  // While the page is busy (saving, loading) both show as unavailable; their handlers wait.
  setAvailable($("save"), count > 0 && state.conflict == null && !state.busy);
  setAvailable($("discard"), count > 0 && !state.busy);
  $("changes").classList.toggle("dirty", count > 0);
}

function renderConflict({ $, state }) {
  const panel = $("conflict");
  const conflict = state.conflict;
  panel.hidden = conflict == null;
  if (!conflict) return;
  const changes = touchedNames(conflict.server).length;
  const saved = `Someone saved version ${versionOf(conflict.etag)} after you loaded version ${versionOf(state.etag)}`;
  $("conflict-summary").textContent = changes
    ? `${saved}. Changed on the server:`
    : `${saved}, with the same secrets you loaded.`;
  $("conflict-list").replaceChildren(...changeLines(diffGroups(conflict.server)));
  $("conflict-overlap").textContent = conflict.overlap.length
    ? `You changed ${listNames(conflict.overlap)} too; if you reapply, your version wins.`
    : "None of these is a secret you changed.";
}
