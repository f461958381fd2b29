/* Landmark extraction on real clips (a representative subset of
 * ../shared/data: GRID MPEG-1, a 160x160 and a 224x224 face crop, a VidTIMIT
 * image sequence, the 1080p clip cut short) in both modes: tracking finds a
 * face wherever detection does, and its points agree with detection to well
 * under 3% of the inter-ocular distance. Also: the re-packed predictor
 * against dlib's own, frames without a face, cuts, two faces, cancellation,
 * progress, threads, errors and the CLI. */
#include "wkp-dlib-bridge.h"
#include "wkp-io.h"
#include "wkp-landmarks.h"
#include "wkp-media.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define N2 (WKP_N_LANDMARKS * 2)
#define CLIP_512 "av/OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4"

/* --- helpers ------------------------------------------------------------------- */

typedef struct {
  int     width, height, n;
  guint8 *pixels;   /* n frames, packed gray */
} Frames;

static void
frames_free (Frames *f)
{
  g_free (f->pixels);
  g_free (f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Frames, frames_free)

/* The first @n frames of a clip as packed gray images. */
static Frames *
read_frames (const char *path, int n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpVideoReader) r = wkp_video_reader_open (path, WKP_RATIONAL (0, 0), WKP_PIXEL_GRAY8, &error);
  Frames *f = g_new0 (Frames, 1);
  WkpFrame fr;
  g_assert_no_error (error);
  while (f->n < n && wkp_video_reader_next (r, &fr, &error))
    {
      if (f->pixels == NULL)
        {
          f->width = fr.width;
          f->height = fr.height;
          f->pixels = g_malloc ((gsize) n * fr.width * fr.height);
        }
      for (int y = 0; y < fr.height; y++)
        memcpy (f->pixels + ((gsize) f->n * fr.height + y) * fr.width, fr.data + (gsize) y * fr.stride, fr.width);
      f->n++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (f->n, ==, n);
  return f;
}

static void
write_pgm (const char *path, const guint8 *pixels, int width, int height)
{
  g_autofree char *head = g_strdup_printf ("P5\n%d %d\n255\n", width, height);
  gsize hl = strlen (head);
  g_autofree char *buf = g_malloc (hl + (gsize) width * height);
  memcpy (buf, head, hl);
  memcpy (buf + hl, pixels, (gsize) width * height);
  g_assert_true (g_file_set_contents (path, buf, (gssize) (hl + (gsize) width * height), NULL));
}

/* Nearest-neighbour copy of @src (sw x sh) scaled into @dst at (x0, y0), size dw x dh. */
static void
paste_scaled (guint8 *dst, int dst_w, const guint8 *src, int sw, int sh, int x0, int y0, int dw, int dh)
{
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++)
      dst[(gsize) (y0 + y) * dst_w + x0 + x] = src[(gsize) (y * sh / dh) * sw + x * sw / dw];
}

