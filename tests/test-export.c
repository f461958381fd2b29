/* Presentation clips: a real MP4 (H.264 + AAC) with one picture per frame,
 * checked with ffprobe; failures and cancellation leave nothing behind. */
#include "wkp-export.h"
#include "wkp-speech.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *
ffprobe_streams (const char *path)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-count_frames", "-show_entries",
                         "stream=codec_name,width,height,avg_frame_rate,nb_read_frames,sample_rate",
                         "-of", "csv=p=0", path, NULL };
  char *out = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

/* ffprobe's duration of the first @kind ("a", "v") stream, in seconds */
static double
ffprobe_duration (const char *path, const char *kind)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-select_streams", kind, "-show_entries", "stream=duration",
                         "-of", "csv=p=0", path, NULL };
  g_autofree char *out = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_ascii_strtod (out, NULL);
}

static char *
ffprobe_format (const char *path)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", path,
                         NULL };
  char *out = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strstrip (out);
}

static float *
mouth_track (gint64 T)
{
  const float *mean = wkp_face_canonical ();
  float *pts = g_new (float, T * 136);
  for (gint64 i = 0; i < T; i++)
    {
      double open = 0.08 * (0.5 + 0.5 * sin (i * 0.4));
      memcpy (pts + i * 136, mean, 136 * sizeof (float));
      for (int k = 56; k <= 59; k++)
        pts[i * 136 + 2 * k + 1] += (float) open;
      for (int k = 65; k <= 67; k++)
        pts[i * 136 + 2 * k + 1] += (float) open;
    }
  return pts;
}

