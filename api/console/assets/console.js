// The console's only script (CSP: script-src 'self'). Pages work without it; it adds local times,
// live updates, copy buttons, busy buttons, time-range fields and checks of the request form.

// dateStyle/timeStyle cannot be combined with timeZoneName: the parts, spelled out.
const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function relativeText(date) {
  const minutes = Math.round((date.getTime() - Date.now()) / 60000);
  if (Math.abs(minutes) < 90) return relative.format(minutes, 'minute');
  return relative.format(Math.round(minutes / 60), 'hour');
}

/** Every <time datetime> in the reader's zone; `data-relative` ones also say how far away. */
function localTimes(root) {
  for (const el of root.querySelectorAll('time[datetime]')) {
    const date = new Date(el.getAttribute('datetime'));
    if (Number.isNaN(date.getTime())) continue;
    const text = timeFormat.format(date);
    el.textContent = el.hasAttribute('data-relative') ? `${text} (${relativeText(date)})` : text;
    el.title = date.toISOString();
  }
}

/** datetime-local inputs (reader's zone) mirror hidden UTC fields named by data-iso-field. */
function timeRanges(root) {
  const pad = (n) => String(n).padStart(2, '0');
  for (const input of root.querySelectorAll('input[data-iso-field]')) {
    const hidden = input.form?.querySelector(`input[type="hidden"][name="${input.dataset.isoField}"]`);
    if (!hidden) continue;
    const current = hidden.value ? new Date(hidden.value) : undefined;
    if (current && !Number.isNaN(current.getTime())) {
      input.value = `${current.getFullYear()}-${pad(current.getMonth() + 1)}-${pad(current.getDate())}T${pad(current.getHours())}:${pad(current.getMinutes())}`;
    }
    input.addEventListener('change', () => {
      const date = input.value ? new Date(input.value) : undefined;
      hidden.value = date && !Number.isNaN(date.getTime()) ? date.toISOString() : '';
    });
  }
}

function copyButtons(root) {
  for (const button of root.querySelectorAll('button[data-copy]')) {
    button.addEventListener('click', async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = 'Copied';
      } catch {
        getSelection().selectAllChildren(source);
        button.textContent = 'Selected: press Ctrl+C';
      }
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 2500);
    });
  }
}

/** A form sent once: its button says it is working and cannot be pressed twice. */
function busyForms(root) {
  for (const form of root.querySelectorAll('form[data-busy], form[data-validate]')) {
    form.addEventListener('submit', (event) => {
      if (event.defaultPrevented) return;
      const button = form.querySelector('button[type="submit"]');
      if (!button) return;
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = 'true';
      button.setAttribute('aria-busy', 'true');
      button.textContent = 'Working…';
    });
  }
}

// Durations as the broker reads them: 90m, 1h30m, 45s, PT1H30M, or whole seconds.
function parseDuration(text) {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const short = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i.exec(value);
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(value);
  const parts = short ?? iso;
  if (!parts || parts.slice(1).every((p) => p === undefined)) return undefined;
  const [d, h, m, s] = parts.slice(1).map((p) => Number(p ?? 0));
  return ((d * 24 + h) * 60 + m) * 60 + s;
}

function setError(form, name, message) {
  const input = form.elements.namedItem(name);
  const error = form.querySelector(`#e-${name}`);
  const field = error?.closest('.field');
  if (error) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }
  field?.classList.toggle('invalid', Boolean(message));
  // Radio buttons come as a list: the first one takes the focus.
  const target = input instanceof RadioNodeList ? input[0] : input;
  if (target && !(input instanceof RadioNodeList)) {
    if (message) target.setAttribute('aria-invalid', 'true');
    else target.removeAttribute('aria-invalid');
  }
  return message ? target : undefined;
}

