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
const audioView = document.getElementById("fulfilment") || document.getElementById("audio-list") || document.getElementById("casting-matrix");
let pending = null;
let uploading = 0;

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
  } else if (audioView) {
    // Swap the lists and the state, never the player, an upload or a form being filled in.
    if (uploading > 0) {
      pending = setTimeout(refresh, 3000);
      return;
    }
    for (const id of ["audio-list", "versions", "notes", "fulfilment-state", "casting-matrix"]) {
      const el = document.getElementById(id);
      const fresh = next.getElementById(id);
      if (el && fresh && el.innerHTML !== fresh.innerHTML) {
        el.innerHTML = fresh.innerHTML;
        localTimes(el);
      }
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

if (live && (messages || requestsView || audioView || location.pathname === "/")) {
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

// Audio fulfilment: resumable uploads (tus 1.0) with a progress bar, the clip's timecode, and
// recordings played in sync with the picture.
const csrfToken = () => document.querySelector("input[name=csrf]")?.value || "";
const tus = { "Tus-Resumable": "1.0.0" };

function base64(text) {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

function errorText(json, fallback) {
  const e = json && json.error;
  if (!e) return fallback;
  const fields = (e.fields || []).map((f) => f.message).join(" ");
  return fields || e.message || fallback;
}

// One PATCH with the rest of the file from `offset`, reporting progress as it goes.
function sendPiece(url, file, offset, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PATCH", url);
    xhr.setRequestHeader("Tus-Resumable", "1.0.0");
    xhr.setRequestHeader("Upload-Offset", String(offset));
    xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.onprogress = (e) => onProgress(offset + e.loaded, file.size);
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { json = null; }
      resolve({
        status: xhr.status,
        offset: Number(xhr.getResponseHeader("Upload-Offset") || offset),
        json,
        message: errorText(json, `${xhr.status} ${xhr.statusText}`),
      });
    };
    xhr.onerror = () => resolve({ status: 0, offset, message: "the connection dropped" });
    xhr.send(file.slice(offset));
  });
}

async function uploadOffset(url) {
  const head = await fetch(url, { method: "HEAD", headers: tus, credentials: "same-origin" });
  return head.ok ? Number(head.headers.get("Upload-Offset") || 0) : null;
}

// Sends `file`; an upload of the same file for the same purpose started earlier (before a
// dropped connection or a reload) is resumed where the server has it. Resolves with the
// accepted upload; rejects with the server's words when it refuses the file.
async function resumableUpload(file, meta, onProgress) {
  const key = "lp-upload|" + Object.values(meta).join("|") + "|" + [file.name, file.size, file.lastModified].join("|");
  let url = localStorage.getItem(key);
  let offset = 0;
  if (url) {
    const known = await uploadOffset(url);
    if (known === null) {
      localStorage.removeItem(key);
      url = null;
    } else {
      offset = known;
    }
  }
  if (!url) {
    const pairs = Object.entries({ filename: file.name, ...meta }).map(([k, v]) => `${k} ${base64(String(v))}`);
    const created = await fetch("/api/v1/uploads", {
      method: "POST",
      credentials: "same-origin",
      headers: { ...tus, "Upload-Length": String(file.size), "Upload-Metadata": pairs.join(","), "X-CSRF-Token": csrfToken() },
    });
    if (!created.ok) {
      let json = null;
      try { json = await created.json(); } catch { json = null; }
      throw new Error(errorText(json, `${created.status} ${created.statusText}`));
    }
    url = created.headers.get("Location");
    localStorage.setItem(key, url);
  }
  for (let failures = 0; ;) {
    onProgress(offset, file.size);
    const r = await sendPiece(url, file, offset, onProgress);
    if (r.status === 200) {
      localStorage.removeItem(key);
      return r.json;
    }
    if (r.status === 204) {
      offset = r.offset;
      failures = 0;
      continue;
    }
    if (r.status !== 0 && r.status !== 409 && r.status < 500) {
      localStorage.removeItem(key);
      throw new Error(r.message);
    }
    failures += 1;
    if (failures > 6) throw new Error(`${r.message}; the upload will resume from where it stopped when you choose the file again`);
    await new Promise((ok) => setTimeout(ok, Math.min(500 * 2 ** failures, 15000)));
    const known = await uploadOffset(url);
    if (known !== null) offset = known;
  }
}

function progressRow(list, name) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.className = "name";
  label.textContent = name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const status = document.createElement("span");
  status.className = "status";
  status.setAttribute("role", "status");
  li.append(label, " ", bar, " ", status);
  list.append(li);
  const show = (done, total) => {
    bar.value = total ? (100 * done) / total : 100;
    status.textContent = `${Math.floor(bar.value)} %`;
  };
  return { li, bar, status, show };
}

