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
