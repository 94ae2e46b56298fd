// The History panel of the secrets page: the loaded job's versions, what restoring one of them
// would change, and the restore itself.
//
// The panel owns its part of the page (the #history section) and nothing else. What it needs
// from the page comes in through `createHistoryPanel(page)`; it never reads the page's state
// directly. Rules it keeps, as the secrets list does:
// - A value reaches the DOM only while it is shown, one at a time; a masked value is a fixed
//   placeholder. The compared version's set lives in this module's memory only, and is dropped
//   when the comparison is closed, the panel is hidden or another job is loaded.
// - Text from the server goes in through textContent, never as markup.
// - A restore is checked against the version the page holds (If-Match), like a save.
import { changeLines, diffGroups, diffSummary, groupBlocks, h as el, maskedValue, plural } from "./dom.js";
import { diffSets, displayText, isEmptyDiff, kindOf, touchedNames } from "./model.js";

/** How many versions the list shows at first, and how many more each "Show older" adds. */
const PAGE_SIZE = 20;

/** The version number an ETag names ("7" for `"7"` or `W/"7"`), or null. */
function versionOf(etag) {
  if (!etag) return null;
  const text = etag.replace(/^W\//, "").replace(/"/g, "");
  return /^[0-9]+$/.test(text) ? Number(text) : null;
}

/** A time of the server (RFC 3339, UTC) in the reader's time zone and words. */
function readableTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/**
 * Makes the panel and wires its controls. `page` gives what it needs from the page:
 *
 * - `client()`: the SecretsClient of the loaded job (or null); a new one means another job.
 * - `etag()`, `current()`: the version the page holds and its set as read from the server.
 * - `isDirty()`: whether the page has unsaved edits; a restore waits until there are none.
 * - `isBusy()`, `setBusy(busy, message)`: the page's one-request-at-a-time state.
 * - `adopt(secrets, etag)`: makes a set read from the server the page's loaded set.
 * - `confirm({title, body, ok, danger})`: the page's confirmation dialog, resolving to a boolean.
 * - `announce(text)`, `showError(error)`, `clearAlert()`: the page's live regions.
 * - `concealList()`: hides the value shown in the secrets list, if any.
 * - `$(id)`: finds an element of the page (of its shadow root, when it is in one).
 *
 * Returns `update()`, for the page to call whenever its state changed, and `conceal()`, which
 * hides the value shown in the panel.
 */
export function createHistoryPanel(page) {
  const $ = page.$;
  const activeElement = () => $("history").getRootNode().activeElement;
  const panel = {
    client: null, // the client the panel's contents belong to
    open: false,
    etag: null, // the page's version when the list was read
    dirty: false, // whether the page had unsaved edits when the comparison was last drawn
    loading: false,
    // Answers to an older request than the latest of its kind are dropped.
    listTicket: 0,
    compareTicket: 0,
    list: null, // {current, versions} as the server gave it
    unsupported: false,
    failed: false,
    shown: PAGE_SIZE,
    compared: null, // {version, secrets}: the version whose difference is shown
    notice: "", // why the last restore of the compared version did not happen
    revealed: null, // "loaded:<name>" or "version:<name>": the one value shown
  };

  // -------------------------------------------------------------------------------------
  // Rendering

  function render() {
    $("history-toggle").setAttribute("aria-expanded", String(panel.open));
    $("history-toggle").textContent = panel.open ? "Hide history" : "Show history";
    $("history-body").hidden = !panel.open;
    if (!panel.open) return;
    renderNote();
    renderList();
    renderDiff();
  }

  function renderNote() {
    const note = $("history-note");
    let text;
    if (panel.unsupported === "package") {
      text = "Version history is not available: this page's vdk-secrets package has no history methods.";
    } else if (panel.unsupported) {
      text = "Version history is not available on this server: it keeps only the current secrets.";
    } else if (panel.loading && !panel.list) {
      text = "Loading the versions…";
    } else if (panel.failed && !panel.list) {
      text = "The versions could not be loaded. Hide and show the history to try again.";
    } else if (panel.list) {
      const { current, versions } = panel.list;
      const loaded = versionOf(page.etag());
      if (!versions.length) text = "No versions yet: this job's secrets were never saved.";
      else {
        text =
          `${plural(versions.length, "version")} kept, newest first. Compare one with the loaded secrets ` +
          "to see what restoring it would change.";
        if (loaded != null && current !== loaded) {
          text +=
            ` The server is at version ${current} but this page shows version ${loaded}: someone saved ` +
            "since it loaded. Reload from the server to compare with the latest secrets.";
        }
      }
    } else text = "";
    note.textContent = text;
    note.classList.toggle("notice-error", panel.failed && !panel.list);
  }

  function renderList() {
    const list = $("history-list");
    const more = $("history-more");
    if (!panel.list || panel.unsupported) {
      list.replaceChildren();
      list.hidden = true;
      more.hidden = true;
      return;
    }
    const active = activeElement();
    const focusKey = active && list.contains(active) ? active.dataset.focusKey : null;

    const { current, versions } = panel.list;
    const loaded = versionOf(page.etag());
    const items = versions.slice(0, panel.shown).map((entry) => {
      const { version } = entry;
      const selected = panel.compared != null && panel.compared.version === version;
      const badges = [
        version === current ? el("span", { class: "badge" }, "current") : null,
        version === loaded && loaded !== current ? el("span", { class: "badge" }, "loaded here") : null,
      ];
      const who = entry.author == null || entry.author === "" ? "unknown writer" : entry.author;
      const meta = [
        el("time", { datetime: entry.time }, readableTime(entry.time)),
        el("span", { class: "sep", "aria-hidden": "true" }, " · "),
        el("span", { class: "author" }, `by ${who}`),
        entry.restoredFrom != null ? el("span", { class: "sep", "aria-hidden": "true" }, " · ") : null,
        entry.restoredFrom != null
          ? el("span", { class: "restored" }, `restored from version ${entry.restoredFrom}`)
          : null,
      ];
      const oldest = entry.previous == null && version > 1;
      const lines = changeLines(diffGroups(entry, { added: oldest ? "Holds" : "Added" }));
      const changes = lines.length
        ? el("ul", { class: "version-changes" }, ...lines)
        : el("p", { class: "hint" }, entry.previous == null ? "No secrets." : "No secret changed.");
      const compare = el(
        "button",
        {
          type: "button",
          class: "small",
          "aria-pressed": String(selected),
          dataset: { compare: String(version), focusKey: `compare:${version}` },
        },
        "Compare",
        el("span", { class: "visually-hidden" }, ` version ${version} with the loaded secrets`),
      );
      return el(
        "li",
        { class: selected ? "version selected" : "version", dataset: { version: String(version) } },
        el("div", { class: "version-head" }, el("span", { class: "version-title" }, `Version ${version}`), ...badges),
        el("p", { class: "version-meta" }, ...meta),
        oldest ? el("p", { class: "hint" }, "Older versions are no longer kept.") : null,
        changes,
        compare,
      );
    });
    list.replaceChildren(...items);
    list.hidden = items.length === 0;
    const rest = versions.length - Math.min(panel.shown, versions.length);
    more.hidden = rest <= 0;
    more.textContent = `Show older versions (${rest} more)`;

    if (focusKey) {
      const again = list.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      (again || $("history-heading")).focus();
    }
  }

  /** One value of the comparison, masked unless it is the one shown. */
  function valueLine(side, name, value, label, accessibleLabel) {
    const key = `${side}:${name}`;
    const shown = panel.revealed === key;
    return el(
      "div",
      { class: "diff-value" },
      el("span", { class: "label" }, `${label}: `),
      el("span", { class: "diff-kind" }, `(${kindOf(value)}) `),
      shown ? el("pre", { class: "value" }, displayText(value)) : maskedValue(),
      el(
        "button",
        { type: "button", class: "small", dataset: { reveal: key, focusKey: `reveal:${key}` } },
        shown ? "Hide" : "Show",
        el("span", { class: "visually-hidden" }, ` ${accessibleLabel}`),
      ),
    );
  }

  function renderDiff() {
    const section = $("history-diff");
    const compared = panel.compared;
    section.hidden = compared == null;
    if (!compared) {
      $("history-diff-groups").replaceChildren();
      return;
    }
    const active = activeElement();
    const focusKey = active && section.contains(active) ? active.dataset.focusKey : null;

    const { version, secrets } = compared;
    panel.dirty = page.isDirty();
    $("history-diff-notice").textContent = panel.notice;
    $("history-diff-notice").hidden = !panel.notice;
    const base = page.current() || {};
    const loaded = versionOf(page.etag());
    const diff = diffSets(base, secrets);
    const count = touchedNames(diff).length;
    $("history-diff-heading").textContent =
      `Version ${version} compared with the loaded secrets` + (loaded != null ? ` (version ${loaded})` : "");
    $("history-diff-summary").textContent = count
      ? `Restoring version ${version} would change ${plural(count, "secret")}. Values stay hidden until you ` +
        "show one."
      : `Version ${version} holds the same secrets as the loaded version; restoring it would change nothing.`;

    const inVersion = `in version ${version}`;
    const group = (title, names, lines) =>
      names.length
        ? el(
            "div",
            { class: "diff-group" },
            el("h5", {}, `${title} (${names.length})`),
            el(
              "ul",
              { class: "diff-list" },
              ...names.map((name) => el("li", { dataset: { name } }, el("span", { class: "name" }, name), lines(name))),
            ),
          )
        : null;
    const groups = [
      group("Would be added", diff.added, (name) => [
        valueLine("version", name, secrets[name], `In version ${version}`, `the value of ${name} ${inVersion}`),
      ]),
      group("Would change", diff.changed, (name) => [
        valueLine("loaded", name, base[name], "Now", `the loaded value of ${name}`),
        valueLine("version", name, secrets[name], `In version ${version}`, `the value of ${name} ${inVersion}`),
      ]),
      group("Would be removed", diff.removed, (name) => [
        valueLine("loaded", name, base[name], "Now", `the loaded value of ${name}`),
      ]),
    ];
    $("history-diff-groups").replaceChildren(...groups.filter(Boolean));

    const restore = $("history-restore");
    restore.textContent = `Restore version ${version}`;
    const blocked = restoreBlocked(diff);
    if (blocked) restore.setAttribute("aria-disabled", "true");
    else restore.removeAttribute("aria-disabled");
    $("history-restore-note").textContent =
      blocked ||
      "Restoring saves these secrets as a new version; the loaded version stays in the history. " +
        "If someone saves first, nothing is restored.";
    $("history-restore-note").classList.toggle("blocked", Boolean(blocked));

    if (focusKey) {
      const again = section.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      (again || $("history-diff-heading")).focus();
    }
  }

  /** Why the compared version cannot be restored now, or "" when it can. */
  function restoreBlocked(diff) {
    if (page.isDirty()) {
      return (
        "Restore is unavailable while this page has unsaved changes: save or discard them first. " +
        "A restore replaces the secrets on the server and in this page."
      );
    }
    if (!page.etag()) {
      return "Restore is unavailable: the server did not say which version this page holds.";
    }
    if (isEmptyDiff(diff)) return "Nothing to restore: this version holds the loaded secrets.";
    return "";
  }

  // -------------------------------------------------------------------------------------
  // Reading from the server

  /** Drops everything shown for the previous job (values first). */
  function reset(client) {
    panel.client = client;
    panel.open = false;
    panel.list = null;
    panel.unsupported = false;
    panel.failed = false;
    panel.loading = false;
    panel.listTicket += 1;
    panel.compareTicket += 1;
    panel.shown = PAGE_SIZE;
    panel.compared = null;
    panel.revealed = null;
    panel.notice = "";
    panel.etag = null;
    render();
  }

  async function loadList({ say = false } = {}) {
    const client = page.client();
    if (!client) return;
    const ticket = ++panel.listTicket;
    panel.etag = page.etag();
    panel.loading = true;
    render();
    try {
      // A package without history methods is as good as a server without history.
      const list = typeof client.versions === "function" ? await client.versions() : null;
      if (ticket !== panel.listTicket) return;
      if (list == null) {
        panel.list = null;
        panel.unsupported = "package";
        if (say) page.announce("Version history is not available: this page's package has no history methods.");
        return;
      }
      panel.list = list;
      panel.unsupported = false;
      panel.failed = false;
      // A version that is no longer kept cannot be compared any more.
      if (panel.compared && !list.versions.some((v) => v.version === panel.compared.version)) {
        panel.compared = null;
        panel.revealed = null;
      }
      if (say) page.announce(`Loaded the history of the secrets: ${plural(list.versions.length, "version")}.`);
    } catch (error) {
      if (ticket !== panel.listTicket) return;
      panel.list = null;
      panel.compared = null;
      panel.revealed = null;
      if (error && error.code === "not-supported") {
        panel.unsupported = "server";
        if (say) page.announce("Version history is not available on this server.");
      } else {
        panel.failed = true;
        page.showError(error);
      }
    } finally {
      if (ticket === panel.listTicket) {
        panel.loading = false;
        render();
      }
    }
  }

  async function compare(version) {
    const client = page.client();
    if (!client || page.isBusy()) return;
    if (panel.compared && panel.compared.version === version) {
      $("history-diff-heading").focus();
      return;
    }
    const ticket = ++panel.compareTicket;
    page.announce(`Reading version ${version}…`);
    try {
      const secrets = await client.readVersion(version);
      if (ticket !== panel.compareTicket || client !== page.client()) return;
      panel.compared = { version, secrets };
      panel.revealed = null;
      panel.notice = "";
      render();
      const diff = diffSets(page.current() || {}, secrets);
      const count = touchedNames(diff).length;
      page.announce(
        count
          ? `Version ${version}: restoring it would change ${plural(count, "secret")}.`
          : `Version ${version} holds the loaded secrets.`,
      );
      $("history-diff-heading").focus();
    } catch (error) {
      if (ticket !== panel.compareTicket) return;
      page.announce("");
      page.showError(error);
      // A version pruned meanwhile: show what is kept now.
      if (error && error.code === "not-found") await loadList();
    }
  }

  function closeComparison() {
    const version = panel.compared && panel.compared.version;
    panel.compared = null;
    panel.revealed = null;
    panel.notice = "";
    render();
    const button = $("history-list").querySelector(`[data-focus-key="compare:${version}"]`);
    (button || $("history-heading")).focus();
  }

  // -------------------------------------------------------------------------------------
  // Restoring

  async function restore() {
    const client = page.client();
    if (!client || page.isBusy() || !panel.compared) return;
    const { version, secrets } = panel.compared;
    const base = page.current() || {};
    const etag = page.etag();
    const diff = diffSets(base, secrets);
    const blocked = restoreBlocked(diff);
    if (blocked) {
      page.announce(blocked);
      return;
    }
    const groups = groupBlocks(diffGroups(diff));
    const confirmed = await page.confirm({
      title: `Restore version ${version}?`,
      body: [
        `The server saves the secrets of version ${version} as a new version, and this page loads it. ` +
          `${count(diff)} change (values stay hidden):`,
        ...groups,
        "If someone saves before you confirm, nothing is restored.",
      ],
      ok: `Restore version ${version}`,
      danger: true,
    });
    if (!confirmed || client !== page.client() || etag !== page.etag()) {
      if (confirmed) page.announce("Not restored: the loaded secrets changed while the dialog was open.");
      return;
    }
    page.clearAlert();
    page.setBusy(true, `Restoring version ${version}…`);
    let focus = $("history-heading");
    try {
      const newEtag = await client.restoreVersion(version, etag);
      panel.compared = null;
      panel.revealed = null;
      panel.notice = "";
      if (newEtag) {
        // The new version holds exactly the restored version's set (the panel lets go of it).
        page.adopt(secrets, newEtag);
      } else {
        const read = await client.getAllSecretsVersioned();
        page.adopt(read.secrets, read.etag);
      }
      const now = versionOf(page.etag());
      page.announce(
        `Restored version ${version}` +
          (now != null ? ` as version ${now}` : "") +
          `: ${diffSummary(diff)}. The page shows the restored secrets.`,
      );
    } catch (error) {
      if (error && error.code === "conflict") {
        focus = await restoreMeanwhileSaved(client, version, base, etag);
      } else {
        page.showError(error);
        page.announce("");
        if (error && error.code === "not-found") loadList();
      }
    } finally {
      page.setBusy(false);
    }
    focus.focus();
  }

  /**
   * Someone saved between the page's load and the restore, so the server refused it and
   * wrote nothing. The page had no unsaved edits (restore waits for that), so loading the
   * server's secrets discards nothing; the comparison then shows what restoring would change
   * from there. Returns the element to focus.
   */
  async function restoreMeanwhileSaved(client, version, before, beforeEtag) {
    try {
      const { secrets, etag } = await client.getAllSecretsVersioned();
      const theirs = diffSets(before, secrets);
      page.adopt(secrets, etag);
      const saved = versionOf(etag);
      panel.notice =
        `Not restored: someone saved version ${saved ?? "(unknown)"} meanwhile, so nothing was restored. ` +
        "This comparison is now against their version.";
      const changed = touchedNames(theirs).length
        ? `On the server meanwhile: ${summaryNames(theirs)}.`
        : "The secrets on the server are the same as before.";
      page.showError({
        what: `Not restored: someone saved version ${saved ?? "(unknown)"} meanwhile`,
        why:
          `this page had loaded version ${versionOf(beforeEtag) ?? "(unknown)"}, and a restore only goes ahead ` +
          `on the version it was checked against. Nothing was restored and nothing was lost. ${changed}`,
        countermeasures:
          `The page now shows the server's latest secrets. Check the comparison with version ${version} ` +
          "again, and restore it if you still want to.",
      });
      page.announce(`Not restored: someone saved meanwhile. The page now shows version ${saved ?? "(unknown)"}.`);
      return $("history-diff").hidden ? $("history-heading") : $("history-diff-heading");
    } catch (readError) {
      page.showError(readError);
      return $("history-heading");
    }
  }

  // -------------------------------------------------------------------------------------
  // Events

  function toggle() {
    if (panel.open) {
      panel.open = false;
      panel.compared = null;
      panel.revealed = null;
      panel.notice = "";
      render();
      return;
    }
    if (!page.client()) return;
    panel.open = true;
    panel.shown = PAGE_SIZE;
    render();
    loadList({ say: true });
  }

  function onBodyClick(event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.compare) {
      compare(Number(button.dataset.compare));
    } else if (button.dataset.reveal) {
      // One value at a time, on the whole page.
      const key = button.dataset.reveal;
      panel.revealed = panel.revealed === key ? null : key;
      if (panel.revealed) page.concealList();
      renderDiff();
    }
  }

  function conceal() {
    if (!panel.revealed) return;
    panel.revealed = null;
    renderDiff();
  }

  /** Follows the page: another job, a new loaded version, edits made or dropped. */
  function update() {
    const client = page.client();
    if (client !== panel.client) {
      reset(client);
      return;
    }
    if (!panel.open) return;
    if (page.etag() !== panel.etag && !page.isBusy() && !panel.unsupported) {
      // Saved, reloaded or restored: the list is out of date, and the comparison is now
      // against other loaded secrets.
      loadList();
      renderDiff();
    } else if (panel.compared && page.isDirty() !== panel.dirty) {
      renderDiff();
    }
  }

  $("history-toggle").addEventListener("click", toggle);
  $("history-body").addEventListener("click", onBodyClick);
  $("history-more").addEventListener("click", () => {
    panel.shown += PAGE_SIZE;
    const first = panel.shown - PAGE_SIZE;
    renderList();
    const next = $("history-list").children[first];
    const button = next && next.querySelector("button");
    (button || $("history-heading")).focus();
  });
  $("history-diff-close").addEventListener("click", closeComparison);
  $("history-restore").addEventListener("click", restore);
  render();

  return { update, conceal };
}

/** "1 secret would", "3 secrets would" */
function count(diff) {
  const n = touchedNames(diff).length;
  return n === 1 ? "1 secret would" : `${n} secrets would`;
}

/** "added d; changed b; removed c" */
function summaryNames(diff) {
  return [
    diff.added.length && `added ${diff.added.join(", ")}`,
    diff.changed.length && `changed ${diff.changed.join(", ")}`,
    diff.removed.length && `removed ${diff.removed.join(", ")}`,
  ]
    .filter(Boolean)
    .join("; ");
}