const deliveryForm = document.getElementById("delivery-form");
if (deliveryForm) {
  const input = document.getElementById("delivery-files");
  const list = document.getElementById("delivery-uploads");
  const send = document.getElementById("delivery-submit");
  input.addEventListener("change", async () => {
    list.replaceChildren();
    send.disabled = true;
    for (const old of deliveryForm.querySelectorAll("input[name=uploads]")) old.remove();
    const mix = (deliveryForm.querySelector("input[name=mix]:checked") || deliveryForm.querySelector("input[name=mix]")).value;
    const talentField = document.getElementById("talent");
    const talent = talentField ? talentField.value.trim() : "";
    if (talentField && !talent) {
      const row = progressRow(list, "");
      row.bar.hidden = true;
      row.status.textContent = "Name the talent first, then choose the files.";
      input.value = "";
      talentField.focus();
      return;
    }
    let accepted = 0;
    uploading += 1;
    try {
      for (const file of input.files) {
        const row = progressRow(list, file.name);
        try {
          const up = await resumableUpload(file, { for: "delivery", fulfilment: deliveryForm.dataset.fulfilment, mix, talent }, row.show);
          row.bar.value = 100;
          row.li.className = "accepted";
          const warnings = (up.report && up.report.warnings) || [];
          row.status.textContent = "Accepted";
          if (warnings.length) {
            const warn = document.createElement("span");
            warn.className = "warn";
            warn.textContent = ` with ${warnings.length} warning(s): ${warnings.map((w) => w.message).join("; ")}`;
            row.status.after(warn);
          }
          const hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = "uploads";
          hidden.value = up.id;
          deliveryForm.append(hidden);
          accepted += 1;
        } catch (e) {
          row.li.className = "refused";
          row.status.textContent = `Refused: ${e.message}`;
        }
      }
    } finally {
      uploading -= 1;
    }
    send.disabled = accepted === 0 || accepted !== input.files.length;
  });
}

const audioForm = document.getElementById("audio-form");
if (audioForm) {
  const kind = document.getElementById("audio-kind");
  if (kind) {
    const toggle = () => {
      document.getElementById("clip-only").hidden = kind.value !== "moments";
      document.getElementById("premix-only").hidden = kind.value !== "premix";
    };
    kind.addEventListener("change", toggle);
    toggle();
  }
  const file = document.getElementById("clip-file");
  const bar = document.getElementById("clip-progress");
  const status = document.getElementById("clip-status");
  const submit = document.getElementById("audio-submit");
  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    document.getElementById("clip-upload-id").value = "";
    bar.hidden = false;
    submit.disabled = true;
    uploading += 1;
    try {
      const up = await resumableUpload(chosen, { for: "clip", project: audioForm.dataset.project }, (done, total) => {
        bar.value = total ? (100 * done) / total : 100;
        status.textContent = `Uploading ${Math.floor(bar.value)} %`;
      });
      document.getElementById("clip-upload-id").value = up.id;
      const secs = up.report && up.report.timescale ? (up.report.duration / up.report.timescale).toFixed(3) : "?";
      status.textContent = `Clip uploaded: ${secs} s.`;
    } catch (e) {
      status.textContent = `Refused: ${e.message}`;
    } finally {
      uploading -= 1;
      submit.disabled = false;
    }
  });
}

// The clip's timecode, seeking to pinned comments, and the recording played with the picture.
const clip = document.getElementById("clip");
function timecodeLabel(frame, num, den, dropFrame) {
  const fps = Math.round(num / den);
  let f = frame;
  if (dropFrame) {
    const drop = fps === 30 ? 2 : 4;
    const perTen = fps * 600 - drop * 9;
    const tens = Math.floor(f / perTen);
    const rest = f % perTen;
    f += drop * 9 * tens + (rest > drop ? drop * Math.floor((rest - drop) / (fps * 60 - drop)) : 0);
  }
  const two = (n) => String(n).padStart(2, "0");
  const ff = f % fps;
  const ss = Math.floor(f / fps) % 60;
  const mm = Math.floor(f / (fps * 60)) % 60;
  const hh = Math.floor(f / (fps * 3600)) % 24;
  return `${two(hh)}:${two(mm)}:${two(ss)}${dropFrame ? ";" : ":"}${two(ff)}`;
}
function clipTimecode() {
  const d = clip.dataset;
  const num = Number(d.fpsNum);
  const den = Number(d.fpsDen);
  // A seek lands on a frame's start give or take a rounding error: allow a thousandth of a frame.
  const frame = Number(d.start) + Math.floor((clip.currentTime * num) / den + 1e-3);
  return timecodeLabel(frame, num, den, d.df === "1");
}
if (clip) {
  const out = document.getElementById("timecode");
  const tick = () => { out.textContent = clipTimecode(); };
  for (const kind of ["timeupdate", "seeked", "loadedmetadata"]) clip.addEventListener(kind, tick);
  let synced = null;
  document.addEventListener("click", (event) => {
    const seek = event.target.closest("a.tc[data-seek]");
    if (seek) {
      event.preventDefault();
      clip.currentTime = Number(seek.dataset.seek);
      clip.scrollIntoView({ block: "nearest" });
      return;
    }
    const sync = event.target.closest("button[data-sync]");
    if (sync) {
      const audio = document.getElementById(sync.dataset.sync);
      for (const other of document.querySelectorAll("audio")) if (other !== audio) other.pause();
      synced = audio;
      clip.muted = true;
      clip.currentTime = 0;
      audio.currentTime = 0;
      clip.play();
      audio.play();
      return;
    }
    if (event.target.id === "use-position") {
      document.getElementById("comment-at").value = clipTimecode();
    }
  });
  clip.addEventListener("timeupdate", () => {
    if (synced && !synced.paused && Math.abs(synced.currentTime - clip.currentTime) > 0.05) synced.currentTime = clip.currentTime;
  });
  clip.addEventListener("seeked", () => { if (synced) synced.currentTime = clip.currentTime; });
  clip.addEventListener("pause", () => { if (synced) synced.pause(); });
  clip.addEventListener("play", () => { if (synced && synced.paused) synced.play(); });
  clip.addEventListener("volumechange", () => {
    if (!clip.muted && synced) {
      synced.pause();
      synced = null;
    }
  });
}
