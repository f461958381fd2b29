/* wkp-landmarks.c: per-frame 68-point landmark tracks and their extraction.
 *
 * Extraction runs dlib's HOG face detector and 68-point shape predictor
 * (wkp-dlib-bridge.cpp) over the frames of a video, in one of two modes:
 *
 * - detect every frame: the detector runs on the whole frame (downscaled when
 *   wider than max_detect_width, upscaled when the frame is a small face crop)
 *   and the predictor fits the chosen box;
 * - tracking: the previous frame's landmarks place the next frame's box
 *   (the box the detector would have drawn around them, learnt at the last
 *   detection) and only the predictor runs. The detector runs again when the
 *   fit degrades (its box drifts or changes size, or the shape stops looking
 *   like a face), at a cut (a large change of a 32x32 thumbnail), and every
 *   detect_every frames; that periodic check first looks only around the
 *   face at a scale where the face is ~100 px, then at the whole frame. When
 *   every detector run fails but the tracked fit is still sound, the tracked
 *   fit is kept for a short grace period, so tracking finds a face wherever
 *   detection does, and more.
 *
 * Several faces: the run follows one person, chosen as the largest and most
 * central face when it starts (or after a cut or a second without them);
 * later detections are matched to that person by overlap.
 *
 * Frames where nothing is found are NaN + WKP_FACE_MISSING; a frame is never
 * filled with a guess. Everything here is per call (no globals), so several
 * threads may extract at once; the predictor model is shared read-only.
 */
#include "wkp-landmarks.h"
#include "wkp-dlib-bridge.h"
#include "wkp-config.h"

#include <math.h>
#include <string.h>

#define N2 (WKP_N_LANDMARKS * 2)
#define THUMB 32
#define MAX_FACES 16

/* --- tracks ---------------------------------------------------------------- */

WkpLandmarkTrack *
wkp_landmark_track_new (gint64 n_frames, WkpRational fps)
{
  WkpLandmarkTrack *t;

  g_return_val_if_fail (n_frames >= 0, NULL);
  t = g_new0 (WkpLandmarkTrack, 1);
  t->n_frames = n_frames;
  t->points = g_new (float, MAX (n_frames, 1) * N2);
  t->status = g_new0 (guint8, MAX (n_frames, 1));
  for (gint64 i = 0; i < n_frames * N2; i++)
    t->points[i] = NAN;
  t->fps = fps;
  return t;
}

WkpLandmarkTrack *
wkp_landmark_track_copy (const WkpLandmarkTrack *track)
{
  WkpLandmarkTrack *t = wkp_landmark_track_new (track->n_frames, track->fps);
  memcpy (t->points, track->points, sizeof (float) * track->n_frames * N2);
  memcpy (t->status, track->status, track->n_frames);
  t->width = track->width;
  t->height = track->height;
  t->source = g_strdup (track->source);
  t->settings = track->settings != NULL ? json_node_copy (track->settings) : NULL;
  t->canonical = track->canonical;
  return t;
}

void
wkp_landmark_track_free (WkpLandmarkTrack *track)
{
  if (track == NULL)
    return;
  g_free (track->points);
  g_free (track->status);
  g_free (track->source);
  if (track->settings != NULL)
    json_node_unref (track->settings);
  g_free (track);
}

gint64
wkp_landmark_track_count_found (const WkpLandmarkTrack *track)
{
  gint64 n = 0;
  for (gint64 i = 0; i < track->n_frames; i++)
    n += track->status[i] != WKP_FACE_MISSING;
  return n;
}

const char *
wkp_face_status_to_string (WkpFaceStatus status)
{
  switch (status)
    {
    case WKP_FACE_MISSING:
      return "missing";
    case WKP_FACE_DETECTED:
      return "detected";
    case WKP_FACE_TRACKED:
      return "tracked";
    default:
      return "invalid";
    }
}

