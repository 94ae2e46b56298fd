// The secrets table: one row per shown secret, but only the rows in and near the view exist,
// and a row is rebuilt only when what it shows changed.
//
// The rows built are a window over the shown names, moved as the page scrolls, plus a few kept
// wherever the view is: the first and the last row (so that Tab into the table, forwards or
// backwards, lands on the right row), the row holding keyboard focus and its neighbours (so
// that Tab and Shift+Tab go on row by row), the row whose value is shown and the row being
// edited. Between them, hidden spacer rows as tall as the rows they stand for keep the
// table's height, and so the scroll bar, honest. A jump anywhere (End, a dragged scroll bar)
// builds only the rows around the new view. The table carries aria-rowcount and every row its
// aria-rowindex, so assistive technology announces the full count and each row's place.
// Ctrl+F finds only built rows: the filter is the way to find a name.
import { h, maskedValue } from "./dom.js";
import { displayText, insertionIndex, kindOf } from "./model.js";

/** Rows built before the view has been measured (the list first drawn, another filter). */
const FIRST_ROWS = 30;
/** Rows built beyond each edge of the view when the window moves. */
const OVERSCAN = 10;
/** The window moves once the view comes within this many rows of one of its edges. */
const MARGIN = 3;
/** Rows kept on each side of the focused row. */
const NEAR_FOCUS = 2;
/** The spacers' row height until rows are measured, in pixels. */
const ROW_GUESS = 44;

function actionButton(action, name, label) {
  return h(
    "button",
    { type: "button", class: "small", dataset: { action, name, focusKey: `${action}:${name}` } },
    label,
    h("span", { class: "visually-hidden" }, ` ${name}`),
  );
}

/** The index of `name` in the sorted array `names` (by code unit, as the state sorts), or -1. */
function indexIn(names, name) {
  if (name == null) return -1;
  const at = insertionIndex(names, name);
  return names[at] === name ? at : -1;
}

