// Locks the kiosk after a time without a touch. The agent enforces the same limit, counting only
// requests; so a touch is also told to the agent (at most every tenth of the idle time), or a
// nurse reading a long list without tapping anything that calls the agent would be locked out.
const EVENTS = ["pointerdown", "keydown", "touchstart", "wheel"];

// A call is the kiosk in use even when nobody touches it: the call view holds the lock off.
let holds = 0;
export function holdIdle() {
  holds += 1;
  let released = false;
  return () => { if (!released) { released = true; holds -= 1; } };
}

// `onWarn(secondsLeft)` hears, during the last WARN_SECONDS, how long before the lock (null when a
// touch took the warning away): the nurse reading a long dossier gets a « toucher pour rester ».
export const WARN_SECONDS = 30;

export function watchIdle(seconds, onIdle, onActivity, onWarn = () => {}) {
  let last = Date.now();
  let told = Date.now();
  let fired = false;
  let warned = false;
  const tellEvery = Math.min(10, seconds / 10) * 1000;
  const warnFrom = Math.max(seconds - WARN_SECONDS, seconds / 2) * 1000;
  const touch = () => {
    last = Date.now();
    fired = false;
    if (warned) { warned = false; onWarn(null); }
    if (onActivity && last - told >= tellEvery) {
      told = last;
      onActivity();
    }
  };
  EVENTS.forEach((name) => window.addEventListener(name, touch, { passive: true, capture: true }));
  const timer = setInterval(() => {
    if (holds > 0) last = Date.now();
    const idle = Date.now() - last;
    if (!fired && idle >= seconds * 1000) {
      fired = true;
      if (warned) { warned = false; onWarn(null); }
      onIdle();
    } else if (!fired && idle >= warnFrom) {
      warned = true;
      onWarn(Math.ceil((seconds * 1000 - idle) / 1000));
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    EVENTS.forEach((name) => window.removeEventListener(name, touch, { capture: true }));
  };
}
