/* wkp-landmarks.h: per-frame 68-point landmark tracks.
 *
 * Extraction uses dlib (HOG frontal detector + 68-point shape predictor)
 * through one C++ bridge file; tracking reuses the previous frame's fit.
 * Files: OUT.npy float32 [T, 68, 2] (pixels, NaN when no face), OUT.status.npy
 * uint8 [T] (WkpFaceStatus), OUT.json sidecar (fps, size, source, settings).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-error.h"
#include "wkp-face.h"
#include "wkp-media.h"
#include "wkp-time.h"

G_BEGIN_DECLS

typedef enum {
  WKP_FACE_MISSING = 0,
  WKP_FACE_DETECTED = 1,
  WKP_FACE_TRACKED = 2,
} WkpFaceStatus;

typedef struct {
  gint64      n_frames;
  float      *points;     /* [n_frames, 68, 2], pixels (or the canonical face frame, below), NaN when missing */
  guint8     *status;     /* [n_frames] WkpFaceStatus */
  WkpRational fps;
  int         width;      /* source frame size (0 if unknown) */
  int         height;
  char       *source;     /* source file, may be NULL */
  JsonNode   *settings;   /* how it was made (detector settings), may be NULL */
  gboolean    canonical;  /* points are in the canonical face frame (wkp_landmark_track_normalize) */
} WkpLandmarkTrack;

WkpLandmarkTrack *wkp_landmark_track_new   (gint64 n_frames, WkpRational fps);  /* all NaN, missing */
WkpLandmarkTrack *wkp_landmark_track_copy  (const WkpLandmarkTrack *track);
void              wkp_landmark_track_free  (WkpLandmarkTrack *track);
/* Number of frames with a face. */
gint64            wkp_landmark_track_count_found (const WkpLandmarkTrack *track);
/* "missing", "detected", "tracked". */
const char       *wkp_face_status_to_string (WkpFaceStatus status);
/* A copy with every face moved into the canonical frame (wkp_face_normalize);
 * frames that cannot be normalised become missing. */
WkpLandmarkTrack *wkp_landmark_track_normalize (const WkpLandmarkTrack *track);
/* Mean point-to-point distance between @track and @reference over the frames
 * where both have a face, in units of the reference's inter-ocular distance;
 * NaN when no frame has both. @n_compared (may be NULL) receives that count. */
double            wkp_landmark_track_mean_error (const WkpLandmarkTrack *track, const WkpLandmarkTrack *reference,
                                                 gint64 *n_compared);
/* Temporal smoothing for display (Savitzky-Golay, 5 frames, quadratic) inside
 * runs of found frames; never across a missing frame. */
void              wkp_landmark_track_smooth (WkpLandmarkTrack *track);

typedef struct {
  int      detect_every;     /* re-detect at least every N frames (tracking mode); 1 = detect every frame */
  gboolean tracking;         /* reuse the previous fit to place the next box */
  int      max_detect_width; /* frames wider than this are downscaled for detection (640) */
  int      min_face_px;      /* frames/crops smaller than this are upscaled for detection (HOG window 80) */
  gboolean smooth;           /* temporal smoothing for display (off for training targets) */
  int      n_threads;        /* reserved: a clip is tracked on one thread */
  gint64   max_frames;       /* stop after this many frames (0: all) */
} WkpLandmarkParams;

void wkp_landmark_params_init_default (WkpLandmarkParams *params);

/* Extracts landmarks for every frame of @video (file or image pattern; @fps for
 * image sequences). Frames without a face are NaN + MISSING, never an error. */
WkpLandmarkTrack *wkp_landmarks_extract (const char *video, WkpRational fps,
                                         const WkpLandmarkParams *params,
                                         WkpProgressFunc progress, gpointer progress_data,
                                         GCancellable *cancellable, GError **error);

/* Files. wkp_landmark_track_save writes OUT.npy, OUT.status.npy and OUT.json
 * atomically. wkp_landmark_track_load reads our format, face-alignment style
 * .npy [T,68,2] or [T,68,3], or OpenFace-style CSV (x_0..x_67, y_0..y_67). */
gboolean          wkp_landmark_track_save (const WkpLandmarkTrack *track, const char *path, GError **error);
/* Frame numbers of a landmark CSV may span at most this many frames (6 h at
 * 60 fps); frames a file skips are stored as missing (NaN). */
#define WKP_LANDMARK_MAX_FRAMES 1296000
WkpLandmarkTrack *wkp_landmark_track_load (const char *path, WkpRational fps, GError **error);
/* Whether a track loaded from @path belongs to a video of @n_frames frames
 * of @width x @height pixels: the same number of frames, and pixel
 * coordinates (in most frames with a face, the face lies in the frame and its
 * eyes are at least 2 px apart: not normalised or canonical points). */
gboolean          wkp_landmark_track_check_fits (const WkpLandmarkTrack *track, const char *path, gint64 n_frames,
                                                 int width, int height, GError **error);
gboolean          wkp_landmark_track_export_csv  (const WkpLandmarkTrack *track, const char *path, GError **error);
gboolean          wkp_landmark_track_export_json (const WkpLandmarkTrack *track, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpLandmarkTrack, wkp_landmark_track_free)

G_END_DECLS