WkpLandmarkTrack *
wkp_landmark_track_normalize (const WkpLandmarkTrack *track)
{
  WkpLandmarkTrack *t = wkp_landmark_track_copy (track);
  t->canonical = TRUE;
  for (gint64 f = 0; f < t->n_frames; f++)
    {
      float *p = t->points + f * N2;
      if (t->status[f] == WKP_FACE_MISSING || !wkp_face_normalize (track->points + f * N2, p, NULL, NULL))
        {
          t->status[f] = WKP_FACE_MISSING;
          for (int i = 0; i < N2; i++)
            p[i] = NAN;
        }
    }
  return t;
}

double
wkp_landmark_track_mean_error (const WkpLandmarkTrack *track, const WkpLandmarkTrack *reference, gint64 *n_compared)
{
  double sum = 0;
  gint64 n = 0;
  for (gint64 f = 0; f < MIN (track->n_frames, reference->n_frames); f++)
    {
      const float *a = track->points + f * N2, *b = reference->points + f * N2;
      double iod;
      if (track->status[f] == WKP_FACE_MISSING || reference->status[f] == WKP_FACE_MISSING)
        continue;
      iod = wkp_face_interocular (b);
      if (!(iod > 0))
        continue;
      double d = 0;
      for (int i = 0; i < WKP_N_LANDMARKS; i++)
        d += hypot (a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
      sum += d / WKP_N_LANDMARKS / iod;
      n++;
    }
  if (n_compared != NULL)
    *n_compared = n;
  return n > 0 ? sum / n : NAN;
}

/* Savitzky-Golay, quadratic: 5-point window (-3, 12, 17, 12, -3) / 35 inside
 * runs of found frames; the two frames at each end of a run keep their values
 * (a window never reaches across a missing frame). */
void
wkp_landmark_track_smooth (WkpLandmarkTrack *track)
{
  static const float w[5] = { -3 / 35.f, 12 / 35.f, 17 / 35.f, 12 / 35.f, -3 / 35.f };
  gint64 n = track->n_frames;
  g_autofree float *orig = g_memdup2 (track->points, sizeof (float) * MAX (n, 1) * N2);

  for (gint64 f = 2; f + 2 < n; f++)
    {
      gboolean ok = TRUE;
      for (int k = -2; k <= 2 && ok; k++)
        ok = track->status[f + k] != WKP_FACE_MISSING;
      if (!ok)
        continue;
      for (int i = 0; i < N2; i++)
        {
          float s = 0;
          for (int k = -2; k <= 2; k++)
            s += w[k + 2] * orig[(f + k) * N2 + i];
          track->points[f * N2 + i] = s;
        }
    }
}

void
wkp_landmark_params_init_default (WkpLandmarkParams *params)
{
  memset (params, 0, sizeof *params);
  params->detect_every = 10;
  params->tracking = TRUE;
  params->max_detect_width = 640;
  params->min_face_px = 80;
  params->smooth = FALSE;
  params->n_threads = 1;
}

/* --- geometry helpers -------------------------------------------------------- */

static double
box_w (const WkpFaceBox *b)
{
  return b->x1 - b->x0;
}

static double
box_iou (const WkpFaceBox *a, const WkpFaceBox *b)
{
  double ix = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  double iy = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  if (ix <= 0 || iy <= 0)
    return 0;
  double inter = ix * iy;
  double uni = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
  return inter / uni;
}

/* The box (in dlib's convention: the mean shape's [0,1] square maps onto
 * [x0, x1-1] x [y0, y1-1]) that best places the mean shape onto @pts: least
 * squares over uniform scale + translation, the predictor's own initial
 * placement. */
static void
box_from_points (const float *mean, const float *pts, WkpFaceBox *box)
{
  double mmx = 0, mmy = 0, mpx = 0, mpy = 0, smm = 0, smp = 0;
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    {
      mmx += mean[2 * i];
      mmy += mean[2 * i + 1];
      mpx += pts[2 * i];
      mpy += pts[2 * i + 1];
    }
  mmx /= WKP_N_LANDMARKS;
  mmy /= WKP_N_LANDMARKS;
  mpx /= WKP_N_LANDMARKS;
  mpy /= WKP_N_LANDMARKS;
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    {
      double dx = mean[2 * i] - mmx, dy = mean[2 * i + 1] - mmy;
      smm += dx * dx + dy * dy;
      smp += dx * (pts[2 * i] - mpx) + dy * (pts[2 * i + 1] - mpy);
    }
  double s = smp / smm;
  box->x0 = mpx - s * mmx;
  box->y0 = mpy - s * mmy;
  box->x1 = box->x0 + s + 1;
  box->y1 = box->y0 + s + 1;
  box->score = 0;
}

/* RMS distance (in inter-ocular units) between the face and the canonical face
 * after similarity alignment over all 68 points: small for any real face, large
 * for the shapes the predictor produces on background. */
static double
shape_residual (const float *pts)
{
  const float *c = wkp_face_canonical ();
  float aligned[N2];
  WkpSimilarity t;
  if (!wkp_similarity_fit (pts, c, NULL, 0, &t, NULL))
    return INFINITY;
  wkp_similarity_apply (&t, pts, aligned, WKP_N_LANDMARKS);
  double s = 0;
  for (int i = 0; i < N2; i++)
    s += (aligned[i] - c[i]) * (aligned[i] - c[i]);
  return sqrt (s / WKP_N_LANDMARKS);
}

/* --- extraction ---------------------------------------------------------------- */

typedef struct {
  WkpDlib                 *dlib;
  const float             *mean;
  const WkpLandmarkParams *params;
  gboolean                 tracking;
  int                      every;
  int                      width, height;
  double                   detect_scale;   /* full-frame detection scale */
  gint64                   lost_limit;     /* frames after which the followed person is forgotten */

  /* tracking state */
  gboolean   have_prev;
  float      prev[N2];
  int        since_detect;       /* frames since the detector last confirmed the face */
  double     corr_dx, corr_dy, corr_s;   /* detector box relative to the landmark box */
  int        n_corr;                     /* detections averaged into it (this shot) */

  /* who we follow */
  gboolean   have_ref;
  WkpFaceBox ref_box;
  gint64     ref_frame;

  /* cut detection */
  gboolean   have_thumb;
  float      thumb[THUMB * THUMB];
  gboolean   cut;

  /* counters for the sidecar */
  gint64     n_detector_runs, n_roi_runs, n_cuts, n_fits;
} Tracker;

static void
make_thumb (const WkpFrame *fr, float *thumb)
{
  for (int ty = 0; ty < THUMB; ty++)
    {
      int y0 = ty * fr->height / THUMB, y1 = MAX (y0 + 1, (ty + 1) * fr->height / THUMB);
      for (int tx = 0; tx < THUMB; tx++)
        {
          int x0 = tx * fr->width / THUMB, x1 = MAX (x0 + 1, (tx + 1) * fr->width / THUMB);
          /* sample a 4x4 grid of the cell: cheap on 1080p, enough for a mean */
          double s = 0;
          int n = 0;
          for (int k = 0; k < 4; k++)
            {
              int y = y0 + (y1 - y0) * k / 4;
              const guint8 *row = fr->data + (gsize) y * fr->stride;
              for (int l = 0; l < 4; l++)
                {
                  s += row[x0 + (x1 - x0) * l / 4];
                  n++;
                }
            }
          thumb[ty * THUMB + tx] = (float) (s / n);
        }
    }
}

/* The box the detector would draw around @pts. */
static void
tracked_box (const Tracker *tr, const float *pts, WkpFaceBox *box)
{
  WkpFaceBox b;
  box_from_points (tr->mean, pts, &b);
  double w = box_w (&b), cx = (b.x0 + b.x1) / 2 + tr->corr_dx * w, cy = (b.y0 + b.y1) / 2 + tr->corr_dy * w;
  double nw = w * tr->corr_s;
  box->x0 = cx - nw / 2;
  box->x1 = cx + nw / 2;
  box->y0 = cy - nw / 2;
  box->y1 = cy + nw / 2;
  box->score = 0;
}

/* The detector's box relative to the landmark box of the fit inside it,
 * averaged over the detections of the current shot (a running mean that
 * forgets slowly): one detection's box is quantised to HOG cells and jitters
 * by several pixels, which the predictor would pass on to the points. */
static void
learn_correction (Tracker *tr, const WkpFaceBox *det, const float *pts)
{
  WkpFaceBox b;
  box_from_points (tr->mean, pts, &b);
  double w = box_w (&b);
  if (!(w > 1))
    return;
  double dx = ((det->x0 + det->x1) / 2 - (b.x0 + b.x1) / 2) / w;
  double dy = ((det->y0 + det->y1) / 2 - (b.y0 + b.y1) / 2) / w;
  double s = box_w (det) / w;
  double a = tr->n_corr == 0 ? 1.0 : MAX (0.1, 1.0 / (tr->n_corr + 1));
  tr->corr_dx += a * (dx - tr->corr_dx);
  tr->corr_dy += a * (dy - tr->corr_dy);
  tr->corr_s += a * (s - tr->corr_s);
  tr->n_corr++;
}

/* Is a tracked fit still a face where we expect it? */
static gboolean
fit_is_sound (const Tracker *tr, const WkpFaceBox *in_box, const float *pts)
{
  WkpFaceBox out;
  for (int i = 0; i < N2; i++)
    if (!isfinite (pts[i]))
      return FALSE;
  double iod = wkp_face_interocular (pts);
  if (!(iod >= 4))
    return FALSE;
  tracked_box (tr, pts, &out);
  double w = box_w (in_box);
  double shift = hypot ((out.x0 + out.x1 - in_box->x0 - in_box->x1) / 2, (out.y0 + out.y1 - in_box->y0 - in_box->y1) / 2);
  double ratio = box_w (&out) / w;
  if (shift > 0.2 * w || ratio < 0.85 || ratio > 1.18)
    return FALSE;
  /* most of the face inside the frame */
  double cx = (out.x0 + out.x1) / 2, cy = (out.y0 + out.y1) / 2;
  if (cx < 0 || cy < 0 || cx >= tr->width || cy >= tr->height)
    return FALSE;
  return shape_residual (pts) < 0.2;
}

/* Picks the face to follow among @boxes: the one overlapping the followed
 * person, or, when nobody is followed, the largest most central one. Returns
 * the index or -1. */
static int
choose_face (const Tracker *tr, const WkpFaceBox *boxes, int n, gint64 index)
{
  int best = -1;
  double best_score = 0;

  if (tr->have_ref && index - tr->ref_frame <= tr->lost_limit)
    {
      for (int i = 0; i < n; i++)
        {
          double iou = box_iou (&boxes[i], &tr->ref_box);
          if (iou >= 0.2 && iou > best_score)
            {
              best = i;
              best_score = iou;
            }
        }
      return best;
    }
  double half_diag = hypot (tr->width, tr->height) / 2;
  for (int i = 0; i < n; i++)
    {
      double cx = (boxes[i].x0 + boxes[i].x1) / 2 - tr->width / 2.0;
      double cy = (boxes[i].y0 + boxes[i].y1) / 2 - tr->height / 2.0;
      double central = 1 - 0.5 * MIN (1.0, hypot (cx, cy) / half_diag);
      double score = box_w (&boxes[i]) * box_w (&boxes[i]) * central;
      if (score > best_score)
        {
          best = i;
          best_score = score;
        }
    }
  return best;
}

/* Whole-frame detection + choice of the followed face. */
static int
detect_full (Tracker *tr, const WkpFrame *fr, gint64 index, WkpFaceBox *face, GError **error)
{
  WkpFaceBox boxes[MAX_FACES];
  int n = wkp_dlib_detect (tr->dlib, fr->data, fr->width, fr->height, fr->stride, tr->detect_scale, 0.0,
                           boxes, MAX_FACES, error);
  tr->n_detector_runs++;
  if (n < 0)
    return -1;
  int k = choose_face (tr, boxes, n, index);
  if (k < 0)
    return 0;
  *face = boxes[k];
  return 1;
}

/* Detection in a window around @near only, scaled so the face is ~100 px. */
static int
detect_roi (Tracker *tr, const WkpFrame *fr, const WkpFaceBox *near, WkpFaceBox *face, GError **error)
{
  WkpFaceBox boxes[MAX_FACES];
  double w = box_w (near), margin = 0.45 * w;
  int x0 = (int) MAX (0, floor (near->x0 - margin)), y0 = (int) MAX (0, floor (near->y0 - margin));
  int x1 = (int) MIN (fr->width, ceil (near->x1 + margin)), y1 = (int) MIN (fr->height, ceil (near->y1 + margin));
  if (x1 - x0 < 16 || y1 - y0 < 16)
    return 0;
  /* small faces: the full-frame detection scale, so that the box agrees with
   * what detection on the whole frame gives; big ones: ~100 px, much cheaper */
  double scale = w * tr->detect_scale <= 200 ? tr->detect_scale : CLAMP (100.0 / w, 0.1, 3.0);
  int n = wkp_dlib_detect (tr->dlib, fr->data + (gsize) y0 * fr->stride + x0, x1 - x0, y1 - y0, fr->stride,
                           scale, 0.0, boxes, MAX_FACES, error);
  tr->n_roi_runs++;
  if (n < 0)
    return -1;
  int best = -1;
  double best_iou = 0.3;
  for (int i = 0; i < n; i++)
    {
      boxes[i].x0 += x0;
      boxes[i].x1 += x0;
      boxes[i].y0 += y0;
      boxes[i].y1 += y0;
      double iou = box_iou (&boxes[i], near);
      if (iou >= best_iou)
        {
          best = i;
          best_iou = iou;
        }
    }
  if (best < 0)
    return 0;
  *face = boxes[best];
  return 1;
}

static gboolean
fit (Tracker *tr, const WkpFrame *fr, const WkpFaceBox *box, float *pts, GError **error)
{
  tr->n_fits++;
  return wkp_dlib_fit (tr->dlib, fr->data, fr->width, fr->height, fr->stride, box, pts, error);
}

/* Two passes: a fit inside @box, then a fit inside the box the detector
 * would draw (on average) around that first fit. The second box no longer
 * depends on where the first came from (a detection, or the previous frame),
 * so both modes converge to the same points. */
static gboolean
fit_refined (Tracker *tr, const WkpFrame *fr, const WkpFaceBox *box, gboolean learn, float *pts, GError **error)
{
  float first[N2];
  WkpFaceBox b;
  if (!fit (tr, fr, box, first, error))
    return FALSE;
  if (learn)
    learn_correction (tr, box, first);
  for (int i = 0; i < N2; i++)
    if (!isfinite (first[i]))
      {
        memcpy (pts, first, sizeof first);
        return TRUE;
      }
  tracked_box (tr, first, &b);
  return fit (tr, fr, &b, pts, error);
}

static void
remember (Tracker *tr, const float *pts, gint64 index)
{
  memcpy (tr->prev, pts, sizeof tr->prev);
  tr->have_prev = TRUE;
  tracked_box (tr, pts, &tr->ref_box);
  tr->have_ref = TRUE;
  tr->ref_frame = index;
}

/* Runs one frame; @pts/@status receive the result. FALSE only on an internal
 * error of the detector. */
static gboolean
track_frame (Tracker *tr, const WkpFrame *fr, gint64 index, float *pts, guint8 *status, GError **error)
{
  float tracked[N2];
  gboolean tracked_ok = FALSE;
  WkpFaceBox box, det;
  int r;

  /* cut detection on a 32x32 thumbnail */
  {
    float th[THUMB * THUMB];
    make_thumb (fr, th);
    tr->cut = FALSE;
    if (tr->have_thumb)
      {
        double d = 0;
        for (int i = 0; i < THUMB * THUMB; i++)
          d += fabs (th[i] - tr->thumb[i]);
        d /= THUMB * THUMB;
        tr->cut = d > 30.0;
      }
    memcpy (tr->thumb, th, sizeof th);
    tr->have_thumb = TRUE;
    if (tr->cut)
      {
        tr->n_cuts++;
        tr->have_prev = FALSE;
        tr->have_ref = FALSE;
        tr->n_corr = 0;
      }
  }

  if (tr->tracking && tr->have_prev)
    {
      tracked_box (tr, tr->prev, &box);
      if (!fit_refined (tr, fr, &box, FALSE, tracked, error))
        return FALSE;
      tracked_ok = fit_is_sound (tr, &box, tracked);
      if (tracked_ok && tr->since_detect + 1 < tr->every)
        {
          memcpy (pts, tracked, sizeof tracked);
          *status = WKP_FACE_TRACKED;
          tr->since_detect++;
          remember (tr, pts, index);
          return TRUE;
        }
      if (tracked_ok)
        {
          /* periodic check: look around the face first */
          tracked_box (tr, tracked, &box);
          r = detect_roi (tr, fr, &box, &det, error);
          if (r < 0)
            return FALSE;
          if (r > 0)
            {
              if (!fit_refined (tr, fr, &det, TRUE, pts, error))
                return FALSE;
              *status = WKP_FACE_DETECTED;
              tr->since_detect = 0;
              remember (tr, pts, index);
              return TRUE;
            }
        }
    }

  r = detect_full (tr, fr, index, &det, error);
  if (r < 0)
    return FALSE;
  if (r > 0)
    {
      if (!fit_refined (tr, fr, &det, TRUE, pts, error))
        return FALSE;
      *status = WKP_FACE_DETECTED;
      tr->since_detect = 0;
      remember (tr, pts, index);
      return TRUE;
    }
  if (tracked_ok && tr->since_detect < 2 * tr->every)
    {
      /* the detector missed a face the tracker still holds (profile, blur) */
      memcpy (pts, tracked, sizeof tracked);
      *status = WKP_FACE_TRACKED;
      tr->since_detect++;
      remember (tr, pts, index);
      return TRUE;
    }
  for (int i = 0; i < N2; i++)
    pts[i] = NAN;
  *status = WKP_FACE_MISSING;
  tr->have_prev = FALSE;
  return TRUE;
}

/* Full-frame detection scale: big frames down to max_detect_width, small face
 * crops up so that the face clears the detector's 80 px window with room to
 * spare (the crops are about one face wide). */
static double
detection_scale (const WkpLandmarkParams *p, int width, int height)
{
  int min_side = MIN (width, height);
  if (p->max_detect_width > 0 && width > p->max_detect_width)
    return (double) p->max_detect_width / width;
  if (p->min_face_px > 0 && min_side < 3 * p->min_face_px)
    return 4.0 * p->min_face_px / min_side;
  return 1.0;
}

static JsonNode *
settings_json (const Tracker *tr, const WkpLandmarkParams *p)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "detector");
  json_builder_add_string_value (b, "dlib frontal_face_detector (HOG)");
  json_builder_set_member_name (b, "shape_model");
  json_builder_add_string_value (b, WKP_DLIB_SHAPE_MODEL);
  json_builder_set_member_name (b, "tracking");
  json_builder_add_boolean_value (b, tr->tracking);
  json_builder_set_member_name (b, "detect_every");
  json_builder_add_int_value (b, tr->tracking ? tr->every : 1);
  json_builder_set_member_name (b, "max_detect_width");
  json_builder_add_int_value (b, p->max_detect_width);
  json_builder_set_member_name (b, "min_face_px");
  json_builder_add_int_value (b, p->min_face_px);
  json_builder_set_member_name (b, "detect_scale");
  json_builder_add_double_value (b, tr->detect_scale);
  json_builder_set_member_name (b, "smooth");
  json_builder_add_string_value (b, p->smooth ? "savitzky-golay 5/2" : "none");
  json_builder_set_member_name (b, "detector_runs");
  json_builder_add_int_value (b, tr->n_detector_runs);
  json_builder_set_member_name (b, "roi_detector_runs");
  json_builder_add_int_value (b, tr->n_roi_runs);
  json_builder_set_member_name (b, "cuts");
  json_builder_add_int_value (b, tr->n_cuts);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

