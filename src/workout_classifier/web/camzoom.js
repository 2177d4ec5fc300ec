// Camera mode's zoom: a person small in the camera picture is looked at on a crop of the full-resolution
// video frame around where they were last found, drawn upscaled to an offscreen canvas and sent instead
// of the whole (downscaled) picture. While nobody is found the page looks, as zoom.py does, at tiles of
// the picture, one per frame sent; someone found small on a tile gets a crop. The server is told which part it gets (a "view" message before the
// frame, serve/camera.py), runs pose on it and maps the landmarks back to the whole picture, so the
// overlay, the tracker's posture and its rep counting see one coordinate frame throughout.
// The same idea as `workout live` and extraction (src/workout_classifier/pose/zoom.py, used by
// live/tracker.py): the pose detector sees the whole frame at 224x224, too few pixels for a far lifter.
"use strict";

(function () {
  // From pose/zoom.py: its docstring's measurement (a squat pasted at 0.3 of a 720p frame's height was
  // found on every frame, at 0.2 on 8 of 50) gives SMALL; TILE, TILE_STARTS, LOOK_AFTER, CROP, MIN_CROP,
  // LOST_FRAMES and MIN_SIDE are its constants of the same names. LARGE: a person this big
  // (1 / CROP of the shorter side) gets a crop as large as the picture, so zooming gains nothing.
  const SMALL = 0.3;        // zoom in when the person's longer side is under this share of the shorter side
  const LARGE = 1 / 2.4;    // ... and let the crop go when they are this large again (1 / CROP)
  const CROP = 2.4;         // crop side / the person's longer box side
  const MIN_CROP = 0.3;     // ... but at least this share of the picture's shorter side
  const LOST_FRAMES = 15;   // missed answers in a row after which the crop is dropped (whole picture again)
  // Missed whole pictures before a look, or before a crop around a person last seen small. zoom.py looks
  // after 3, 6 and 12 missed frames and then never, which bounds what a clip with nobody costs in extra
  // static-model runs. Here a tile is sent instead of a whole picture, not beside it, and a camera
  // session has no end (the lifter often walks into place after pressing the button), so the page looks
  // again after every LOOK_AFTER missed whole pictures while nobody is found: a tile finds a lifter at
  // 0.2 of the height on about half the frames (the squat of the browser test), so one look is not enough.
  const LOOK_AFTER = 3;
  const TILE = 0.5;         // a look: tiles of half the picture's width and height, one per frame sent
  const TILE_STARTS = [0, 0.25, 0.5];
  const MIN_SIDE = 240;     // pictures with fewer lines are not zoomed into
  const SEND_SIDE = 320;    // a crop is sent at this side (the pose model looks at 256 px)

  function personBox(lm, w, h) {
    // The visible joints' box in pixels (all joints when fewer than 4 are visible), as zoom.crop_around.
    let pts = lm.filter((p) => p[2] > 0.3);
    if (pts.length < 4) pts = lm;
    const xs = pts.map((p) => p[0] * w), ys = pts.map((p) => p[1] * h);
    return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
  }

  function cropAround(b, w, h) {
    // A square of CROP times the person's longer side (at least MIN_CROP of the shorter side), inside the picture.
    let side = Math.max(CROP * Math.max(b.x1 - b.x0, b.y1 - b.y0), MIN_CROP * Math.min(w, h));
    side = Math.floor(Math.min(side, w, h));
    const cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
    const x = Math.floor(Math.min(Math.max(cx - side / 2, 0), w - side));
    const y = Math.floor(Math.min(Math.max(cy - side / 2, 0), h - side));
    return { x, y, w: side, h: side };
  }

  function tileBox(i, w, h) {
    const tx = TILE_STARTS[i % 3], ty = TILE_STARTS[Math.floor(i / 3)];
    return { x: Math.floor(tx * w), y: Math.floor(ty * h), w: Math.floor(TILE * w), h: Math.floor(TILE * h) };
  }

  class CamZoom {
    constructor(enabled) {
      this.enabled = enabled;
      this.reset();
    }

    reset() {
      this.crop = null;   // {x, y, w, h} in video pixels around a small person, or null
      this.tile = -1;     // the tile sent while looking (0 to 8), or -1
      this.last = null;   // the box where the person was last found while small, or null
      this.missed = 0;    // missed answers in a row
      this.sinceLook = 0; // missed whole pictures since the last look
    }

    // The part of the picture to send next: {x, y, w, h} in video pixels, or null for all of it.
    part(w, h) {
      if (this.crop) return this.crop;
      return this.tile >= 0 ? tileBox(this.tile, w, h) : null;
    }

    // After each answer: the landmarks ([[x, y, visibility]], shares of the whole picture) or null.
    update(lm, w, h) {
      if (!this.enabled || Math.min(w, h) < MIN_SIDE) { this.reset(); return; }
      const short = Math.min(w, h);
      if (lm) {
        this.missed = this.sinceLook = 0;
        this.tile = -1;
        const b = personBox(lm, w, h), side = Math.max(b.x1 - b.x0, b.y1 - b.y0);
        this.last = side < SMALL * short ? b : null;
        if (!this.crop && this.last) this.crop = cropAround(b, w, h);  // held still while found, as zoom.py
        else if (this.crop && side >= LARGE * short) this.crop = null;  // large again
        return;
      }
      this.missed++;
      if (this.tile >= 0) {  // looking: the next tile, or the look is over
        this.tile = this.tile + 1 < TILE_STARTS.length ** 2 ? this.tile + 1 : -1;
        return;
      }
      if (this.crop) {
        if (this.missed >= LOST_FRAMES) { this.crop = null; this.last = null; }  // lost for long
        return;
      }
      if (this.last) {
        if (this.missed >= LOOK_AFTER) this.crop = cropAround(this.last, w, h);  // where they were
        return;
      }
      if (++this.sinceLook >= LOOK_AFTER) {
        this.sinceLook = 0;
        this.tile = 0;
      }
    }

    // Draws what is to be sent onto `canvas`: a crop upscaled to SEND_SIDE, a tile or the whole picture
    // at most `width` wide. Returns the view sent: [x0, y0, x1, y1] as shares of the picture, or null.
    draw(video, canvas, width) {
      const w = video.videoWidth, h = video.videoHeight, c = this.part(w, h);
      const r = c || { x: 0, y: 0, w, h };
      const scale = this.crop ? SEND_SIDE / Math.max(r.w, r.h) : Math.min(1, width / r.w);
      canvas.width = Math.round(r.w * scale);
      canvas.height = Math.round(r.h * scale);
      const g = canvas.getContext("2d");
      g.imageSmoothingQuality = "high";
      g.drawImage(video, r.x, r.y, r.w, r.h, 0, 0, canvas.width, canvas.height);
      return c && [c.x / w, c.y / h, (c.x + c.w) / w, (c.y + c.h) / h];
    }
  }

  window.CamZoom = CamZoom;
})();
