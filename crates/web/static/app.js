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
for (const el of document.querySelectorAll("time[datetime]")) {
  const d = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(d.getTime())) {
    el.title = d.toString();
    el.textContent = fmt.format(d);
  }
}

// Live updates: the server sends event ids over SSE (only for channels this user may read);
// the page then refetches itself and swaps in the parts that changed. Fetching a channel page
// is also what marks it read, so a message that appears in an open channel is read at once.
const live = document.body.dataset.live === "1" && "EventSource" in window;
const messages = document.getElementById("messages");
const myProjects = document.querySelector("main");
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
  } else if (document.getElementById("my-projects") || document.querySelector("main .empty")) {
    const fresh = next.querySelector("main");
    if (fresh && myProjects) myProjects.innerHTML = fresh.innerHTML;
  }
}

function schedule() {
  if (!pending) pending = setTimeout(refresh, 100);
}

if (live && (messages || location.pathname === "/")) {
  const source = new EventSource("/events");
  for (const kind of ["message_posted", "message_edited", "message_deleted", "channel_read", "reload"]) {
    source.addEventListener(kind, schedule);
  }
}