static WkpLandmarkTrack *
extract (const char *path, gboolean tracking, gint64 max_frames)
{
  WkpLandmarkParams p;
  g_autoptr(GError) error = NULL;
  wkp_landmark_params_init_default (&p);
  p.tracking = tracking;
  p.detect_every = tracking ? 10 : 1;
  p.max_frames = max_frames;
  WkpLandmarkTrack *t = wkp_landmarks_extract (path, WKP_RATIONAL (0, 0), &p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* Status and points agree: missing <=> all NaN, found <=> all finite. */
static void
assert_consistent (const WkpLandmarkTrack *t)
{
  for (gint64 f = 0; f < t->n_frames; f++)
    {
      g_assert_cmpint (t->status[f], <=, WKP_FACE_TRACKED);
      for (int i = 0; i < N2; i++)
        {
          if (t->status[f] == WKP_FACE_MISSING)
            g_assert_true (isnan (t->points[f * N2 + i]));
          else
            g_assert_true (isfinite (t->points[f * N2 + i]));
        }
    }
}

/* --- the predictor ---------------------------------------------------------------- */

/* The re-packed cascade gives dlib's own answer: dlib rounds to whole pixels,
 * so the two differ by at most half a pixel per coordinate, except where a
 * different rounding of a sampled pixel flips a tree split (rare, small). */
static void
test_predictor_matches_dlib (void)
{
  g_autofree char *clip = wkp_test_shared_file (CLIP_512);
  if (clip == NULL)
    return;
  g_autoptr(Frames) fr = read_frames (clip, 6);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDlib) d = wkp_dlib_new (NULL, &error);
  g_assert_no_error (error);
  int n_coords = 0, n_close = 0;
  double sum = 0;

  for (int k = 0; k < fr->n; k++)
    {
      const guint8 *img = fr->pixels + (gsize) k * fr->width * fr->height;
      WkpFaceBox boxes[4];
      int n = wkp_dlib_detect (d, img, fr->width, fr->height, fr->width, 0.5, 0.0, boxes, 4, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, 1);
      /* the detected box and a shifted, resized one */
      for (int v = 0; v < 2; v++)
        {
          WkpFaceBox b = boxes[0];
          float ours[N2], ref[N2];
          if (v == 1)
            {
              /* whole pixels: dlib's rectangle is integer */
              b.x0 += 7;
              b.x1 += 12;
              b.y0 -= 5;
            }
          g_assert_true (wkp_dlib_fit (d, img, fr->width, fr->height, fr->width, &b, ours, &error));
          g_assert_true (wkp_dlib_fit_reference (d, img, fr->width, fr->height, fr->width, &b, ref, &error));
          g_assert_no_error (error);
          for (int i = 0; i < N2; i++)
            {
              double diff = fabs (ours[i] - ref[i]);
              sum += diff;
              n_coords++;
              n_close += diff <= 0.5 + 1e-3;
              g_assert_cmpfloat (diff, <, 3.0);
            }
        }
    }
  g_test_message ("re-packed vs dlib: mean |diff| %.3f px, %d/%d within rounding", sum / n_coords, n_close, n_coords);
  g_assert_cmpfloat (sum / n_coords, <, 0.3);
  g_assert_cmpint (n_close, >=, n_coords * 98 / 100);
}

/* Detector on nothing: a flat image has no face; a bad model path is an error. */
static void
test_bridge_edges (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDlib) d = wkp_dlib_new (NULL, &error);
  g_assert_no_error (error);
  g_autofree guint8 *flat = g_malloc (200 * 150);
  memset (flat, 128, 200 * 150);
  WkpFaceBox b[4];
  g_assert_cmpint (wkp_dlib_detect (d, flat, 200, 150, 200, 1.0, 0.0, b, 4, &error), ==, 0);
  g_assert_cmpint (wkp_dlib_detect (d, flat, 200, 150, 200, 2.5, 0.0, b, 4, &error), ==, 0);
  g_assert_no_error (error);
  /* a fit on a box partly outside the image is still finite */
  WkpFaceBox out = { -50, -40, 120, 130, 0 };
  float pts[N2];
  g_assert_true (wkp_dlib_fit (d, flat, 200, 150, 200, &out, pts, &error));
  for (int i = 0; i < N2; i++)
    g_assert_true (isfinite (pts[i]));
  WkpFaceBox empty = { 10, 10, 10, 10, 0 };
  g_assert_false (wkp_dlib_fit (d, flat, 200, 150, 200, &empty, pts, &error));
  g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);

  g_autoptr(WkpDlib) none = wkp_dlib_new ("/nonexistent/shape_model.dat", &error);
  g_assert_null (none);
  g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/shape_model.dat"));
  g_clear_error (&error);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *junk = g_build_filename (dir, "junk.dat", NULL);
  g_assert_true (g_file_set_contents (junk, "not a model", -1, NULL));
  g_autoptr(WkpDlib) bad = wkp_dlib_new (junk, &error);
  g_assert_null (bad);
  g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "junk.dat"));
}

/* --- real clips ---------------------------------------------------------------------- */

typedef struct {
  const char *path;
  gint64      max_frames;
  double      min_found;   /* fraction of frames with a face, tracking mode */
} RealClip;

static const RealClip real_clips[] = {
  { "av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg", 0, 0.99 },                  /* MPEG-1 360x288 */
  { "av/smeetrs__deep_avsr/audio_visual/demo/00002.mp4", 0, 0.95 },                       /* 160x160 LRS2 crop */
  { "av/Hangz-nju-cuhk__Talking-Face_PC-AVS/misc/Input/00010.mp4", 0, 0.95 },             /* 224x224 VoxCeleb2 */
  { "av/sibozhang__Text2Video/phoneme_data/VidTIMIT/fadg0/video/si1279/%03d", 0, 0.99 },  /* image sequence */
  { "av/ajay-sainy__Wav2Lip-GFPGAN/inputs/kim_7s_raw.mp4", 40, 0.99 },                   /* 1080p, cut short */
};