WkpLandmarkTrack *
wkp_landmarks_extract (const char *video, WkpRational fps, const WkpLandmarkParams *params,
                       WkpProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                       GError **error)
{
  WkpLandmarkParams defaults;
  g_autoptr(WkpVideoReader) reader = NULL;
  g_autoptr(WkpDlib) dlib = NULL;
  g_autoptr(GArray) points = NULL;
  g_autoptr(GByteArray) status = NULL;
  const WkpMediaInfo *info;
  Tracker tr;
  WkpFrame fr;
  GError *local = NULL;
  gint64 n = 0, missing = 0, total;

  g_return_val_if_fail (video != NULL, NULL);
  if (params == NULL)
    {
      wkp_landmark_params_init_default (&defaults);
      params = &defaults;
    }
  if (wkp_check_cancelled (cancellable, error))
    return NULL;
  /* (the reader counts the frames: a file cut short or without frames is
   * refused here, before the slow part, as by every other reader) */
  reader = wkp_video_reader_open (video, fps, WKP_PIXEL_GRAY8, error);
  if (reader == NULL)
    return NULL;
  info = wkp_video_reader_get_info (reader);
  if (!info->has_video)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s has no video: no faces to find", video);
      return NULL;
    }
  dlib = wkp_dlib_new (NULL, error);
  if (dlib == NULL)
    return NULL;

  memset (&tr, 0, sizeof tr);
  tr.dlib = dlib;
  tr.mean = wkp_dlib_mean_shape (dlib);
  tr.params = params;
  tr.every = MAX (1, params->detect_every);
  tr.tracking = params->tracking && tr.every > 1;
  tr.corr_s = 1.0;
  tr.lost_limit = wkp_rational_is_valid (info->fps) ? MAX (1, (gint64) ceil (wkp_rational_to_double (info->fps))) : 25;

  points = g_array_new (FALSE, FALSE, sizeof (float));
  status = g_byte_array_new ();
  total = info->n_frames > 0 ? info->n_frames : -1;
  if (params->max_frames > 0 && (total < 0 || total > params->max_frames))
    total = params->max_frames;

  while (TRUE)
    {
      float pts[N2];
      guint8 st;
      if (wkp_check_cancelled (cancellable, error))
        return NULL;
      if (params->max_frames > 0 && n >= params->max_frames)
        break;
      if (!wkp_video_reader_next (reader, &fr, &local))
        {
          if (local != NULL)
            {
              g_propagate_prefixed_error (error, local, "Landmarks of %s: ", video);
              return NULL;
            }
          break;
        }
      if (n == 0)
        {
          tr.width = fr.width;
          tr.height = fr.height;
          tr.detect_scale = detection_scale (params, fr.width, fr.height);
        }
      else if (fr.width != tr.width || fr.height != tr.height)
        {
          /* image sequences may change size: start over */
          tr.width = fr.width;
          tr.height = fr.height;
          tr.detect_scale = detection_scale (params, fr.width, fr.height);
          tr.have_prev = tr.have_ref = tr.have_thumb = FALSE;
        }
      if (!track_frame (&tr, &fr, n, pts, &st, error))
        {
          g_prefix_error (error, "%s, frame %" G_GINT64_FORMAT ": ", video, n);
          return NULL;
        }
      g_array_append_vals (points, pts, N2);
      g_byte_array_append (status, &st, 1);
      missing += st == WKP_FACE_MISSING;
      n++;
      if (progress != NULL && (n % 8 == 0 || n == total))
        {
          char what[64];
          g_snprintf (what, sizeof what, "frames, %" G_GINT64_FORMAT " without a face", missing);
          progress (n, MAX (total, n), what, progress_data);
        }
    }

  WkpLandmarkTrack *track = g_new0 (WkpLandmarkTrack, 1);
  track->n_frames = n;
  track->fps = info->fps;
  track->width = n > 0 ? tr.width : info->width;
  track->height = n > 0 ? tr.height : info->height;
  track->points = (float *) g_array_free (g_steal_pointer (&points), n == 0);
  track->status = g_byte_array_free (g_steal_pointer (&status), n == 0);
  if (n == 0)
    {
      track->points = g_new (float, N2);
      track->status = g_new0 (guint8, 1);
    }
  track->source = g_strdup (video);
  track->settings = settings_json (&tr, params);
  if (params->smooth)
    wkp_landmark_track_smooth (track);
  if (progress != NULL)
    {
      char what[64];
      g_snprintf (what, sizeof what, "frames, %" G_GINT64_FORMAT " without a face", missing);
      progress (n, n, what, progress_data);
    }
  return track;
}
