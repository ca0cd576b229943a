// « Connexion faible »: the camera sent as a still picture made again every few seconds (a canvas
// whose frames are captured only on request), instead of a moving picture the link cannot carry.
// The cart does the same on its side (agent/media/ladder.py, STILL).
export const STILL_EVERY_MS = 3000;
const WIDTH = 640;
const HEIGHT = 360;

export function stillOf(camera) {
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([camera]);
  video.play().catch(() => {}); // nothing shown until the camera gives a frame
  const canvas = Object.assign(document.createElement("canvas"), { width: WIDTH, height: HEIGHT });
  const context = canvas.getContext("2d");
  const track = canvas.captureStream(0).getVideoTracks()[0];
  const draw = () => {
    if (video.videoWidth) {
      // The whole picture, letterboxed: a still is for seeing the person, not for cropping them.
      const scale = Math.min(WIDTH / video.videoWidth, HEIGHT / video.videoHeight);
      const w = video.videoWidth * scale, h = video.videoHeight * scale;
      context.fillStyle = "#000";
      context.fillRect(0, 0, WIDTH, HEIGHT);
      context.drawImage(video, (WIDTH - w) / 2, (HEIGHT - h) / 2, w, h);
    }
    if (track.requestFrame) track.requestFrame();
  };
  video.addEventListener("loadeddata", draw, { once: true });
  const timer = setInterval(draw, STILL_EVERY_MS);
  return {
    camera,
    track,
    stop() { clearInterval(timer); track.stop(); video.srcObject = null; },
  };
}