static void
test_real_clips (void)
{
  if (wkp_test_shared_data () == NULL)
    return;
  for (guint c = 0; c < G_N_ELEMENTS (real_clips); c++)
    {
      g_autofree char *path = wkp_test_shared_file (real_clips[c].path);
      g_autoptr(WkpLandmarkTrack) det = extract (path, FALSE, real_clips[c].max_frames);
      g_autoptr(WkpLandmarkTrack) trk = extract (path, TRUE, real_clips[c].max_frames);
      gint64 n_cmp = 0, n_det = wkp_landmark_track_count_found (det), n_trk = wkp_landmark_track_count_found (trk);
      double err = wkp_landmark_track_mean_error (trk, det, &n_cmp);
      gint64 detected_in_trk = 0;

      g_test_message ("%s: %" G_GINT64_FORMAT " frames; faces: detect %" G_GINT64_FORMAT ", track %" G_GINT64_FORMAT
                      "; tracking error %.2f%% IOD over %" G_GINT64_FORMAT, real_clips[c].path, det->n_frames, n_det,
                      n_trk, 100 * err, n_cmp);
      g_assert_cmpint (det->n_frames, ==, trk->n_frames);
      g_assert_cmpint (det->n_frames, >, 0);
      if (real_clips[c].max_frames > 0)
        g_assert_cmpint (det->n_frames, ==, real_clips[c].max_frames);
      assert_consistent (det);
      assert_consistent (trk);
      for (gint64 f = 0; f < det->n_frames; f++)
        {
          g_assert_cmpint (det->status[f], !=, WKP_FACE_TRACKED);
          detected_in_trk += trk->status[f] == WKP_FACE_DETECTED;
        }
      /* tracking really tracks: the detector ran on a minority of frames */
      g_assert_cmpint (detected_in_trk, <, trk->n_frames / 3 + 2);
      g_assert_cmpint (n_trk, >=, n_det);
      g_assert_cmpfloat ((double) n_trk / trk->n_frames, >=, real_clips[c].min_found);
      g_assert_cmpint (n_cmp, >=, n_det * 9 / 10);
      g_assert_cmpfloat (err, <, 0.03);
      /* the sidecar settings say how it was made */
      g_assert_nonnull (trk->settings);
      g_assert_true (json_object_get_boolean_member (json_node_get_object (trk->settings), "tracking"));
      g_assert_false (json_object_get_boolean_member (json_node_get_object (det->settings), "tracking"));
      g_assert_cmpint (trk->width, >, 0);
      g_assert_true (wkp_rational_is_valid (trk->fps));
    }
}

/* Frames without a face in the middle of a clip (blank frames, as from a
 * corrupt source) are missing in both modes: never filled with a guess, and
 * the faces around them are found. */
static void
test_blank_frames (void)
{
  g_autofree char *clip = wkp_test_shared_file (CLIP_512);
  if (clip == NULL)
    return;
  g_autoptr(Frames) fr = read_frames (clip, 24);
  g_autofree char *dir = wkp_test_tmpdir ();
  gsize sz = (gsize) fr->width * fr->height;
  g_autofree guint8 *blank = g_malloc (sz);
  memset (blank, 90, sz);
  for (int k = 0; k < fr->n; k++)
    {
      g_autofree char *name = g_strdup_printf ("%s/%03d.pgm", dir, k + 1);
      gboolean is_blank = k == 0 || (k >= 9 && k < 13);
      write_pgm (name, is_blank ? blank : fr->pixels + k * sz, fr->width, fr->height);
    }
  g_autofree char *pattern = g_build_filename (dir, "%03d.pgm", NULL);
  for (int mode = 0; mode < 2; mode++)
    {
      g_autoptr(WkpLandmarkTrack) t = extract (pattern, mode == 1, 0);
      g_assert_cmpint (t->n_frames, ==, 24);
      assert_consistent (t);
      for (int k = 0; k < 24; k++)
        {
          gboolean is_blank = k == 0 || (k >= 9 && k < 13);
          g_assert_cmpint (t->status[k] == WKP_FACE_MISSING, ==, is_blank);
        }
      /* after the blank run the face is detected afresh, not tracked */
      g_assert_cmpint (t->status[13], ==, WKP_FACE_DETECTED);
    }
}

/* Two faces: the large central one is followed throughout, the small one in
 * the corner never chosen. */
