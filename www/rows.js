// The secrets table: one row per shown secret, built only for the rows near the viewport and
// rebuilt only when what the row shows changed.
//
// The first rows are built at once; a spacer after the table stands for the rest, and more
// rows are built as it scrolls near the viewport (Ctrl+F finds only built rows: the filter is
// the way to find a name). The table carries aria-rowcount and every row its aria-rowindex, so
// assistive technology announces the full count; keyboard focus on one of the last rows built
// builds the next ones before it can skip them.
import { h, maskedValue } from "./dom.js";
import { displayText, kindOf } from "./model.js";

/** Rows built when the list is first drawn or the filter changes, and per step further down. */
const FIRST_ROWS = 30;
const MORE_ROWS = 60;
/** How far below the viewport rows are built in advance, in pixels. */
const AHEAD = 1200;

function actionButton(action, name, label) {
  return h(
    "button",
    { type: "button", class: "small", dataset: { action, name, focusKey: `${action}:${name}` } },
    label,
    h("span", { class: "visually-hidden" }, ` ${name}`),
  );
}

/** The list view of one page: `update()` after any change of `state`. */
export function createRows($, state) {
  const body = $("rows");
  const table = $("secrets-table");
  const rest = $("rows-rest");
  let shown = []; // the names shown, in order (the state's array)
  let filter = null; // the filter `shown` was drawn for
  let built = 0; // rows built: shown[0 .. built)
  let rowHeight = 44; // measured once rows exist; sizes the spacer
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

  /** Brings the built rows in line with shown[0 .. built): reuses, rebuilds, moves, removes. */
  function reconcile() {
    const root = body.getRootNode();
    const active = root.activeElement;
    const focusKey = active && body.contains(active) ? active.dataset.focusKey : null;

    // Rows leaving the window go first, so that the rows staying keep their order and only
    // new rows are inserted.
    const keep = new Set(shown.slice(0, built));
    for (const [name, row] of rows) {
      if (!keep.has(name)) {
        row.tr.remove();
        rows.delete(name);
      }
    }
    let cursor = body.firstChild;
    for (let i = 0; i < built; i += 1) {
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
      if (row.tr !== cursor) body.insertBefore(row.tr, cursor);
      else cursor = cursor.nextSibling;
      const index = String(i + 2);
      if (row.tr.getAttribute("aria-rowindex") !== index) row.tr.setAttribute("aria-rowindex", index);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }

    table.setAttribute("aria-rowcount", String(shown.length + 1));
    sizeSpacer();
    if (focusKey && !body.contains(root.activeElement)) {
      const again = body.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      (again || $("secrets-heading")).focus();
    }
  }

  function sizeSpacer() {
    const left = shown.length - built;
    rest.hidden = left <= 0;
    rest.style.height = left > 0 ? `${left * rowHeight}px` : "0";
  }

  /** Builds more rows while the spacer is within reach of the viewport. */
  function fill() {
    if (built >= shown.length || rest.hidden || !rest.isConnected) return;
    const top = rest.getBoundingClientRect().top;
    if (top > window.innerHeight + AHEAD) return;
    if (built > 0) rowHeight = Math.max(24, body.getBoundingClientRect().height / built);
    // A jump deep into the spacer (End, a dragged scroll bar) builds every row up to where the
    // view now is in one step, not a step per frame, each laying out a longer table.
    const reach = Math.ceil((window.innerHeight + AHEAD - top) / rowHeight);
    built = Math.min(shown.length, built + Math.max(MORE_ROWS, reach));
    reconcile();
    requestAnimationFrame(fill);
  }

  // Focus reaching one of the last rows built builds the next ones at once, before the next
  // Tab could leave the table.
  body.addEventListener("focusin", (event) => {
    const tr = event.target.closest("tr[aria-rowindex]");
    if (!tr || built >= shown.length) return;
    if (Number(tr.getAttribute("aria-rowindex")) - 2 >= built - 5) {
      built = Math.min(shown.length, built + MORE_ROWS);
      reconcile();
    }
  });

  const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && fill(), {
    rootMargin: `0px 0px ${AHEAD}px 0px`,
  });
  observer.observe(rest);

  function update() {
    const names = state.working ? state.shownNames : [];
    if (state.filter !== filter || !state.working) {
      // Another filter (or job) starts at the top of the list.
      built = Math.min(names.length, FIRST_ROWS);
      filter = state.filter;
    } else {
      built = Math.min(names.length, Math.max(built, FIRST_ROWS));
    }
    shown = names;
    reconcile();
    if (built < shown.length) requestAnimationFrame(fill);
  }

  /** The row of `name`'s control for `action`, when built. */
  function control(name, action) {
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

  return { update, control, syncSelection };
}
