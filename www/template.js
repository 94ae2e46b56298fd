// The markup of one secrets page, as the <vdk-job-secrets> element puts it in its shadow root.
// Static text only: nothing from the server or the user is ever added to it as markup.
export const TEMPLATE = `
<div id="main" class="page" tabindex="-1">
    <div id="alert" class="alert" role="alert"></div>
    <p id="status" class="status" role="status"></p>

    <section class="card" aria-labelledby="connect-heading">
      <h2 id="connect-heading">Job</h2>
      <form id="connect-form" class="connect" novalidate>
        <div class="field field-wide">
          <label for="base-url">Control Service URL</label>
          <input id="base-url" name="url" type="url" inputmode="url" autocomplete="url"
                 spellcheck="false" autocapitalize="off" aria-describedby="base-url-msg">
          <p id="base-url-msg" class="msg"></p>
        </div>
        <div class="field">
          <label for="team">Team</label>
          <input id="team" name="team" type="text" autocomplete="off" spellcheck="false"
                 autocapitalize="off" required aria-describedby="team-msg">
          <p id="team-msg" class="msg"></p>
        </div>
        <div class="field">
          <label for="job">Job</label>
          <input id="job" name="job" type="text" autocomplete="off" spellcheck="false"
                 autocapitalize="off" required aria-describedby="job-msg">
          <p id="job-msg" class="msg"></p>
        </div>
        <div class="field field-wide">
          <label for="token">Access token <span class="optional">(optional)</span></label>
          <!-- No name attribute: an unnamed control is never part of a form submission. -->
          <input id="token" type="password" autocomplete="off" spellcheck="false"
                 aria-describedby="token-hint token-msg">
          <p id="token-hint" class="hint">Sent as a bearer token. Kept in this tab's memory only: never stored, never put in the address.</p>
          <p id="token-msg" class="msg"></p>
        </div>
        <div class="actions">
          <button id="connect" type="submit" class="primary" disabled>Load secrets</button>
        </div>
      </form>
    </section>

    <section id="secrets-section" class="card" aria-labelledby="secrets-heading" hidden>
      <div class="section-head">
        <h2 id="secrets-heading" tabindex="-1">Secrets of <span id="job-label"></span></h2>
        <p id="version-text" class="hint"></p>
      </div>

      <div class="toolbar">
        <div class="field filter">
          <label for="filter">Filter by name</label>
          <input id="filter" type="search" autocomplete="off" spellcheck="false"
                 aria-describedby="filter-count">
          <p id="filter-count" class="hint"></p>
        </div>
        <div class="buttons">
          <button id="add" type="button" class="primary">Add secret</button>
          <button id="delete-selected" type="button" class="danger" aria-disabled="true">Delete selected</button>
          <button id="delete-all" type="button" class="danger">Delete all</button>
          <button id="reload" type="button">Reload from server</button>
        </div>
        <div class="field file-field">
          <label for="file-input">Overwrite all from a JSON file</label>
          <input id="file-input" type="file" accept="application/json,.json" aria-describedby="file-hint">
          <p id="file-hint" class="hint">You see what changes before anything is replaced.</p>
        </div>
      </div>

      <div class="size">
        <label for="size-meter">Size of the set</label>
        <meter id="size-meter" min="0" max="1" value="0" aria-describedby="size-text"></meter>
        <p id="size-text" class="hint"></p>
      </div>

      <section id="conflict" class="conflict" aria-labelledby="conflict-heading" hidden>
        <h3 id="conflict-heading" tabindex="-1">Not saved: the secrets changed on the server</h3>
        <p id="conflict-summary"></p>
        <ul id="conflict-list" class="name-list"></ul>
        <p id="conflict-overlap"></p>
        <div class="buttons">
          <button id="conflict-reload" type="button">Reload (discard my edits)</button>
          <button id="conflict-reapply" type="button" class="primary">Reapply my edits on the new version</button>
        </div>
      </section>

      <section id="changes" class="changes" aria-labelledby="changes-heading">
        <h3 id="changes-heading" tabindex="-1">Unsaved changes</h3>
        <p id="changes-summary" class="hint">None. Edits stay in this page until you save.</p>
        <ul id="changes-list" class="name-list"></ul>
        <div class="buttons">
          <button id="save" type="button" class="primary" aria-disabled="true">Save</button>
          <button id="discard" type="button" aria-disabled="true">Discard changes</button>
        </div>
      </section>

      <table id="secrets-table" class="secrets">
        <caption class="visually-hidden">Secrets; values stay hidden until you show one</caption>
        <thead>
          <tr aria-rowindex="1">
            <th scope="col" class="col-select">
              <input id="select-all" type="checkbox" aria-label="Select all shown secrets">
              <label for="select-all" class="select-all-label">Select all</label>
            </th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody id="rows"></tbody>
      </table>
      <p id="empty-text" class="notice" hidden></p>

      <section id="history" class="history" aria-labelledby="history-heading">
        <div class="section-head">
          <h3 id="history-heading" tabindex="-1">Version history</h3>
          <button id="history-toggle" type="button" aria-expanded="false" aria-controls="history-body">Show history</button>
        </div>
        <div id="history-body" hidden>
          <p id="history-note" class="hint"></p>
          <section id="history-diff" class="history-diff" aria-labelledby="history-diff-heading" hidden>
            <h4 id="history-diff-heading" tabindex="-1"></h4>
            <p id="history-diff-notice" class="history-notice" hidden></p>
            <p id="history-diff-summary"></p>
            <div id="history-diff-groups"></div>
            <p id="history-restore-note" class="hint"></p>
            <div class="buttons">
              <button id="history-restore" type="button" class="danger">Restore</button>
              <button id="history-diff-close" type="button">Close comparison</button>
            </div>
          </section>
          <ol id="history-list" class="history-list" aria-label="Versions, newest first" hidden></ol>
          <button id="history-more" type="button" hidden>Show older versions</button>
        </div>
      </section>
    </section>
  <dialog id="confirm-dialog" aria-labelledby="confirm-title" aria-describedby="confirm-body">
    <h2 id="confirm-title"></h2>
    <div id="confirm-body"></div>
    <div class="buttons">
      <button id="confirm-cancel" type="button" autofocus>Cancel</button>
      <button id="confirm-ok" type="button" class="danger">Delete</button>
    </div>
  </dialog>

  <dialog id="edit-dialog" aria-labelledby="edit-title">
    <form id="edit-form" novalidate>
      <h2 id="edit-title">Add a secret</h2>
      <div class="field">
        <label for="edit-name">Name</label>
        <input id="edit-name" type="text" autocomplete="off" spellcheck="false" autocapitalize="off"
               aria-describedby="edit-name-msg">
        <p id="edit-name-msg" class="msg"></p>
      </div>
      <div class="field">
        <label for="edit-type">Type</label>
        <select id="edit-type" aria-describedby="edit-type-hint">
          <option value="string">String</option>
          <option value="number">Number</option>
          <option value="json">JSON (list, object, true, false, null)</option>
        </select>
        <p id="edit-type-hint" class="hint"></p>
      </div>
      <div class="field">
        <label for="edit-value">Value</label>
        <textarea id="edit-value" rows="4" autocomplete="off" spellcheck="false" autocapitalize="off"
                  aria-describedby="edit-value-msg edit-value-hint"></textarea>
        <p id="edit-value-msg" class="msg"></p>
        <p id="edit-value-hint" class="hint">Ctrl+Enter keeps the secret.</p>
      </div>
      <div class="buttons">
        <button id="edit-cancel" type="button">Cancel</button>
        <button id="edit-ok" type="submit" class="primary">Add</button>
      </div>
    </form>
  </dialog>

  <dialog id="file-dialog" aria-labelledby="file-title" aria-describedby="file-summary">
    <h2 id="file-title">Overwrite all from a file</h2>
    <p id="file-summary"></p>
    <div id="file-details"></div>
    <div class="buttons">
      <button id="file-cancel" type="button">Cancel</button>
      <button id="file-apply" type="button" class="danger">Replace my working copy</button>
    </div>
  </dialog>
</div>
`;