static void
test_two_faces (void)
{
  g_autofree char *clip = wkp_test_shared_file (CLIP_512);
  if (clip == NULL)
    return;
  g_autoptr(Frames) fr = read_frames (clip, 20);
  g_autofree char *dir = wkp_test_tmpdir ();
  const int W = 800, H = 450;
  g_autofree guint8 *canvas = g_malloc ((gsize) W * H);
  gsize sz = (gsize) fr->width * fr->height;
  for (int k = 0; k < fr->n; k++)
    {
      g_autofree char *name = g_strdup_printf ("%s/%03d.pgm", dir, k + 1);
      memset (canvas, 60, (gsize) W * H);
      /* the small one first in reading order: the choice is by size, not order */
      paste_scaled (canvas, W, fr->pixels + k * sz, fr->width, fr->height, 10, 10, 220, 220);
      paste_scaled (canvas, W, fr->pixels + k * sz, fr->width, fr->height, 330, 20, 420, 420);
      write_pgm (name, canvas, W, H);
    }
  g_autofree char *pattern = g_build_filename (dir, "%03d.pgm", NULL);
  for (int mode = 0; mode < 2; mode++)
    {
      g_autoptr(WkpLandmarkTrack) t = extract (pattern, mode == 1, 0);
      g_assert_cmpint (wkp_landmark_track_count_found (t), ==, 20);
      for (int k = 0; k < 20; k++)
        {
          double cx = 0;
          for (int i = 0; i < WKP_N_LANDMARKS; i++)
            cx += t->points[k * N2 + 2 * i] / WKP_N_LANDMARKS;
          g_assert_cmpfloat (cx, >, 330);
          g_assert_cmpfloat (wkp_face_interocular (t->points + k * N2), >, 80);
        }
    }
}

typedef struct {
  GCancellable *cancellable;
  gint64        calls, last_done, last_total;
  gboolean      monotonic;
} ProgressLog;

static void
on_progress (gint64 done, gint64 total, const char *what, gpointer user_data)
{
  ProgressLog *log = user_data;
  if (done < log->last_done)
    log->monotonic = FALSE;
  log->calls++;
  log->last_done = done;
  log->last_total = total;
  g_assert_nonnull (what);
  if (log->cancellable != NULL && done >= 16)
    g_cancellable_cancel (log->cancellable);
}

static void
test_progress_cancel (void)
{
  g_autofree char *clip = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
  if (clip == NULL)
    return;
  WkpLandmarkParams p;
  wkp_landmark_params_init_default (&p);
  /* progress to the end */
  {
    ProgressLog log = { NULL, 0, 0, 0, TRUE };
    g_autoptr(GError) error = NULL;
    g_autoptr(WkpLandmarkTrack) t = wkp_landmarks_extract (clip, WKP_RATIONAL (0, 0), &p, on_progress, &log, NULL,
                                                           &error);
    g_assert_no_error (error);
    g_assert_true (log.monotonic);
    g_assert_cmpint (log.calls, >=, 5);
    g_assert_cmpint (log.last_done, ==, t->n_frames);
    g_assert_cmpint (log.last_total, ==, t->n_frames);
  }
  /* cancelled from the progress callback (as a studio's Cancel button would) */
  {
    g_autoptr(GCancellable) c = g_cancellable_new ();
    ProgressLog log = { c, 0, 0, 0, TRUE };
    g_autoptr(GError) error = NULL;
    g_autoptr(WkpLandmarkTrack) t = wkp_landmarks_extract (clip, WKP_RATIONAL (0, 0), &p, on_progress, &log, c, &error);
    g_assert_null (t);
    g_assert_nonnull (error);
    g_assert_cmpint (error->code, ==, WKP_ERROR_CANCELLED);
    g_assert_cmpint (log.last_done, <, 30);
  }
}

/* Two threads extracting at once (the dataset's worker pool) get exactly the
 * results of one thread alone. */
typedef struct {
  const char       *path;
  WkpLandmarkTrack *track;
} ThreadJob;

static gpointer
thread_main (gpointer data)
{
  ThreadJob *job = data;
  job->track = extract (job->path, TRUE, 40);
  return NULL;
}