static void
test_audio_only_clip (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *out = g_build_filename (dir, "clip.mp4", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpAudio) audio = wkp_audio_new (16000 * 2, 16000);
  g_autofree float *pred = mouth_track (60);
  g_autofree char *info = NULL;
  WkpExportParams p;

  for (gint64 i = 0; i < audio->n_samples; i++)
    audio->samples[i] = 0.3f * sinf (2 * G_PI * 220 * i / 16000.0f);
  wkp_export_params_init_default (&p);
  p.fps = WKP_RATIONAL (30, 1);
  p.n_frames = 60;
  p.audio = audio;
  p.predicted = pred;
  p.title = "test";
  p.height = 240;
  g_assert_true (wkp_export_clip (&p, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  info = ffprobe_streams (out);
  g_test_message ("%s", info);
  /* video: 240x240 mouth panel + the aperture strip (120 px at 480, never
   * under 0.6 of that: 72), 30 fps, 60 pictures */
  g_assert_nonnull (strstr (info, "h264,240,312,30/1,60"));
  g_assert_nonnull (strstr (info, "aac,16000"));
  /* the sound lasts as long as the pictures: 2 s, not rounded up to whole
   * AAC frames of 1024 samples (2.048 s before) */
  g_assert_cmpfloat (fabs (ffprobe_duration (out, "a") - 2.0), <, 1e-3);

  /* audio shorter than the clip is followed by silence up to its end (it
   * stopped 0.5 s early before) */
  {
    g_autoptr(WkpAudio) shorter = wkp_audio_new (16000 * 3 / 2, 16000);
    memcpy (shorter->samples, audio->samples, shorter->n_samples * sizeof (float));
    p.audio = shorter;
    g_assert_true (wkp_export_clip (&p, out, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (fabs (ffprobe_duration (out, "a") - 2.0), <, 1e-3);
    p.audio = audio;
  }

  /* the container follows the name (.mkv: Matroska); a name whose container
   * does not take H.264 + AAC is refused before anything is written (an
   * .avi was an MP4 under that name before) */
  {
    g_autofree char *mkv = g_build_filename (dir, "clip.mkv", NULL);
    g_autofree char *avi = g_build_filename (dir, "clip.avi", NULL);
    g_autofree char *format = NULL;
    g_assert_true (wkp_export_clip (&p, mkv, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    format = ffprobe_format (mkv);
    g_assert_nonnull (strstr (format, "matroska"));
    g_assert_false (wkp_export_clip (&p, avi, NULL, NULL, NULL, &error));
    g_assert_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, avi));
    g_assert_nonnull (strstr (error->message, ".mp4"));
    g_assert_false (g_file_test (avi, G_FILE_TEST_EXISTS));
    g_clear_error (&error);
  }

  /* everything scales with the panels: at 960 px the strip is 240 high */
  {
    g_autofree char *big = g_build_filename (dir, "big.mp4", NULL);
    g_autofree char *big_info = NULL;
    p.height = 960;
    g_assert_true (wkp_export_clip (&p, big, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    big_info = ffprobe_streams (big);
    g_assert_nonnull (strstr (big_info, "h264,960,1200,30/1,60"));
    p.height = 240;
  }
}

/* Decoded RGB frame @index of @path; the reader owns the pixels (free it
 * after the frame's last use). */
static WkpVideoReader *
read_frame (const char *path, gint64 index, WkpFrame *frame)
{
  g_autoptr(GError) error = NULL;
  WkpVideoReader *reader = wkp_video_reader_open (path, WKP_RATIONAL (0, 0), WKP_PIXEL_RGB24, &error);
  g_assert_no_error (error);
  g_assert_true (wkp_video_reader_seek (reader, index, &error));
  g_assert_true (wkp_video_reader_next (reader, frame, &error));
  g_assert_no_error (error);
  return reader;
}

/* Of the segments between neighbouring points of the jaw (0..16) and the
 * brows, how many have, around their midpoint in frame @index, a pixel
 * that changed by more than 60 (|dR| + |dG| + |dB|) from @plain (the same
 * clip without landmarks) to @drawn: contour lines do, points alone do not
 * (measured: 24 of 24 with contours, 5 of 24 with the points alone). */
static int
contour_midpoints_drawn (const char *drawn, const char *plain, gint64 index, const float *pts, double scale,
                         int *n_checked)
{
  WkpFrame fd, fp;
  g_autoptr(WkpVideoReader) rd = read_frame (drawn, index, &fd);
  g_autoptr(WkpVideoReader) rp = read_frame (plain, index, &fp);
  const int segments[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 4, 5 }, { 5, 6 }, { 6, 7 }, { 7, 8 },
                              { 8, 9 }, { 9, 10 }, { 10, 11 }, { 11, 12 }, { 12, 13 }, { 13, 14 }, { 14, 15 },
                              { 15, 16 }, { 17, 18 }, { 18, 19 }, { 19, 20 }, { 20, 21 }, { 22, 23 }, { 23, 24 },
                              { 24, 25 }, { 25, 26 } };
  int hits = 0;
  *n_checked = G_N_ELEMENTS (segments);
  for (guint k = 0; k < G_N_ELEMENTS (segments); k++)
    {
      const int a = segments[k][0], b = segments[k][1];
      const int cx = (int) lround ((pts[2 * a] + pts[2 * b]) / 2 * scale);
      const int cy = (int) lround ((pts[2 * a + 1] + pts[2 * b + 1]) / 2 * scale);
      int change = 0;
      for (int y = MAX (cy - 2, 0); y <= MIN (cy + 2, fd.height - 1); y++)
        for (int x = MAX (cx - 2, 0); x <= MIN (cx + 2, fd.width - 1); x++)
          {
            const guint8 *d = fd.data + (gsize) y * fd.stride + 3 * x, *q = fp.data + (gsize) y * fp.stride + 3 * x;
            change = MAX (change, ABS (d[0] - q[0]) + ABS (d[1] - q[1]) + ABS (d[2] - q[2]));
          }
      hits += change > 60;
    }
  return hits;
}

static void
test_caption (void)
{
  g_autofree char *a = wkp_export_caption ("clip.mp4", 0, "A.wkpm", "B.wkpm");
  g_autofree char *b = wkp_export_caption ("clip.mp4", 0, "A.wkpm", NULL);
  g_autofree char *c = wkp_export_caption ("clip.mp4", 0, NULL, NULL);
  g_assert_cmpstr (a, ==, "clip.mp4 · A.wkpm vs B.wkpm");
  g_assert_cmpstr (b, ==, "clip.mp4 · A.wkpm");
  g_assert_cmpstr (c, ==, "clip.mp4");
  /* a sound moved against its pictures is said after the clip's name */
  {
    g_autofree char *d = wkp_export_caption ("clip.mp4", 9, "A.wkpm", NULL);
    g_autofree char *e = wkp_export_caption ("clip.mp4", -1, NULL, NULL);
    g_assert_cmpstr (d, ==, "clip.mp4 (sound 9 frames earlier) · A.wkpm");
    g_assert_cmpstr (e, ==, "clip.mp4 (sound 1 frame later)");
  }

  /* how a clip sets its caption in the 360 px video panel at 288 px (unit 0.6) */
  {
    const char *title = "bbaf2n.mpg · default.wkpm (ensemble of 4 networks) vs a-much-longer-checkpoint-name.wkpm";
    char *lines[2] = { NULL, NULL };
    double size;
    /* fits: one line, at full size */
    g_assert_cmpint (wkp_export_title_lines ("bbaf2n.mpg · default.wkpm", 328, 0.6, lines, &size), ==, 1);
    g_assert_cmpstr (lines[0], ==, "bbaf2n.mpg · default.wkpm");
    g_assert_null (lines[1]);
    g_assert_cmpfloat_with_epsilon (size, 18 * 0.6, 1e-9);
    g_free (lines[0]);
    /* too long: two lines, nothing cut (it used to end "…checkpoint-na…"),
     * broken at a separator, the "·" not starting the second line */
    g_assert_cmpint (wkp_export_title_lines (title, 328, 0.6, lines, &size), ==, 2);
    g_test_message ("title lines: \"%s\" / \"%s\" at %.1f px", lines[0], lines[1], size);
    g_assert_null (strstr (lines[0], "…"));
    g_assert_null (strstr (lines[1], "…"));
    g_assert_true (g_str_has_prefix (title, lines[0]));
    g_assert_true (g_str_has_suffix (title, lines[1]));
    g_assert_true (g_str_has_prefix (lines[1], "vs ") || g_str_has_prefix (lines[1], "default"));
    g_assert_cmpuint (strlen (lines[0]) + strlen (lines[1]), >=, strlen (title) - strlen (" · "));
    g_assert_cmpfloat (size, >=, 12 * 0.6);
    g_free (lines[0]);
    g_free (lines[1]);
    /* one word too long for any line: cut with "…" */
    g_assert_cmpint (wkp_export_title_lines ("an-extremely-long-file-name-without-any-space-in-it-at-all-"
                                             "that-goes-on-and-on.wkpm", 200, 0.6, lines, &size), ==, 1);
    g_assert_true (g_str_has_suffix (lines[0], "…"));
    g_free (lines[0]);
  }
}

/* Pixels of frame @index of @path in columns [@x0, @x1) and rows [@y0, @y1)
 * within 40/255 of an RGB colour. */
static gint64
count_colour_box (const char *path, gint64 index, int x0, int y0, int x1, int y1, double r, double g, double b)
{
  WkpFrame f;
  g_autoptr(WkpVideoReader) reader = read_frame (path, index, &f);
  gint64 n = 0;
  const int want[3] = { (int) (r * 255), (int) (g * 255), (int) (b * 255) };
  for (int y = y0; y < MIN (y1, f.height); y++)
    for (int x = x0; x < MIN (x1, f.width); x++)
      {
        const guint8 *px = f.data + (gsize) y * f.stride + 3 * x;
        if (ABS (px[0] - want[0]) < 40 && ABS (px[1] - want[1]) < 40 && ABS (px[2] - want[2]) < 40)
          n++;
      }
  return n;
}

/* the same right of @x0, all rows */
static gint64
count_colour (const char *path, gint64 index, int x0, double r, double g, double b)
{
  return count_colour_box (path, index, x0, 0, G_MAXINT, G_MAXINT, r, g, b);
}

static void
test_video_clip (void)
{
  g_autofree char *video = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
  g_autofree char *dir = NULL, *out = NULL, *info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *pred = NULL, *ref = NULL;
  WkpExportParams p;

  if (video == NULL)
    return;
  dir = wkp_test_tmpdir ();
  out = g_build_filename (dir, "grid.mp4", NULL);
  pred = mouth_track (75);
  /* a "reference" in pixels: the canonical face scaled into the frame */
  ref = g_new (float, 75 * 136);
  for (int i = 0; i < 75 * 68; i++)
    {
      ref[2 * i] = 180 + 60 * pred[2 * i];
      ref[2 * i + 1] = 130 + 60 * pred[2 * i + 1];
    }
  wkp_export_params_init_default (&p);
  p.video = video;
  p.fps = WKP_RATIONAL (25, 1);
  p.n_frames = 75;
  p.predicted = pred;
  p.reference = ref;
  p.height = 288;
  g_assert_true (wkp_export_clip (&p, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  info = ffprobe_streams (out);
  /* 360x288 video panel + 288 mouth panel = 648 wide; 288 + 72 high */
  g_assert_nonnull (strstr (info, "h264,648,360,25/1,75"));
  {
    /* the landmarks over the video are drawn as the studio draws them, as
     * contours (jaw, brows, ...) through the points (they were dots only):
     * green between neighbouring points */
    g_autofree char *plain = g_build_filename (dir, "grid-plain.mp4", NULL);
    int checked, drawn;
    p.reference = NULL;
    g_assert_true (wkp_export_clip (&p, plain, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    p.reference = ref;
    drawn = contour_midpoints_drawn (out, plain, 40, ref + 40 * 136, 1.0, &checked);
    g_test_message ("contour midpoints drawn: %d of %d", drawn, checked);
    g_assert_cmpint (drawn, >=, checked - 2);
  }

  /* a compared model is drawn too, in the studio's purple (dashed): the
   * mouth panel of the decoded output has pixels of that colour only then */
  {
    g_autofree char *out2 = g_build_filename (dir, "grid-compared.mp4", NULL);
    g_autofree float *comp = mouth_track (75);
    gint64 plain, with;
    for (int i = 0; i < 75 * 136; i++)
      comp[i] *= 1.15f;   /* a wider mouth, not under the predicted one */
    p.compared = comp;
    g_assert_true (wkp_export_clip (&p, out2, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    plain = count_colour (out, 40, 360, 0.80, 0.55, 0.95);
    with = count_colour (out2, 40, 360, 0.80, 0.55, 0.95);
    g_test_message ("purple pixels in the mouth panel: %" G_GINT64_FORMAT " without, %" G_GINT64_FORMAT
                    " with a compared model", plain, with);
    g_assert_cmpint (plain, <, 20);
    g_assert_cmpint (with, >, 200);
    /* the legend names the models in their colours: a longer name, more
     * purple in the legend's corner (top of the mouth panel) */
    {
      g_autofree char *out4 = g_build_filename (dir, "grid-named.mp4", NULL);
      gint64 unnamed, named;
      p.compared_label = "a-much-longer-checkpoint-name.wkpm";
      g_assert_true (wkp_export_clip (&p, out4, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      p.compared_label = NULL;
      unnamed = count_colour_box (out2, 40, 360, 0, 648, 80, 0.80, 0.55, 0.95);
      named = count_colour_box (out4, 40, 360, 0, 648, 80, 0.80, 0.55, 0.95);
      g_test_message ("purple pixels in the legend: %" G_GINT64_FORMAT " (\"compared\"), %" G_GINT64_FORMAT
                      " (a long name)", unnamed, named);
      g_assert_cmpint (named, >, unnamed + 50);
    }
    p.compared = NULL;
  }
  /* a title longer than the video panel is fitted into it: none of its
   * white pixels reach the mouth panel and its legend (it used to run over
   * them) */
  {
    g_autofree char *out3 = g_build_filename (dir, "grid-title.mp4", NULL);
    gint64 plain, titled, left_plain, left_titled;
    p.title = "bbaf2n.mpg · default.wkpm (ensemble of 4 networks) vs a-much-longer-checkpoint-name.wkpm";
    g_assert_true (wkp_export_clip (&p, out3, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    plain = count_colour (out, 40, 360, 0.95, 0.95, 0.95);
    titled = count_colour (out3, 40, 360, 0.95, 0.95, 0.95);
    left_plain = count_colour (out, 40, 0, 0.95, 0.95, 0.95) - plain;
    left_titled = count_colour (out3, 40, 0, 0.95, 0.95, 0.95) - titled;
    g_test_message ("white pixels: mouth panel %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT ", video panel %"
                    G_GINT64_FORMAT " / %" G_GINT64_FORMAT " without / with the title", plain, titled, left_plain,
                    left_titled);
    g_assert_cmpint (titled, <=, plain + 10);
    g_assert_cmpint (left_titled, >, left_plain + 60);   /* but it is there */
    p.title = NULL;
  }
}

/* mean absolute difference of two decoded pictures (RGB, same size) */
static double
frame_diff (const char *a, gint64 ia, const char *b, gint64 ib)
{
  WkpFrame fa, fb;
  g_autoptr(WkpVideoReader) ra = read_frame (a, ia, &fa);
  g_autoptr(WkpVideoReader) rb = read_frame (b, ib, &fb);
  double sum = 0;
  g_assert_cmpint (fa.width, ==, fb.width);
  g_assert_cmpint (fa.height, ==, fb.height);
  for (int y = 0; y < fa.height; y++)
    for (int x = 0; x < 3 * fa.width; x++)
      sum += ABS ((int) fa.data[(gsize) y * fa.stride + x] - (int) fb.data[(gsize) y * fb.stride + x]);
  return sum / (3.0 * fa.width * fa.height);
}

/* An excerpt (a studio selection, render --start/--end): only its frames,
 * each the picture the whole clip has there, and its own stretch of sound. */
static void
test_excerpt (void)
{
  g_autofree char *video = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
  g_autofree char *dir = NULL, *whole = NULL, *part = NULL, *info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *pred = mouth_track (75);
  g_autoptr(WkpAudio) audio = wkp_audio_new (16000 * 3, 16000);
  WkpExportParams p;

  if (video == NULL)
    return;
  dir = wkp_test_tmpdir ();
  whole = g_build_filename (dir, "whole.mp4", NULL);
  part = g_build_filename (dir, "part.mp4", NULL);
  /* 1 s of 220 Hz, then 2 s of 1760 Hz: the excerpt from frame 40 (1.6 s) holds only the second */
  for (gint64 i = 0; i < audio->n_samples; i++)
    audio->samples[i] = 0.3f * sinf (2 * G_PI * (i < 16000 ? 220 : 1760) * i / 16000.0f);
  wkp_export_params_init_default (&p);
  p.video = video;
  p.fps = WKP_RATIONAL (25, 1);
  p.n_frames = 75;
  p.predicted = pred;
  p.audio = audio;
  p.height = 288;
  g_assert_true (wkp_export_clip (&p, whole, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  p.start_frame = 40;
  p.end_frame = 65;
  g_assert_true (wkp_export_clip (&p, part, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  info = ffprobe_streams (part);
  g_test_message ("%s", info);
  g_assert_nonnull (strstr (info, "h264,648,360,25/1,25"));   /* 25 pictures */
  g_assert_cmpfloat (fabs (ffprobe_duration (part, "a") - 1.0), <, 1e-3);
  /* its pictures are the whole clip's frames 40..64 (the frame number, the
   * mouth and the aperture strip all change from frame to frame) */
  {
    double same0 = frame_diff (part, 0, whole, 40), other0 = frame_diff (part, 0, whole, 0);
    double same_end = frame_diff (part, 24, whole, 64), other_end = frame_diff (part, 24, whole, 60);
    g_test_message ("mean |difference|: first picture vs frame 40 %.2f, vs frame 0 %.2f; last vs frame 64 %.2f, "
                    "vs frame 60 %.2f", same0, other0, same_end, other_end);
    g_assert_cmpfloat (same0, <, 2.0);
    g_assert_cmpfloat (same_end, <, 2.0);
    g_assert_cmpfloat (other0, >, 2 * same0);
    g_assert_cmpfloat (other_end, >, 2 * same_end);
  }
  /* its sound is the 1760 Hz stretch: about 2 × 1760 zero crossings a second */
  {
    g_autoptr(WkpAudio) back = wkp_audio_load (part, 16000, NULL, NULL, &error);
    gint64 crossings = 0;
    g_assert_no_error (error);
    for (gint64 i = 2000; i < back->n_samples - 2000; i++)
      crossings += (back->samples[i - 1] < 0) != (back->samples[i] < 0);
    g_test_message ("%" G_GINT64_FORMAT " zero crossings in %.2f s", crossings, (back->n_samples - 4000) / 16000.0);
    g_assert_cmpfloat (fabs (crossings / ((back->n_samples - 4000) / 16000.0) - 2 * 1760), <, 100);
  }
  /* a range outside the clip: refused, nothing written */
  {
    g_autofree char *bad = g_build_filename (dir, "bad.mp4", NULL);
    p.start_frame = 70;
    p.end_frame = 80;
    g_assert_false (wkp_export_clip (&p, bad, NULL, NULL, NULL, &error));
    g_assert_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "the clip has 75"));
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  }
}

static void
cancel_after (gint64 done, gint64 total, const char *what, gpointer data)
{
  if (done == 10)
    g_cancellable_cancel (data);
}

static void
test_failures_leave_nothing (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *out = g_build_filename (dir, "clip.mp4", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autofree float *pred = mouth_track (100);
  WkpExportParams p;

  g_assert_true (g_file_set_contents (out, "previous clip", -1, NULL));
  wkp_export_params_init_default (&p);
  p.n_frames = 100;
  p.predicted = pred;
  p.height = 128;
  g_assert_false (wkp_export_clip (&p, out, cancel_after, cancel, cancel, &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_CANCELLED);
  g_clear_error (&error);
  {
    g_autofree char *c = NULL;
    GDir *d = g_dir_open (dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name (d) != NULL)
      n++;
    g_dir_close (d);
    g_assert_cmpint (n, ==, 1);
    g_assert_true (g_file_get_contents (out, &c, NULL, NULL));
    g_assert_cmpstr (c, ==, "previous clip");
  }
  /* nothing to draw, missing video: clear errors */
  p.predicted = NULL;
  g_assert_false (wkp_export_clip (&p, out, NULL, NULL, NULL, &error));
  g_assert_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);
  p.video = "/nonexistent/clip.mp4";
  g_assert_false (wkp_export_clip (&p, out, NULL, NULL, NULL, &error));
  g_assert_error (error, WKP_MEDIA_ERROR, WKP_ERROR_NOT_FOUND);
}

static void
test_speech_wav (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *wav = g_build_filename (dir, "s.wav", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpAudio) a = wkp_speech_synthesize ("Hello world", NULL, 16000, &error);
  g_autoptr(WkpAudio) b = NULL;
  double energy = 0;

  g_assert_no_error (error);
  /* about a second of speech, not silence */
  g_assert_cmpint (a->n_samples, >, 8000);
  g_assert_cmpint (a->n_samples, <, 48000);
  for (gint64 i = 0; i < a->n_samples; i++)
    energy += a->samples[i] * a->samples[i];
  g_assert_cmpfloat (sqrt (energy / a->n_samples), >, 0.01);
  /* our WAV reads back through FFmpeg within 16-bit quantisation */
  g_assert_true (wkp_audio_save_wav (a, wav, &error));
  b = wkp_audio_load (wav, 16000, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->n_samples, ==, a->n_samples);
  for (gint64 i = 0; i < a->n_samples; i++)
    g_assert_cmpfloat (fabsf (a->samples[i] - b->samples[i]), <=, 1.0f / 32768.0f + 1e-7f);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/export/audio-only-clip", test_audio_only_clip);
  g_test_add_func ("/export/video-clip", test_video_clip);
  g_test_add_func ("/export/caption", test_caption);
  g_test_add_func ("/export/excerpt", test_excerpt);
  g_test_add_func ("/export/failures-leave-nothing", test_failures_leave_nothing);
  g_test_add_func ("/export/speech-wav", test_speech_wav);
  return g_test_run ();
}
