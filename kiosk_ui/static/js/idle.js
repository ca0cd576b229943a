// Locks the kiosk after a time without a touch. The agent enforces the same limit, counting only
// requests; so a touch is also told to the agent (at most every tenth of the idle time), or a
// nurse reading a long list without tapping anything that calls the agent would be locked out.
const EVENTS = ["pointerdown", "keydown", "touchstart", "wheel"];

export function watchIdle(seconds, onIdle, onActivity) {
  let last = Date.now();
  let told = Date.now();
  let fired = false;
  const tellEvery = Math.min(10, seconds / 10) * 1000;
  const touch = () => {
    last = Date.now();
    fired = false;
    if (onActivity && last - told >= tellEvery) {
      told = last;
      onActivity();
    }
  };
  EVENTS.forEach((name) => window.addEventListener(name, touch, { passive: true, capture: true }));
  const timer = setInterval(() => {
    if (!fired && Date.now() - last >= seconds * 1000) {
      fired = true;
      onIdle();
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    EVENTS.forEach((name) => window.removeEventListener(name, touch, { capture: true }));
  };
}