/** The request form: checks each field against the chosen role before anything is sent. */
function requestForm(root) {
  const form = root.querySelector('form.request-form');
  if (!form) return;
  form.noValidate = true;
  const confirm = form.querySelector('[data-breakglass-only]');
  const chosen = () => form.querySelector('input[name="role"]:checked');
  const sync = () => {
    const role = chosen();
    const breakGlass = role?.dataset.breakGlass === 'true';
    if (confirm) confirm.hidden = !breakGlass;
    const hint = form.querySelector('#h-duration');
    if (hint && role)
      hint.textContent = `Like 30m, 1h or 1h30m; at most ${role.dataset.maxLabel} for ${role.value}.`;
    const ticketHint = form.querySelector('#h-ticket');
    if (ticketHint && role) {
      ticketHint.textContent =
        role.dataset.ticketRequired === 'true'
          ? `Required for ${role.value}: the incident or change this is for, like INC-42.`
          : 'Optional: the incident or change this is for, like INC-42.';
    }
  };
  for (const radio of form.querySelectorAll('input[name="role"]')) radio.addEventListener('change', sync);
  sync();

  form.addEventListener('submit', (event) => {
    const role = chosen();
    const problems = [];
    problems.push(setError(form, 'role', role ? undefined : 'Choose a role.'));
    const seconds = parseDuration(form.elements.duration.value);
    const max = Number(role?.dataset.maxSeconds ?? Number.POSITIVE_INFINITY);
    problems.push(
      setError(
        form,
        'duration',
        seconds === undefined || seconds <= 0
          ? 'Say how long, like 30m or 1h.'
          : seconds > max
            ? `At most ${role.dataset.maxLabel} for ${role.value}.`
            : undefined,
      ),
    );
    const reason = form.elements.reason.value.trim();
    problems.push(setError(form, 'reason', reason ? undefined : 'Say why you need this access.'));
    const ticket = form.elements.ticket.value.trim();
    const pattern = role?.dataset.ticketPattern;
    let ticketProblem;
    if (!ticket && role?.dataset.ticketRequired === 'true') ticketProblem = `${role.value} needs a ticket.`;
    else if (ticket && pattern && !new RegExp(`^(?:${pattern})$`).test(ticket))
      ticketProblem = `This does not look like a ticket id (${pattern.replace(/^\^|\$$/g, '')}).`;
    problems.push(setError(form, 'ticket', ticketProblem));
    const breakGlass = role?.dataset.breakGlass === 'true' && !form.elements.breakGlass.checked;
    problems.push(
      setError(form, 'breakGlass', breakGlass ? 'Confirm that this is an emergency.' : undefined),
    );
    const first = problems.find(Boolean);
    if (first) {
      event.preventDefault();
      first.focus();
    }
  });
}

function enhance(root) {
  localTimes(root);
  timeRanges(root);
  copyButtons(root);
  // The request form's checks first: a form they stop is not marked busy.
  requestForm(root);
  busyForms(root);
}

// ---- live updates ----

const note = () => document.getElementById('live-note');

/** Tells the reader (and screen readers); `quiet` ones are for screen readers only. */
function say(text, action, quiet = false) {
  const el = note();
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('quiet', quiet);
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = action.label;
    button.addEventListener('click', action.run);
    el.append(button);
  }
}

/** A region the reader is working in (focus, or a changed field) is not swapped under them. */
function busy(region) {
  if (region.contains(document.activeElement) && document.activeElement.matches('input, textarea, select'))
    return true;
  for (const field of region.querySelectorAll('input:not([type="hidden"]), textarea')) {
    if (field.type === 'checkbox' || field.type === 'radio') {
      if (field.checked !== field.defaultChecked) return true;
    } else if (field.value !== field.defaultValue) return true;
  }
  return region.querySelector('form[data-sent]') !== null;
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const response = await fetch(location.href, {
      headers: { accept: 'text/html' },
      credentials: 'same-origin',
    });
    if (response.redirected || response.status === 401) {
      say('Your session has ended.', { label: 'Sign in', run: () => location.assign('/auth/login') });
      return;
    }
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
    let stale = false;
    for (const region of document.querySelectorAll('[data-live-region][id]')) {
      const next = fresh.getElementById(region.id);
      if (!next) continue;
      if (busy(region)) {
        stale = true;
        continue;
      }
      const imported = document.importNode(next, true);
      region.replaceWith(imported);
      enhance(imported);
    }
    const nav = document.querySelector('header nav');
    const freshNav = fresh.querySelector('header nav');
    if (nav && freshNav) nav.replaceWith(document.importNode(freshNav, true));
    const version = fresh.body.dataset.liveVersion;
    if (version) document.body.dataset.liveVersion = version;
    // A message about the last form no longer describes the page.
    for (const flash of document.querySelectorAll('main > .flash')) flash.remove();
    if (stale) say('This page has changed.', { label: 'Reload', run: () => location.reload() });
    else {
      say('Updated.', undefined, true);
      setTimeout(() => {
        if (note()?.textContent === 'Updated.') say('');
      }, 2500);
    }
  } catch {
    // Offline for a moment: the next change event tries again.
  } finally {
    refreshing = false;
  }
}

function live() {
  const url = document.body.dataset.liveUrl;
  if (!url || !('EventSource' in window)) return;
  const source = new EventSource(url);
  source.addEventListener('change', (event) => {
    if (event.data !== document.body.dataset.liveVersion) void refresh();
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED)
      say('Live updates stopped.', { label: 'Reload', run: () => location.reload() });
  });
}

enhance(document);
live();
setInterval(() => localTimes(document), 30_000);