/** The list view of one page: `update()` after any change of `state`. */
export function createRows($, state) {
  const body = $("rows");
  const table = $("secrets-table");
  const root = body.getRootNode();
  let shown = []; // the names shown, in order (the state's array, which it may change in place)
  let drawnCount = 0; // shown.length when the rows were last brought in line
  let filter = null; // the filter `shown` was drawn for
  let start = 0; // the window: shown[start .. end) are built
  let end = 0;
  let rowHeight = ROW_GUESS; // the spacers' height per row
  let measured = false; // whether rowHeight comes from rows on screen
  let focusName = null; // the row keyboard focus is in (or was in, while a dialog is open)
  let layout = []; // body's children in order: {el, from, to}, a row (to = from + 1) or a spacer
  let reconciling = false;
  let syncPending = false;
  const rows = new Map(); // name -> {tr, box, nameCell, value, status, revealed}

  const badgeOf = (status) => (status === "added" ? "new" : status === "changed" ? "edited" : null);

  function buildRow(name) {
    const value = state.working[name];
    const status = state.statusOf(name);
    const revealed = state.revealed === name;
    const badge = badgeOf(status);
    const box = h("input", {
      type: "checkbox",
      "aria-label": `Select ${name}`,
      dataset: { name, focusKey: `select:${name}` },
    });
    box.checked = state.selected.has(name);
    const nameCell = h(
      "th",
      { scope: "row", class: "col-name" },
      h("span", { class: "name" }, name),
      badge ? h("span", { class: "badge" }, badge) : null,
    );
    const tr = h(
      "tr",
      { dataset: { name }, class: badge ? `row-${badge}` : null },
      h("td", { class: "col-select" }, box),
      nameCell,
      h("td", { class: "col-type", "data-label": "Type" }, kindOf(value)),
      h(
        "td",
        { class: "col-value", "data-label": "Value" },
        revealed ? h("pre", { class: "value" }, displayText(value)) : maskedValue(),
      ),
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
    return { tr, box, nameCell, value, status, revealed };
  }

  /** A hidden row standing for shown[from .. to), as tall as they would be. */
  function buildSpacer(from, to) {
    const cell = h("td", { colspan: "5" });
    cell.style.height = `${(to - from) * rowHeight}px`;
    return { el: h("tr", { class: "spacer", "aria-hidden": "true" }, cell), from, to };
  }

  /**
   * Whether a built row shows another value or visibility than the state holds for its name:
   * such a row is rebuilt. A change of status alone is made in place, by `restate`.
   */
  function outdated(name, row) {
    return row.value !== state.working[name] || row.revealed !== (state.revealed === name);
  }

  /**
   * Brings a row whose only change is its status (a save makes "edited" rows plain) up to
   * date in place: the focus stays where it is and nothing is rebuilt.
   */
  function restate(name, row) {
    row.status = state.statusOf(name);
    const badge = badgeOf(row.status);
    if (badge) row.tr.className = `row-${badge}`;
    else row.tr.removeAttribute("class");
    const old = row.nameCell.querySelector(".badge");
    if (old) old.remove();
    if (badge) row.nameCell.append(h("span", { class: "badge" }, badge));
  }

  /** The indices of the rows to build, ascending: the window and the rows kept anywhere. */
  function wanted() {
    const n = shown.length;
    const out = new Set();
    for (let i = start; i < end; i += 1) out.add(i);
    if (n) out.add(0).add(n - 1);
    const focused = indexIn(shown, focusName);
    if (focused >= 0) {
      for (let i = Math.max(0, focused - NEAR_FOCUS); i <= Math.min(n - 1, focused + NEAR_FOCUS); i += 1) out.add(i);
    }
    for (const name of [state.revealed, state.editing && state.editing.original]) {
      const at = indexIn(shown, name);
      if (at >= 0) out.add(at);
    }
    return [...out].sort((a, b) => a - b);
  }

  /**
   * Brings the body in line with `wanted()`: rows leaving go, rows staying are reused (never
   * moved, so focus stays in them) or rebuilt when outdated, new rows and spacers are inserted.
   */
  function reconcile() {
    reconciling = true;
    const active = root.activeElement;
    const focusKey = active && body.contains(active) ? active.dataset.focusKey : null;
    const indices = wanted();
    const keep = new Set(indices.map((i) => shown[i]));
    for (const [name, row] of rows) {
      if (!keep.has(name)) {
        row.tr.remove();
        rows.delete(name);
      }
    }
    for (const item of layout) if (!item.row) item.el.remove();

    // What is left are rows staying, in the order they are shown: new ones go in between.
    const next = [];
    let cursor = body.firstChild;
    let previous = -1;
    const place = (el) => {
      if (el === cursor) cursor = cursor.nextSibling;
      else body.insertBefore(el, cursor);
    };
    for (const i of indices) {
      if (i > previous + 1) {
        const spacer = buildSpacer(previous + 1, i);
        place(spacer.el);
        next.push(spacer);
      }
      const name = shown[i];
      let row = rows.get(name);
      if (row && outdated(name, row)) {
        const fresh = buildRow(name);
        if (row.tr === cursor) cursor = fresh.tr;
        row.tr.replaceWith(fresh.tr);
        row = fresh;
        rows.set(name, row);
      } else if (!row) {
        row = buildRow(name);
        rows.set(name, row);
      } else {
        if (row.status !== state.statusOf(name)) restate(name, row);
        const selected = state.selected.has(name);
        if (row.box.checked !== selected) row.box.checked = selected;
      }
      place(row.tr);
      const index = String(i + 2);
      if (row.tr.getAttribute("aria-rowindex") !== index) row.tr.setAttribute("aria-rowindex", index);
      next.push({ el: row.tr, from: i, to: i + 1, row });
      previous = i;
    }
    if (previous < shown.length - 1) {
      const spacer = buildSpacer(previous + 1, shown.length);
      body.append(spacer.el);
      next.push(spacer);
    }
    layout = next;
    drawnCount = shown.length;

    table.setAttribute("aria-rowcount", String(shown.length + 1));
    if (focusKey && !body.contains(root.activeElement)) {
      const again = body.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      (again || $("secrets-heading")).focus();
    }
    reconciling = false;
  }

  /**
   * The first and last index the viewport shows, from the layout as drawn, or null when the
   * table is not drawn. A point within a spacer maps to the row it stands for.
   */
  function viewRange() {
    if (!layout.length || table.hidden || !body.getClientRects().length) return null;
    const bottom = window.innerHeight || document.documentElement.clientHeight;
    let first = -1;
    let last = -1;
    let above = true;
    let heights = 0;
    let counted = 0;
    for (const item of layout) {
      const rect = item.el.getBoundingClientRect();
      if (item.row && item.from >= start && item.from < end && !item.row.revealed) {
        heights += rect.height;
        counted += 1;
      }
      if (rect.bottom <= 0) continue;
      above = false;
      if (rect.top >= bottom) continue;
      const per = rect.height / (item.to - item.from) || rowHeight;
      const at = (y) => item.from + Math.min(item.to - item.from - 1, Math.max(0, Math.floor((y - rect.top) / per)));
      if (first < 0) first = at(0);
      last = at(bottom);
    }
    if (counted >= 5 && remeasure(heights / counted)) return viewRange();
    if (first < 0) return above ? [shown.length - 1, shown.length - 1] : [0, 0];
    return [first, last];
  }

  /**
   * Sizes the spacers from the rows on screen, once measured and when they grow or shrink by
   * more than a tenth; returns whether it did.
   */
  function remeasure(height) {
    if (measured && Math.abs(height - rowHeight) <= rowHeight * 0.1) return false;
    measured = true;
    rowHeight = Math.max(16, height);
    for (const item of layout) {
      if (!item.row) item.el.firstChild.style.height = `${(item.to - item.from) * rowHeight}px`;
    }
    return true;
  }

  /** Moves the window to the view when the view came near one of its edges. */
  function sync() {
    syncPending = false;
    if (!body.isConnected) return;
    // A move can change the layout (rows are not exactly as tall as spacers say): look again.
    for (let round = 0; round < 3; round += 1) {
      const range = viewRange();
      if (!range) return;
      const [first, last] = range;
      const n = shown.length;
      const nearTop = start > 0 && first < start + MARGIN;
      const nearBottom = end < n && last >= end - MARGIN;
      if (!nearTop && !nearBottom) return;
      start = Math.max(0, first - OVERSCAN);
      end = Math.min(n, last + 1 + OVERSCAN);
      reconcile();
    }
  }

  /** Syncs before the next frame is drawn. */
  function scheduleSync() {
    if (syncPending) return;
    syncPending = true;
    requestAnimationFrame(sync);
  }

  function onResize() {
    measured = false; // a narrow window draws rows as cards
    scheduleSync();
  }

  /**
   * Follows scrolling (of the page, or of any scrolling box of a host page around the element)
   * and resizing while the page is in a document; `detach` lets a removed page be collected.
   */
  function attach() {
    document.addEventListener("scroll", scheduleSync, { capture: true, passive: true });
    window.addEventListener("resize", onResize);
    scheduleSync();
  }

  function detach() {
    document.removeEventListener("scroll", scheduleSync, { capture: true });
    window.removeEventListener("resize", onResize);
  }

  // Focus keeps its row and the rows next to it built, so that Tab and Shift+Tab go on row by
  // row wherever the view is; a dialog opened from a row keeps it too, for focus to return to.
  root.addEventListener("focusin", (event) => {
    if (reconciling) return;
    const target = event.target;
    if (body.contains(target)) {
      const tr = target.closest("tr[data-name]");
      focusName = tr ? tr.dataset.name : null;
      const at = indexIn(shown, focusName);
      if (at < 0) return;
      for (let i = Math.max(0, at - NEAR_FOCUS); i <= Math.min(shown.length - 1, at + NEAR_FOCUS); i += 1) {
        if (!rows.has(shown[i])) {
          reconcile();
          return;
        }
      }
    } else if (!(target.closest && target.closest("dialog"))) {
      focusName = null;
    }
  });

  /**
   * The rows the viewport would show of a list drawn afresh, from where the table is and the
   * rows' measured height; null before rows were measured or while the table is not drawn.
   */
  function estimate() {
    if (!measured || table.hidden || !body.getClientRects().length) return null;
    const top = body.getBoundingClientRect().top;
    const bottom = window.innerHeight || document.documentElement.clientHeight;
    const first = Math.max(0, Math.floor(-top / rowHeight));
    return [first, Math.max(first, Math.floor((bottom - top) / rowHeight))];
  }

  function update() {
    const names = state.working ? state.shownNames : [];
    if (state.filter !== filter || !state.working) {
      // Another filter (or job): the rows where the view is, or the first ones.
      const view = estimate();
      start = view ? Math.max(0, view[0] - OVERSCAN) : 0;
      end = view ? view[1] + 1 + OVERSCAN : FIRST_ROWS;
      filter = state.filter;
    } else if (end >= drawnCount) {
      // A window that held the whole list grows with it (a short list stays whole).
      end = Math.max(end, start + FIRST_ROWS);
    }
    shown = names;
    // A shorter list (a delete, a narrower filter) keeps the window within it.
    if (start >= names.length) start = Math.max(0, names.length - FIRST_ROWS);
    end = Math.min(names.length, Math.max(end, start + 1));
    reconcile();
    scheduleSync();
  }

  /** The control of `name`'s row for `action`, building that row (kept until focus moves on). */
  function control(name, action) {
    if (!rows.has(name) && indexIn(shown, name) >= 0) {
      focusName = name;
      reconcile();
    }
    const row = rows.get(name);
    return row ? row.tr.querySelector(`[data-focus-key="${CSS.escape(`${action}:${name}`)}"]`) : null;
  }

  /** Ticks or unticks the built rows' boxes to match the state's selection. */
  function syncSelection() {
    for (const [name, row] of rows) {
      const selected = state.selected.has(name);
      if (row.box.checked !== selected) row.box.checked = selected;
    }
  }

  return { update, control, syncSelection, attach, detach };
}
