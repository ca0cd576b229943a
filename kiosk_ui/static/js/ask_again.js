// A question asked of the agent again and again while a page outside the kiosk shows its answer
// (who is in the room, whether the dossier moved, whether the link session lives). `answer(data)`
// gets each reply and may return the delay before the next question (else `every`); a refusal
// whose status is in `endsOn` calls `onEnd(status)` and asks no more; no network for a moment, or
// `skip()` true (the page hidden), only waits for the next turn; `stop()` true ends it.
import { jsonRequest } from "/static/js/json_request.js";

export function askAgain(path, { every, first = 0, answer, skip = () => false, stop = () => false, endsOn = [], onEnd = () => {} }) {
  const turn = async () => {
    if (stop()) return;
    let next = every;
    if (!skip()) {
      try {
        next = (await answer(await jsonRequest("GET", path))) ?? every;
      } catch (error) {
        if (endsOn.includes(error.status)) { onEnd(error.status); return; }
      }
    }
    setTimeout(turn, next);
  };
  setTimeout(turn, first);
}
