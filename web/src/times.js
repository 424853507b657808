// The server renders times in UTC; the reader's own clock is friendlier.

const dateTime = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});
const clock = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const shortClock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** Rewrites every `<time datetime>` marked `data-local` into the reader's time zone. */
export function localizeTimes(root) {
  for (const el of root.querySelectorAll("time[data-local][datetime]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) {
      el.textContent = dateTime.format(date);
      el.title = date.toISOString();
    }
  }
}

export const formatDateTime = (date) => dateTime.format(date);
export const formatClock = (date) => clock.format(date);
export const formatShortClock = (date) => shortClock.format(date);