static void
test_threads (void)
{
  g_autofree char *a = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
  g_autofree char *b = wkp_test_shared_file ("av/smeetrs__deep_avsr/audio_visual/demo/00002.mp4");
  if (a == NULL)
    return;
  g_autoptr(WkpLandmarkTrack) ra = extract (a, TRUE, 40);
  g_autoptr(WkpLandmarkTrack) rb = extract (b, TRUE, 40);
  ThreadJob ja = { a, NULL }, jb = { b, NULL };
  GThread *ta = g_thread_new ("lm-a", thread_main, &ja);
  GThread *tb = g_thread_new ("lm-b", thread_main, &jb);
  g_thread_join (ta);
  g_thread_join (tb);
  g_assert_cmpmem (ja.track->points, sizeof (float) * N2 * ja.track->n_frames, ra->points,
                   sizeof (float) * N2 * ra->n_frames);
  g_assert_cmpmem (jb.track->status, jb.track->n_frames, rb->status, rb->n_frames);
  wkp_landmark_track_free (ja.track);
  wkp_landmark_track_free (jb.track);
}

static void
test_errors (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  WkpLandmarkParams p;
  wkp_landmark_params_init_default (&p);
  /* a missing file */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename (dir, "nothing.mp4", NULL);
    g_autoptr(WkpLandmarkTrack) t = wkp_landmarks_extract (path, WKP_RATIONAL (0, 0), &p, NULL, NULL, NULL, &error);
    g_assert_null (t);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "nothing.mp4"));
  }
  /* audio only */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename (dir, "speech.wav", NULL);
    float samples[16000] = { 0 };
    wkp_test_write_wav (path, samples, G_N_ELEMENTS (samples), 16000);
    g_autoptr(WkpLandmarkTrack) t = wkp_landmarks_extract (path, WKP_RATIONAL (0, 0), &p, NULL, NULL, NULL, &error);
    g_assert_null (t);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "speech.wav"));
  }
  /* not a video at all */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename (dir, "text.mp4", NULL);
    g_assert_true (g_file_set_contents (path, "this is not a video\n", -1, NULL));
    g_autoptr(WkpLandmarkTrack) t = wkp_landmarks_extract (path, WKP_RATIONAL (0, 0), &p, NULL, NULL, NULL, &error);
    g_assert_null (t);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "text.mp4"));
  }
  /* an MP4 cut short (its index at the front lists every frame): refused as
   * by every other reader of clips, not tracked on the frames that remain */
  {
    g_autofree char *src = wkp_test_shared_file (CLIP_512);
    g_autofree char *fs = g_build_filename (dir, "faststart.mp4", NULL);
    g_autofree char *cut = g_build_filename (dir, "cut.mp4", NULL);
    g_autofree char *data = NULL;
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    int status = 0;
    if (src != NULL)
      {
        const char *argv[] = { "ffmpeg", "-v", "error", "-i", src, "-c", "copy", "-an", "-movflags", "+faststart",
                               "-y", fs, NULL };
        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                                     &status, NULL));
        g_assert_true (g_spawn_check_wait_status (status, NULL));
        g_assert_true (g_file_get_contents (fs, &data, &len, NULL));
        g_assert_true (g_file_set_contents (cut, data, (gssize) (len / 3), NULL));
        g_autoptr(WkpLandmarkTrack) t = wkp_landmarks_extract (cut, WKP_RATIONAL (0, 0), &p, NULL, NULL, NULL, &error);
        g_assert_null (t);
        g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, "cut.mp4: file is truncated"));
      }
  }
}

/* Head-pose normalisation of a real track: every face lands on the canonical
 * eye line, whatever the head did. */
