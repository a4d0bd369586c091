// locportal: small progressive enhancements. Every page works without this file.

// Destructive forms ask first.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Timestamps are sent in UTC; show them in the viewer's time zone ("Mon 24 Nov, 14:05").
const fmt = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});
function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const d = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(d.getTime())) {
      el.title = d.toString();
      el.textContent = fmt.format(d);
    }
  }
}
localTimes(document);

// Live updates: the server sends event ids over SSE (only for channels this user may read);
// the page then refetches itself and swaps in the parts that changed. Fetching a channel page
// is also what marks it read, so a message that appears in an open channel is read at once.
const live = document.body.dataset.live === "1" && "EventSource" in window;
const messages = document.getElementById("messages");
const myProjects = document.querySelector("main");
const requestsView = document.getElementById("requests") || document.getElementById("request-detail") || document.getElementById("requests-count");
let pending = null;

async function refresh() {
  pending = null;
  const response = await fetch(location.pathname + location.search, { credentials: "same-origin" });
  if (!response.ok) return;
  const next = new DOMParser().parseFromString(await response.text(), "text/html");
  if (messages) {
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    const fresh = next.getElementById("messages");
    if (fresh) messages.innerHTML = fresh.innerHTML;
    const list = document.getElementById("channel-list");
    const freshList = next.getElementById("channel-list");
    if (list && freshList) list.innerHTML = freshList.innerHTML;
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
  } else if (requestsView) {
    // Swap only the table (keeping ticked boxes) or the request, never a form being filled in.
    const table = document.getElementById("requests");
    const freshTable = next.getElementById("requests");
    if (table && freshTable) {
      const ticked = new Set([...table.querySelectorAll("input[name=ids]:checked")].map((i) => i.value));
      table.innerHTML = freshTable.innerHTML;
      for (const box of table.querySelectorAll("input[name=ids]")) box.checked = ticked.has(box.value);
    } else if (!table && freshTable) {
      // The first request of the title appeared: reload, unless the order form is being used.
      const order = document.getElementById("order-form");
      const typing = order && [...order.querySelectorAll("textarea, input:not([type=hidden]):not([type=checkbox])")].some((f) => f.value);
      if (!typing) location.reload();
      return;
    }
    const count = document.getElementById("requests-count");
    const freshCount = next.getElementById("requests-count");
    if (count && freshCount) count.innerHTML = freshCount.innerHTML;
    const detail = document.getElementById("request-detail");
    const freshDetail = next.getElementById("request-detail");
    if (detail && freshDetail) {
      const busy = detail.contains(document.activeElement) && document.activeElement.matches("input, textarea, select");
      const typed = [...detail.querySelectorAll("textarea, input:not([type=hidden])")].some((f) => f.value);
      if (busy || typed) {
        pending = setTimeout(refresh, 3000);
        return;
      }
      detail.innerHTML = freshDetail.innerHTML;
      localTimes(detail);
    }
  } else if (document.getElementById("my-projects") || document.querySelector("main .empty")) {
    const fresh = next.querySelector("main");
    if (fresh && myProjects) myProjects.innerHTML = fresh.innerHTML;
  }
}

function schedule() {
  if (!pending) pending = setTimeout(refresh, 100);
}

// The bell's count: mentions and e-mailed messages not read yet. Asked on load, after live
// events (reading a message clears its entry) and every minute (e-mails are planned in the
// background, without an event).
const bellCount = document.getElementById("bell-count");
let bellPending = null;
async function refreshBell() {
  bellPending = null;
  const response = await fetch("/api/v1/notifications?limit=1", { credentials: "same-origin" });
  if (!response.ok) return;
  const { unread } = await response.json();
  bellCount.textContent = unread > 99 ? "99+" : String(unread);
  bellCount.hidden = unread === 0;
  document.getElementById("bell").setAttribute("aria-label", `Notifications: ${unread} unread`);
}
function scheduleBell() {
  if (bellCount && !bellPending) bellPending = setTimeout(refreshBell, 300);
}
if (bellCount) {
  refreshBell();
  setInterval(refreshBell, 60000);
}

if (live && (messages || requestsView || location.pathname === "/")) {
  const source = new EventSource("/events");
  for (const kind of ["message_posted", "message_edited", "message_deleted", "channel_read", "request_changed", "reload"]) {
    source.addEventListener(kind, schedule);
    source.addEventListener(kind, scheduleBell);
  }
}

// @-autocomplete in the composer: only people who can read the channel are offered.
const composer = document.querySelector("textarea[data-mentions]");
const mentionList = document.getElementById("mention-list");
if (composer && mentionList) {
  let choices = [];
  let active = 0;
  const wordBeforeCaret = () => {
    const upto = composer.value.slice(0, composer.selectionStart);
    const m = upto.match(/(^|\s)@([^\s@]*)$/);
    return m ? m[2] : null;
  };
  const close = () => { mentionList.hidden = true; choices = []; };
  const render = () => {
    mentionList.innerHTML = "";
    choices.forEach((p, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === active));
      li.textContent = `${p.name} · ${p.badge} · ${p.email}`;
      li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
      mentionList.appendChild(li);
    });
    mentionList.hidden = choices.length === 0;
  };
  const pick = (i) => {
    const p = choices[i];
    if (!p) return;
    const caret = composer.selectionStart;
    const before = composer.value.slice(0, caret).replace(/@[^\s@]*$/, `@${p.email} `);
    composer.value = before + composer.value.slice(caret);
    composer.selectionStart = composer.selectionEnd = before.length;
    close();
    composer.focus();
  };
  composer.addEventListener("input", async () => {
    const word = wordBeforeCaret();
    if (word === null) return close();
    const response = await fetch(`${composer.dataset.mentions}?limit=10&q=${encodeURIComponent(word)}`, { credentials: "same-origin" });
    if (!response.ok) return close();
    choices = (await response.json()).items;
    active = 0;
    render();
  });
  composer.addEventListener("keydown", (e) => {
    if (mentionList.hidden) return;
    if (e.key === "ArrowDown") { active = (active + 1) % choices.length; render(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = (active + choices.length - 1) % choices.length; render(); e.preventDefault(); }
    else if (e.key === "Enter" || e.key === "Tab") { pick(active); e.preventDefault(); }
    else if (e.key === "Escape") { close(); }
  });
  composer.addEventListener("blur", () => setTimeout(close, 150));
}
