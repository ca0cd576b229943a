// Locks the kiosk after a time without a touch. The agent enforces the same limit on its side;
// this only makes the lock screen appear on time instead of at the next request.
const EVENTS = ["pointerdown", "keydown", "touchstart", "wheel"];

export function watchIdle(seconds, onIdle) {
  let last = Date.now();
  let fired = false;
  const touch = () => {
    last = Date.now();
    fired = false;
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