static void
test_normalize_real (void)
{
  g_autofree char *clip = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
  if (clip == NULL)
    return;
  g_autoptr(WkpLandmarkTrack) t = extract (clip, TRUE, 30);
  g_autoptr(WkpLandmarkTrack) n = wkp_landmark_track_normalize (t);
  const float *c = wkp_face_canonical ();
  g_assert_cmpint (wkp_landmark_track_count_found (n), ==, wkp_landmark_track_count_found (t));
  for (gint64 f = 0; f < n->n_frames; f++)
    {
      const float *p = n->points + f * N2;
      if (n->status[f] == WKP_FACE_MISSING)
        continue;
      g_assert_cmpfloat_with_epsilon (wkp_face_interocular (p), 1.0, 0.1);
      for (int k = 0; k < 2; k++)
        {
          int i = k ? WKP_EYE_OUTER_RIGHT : WKP_EYE_OUTER_LEFT;
          g_assert_cmpfloat_with_epsilon (p[2 * i], c[2 * i], 0.08);
          g_assert_cmpfloat_with_epsilon (p[2 * i + 1], c[2 * i + 1], 0.08);
        }
    }
  /* the file says so (its sidecar used to call the points pixels), reading it
   * back keeps it canonical, and it is refused as this video's pixel track */
  {
    g_autofree char *dir = wkp_test_tmpdir ();
    g_autofree char *npy = g_build_filename (dir, "norm.npy", NULL);
    g_autofree char *json = g_build_filename (dir, "norm.json", NULL);
    g_autofree char *text = NULL;
    g_autoptr(WkpLandmarkTrack) back = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false (t->canonical);
    g_assert_true (wkp_landmark_track_save (n, npy, &error));
    g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
    g_assert_nonnull (strstr (text, "\"units\" : \"canonical face frame"));
    back = wkp_landmark_track_load (npy, WKP_RATIONAL (0, 0), &error);
    g_assert_no_error (error);
    g_assert_true (back->canonical);
    g_assert_false (wkp_landmark_track_check_fits (back, npy, n->n_frames, n->width, n->height, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_MISMATCH);
    g_assert_nonnull (strstr (error->message, "norm.npy: the points are in the canonical face frame"));
    g_clear_error (&error);
    g_assert_true (wkp_landmark_track_check_fits (t, npy, t->n_frames, t->width, t->height, &error));
  }
}

static void
test_cli (void)
{
  g_autofree char *clip = wkp_test_shared_file ("av/smeetrs__deep_avsr/audio_visual/demo/00006.mp4");
  if (clip == NULL)
    return;
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *npy = g_build_filename (dir, "lm.npy", NULL);
  g_autofree char *csv = g_build_filename (dir, "lm.csv", NULL);
  g_autofree char *json = g_build_filename (dir, "lm-export.json", NULL);
  g_autoptr(GError) error = NULL;
  {
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "landmarks", clip, "--every", "5", "-o", npy, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "frames, face in"));
  }
  g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_load (npy, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->n_frames, ==, 21);
  g_assert_cmpint (t->fps.num, ==, 25);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (t->settings), "detect_every"), ==, 5);
  /* convert ours to CSV and JSON */
  {
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "landmarks", npy, "-o", csv, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, &out, &err), ==, 0);
    const char *args2[] = { "landmarks", npy, "-o", json, "-q", NULL };
    g_autofree char *out2 = NULL, *err2 = NULL;
    g_assert_cmpint (wkp_test_run_cli (args2, &out2, &err2), ==, 0);
    g_assert_cmpstr (out2, ==, "");
  }
  g_autoptr(WkpLandmarkTrack) back = wkp_landmark_track_load (csv, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->n_frames, ==, 21);
  for (int i = 0; i < 21 * N2; i++)
    if (!isnan (t->points[i]))
      g_assert_cmpfloat_with_epsilon (back->points[i], t->points[i], 0.001);
  /* bad input: exit 2, one line naming the problem, nothing written */
  {
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *missing = g_build_filename (dir, "nope.mp4", NULL);
    g_autofree char *o2 = g_build_filename (dir, "o2.npy", NULL);
    const char *args[] = { "landmarks", missing, "-o", o2, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, &out, &err), ==, 2);
    g_assert_nonnull (strstr (err, "nope.mp4"));
    g_assert_null (strchr (err, '\n') == NULL ? NULL : strchr (strchr (err, '\n') + 1, '\n'));
    g_assert_false (g_file_test (o2, G_FILE_TEST_EXISTS));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *o3 = g_build_filename (dir, "no", "such", "dir.npy", NULL);
    const char *args[] = { "landmarks", clip, "-o", o3, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, &out, &err), ==, 2);
    const char *args2[] = { "landmarks", clip, "--every", "0", "-o", npy, NULL };
    g_autofree char *out2 = NULL, *err2 = NULL;
    g_assert_cmpint (wkp_test_run_cli (args2, &out2, &err2), ==, 2);
  }
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/landmarks/predictor-matches-dlib", test_predictor_matches_dlib);
  g_test_add_func ("/landmarks/bridge-edges", test_bridge_edges);
  g_test_add_func ("/landmarks/real-clips", test_real_clips);
  g_test_add_func ("/landmarks/blank-frames", test_blank_frames);
  g_test_add_func ("/landmarks/two-faces", test_two_faces);
  g_test_add_func ("/landmarks/progress-cancel", test_progress_cancel);
  g_test_add_func ("/landmarks/threads", test_threads);
  g_test_add_func ("/landmarks/errors", test_errors);
  g_test_add_func ("/landmarks/normalize-real", test_normalize_real);
  g_test_add_func ("/landmarks/cli", test_cli);
  return g_test_run ();
}
