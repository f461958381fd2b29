/* Dataset module: CSV and folder sources, splits, resampling and envelope
 * against numpy, the A/V offset estimate (synthetic shifts), and on real
 * clips: prepare -> memory-mapped reader, offset of a clip whose audio was
 * delayed by shifting samples, caching (second run), config change, a bad
 * clip, and a prepare child killed with SIGKILL. */
#include "wkp-dataset.h"
#include "wkp-dataset-private.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-npy.h"
#include "wkp-train.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */

static void
test_csv (void)
{
  const char *text = "\xEF\xBB\xBFvideo,audio,speaker,notes\r\n"
                     "a.mp4,,s1,\"plain, with comma\"\r\n"
                     "\"b c.mp4\",b.wav,s2,\"say \"\"hi\"\"\nsecond line\"\n"
                     "\n"
                     ",only.wav,s3,\n"
                     "last.mp4,,,";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = wkp_csv_parse (text, strlen (text), "t.csv", &error);
  char **r;

  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 5);
  r = rows->pdata[0];
  g_assert_cmpuint (g_strv_length (r), ==, 4);
  g_assert_cmpstr (r[0], ==, "video");
  g_assert_cmpstr (r[3], ==, "notes");
  r = rows->pdata[1];
  g_assert_cmpstr (r[0], ==, "a.mp4");
  g_assert_cmpstr (r[1], ==, "");
  g_assert_cmpstr (r[3], ==, "plain, with comma");
  r = rows->pdata[2];
  g_assert_cmpstr (r[0], ==, "b c.mp4");
  g_assert_cmpstr (r[3], ==, "say \"hi\"\nsecond line");
  r = rows->pdata[3];
  g_assert_cmpstr (r[0], ==, "");
  g_assert_cmpstr (r[1], ==, "only.wav");
  r = rows->pdata[4];
  g_assert_cmpuint (g_strv_length (r), ==, 4);
  g_assert_cmpstr (r[0], ==, "last.mp4");
  g_assert_cmpstr (r[3], ==, "");
}

static void
test_csv_errors (void)
{
  const char *bad[] = { "a,\"unterminated\n", "a,b\"c\n", "a,\"x\"y\n" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = wkp_csv_parse (bad[i], strlen (bad[i]), "bad.csv", &error);
      g_assert_null (rows);
      g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "bad.csv"));
    }
}

static void
write_text (const char *path, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

static void
test_sources_csv (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *csv = g_build_filename (dir, "list.csv", NULL);
  g_autofree char *expect_v = g_build_filename (dir, "sub", "a.mp4", NULL);
  g_autofree char *expect_a = g_build_filename (dir, "wav", "a.wav", NULL);
  g_autofree char *expect_p = g_build_filename (dir, "frames", "%06d.jpg", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  WkpSourceEntry *e;

  write_text (csv, "speaker,video,audio\n"
                   "alice,sub/a.mp4,wav/a.wav\n"
                   ",/abs/b.mpg,\n"
                   "bob,frames/%06d.jpg,snd.mp3\n"
                   "carol,,radio.wav\n"
                   "alice,sub/a.mp4,\n"
                   ",,\n");
  list = wkp_dataset_list_sources (csv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 5);
  e = list->pdata[0];
  g_assert_cmpstr (e->name, ==, "sub/a.mp4");
  g_assert_cmpstr (e->video, ==, expect_v);
  g_assert_cmpstr (e->audio, ==, expect_a);
  g_assert_cmpstr (e->speaker, ==, "alice");
  e = list->pdata[1];
  g_assert_cmpstr (e->video, ==, "/abs/b.mpg");
  g_assert_null (e->audio);
  g_assert_cmpstr (e->speaker, ==, "b");   /* no label: the file stem */
  e = list->pdata[2];
  g_assert_cmpstr (e->video, ==, expect_p);
  e = list->pdata[3];
  g_assert_null (e->video);
  g_assert_cmpstr (e->name, ==, "radio.wav");
  e = list->pdata[4];
  g_assert_cmpstr (e->name, ==, "sub/a.mp4#2");   /* names stay unique */

  write_text (csv, "file,speaker\nx.mp4,a\n");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = wkp_dataset_list_sources (csv, &error);
  g_assert_null (list);
  g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "video"));
  g_clear_error (&error);

  list = wkp_dataset_list_sources ("/nonexistent/list.csv", &error);
  g_assert_null (list);
  g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* manifests that used to be read by guessing: each is refused with the
   * file, the line and the problem */
  {
    static const struct { const char *text, *want; } bad[] = {
      /* one of the two video columns was used silently */
      { "video,Video,audio,speaker\na.mp4,b.mp4,,s1\n", "line 1: duplicate column Video" },
      /* a missing or an extra field shifts the columns */
      { "video,audio,speaker\n\na.mp4\n", "line 3: 1 fields, the header has 3" },
      { "video,audio,speaker\na.mp4,,s1,x,y\n", "line 2: 5 fields, the header has 3" },
      /* the same clip twice counted twice, and could land in two splits */
      { "video,audio,speaker\na.mp4,a.wav,s1\nb.mp4,,s1\n./a.mp4,a.wav,s2\n", "lines 2 and 4 list the same clip" },
      { "video,audio,speaker\n,,s1\n", "line 2 names neither a video nor an audio file" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        write_text (csv, bad[i].text);
        list = wkp_dataset_list_sources (csv, &error);
        g_assert_null (list);
        g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
        g_test_message ("%s", error->message);
        g_assert_true (g_str_has_prefix (error->message, csv));
        g_assert_nonnull (strstr (error->message, bad[i].want));
        g_clear_error (&error);
      }
  }

  /* a silent video with an empty audio column: its WAV, recorded (so that it
   * is hashed into the clip's key and listed), as every command pairs it */
  {
    g_autofree char *silent = wkp_test_shared_file ("av/FuxiVirtualHuman__styletalk/samples/source_video/video/Obama_clip1.mp4");
    g_autofree char *grid = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
    g_autofree char *text = NULL;
    if (silent == NULL || grid == NULL)
      return;
    text = g_strdup_printf ("video,audio,speaker\n%s,,obama\n%s,,grid\n", silent, grid);
    write_text (csv, text);
    list = wkp_dataset_list_sources (csv, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 2);
    g_assert_true (g_str_has_suffix (((WkpSourceEntry *) list->pdata[0])->audio, "/wav/Obama_clip1.wav"));
    g_assert_null (((WkpSourceEntry *) list->pdata[1])->audio);   /* its own sound */
  }
}

static void
test_sources_folder (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  const char *files[] = { "ann/one.mp4", "ann/one.wav", "ben/video/two.mpg", "ben/wav/two.wav",
                          "ben/video/three.MP4", "notes.txt", "cat/x.wav", "s1/bbaf2n.mp4", "s1/bbaf3s.mp4" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  WkpSourceEntry *e;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (dir, files[i], NULL);
      g_autofree char *d = g_path_get_dirname (p);
      g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
      write_text (p, "x");
    }
  /* a link back up the tree is walked once, not into a loop that repeated
   * every clip (two such links grew without bound), and a pipe named like a
   * video is skipped (opening it would wait for ever) */
  {
    g_autofree char *up = g_build_filename (dir, "ann", "up", NULL);
    g_autofree char *up2 = g_build_filename (dir, "ben", "up", NULL);
    g_autofree char *fifo = g_build_filename (dir, "ann", "pipe.mp4", NULL);
    g_assert_cmpint (symlink ("..", up), ==, 0);
    g_assert_cmpint (symlink ("..", up2), ==, 0);
    g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  }
  list = wkp_dataset_list_sources (dir, &error);
  g_assert_no_error (error);
  e = list->pdata[0];
  g_assert_cmpstr (e->name, ==, "ann/one.mp4");
  g_assert_true (g_str_has_suffix (e->audio, "ann/one.wav"));
  g_assert_cmpstr (e->speaker, ==, "ann");
  e = list->pdata[1];
  g_assert_cmpstr (e->name, ==, "ben/video/three.MP4");
  g_assert_null (e->audio);
  g_assert_cmpstr (e->speaker, ==, "ben");
  e = list->pdata[2];
  g_assert_cmpstr (e->name, ==, "ben/video/two.mpg");
  g_assert_true (g_str_has_suffix (e->audio, "ben/wav/two.wav"));
  g_assert_cmpstr (e->speaker, ==, "ben");
  g_assert_cmpuint (list->len, ==, 5);
  g_assert_cmpstr (((WkpSourceEntry *) list->pdata[3])->speaker, ==, "s1");
  g_ptr_array_unref (g_steal_pointer (&list));

  /* the files directly in SRC are its folder's speaker too, not one
   * "speaker" per clip (999 of GRID s1's clips were split over train, val
   * and test, and the test score was a seen speaker's) */
  {
    g_autofree char *s1 = g_build_filename (dir, "s1", NULL);
    g_autofree char *s1_dot = g_build_filename (dir, "s1", ".", NULL);
    const char *roots[] = { s1, s1_dot };
    for (guint r = 0; r < G_N_ELEMENTS (roots); r++)
      {
        list = wkp_dataset_list_sources (roots[r], &error);
        g_assert_no_error (error);
        g_assert_cmpuint (list->len, ==, 2);
        for (guint i = 0; i < list->len; i++)
          g_assert_cmpstr (((WkpSourceEntry *) list->pdata[i])->speaker, ==, "s1");
        g_ptr_array_unref (g_steal_pointer (&list));
      }
  }
}

/* ------------------------------------------------------------------------ */
/* Splits                                                                    */

static void
test_splits (void)
{
  enum { N = 40 };
  char *names[N];
  gint64 frames[N];
  WkpPrepareParams p;
  g_autofree WkpSplit *a = NULL, *b = NULL;
  int count[3] = { 0 };
  gboolean some_seed_differs = FALSE;
  char *pinned[] = { "spk07", NULL };

  wkp_prepare_params_init_default (&p);
  for (int i = 0; i < N; i++)
    {
      names[i] = g_strdup_printf ("spk%02d", i);
      frames[i] = 500 + g_test_rand_int_range (0, 3000);
    }
  frames[3] = 100000;   /* dominant: more than 25% of all frames */
  p.train_speakers = pinned;
  a = wkp_dataset_assign_splits ((const char * const *) names, frames, N, &p);
  b = wkp_dataset_assign_splits ((const char * const *) names, frames, N, &p);
  for (int i = 0; i < N; i++)
    {
      g_assert_cmpint (a[i], ==, b[i]);   /* deterministic */
      g_assert_cmpint (a[i], <=, WKP_SPLIT_TEST);
      count[a[i]]++;
    }
  g_assert_cmpint (a[3], ==, WKP_SPLIT_TRAIN);
  g_assert_cmpint (a[7], ==, WKP_SPLIT_TRAIN);
  /* val and test hold about 15% each of the eligible speakers' frames */
  {
    gint64 eligible = 0, part[3] = { 0 };
    for (int i = 0; i < N; i++)
      if (i != 3 && i != 7)
        eligible += frames[i], part[a[i]] += frames[i];
    g_test_message ("val %.3f test %.3f of eligible frames; %d / %d / %d speakers",
                    (double) part[1] / eligible, (double) part[2] / eligible, count[0], count[1], count[2]);
    g_assert_cmpfloat (fabs ((double) part[WKP_SPLIT_VAL] / eligible - 0.15), <, 0.06);
    g_assert_cmpfloat (fabs ((double) part[WKP_SPLIT_TEST] / eligible - 0.15), <, 0.06);
    g_assert_cmpint (count[WKP_SPLIT_VAL], >=, 4);
    g_assert_cmpint (count[WKP_SPLIT_TEST], >=, 4);
  }

  /* input order does not matter: reverse the arrays */
  {
    char *rn[N];
    gint64 rf[N];
    g_autofree WkpSplit *r = NULL;
    for (int i = 0; i < N; i++)
      rn[i] = names[N - 1 - i], rf[i] = frames[N - 1 - i];
    r = wkp_dataset_assign_splits ((const char * const *) rn, rf, N, &p);
    for (int i = 0; i < N; i++)
      g_assert_cmpint (r[i], ==, a[N - 1 - i]);
  }
  for (guint64 seed = 2; seed < 6; seed++)
    {
      g_autofree WkpSplit *c = NULL;
      p.seed = seed;
      c = wkp_dataset_assign_splits ((const char * const *) names, frames, N, &p);
      if (memcmp (a, c, sizeof (WkpSplit) * N) != 0)
        some_seed_differs = TRUE;
    }
  g_assert_true (some_seed_differs);

  /* three speakers: one each */
  {
    g_autofree WkpSplit *s = NULL;
    gint64 f3[3] = { 10, 10, 10 };
    int seen[3] = { 0 };
    s = wkp_dataset_assign_splits ((const char * const *) names, f3, 3, &p);
    for (int i = 0; i < 3; i++)
      seen[s[i]]++;
    g_assert_cmpint (seen[0], ==, 1);
    g_assert_cmpint (seen[1], ==, 1);
    g_assert_cmpint (seen[2], ==, 1);
  }
  for (int i = 0; i < N; i++)
    g_free (names[i]);
}

/* ------------------------------------------------------------------------ */
/* Resampling and envelope against numpy                                     */

static float *
load_f64_as_f32 (const char *path, gint64 *n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpNpy) npy = wkp_npy_load (path, &error);
  float *out;
  g_assert_no_error (error);
  g_assert_cmpint (npy->dtype, ==, WKP_DTYPE_F64);
  out = g_new (float, MAX (npy->n_elements, 1));
  for (gint64 i = 0; i < npy->n_elements; i++)
    out[i] = (float) ((const double *) npy->data)[i];
  *n = npy->n_elements;
  return out;
}

static void
test_resample_reference (void)
{
  const struct { WkpRational from, to; gint64 n; } cases[] = {
    { WKP_RATIONAL (30000, 1001), WKP_RATIONAL (25, 1), 301 },
    { WKP_RATIONAL (30, 1), WKP_RATIONAL (25, 1), 90 },
    { WKP_RATIONAL (25, 1), WKP_RATIONAL (30, 1), 77 },
    { WKP_RATIONAL (25, 1), WKP_RATIONAL (25, 1), 50 },
  };
  g_autofree char *dir = NULL;
  if (wkp_test_python ("numpy") == NULL)
    return;
  dir = wkp_test_tmpdir ();
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const int width = 6;
      gint64 n = cases[c].n, n_out = wkp_track_resample_length (n, cases[c].from, cases[c].to), n_ref;
      g_autofree float *in = g_new (float, n * width);
      g_autofree float *out = NULL, *ref = NULL;
      g_autofree char *ip = g_build_filename (dir, "in.npy", NULL);
      g_autofree char *op = g_build_filename (dir, "out.npy", NULL);
      g_autofree char *sn = g_strdup_printf ("%" G_GINT64_FORMAT, n_out);
      g_autofree char *a = g_strdup_printf ("%d", cases[c].from.num), *b = g_strdup_printf ("%d", cases[c].from.den);
      g_autofree char *d = g_strdup_printf ("%d", cases[c].to.num), *e = g_strdup_printf ("%d", cases[c].to.den);
      g_autofree char *res = NULL;
      gint64 shape[2] = { n, width };
      double dur_in = (double) n * cases[c].from.den / cases[c].from.num;
      double dur_out = (double) n_out * cases[c].to.den / cases[c].to.num;
      const char *args[] = { "resample", ip, sn, a, b, d, e, op, NULL };
      g_autoptr(GError) error = NULL;

      /* the output covers the input's duration, by less than one output frame more */
      g_assert_cmpfloat (dur_out, >=, dur_in - 1e-9);
      g_assert_cmpfloat (dur_out - dur_in, <, (double) cases[c].to.den / cases[c].to.num);
      wkp_test_random_fill (in, n * width, -3, 3);
      g_assert_true (wkp_npy_save (ip, WKP_DTYPE_F32, 2, shape, in, &error));
      g_assert_no_error (error);
      out = wkp_track_resample (in, n, width, cases[c].from, cases[c].to, n_out);
      res = wkp_test_run_python ("dataset_ref.py", args);
      ref = load_f64_as_f32 (op, &n_ref);
      g_assert_cmpint (n_ref, ==, n_out * width);
      for (gint64 i = 0; i < n_out * width; i++)
        g_assert_cmpfloat_with_epsilon (out[i], ref[i], 1e-5);
      if (cases[c].from.num * cases[c].to.den == cases[c].to.num * cases[c].from.den)
        g_assert_cmpmem (out, n * width * sizeof (float), in, n * width * sizeof (float));
    }
}

static void
test_resample_nan (void)
{
  /* 2 frames at 50 fps -> 1 frame at 25 fps: centre 0.02 s lies halfway between
   * input centres 0.01 and 0.03 */
  float in[4] = { 1.0f, NAN, 3.0f, 5.0f };   /* 2 frames x 2 values */
  g_autofree float *o = wkp_track_resample (in, 2, 2, WKP_RATIONAL (50, 1), WKP_RATIONAL (25, 1), 1);
  g_assert_cmpfloat_with_epsilon (o[0], 2.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (o[1], 5.0f, 1e-6);   /* halfway: NaN + 5 -> the valid (nearest-or-equal) one */
  {
    /* 3 frames at 30 fps -> 25 fps: out frame 0 centre 0.02 s = input position 0.1 */
    float in3[3] = { 10.0f, NAN, 30.0f };
    g_autofree float *r = wkp_track_resample (in3, 3, 1, WKP_RATIONAL (30, 1), WKP_RATIONAL (25, 1), 3);
    g_assert_cmpint (wkp_track_resample_length (3, WKP_RATIONAL (30, 1), WKP_RATIONAL (25, 1)), ==, 3);
    g_assert_cmpfloat_with_epsilon (r[0], 10.0f, 1e-6);   /* nearest (frame 0) valid */
    g_assert_true (isnan (r[1]));                        /* position 1.3: nearest is the NaN frame */
    g_assert_cmpfloat_with_epsilon (r[2], 30.0f, 1e-6);  /* position 2.5 clamps to the last frame */
  }
}

static void
test_envelope_reference (void)
{
  const gint64 n_samples = 16000 * 3 + 123;
  WkpRational fps = WKP_RATIONAL (30000, 1001);
  gint64 n_frames = 95, n_ref;
  g_autofree float *audio = g_new (float, n_samples);
  g_autofree float *env = NULL, *ref = NULL;
  g_autofree char *dir = NULL, *ap = NULL, *op = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *res = NULL;

  if (wkp_test_python ("numpy") == NULL)
    return;
  dir = wkp_test_tmpdir ();
  ap = g_build_filename (dir, "audio.npy", NULL);
  op = g_build_filename (dir, "env.npy", NULL);
  wkp_test_random_fill (audio, n_samples, -0.5f, 0.5f);
  for (gint64 i = 0; i < n_samples; i++)
    audio[i] *= (float) (0.5 + 0.5 * sin (i / 2000.0));
  g_assert_true (wkp_npy_save (ap, WKP_DTYPE_F32, 1, &n_samples, audio, &error));
  env = wkp_audio_envelope (audio, n_samples, 16000, fps, n_frames);
  {
    const char *args[] = { "envelope", ap, "16000", "30000", "1001", "95", op, NULL };
    res = wkp_test_run_python ("dataset_ref.py", args);
  }
  ref = load_f64_as_f32 (op, &n_ref);
  g_assert_cmpint (n_ref, ==, n_frames);
  for (gint64 i = 0; i < n_frames; i++)
    g_assert_cmpfloat_with_epsilon (env[i], ref[i], 1e-5);
  g_assert_cmpfloat (env[n_frames - 1], ==, 0.0f);   /* past the end of the audio */

  /* the speech-band envelope used for the offset estimate */
  {
    g_autofree float *band = wkp_audio_band_envelope (audio, n_samples, 16000, fps, n_frames, 300, 3000);
    g_autofree float *bref = NULL;
    const char *args[] = { "bandenv", ap, "16000", "30000", "1001", "95", "300", "3000", op, NULL };
    g_autofree char *res2 = wkp_test_run_python ("dataset_ref.py", args);
    double maxv = 0;
    bref = load_f64_as_f32 (op, &n_ref);
    g_assert_cmpint (n_ref, ==, n_frames);
    for (gint64 i = 0; i < n_frames; i++)
      maxv = MAX (maxv, bref[i]);
    g_assert_cmpfloat (maxv, >, 0.1);
    for (gint64 i = 0; i < n_frames; i++)
      g_assert_cmpfloat_with_epsilon (band[i], bref[i], 1e-4 * maxv);
    g_assert_cmpfloat (band[n_frames - 1], ==, 0.0f);
  }
}

/* ------------------------------------------------------------------------ */
/* Offset estimate on synthetic tracks                                        */

/* A mouth-like aperture track: random syllable bumps, ~4 per second, NaN gaps. */
static float *
synth_aperture (gint64 n)
{
  float *ap = g_new0 (float, n);
  for (gint64 t = 0; t < n; t += g_test_rand_int_range (4, 9))
    {
      double amp = g_test_rand_double_range (0.05, 0.4);
      int w = g_test_rand_int_range (3, 7);
      for (int k = -w; k <= w; k++)
        if (t + k >= 0 && t + k < n)
          ap[t + k] += (float) (amp * exp (-0.5 * (k * k) / (w * w / 4.0)));
    }
  for (gint64 t = 100; t < 110 && t < n; t++)
    ap[t] = NAN;   /* face lost for a few frames */
  return ap;
}

static void
test_offset_synthetic (void)
{
  const gint64 n = 400;
  const int shifts[] = { 0, 1, -1, 2, -3, 4, 7, -9 };
  for (guint s = 0; s < G_N_ELEMENTS (shifts); s++)
    {
      int d = shifts[s];
      g_autofree float *ap = synth_aperture (n);
      g_autofree float *env = g_new (float, n);
      WkpAvOffset off;
      g_autoptr(GError) error = NULL;
      /* audio delayed by d frames: env[t] follows ap[t - d], plus noise */
      for (gint64 t = 0; t < n; t++)
        {
          gint64 src = t - d;
          float base = src >= 0 && src < n && isfinite (ap[src]) ? ap[src] : 0.0f;
          env[t] = (float) (log10 (1e-3 + base * base) + g_test_rand_double_range (-0.3, 0.3));
        }
      g_assert_true (wkp_av_offset_estimate (env, ap, n, 10, &off, &error));
      g_assert_no_error (error);
      g_test_message ("shift %d: estimate %d, r %.3f, confidence %.3f", d, off.offset_frames, off.peak_r,
                      off.confidence);
      g_assert_cmpint (ABS (off.offset_frames - d), <=, 1);
      g_assert_cmpfloat (off.confidence, >, 0.5);
      g_assert_cmpfloat (off.z, >, 3.5);
      if (d == 0)
        g_assert_cmpint (ABS (off.offset_frames), <, 2);   /* an unshifted clip is not flagged */
    }
}

static void
test_offset_reference (void)
{
  const gint64 n = 300;
  g_autofree float *ap = NULL, *env = g_new (float, n), *ref = NULL;
  g_autofree char *dir = NULL, *ep = NULL, *app = NULL, *op = NULL, *res = NULL;
  g_autoptr(GError) error = NULL;
  WkpAvOffset off;
  gint64 n_ref;

  if (wkp_test_python ("numpy") == NULL)
    return;
  ap = synth_aperture (n);
  wkp_test_random_fill (env, n, 0, 1);
  for (gint64 t = 5; t < n; t++)
    if (isfinite (ap[t - 5]))
      env[t] += ap[t - 5] * 3;
  env[50] = NAN;
  dir = wkp_test_tmpdir ();
  ep = g_build_filename (dir, "env.npy", NULL);
  app = g_build_filename (dir, "ap.npy", NULL);
  op = g_build_filename (dir, "r.npy", NULL);
  g_assert_true (wkp_npy_save (ep, WKP_DTYPE_F32, 1, &n, env, &error));
  g_assert_true (wkp_npy_save (app, WKP_DTYPE_F32, 1, &n, ap, &error));
  g_assert_true (wkp_av_offset_estimate (env, ap, n, 10, &off, &error));
  {
    const char *args[] = { "xcorr", ep, app, "10", op, NULL };
    res = wkp_test_run_python ("dataset_ref.py", args);
  }
  ref = load_f64_as_f32 (op, &n_ref);
  g_assert_cmpint (n_ref, ==, 21);
  for (int k = 0; k < 21; k++)
    g_assert_cmpfloat_with_epsilon (off.r[k], ref[k], 1e-5);
  g_assert_cmpint (off.offset_frames, ==, 5);
  g_assert_cmpfloat_with_epsilon (off.r_zero, ref[10], 1e-5);
}

static void
test_offset_errors (void)
{
  float env[40], ap[40];
  WkpAvOffset off;
  g_autoptr(GError) error = NULL;
  for (int i = 0; i < 40; i++)
    env[i] = (float) i, ap[i] = NAN;
  g_assert_false (wkp_av_offset_estimate (env, ap, 40, 10, &off, &error));
  g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);
  for (int i = 0; i < 40; i++)
    ap[i] = 0.25f;   /* constant: no correlation defined */
  g_assert_false (wkp_av_offset_estimate (env, ap, 40, 10, &off, &error));
  g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
}

/* ------------------------------------------------------------------------ */
/* A source CSV's audio_late column: a sound found late in the studio is
 * moved back by prepare (brif7a.mp4 with its sound delayed 4 frames, and
 * audio_late 4, gives the original's feature rows); the other clips keep
 * their cache; a value that is not a whole number, an audio-only row with a
 * move and a move as long as the clip are refused, naming the line or clip. */
static void
test_prepare_audio_late (void)
{
  g_autofree char *grid = wkp_test_shared_file ("av/SAGAR0097__LIP-READING-USING-DEEP-LEARNING-/data/s1/brif7a.mp4");
  g_autofree char *src_dir = NULL, *csv = NULL, *ds_dir = NULL, *delayed = NULL, *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDataset) ds = NULL;
  WkpPrepareParams p;
  WkpPrepareReport rep;

  if (grid == NULL)
    return;
  src_dir = wkp_test_tmpdir ();
  ds_dir = g_build_filename (src_dir, "DS", NULL);
  csv = g_build_filename (src_dir, "list.csv", NULL);
  delayed = g_build_filename (src_dir, "delayed.wav", NULL);
  {
    WkpSourceSpec spec = { grid, NULL, { 0, 0 } };
    g_autoptr(WkpClipAudio) ca = wkp_clip_audio_load (&spec, 16000, NULL, &error);
    g_assert_no_error (error);
    wkp_test_write_wav_delayed (delayed, ca->audio->samples, ca->audio->n_samples, 16000, 4 * 640);
  }
  wkp_prepare_params_init_default (&p);
  p.n_jobs = 2;
  /* refused values, before anything is computed */
  {
    const char *bad[][2] = {
      { "video,audio,speaker,audio_late\n%s,delayed.wav,late,four\n", "line 2: audio_late “four” is not a whole number of frames" },
      { "video,audio,speaker,audio_late\n%s,,a,\n,delayed.wav,radio,3\n", "line 3: audio_late 3: an audio-only row has no pictures" },
      { "video,audio,speaker,audio_late\n%s,,a,0x4\n", "audio_late “0x4” is not a whole number" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *t = g_strdup_printf (bad[i][0], grid);
        write_text (csv, t);
        g_assert_false (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
        g_test_message ("%s", error->message);
        g_assert_nonnull (strstr (error->message, "list.csv"));
        g_assert_nonnull (strstr (error->message, bad[i][1]));
        g_clear_error (&error);
      }
  }
  text = g_strdup_printf ("video,audio,speaker,audio_late\n%s,,grid_s1,\n%s,delayed.wav,grid_s1_delayed,4\n", grid, grid);
  write_text (csv, text);
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_ok, ==, 2);
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  {
    int io = -1, id = -1;
    for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
      {
        if (g_strcmp0 (wkp_dataset_get_clip (ds, i)->speaker, "grid_s1") == 0)
          io = i;
        else
          id = i;
      }
    g_assert_cmpint (wkp_dataset_get_clip (ds, io)->offset_applied, ==, 0);
    g_assert_cmpint (wkp_dataset_get_clip (ds, id)->offset_applied, ==, 4);
    /* the estimate is the raw clip's: the sound 4 frames late */
    g_test_message ("delayed clip: estimate %+d, applied %+d", wkp_dataset_get_clip (ds, id)->offset_frames,
                    wkp_dataset_get_clip (ds, id)->offset_applied);
    {
      g_autoptr(WkpNpy) fo = wkp_dataset_clip_load (ds, io, WKP_CLIP_ARRAY_FEATURES, &error);
      g_autoptr(WkpNpy) fd = wkp_dataset_clip_load (ds, id, WKP_CLIP_ARRAY_FEATURES, &error);
      int dim = wkp_dataset_get_feature_dim (ds);
      double moved = 0, as_is = 0;
      const float *a = fo->data, *b = fd->data;
      g_assert_no_error (error);
      for (int t = 10; t < 60; t++)
        for (int d = 0; d < dim; d++)
          {
            moved += fabs (a[t * dim + d] - b[t * dim + d]);
            as_is += fabs (a[(t - 4) * dim + d] - b[t * dim + d]);
          }
      g_test_message ("audio_late 4: mean |difference| from the original's rows %.4f (4 rows apart: %.4f)",
                      moved / (50.0 * dim), as_is / (50.0 * dim));
      g_assert_cmpfloat (moved, <, 0.2 * as_is);
    }
  }
  /* the move is part of the clip's key: another value recomputes that clip only */
  g_free (text);
  text = g_strdup_printf ("video,audio,speaker,audio_late\n%s,,grid_s1,\n%s,delayed.wav,grid_s1_delayed,3\n", grid, grid);
  write_text (csv, text);
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_cached, ==, 1);
  {
    /* a move that leaves the lag on the clip is not called a fix: a hand-set
     * audio_late the wrong way round read "(fixed)" in check's table */
    g_autofree char *out = NULL, *err = NULL, *out3 = NULL, *err3 = NULL;
    g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "check", ds_dir, "-a", NULL }, &out3, &err3), ==, 0);
    g_assert_nonnull (strstr (out3, " (fixed)\n"));
    g_free (text);
    text = g_strdup_printf ("video,audio,speaker,audio_late\n%s,,grid_s1,\n%s,delayed.wav,grid_s1_delayed,-4\n", grid,
                            grid);
    write_text (csv, text);
    g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_assert_no_error (error);
    g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "check", ds_dir, "-a", NULL }, &out, &err), ==, 0);
    g_test_message ("%s", out);
    g_assert_nonnull (strstr (out, " (moved by -4, +"));
    g_assert_null (strstr (out, "(fixed)"));
  }
  /* a move as long as the clip fails that clip, naming it */
  g_free (text);
  text = g_strdup_printf ("video,audio,speaker,audio_late\n%s,,grid_s1,\n%s,delayed.wav,grid_s1_delayed,-80\n", grid, grid);
  write_text (csv, text);
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_ok, ==, 1);
  g_assert_cmpint (rep.n_failed, ==, 1);
  g_clear_pointer (&ds, wkp_dataset_free);
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    if (wkp_dataset_get_clip (ds, i)->status == WKP_CLIP_FAILED)
      {
        g_test_message ("%s", wkp_dataset_get_clip (ds, i)->error);
        g_assert_nonnull (strstr (wkp_dataset_get_clip (ds, i)->error,
                                  "brif7a.mp4#2: cannot move the sound by -80 frames: the clip has 75 frames"));
      }
}

/* Real clips                                                                */

#define GRID_DIR "av/SAGAR0097__LIP-READING-USING-DEEP-LEARNING-/data/s1/"
static const char *grid_clips[] = { "brif7a.mp4", "bbaf3s.mp4", "bbaf4p.mp4", "bbal6n.mp4" };
#define DELAY_FRAMES 4

/* Writes SRC/list.csv: three GRID clips, one of them again with its audio
 * delayed by DELAY_FRAMES frames (a WAV built by shifting samples), a
 * corrupt video and an audio-only row. Returns the CSV path. */
static char *
make_source (const char *dir, int n_grid)
{
  g_autofree char *csv = g_build_filename (dir, "list.csv", NULL);
  g_autofree char *delayed = g_build_filename (dir, "delayed.wav", NULL);
  g_autofree char *bad = g_build_filename (dir, "broken.mp4", NULL);
  g_autofree char *first = wkp_test_shared_file (GRID_DIR "brif7a.mp4");
  GString *text = g_string_new ("video,audio,speaker\n");
  g_autoptr(GError) error = NULL;
  WkpSourceSpec spec = { first, NULL, { 0, 0 } };
  g_autoptr(WkpClipAudio) ca = wkp_clip_audio_load (&spec, 16000, NULL, &error);
  gint64 pad = wkp_frame_to_sample (DELAY_FRAMES, WKP_RATIONAL (25, 1), 16000);

  g_assert_no_error (error);
  wkp_test_write_wav_delayed (delayed, ca->audio->samples, ca->audio->n_samples, 16000, pad);
  write_text (bad, "this is not a video file at all");
  for (int i = 0; i < n_grid; i++)
    {
      g_autofree char *p = wkp_test_shared_file (GRID_DIR);
      g_string_append_printf (text, "%s%s,,grid_s1\n", p, grid_clips[i]);
    }
  g_string_append_printf (text, "%s,delayed.wav,grid_s1_delayed\n", first);
  g_string_append (text, "broken.mp4,,nobody\n");
  g_string_append (text, ",delayed.wav,radio\n");
  write_text (csv, text->str);
  g_string_free (text, TRUE);
  return g_steal_pointer (&csv);
}

static GBytes *
read_bytes (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  return wkp_read_file (p, NULL);
}

/* Rewrites one element of a clip array (a well-formed .npy of the right
 * shape): NAN, INFINITY or, in status.npy, a status code. Returns the file's
 * old content for restore_file(). */
static GBytes *
spoil_clip_range (const WkpDataset *ds, int index, WkpClipArray which, gint64 element, gint64 count, double value)
{
  g_autofree char *path = wkp_dataset_clip_path (ds, index, which);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpNpy) npy = wkp_npy_load (path, &error);
  GBytes *old = wkp_read_file (path, &error);
  gsize size;
  g_autofree guint8 *data = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (element + count, <=, npy->n_elements);
  size = npy->n_elements * wkp_dtype_size (npy->dtype);
  data = g_memdup2 (npy->data, size);
  for (gint64 e = element; e < element + count; e++)
    if (npy->dtype == WKP_DTYPE_U8)
      data[e] = (guint8) value;
    else
      ((float *) data)[e] = (float) value;
  g_assert_true (wkp_npy_save (path, npy->dtype, npy->ndim, npy->shape, data, &error));
  g_assert_no_error (error);
  return old;
}

static GBytes *
spoil_clip_array (const WkpDataset *ds, int index, WkpClipArray which, gint64 element, double value)
{
  return spoil_clip_range (ds, index, which, element, 1, value);
}

static void
restore_file (const char *path, GBytes *content)
{
  gsize len;
  const char *data = g_bytes_get_data (content, &len);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
}

/* A clip whose frames are 33 and 67 ms apart (video-retalking face/1.mp4,
 * read on a grid at its average 22.131 fps) is flagged irregular-timing with the
 * distance the media probe measures; a GRID clip is not; a manifest from
 * before the measurement reads as unknown and keeps its flags. */
static void
test_prepare_irregular_timing (void)
{
  g_autofree char *vfr = wkp_test_shared_file ("av/OpenTalker__video-retalking/examples/face/1.mp4");
  g_autofree char *grid = wkp_test_shared_file (GRID_DIR "brif7a.mp4");
  g_autofree char *lost = wkp_test_shared_file ("av/tencent-ailab__V-Express/scripts/prepare_dataset/"
                                                "RD_Radio10_0_clip_0.mp4");
  g_autofree char *src_dir = NULL, *csv = NULL, *ds_dir = NULL, *manifest = NULL, *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(WkpMediaInfo) info = NULL, info_lost = NULL;
  WkpPrepareParams p;
  WkpPrepareReport rep;
  int iv, ig, il;

  if (vfr == NULL || grid == NULL || lost == NULL)
    return;
  src_dir = wkp_test_tmpdir ();
  ds_dir = wkp_test_tmpdir ();
  csv = g_build_filename (src_dir, "list.csv", NULL);
  text = g_strdup_printf ("video,audio,speaker\n%s,,retalking_face_1\n%s,,grid_s1\n%s,,rd_radio10\n", vfr, grid,
                          lost);
  write_text (csv, text);
  wkp_prepare_params_init_default (&p);
  p.n_jobs = 2;
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_ok, ==, 3);
  info = wkp_media_probe (vfr, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
  g_assert_no_error (error);
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  iv = wkp_dataset_find_clip (ds, vfr);
  ig = wkp_dataset_find_clip (ds, grid);
  g_assert_cmpint (iv, >=, 0);
  g_assert_cmpint (ig, >=, 0);
  {
    g_autofree char *flags = wkp_clip_flags_to_string (wkp_dataset_get_clip (ds, iv)->flags);
    g_test_message ("%s: %.3f ms, flags %s", vfr, wkp_dataset_get_clip (ds, iv)->timing_error_ms, flags);
  }
  g_assert_cmpfloat_with_epsilon (wkp_dataset_get_clip (ds, iv)->timing_error_ms, info->timing_error_us / 1000.0,
                                  1e-6);
  g_assert_cmpfloat (wkp_dataset_get_clip (ds, iv)->timing_error_ms, >, 20);
  g_assert_true (wkp_dataset_get_clip (ds, iv)->flags & WKP_CLIP_FLAG_IRREGULAR_TIMING);
  /* read on its grid (the media suite checks the frames): as many frames;
   * RD_Radio10 lost a picture near its end, which its grid has again */
  g_assert_true (info->resampled);
  g_assert_cmpint (wkp_dataset_get_clip (ds, iv)->n_frames, ==, info->n_frames);
  info_lost = wkp_media_probe (lost, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
  g_assert_no_error (error);
  il = wkp_dataset_find_clip (ds, lost);
  g_assert_cmpint (il, >=, 0);
  g_assert_true (info_lost->resampled);
  g_assert_cmpint (info_lost->n_frames, ==, info_lost->n_decoded + 1);
  g_assert_cmpint (wkp_dataset_get_clip (ds, il)->n_frames, ==, info_lost->n_frames);
  g_assert_cmpint (wkp_dataset_get_clip (ds, il)->n_face_frames, ==, info_lost->n_frames);
  g_assert_cmpfloat (wkp_dataset_get_clip (ds, ig)->timing_error_ms, <, 1);
  g_assert_false (wkp_dataset_get_clip (ds, ig)->flags & WKP_CLIP_FLAG_IRREGULAR_TIMING);
  g_clear_pointer (&ds, wkp_dataset_free);

  /* a manifest written before 7 Dec 2026 has no timing_error_ms */
  manifest = g_build_filename (ds_dir, "dataset.json", NULL);
  {
    g_autoptr(JsonNode) root = wkp_json_load_file (manifest, &error);
    JsonArray *clips;
    g_autofree char *out = NULL;
    g_assert_no_error (error);
    clips = json_object_get_array_member (json_node_get_object (root), "clips");
    for (guint k = 0; k < json_array_get_length (clips); k++)
      json_object_remove_member (json_array_get_object_element (clips, k), "timing_error_ms");
    out = wkp_json_to_string (root, TRUE);
    write_text (manifest, out);
  }
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  g_assert_true (isnan (wkp_dataset_get_clip (ds, iv)->timing_error_ms));
  g_assert_true (wkp_dataset_get_clip (ds, iv)->flags & WKP_CLIP_FLAG_IRREGULAR_TIMING);   /* as written */
}

static void
test_prepare_real (void)
{
  g_autofree char *src_dir = NULL, *csv = NULL, *ds_dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GBytes) manifest1 = NULL;
  g_autoptr(GBytes) manifest2 = NULL;
  WkpPrepareParams p;
  WkpPrepareReport rep;
  int i_orig, i_delayed, i_bad, i_audio;
  const WkpDatasetClip *orig, *delayed;

  if (wkp_test_shared_data () == NULL)
    return;
  src_dir = wkp_test_tmpdir ();
  ds_dir = wkp_test_tmpdir ();
  csv = make_source (src_dir, 3);

  wkp_prepare_params_init_default (&p);
  p.n_jobs = 2;
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_clips, ==, 6);
  g_assert_cmpint (rep.n_ok, ==, 4);
  g_assert_cmpint (rep.n_failed, ==, 1);
  g_assert_cmpint (rep.n_skipped, ==, 1);
  g_assert_cmpint (rep.n_cached, ==, 0);

  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wkp_dataset_n_clips (ds), ==, 6);
  i_bad = wkp_dataset_find_clip (ds, "broken.mp4");
  i_audio = wkp_dataset_find_clip (ds, "delayed.wav");
  g_assert_cmpint (i_bad, >=, 0);
  g_assert_cmpint (wkp_dataset_get_clip (ds, i_bad)->status, ==, WKP_CLIP_FAILED);
  g_assert_nonnull (strstr (wkp_dataset_get_clip (ds, i_bad)->error, "broken.mp4"));
  g_assert_cmpint (wkp_dataset_get_clip (ds, i_audio)->status, ==, WKP_CLIP_SKIPPED);

  /* the same video twice: original audio and audio delayed by DELAY_FRAMES */
  i_orig = -1, i_delayed = -1;
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    {
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
      if (strstr (c->name, "brif7a.mp4") != NULL)
        {
          if (g_strcmp0 (c->speaker, "grid_s1") == 0)
            i_orig = i;
          else
            i_delayed = i;
        }
    }
  g_assert_cmpint (i_orig, >=, 0);
  g_assert_cmpint (i_delayed, >=, 0);
  orig = wkp_dataset_get_clip (ds, i_orig);
  delayed = wkp_dataset_get_clip (ds, i_delayed);
  g_test_message ("original: offset %d (r %.3f, confidence %.3f, gain %.2f); delayed by %d: offset %d "
                  "(r %.3f, confidence %.3f, gain %.2f)",
                  orig->offset_frames, orig->offset_peak_r, orig->offset_confidence, orig->offset_gain,
                  DELAY_FRAMES, delayed->offset_frames, delayed->offset_peak_r, delayed->offset_confidence,
                  delayed->offset_gain);
  g_assert_cmpint (ABS (orig->offset_frames), <, 2);
  g_assert_false (orig->flags & (WKP_CLIP_FLAG_OFFSET | WKP_CLIP_FLAG_OFFSET_UNSURE));
  g_assert_cmpint (ABS (delayed->offset_frames - DELAY_FRAMES), <=, 1);
  g_assert_true (delayed->flags & WKP_CLIP_FLAG_OFFSET);
  /* what the trainer's --align-train uses: the flagged estimate in model
   * frames (25 fps video, 25 fps model: the same number), 0 for the unflagged */
  {
    g_autoptr(WkpTrainData) td = wkp_train_data_from_dataset (ds, &error);
    int found = 0;
    g_assert_no_error (error);
    for (guint k = 0; k < td->clips->len; k++)
      {
        const WkpTrainClip *tc = g_ptr_array_index (td->clips, k);
        if (g_strcmp0 (tc->name, delayed->name) == 0 && g_strcmp0 (tc->speaker, delayed->speaker) == 0)
          {
            g_assert_cmpint (tc->offset_steps, ==, delayed->offset_frames);
            found++;
          }
        else if (g_strcmp0 (tc->name, orig->name) == 0 && g_strcmp0 (tc->speaker, orig->speaker) == 0)
          {
            g_assert_cmpint (tc->offset_steps, ==, 0);
            found++;
          }
      }
    g_assert_cmpint (found, ==, 2);
  }

  /* every OK clip: memory-mapped arrays with consistent shapes and values */
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    {
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
      g_autoptr(WkpNpy) lm = NULL;
      g_autoptr(WkpNpy) nm = NULL;
      g_autoptr(WkpNpy) tr = NULL;
      g_autoptr(WkpNpy) ft = NULL;
      g_autoptr(WkpNpy) au = NULL;
      g_autoptr(WkpNpy) st = NULL;
      g_autoptr(WkpNpy) en = NULL;
      g_autofree float *targets = NULL;
      gint64 n_t = 0, checked = 0;
      if (c->status != WKP_CLIP_OK)
        continue;
      g_assert_cmpint (c->fps.num, ==, 25);
      g_assert_cmpint (c->n_frames, ==, 75);
      g_assert_cmpint (c->n_feature_frames, ==, 75);
      g_assert_cmpfloat (c->face_rate, >, 0.9);
      lm = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_LANDMARKS, &error);
      g_assert_no_error (error);
      nm = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_NORMALIZED, &error);
      tr = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_TRANSFORM, &error);
      ft = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_FEATURES, &error);
      au = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_AUDIO, &error);
      st = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_STATUS, &error);
      en = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_ENVELOPE, &error);
      g_assert_no_error (error);
      g_assert_nonnull (lm->map);   /* mapped, not read */
      g_assert_cmpint (ft->shape[1], ==, wkp_dataset_get_feature_dim (ds));
      g_assert_cmpint (au->shape[0], ==, c->n_samples);
      for (gint64 t = 0; t < c->n_frames; t++)
        {
          const float *px = (const float *) lm->data + t * 136;
          const float *cn = (const float *) nm->data + t * 136;
          const float *m = (const float *) tr->data + t * 4;
          WkpSimilarity sim = { m[0], m[1], m[2], m[3] };
          float back[136];
          guint8 s = ((const guint8 *) st->data)[t];
          if (!isfinite (m[0]))
            {
              g_assert_true (isnan (cn[0]));
              continue;
            }
          g_assert_cmpint (s, !=, WKP_FACE_MISSING);
          wkp_similarity_apply (&sim, px, back, 68);
          for (int k = 0; k < 136; k++)
            g_assert_cmpfloat_with_epsilon (back[k], cn[k], 2e-3);
          /* canonical frame: the face is fitted to the mean face (eye corners 1 apart) */
          g_assert_cmpfloat (wkp_face_interocular (cn), >, 0.8);
          g_assert_cmpfloat (wkp_face_interocular (cn), <, 1.2);
          checked++;
        }
      g_assert_cmpint (checked, ==, c->n_face_frames);
      targets = wkp_dataset_clip_load_targets (ds, i, &n_t, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n_t, ==, c->n_feature_frames);
      g_assert_cmpmem (targets, n_t * 136 * sizeof (float), nm->data, n_t * 136 * sizeof (float));
    }
  /* values without a meaning: non-finite features or audio, a status code
   * that is not a WkpFaceStatus. The reader refuses them naming the file, so
   * check reports the clip as damaged and train refuses the dataset (instead
   * of "training diverged"); NaN landmarks are normal (no face). */
  {
    struct { WkpClipArray which; double value; const char *want; } cases[] = {
      { WKP_CLIP_ARRAY_FEATURES, INFINITY, "features.npy: feature row 37 " },
      { WKP_CLIP_ARRAY_FEATURES, NAN, "features.npy: feature row 37 " },
      { WKP_CLIP_ARRAY_AUDIO, NAN, "audio.npy: audio sample " },
      { WKP_CLIP_ARRAY_STATUS, 7, "status.npy: frame 37 has the invalid face status 7" },
    };
    int i_clip = i_orig;
    const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i_clip);
    for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
      {
        g_autofree char *path = wkp_dataset_clip_path (ds, i_clip, cases[k].which);
        gint64 element = cases[k].which == WKP_CLIP_ARRAY_FEATURES ? 37 * wkp_dataset_get_feature_dim (ds) + 5
                         : cases[k].which == WKP_CLIP_ARRAY_AUDIO ? c->n_samples - 1 : 37;
        g_autoptr(GBytes) old = spoil_clip_array (ds, i_clip, cases[k].which, element, cases[k].value);
        g_autofree char *want = g_strconcat (c->id, "/", cases[k].want, NULL);
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(WkpNpy) npy = wkp_dataset_clip_load (ds, i_clip, cases[k].which, &error);

        g_assert_null (npy);
        g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, path));
        g_assert_nonnull (strstr (error->message, want));
        g_clear_error (&error);
        g_assert_false (wkp_dataset_clip_verify (ds, i_clip, &error));
        g_assert_nonnull (strstr (error->message, want));
        g_clear_error (&error);
        if (cases[k].which == WKP_CLIP_ARRAY_FEATURES)
          {
            g_autoptr(WkpTrainData) td = wkp_train_data_from_dataset (ds, &error);
            g_assert_null (td);
            g_assert_nonnull (error);
            g_assert_nonnull (strstr (error->message, want));
            g_clear_error (&error);
          }
        g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "check", ds_dir, NULL }, &out, &err), ==, 2);
        g_assert_nonnull (strstr (out, "damaged: "));
        g_assert_nonnull (strstr (out, want));
        g_assert_nonnull (strstr (err, "1 clip folder(s) damaged"));
        restore_file (path, old);
      }
    /* landmarks and normalized landmarks may be NaN (no face), a whole face
     * at a time; a partly NaN face or a coordinate no face can have (found by
     * fuzzing: 1e38 in the canonical frame) is damage, named by frame */
    for (int k = 0; k < 2; k++)
      {
        WkpClipArray which = k == 0 ? WKP_CLIP_ARRAY_NORMALIZED : WKP_CLIP_ARRAY_LANDMARKS;
        g_autofree char *path = wkp_dataset_clip_path (ds, i_clip, which);
        g_autofree char *out = NULL, *err = NULL;
        {
          g_autoptr(GBytes) old = spoil_clip_range (ds, i_clip, which, 3 * 136, 136, NAN);
          g_assert_true (wkp_dataset_clip_verify (ds, i_clip, &error));
          g_assert_no_error (error);
          g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "check", ds_dir, NULL }, &out, &err), ==, 0);
          restore_file (path, old);
        }
        {
          struct { double value; const char *want; } spoils[] = {
            { NAN, "frame 3 holds a partly missing face" },
            { 1e38, k == 0 ? "frame 3 holds a coordinate beyond 100 inter-ocular distances"
                           : "frame 3 holds a coordinate beyond a million pixels" },
          };
          for (guint j = 0; j < G_N_ELEMENTS (spoils); j++)
            {
              g_autoptr(GBytes) old = spoil_clip_array (ds, i_clip, which, 3 * 136 + 40, spoils[j].value);
              g_assert_false (wkp_dataset_clip_verify (ds, i_clip, &error));
              g_assert_nonnull (strstr (error->message, path));
              g_assert_nonnull (strstr (error->message, spoils[j].want));
              g_clear_error (&error);
              restore_file (path, old);
            }
        }
      }
  }

  /* splits: per speaker, every speaker in exactly one split */
  {
    g_auto(GStrv) all = wkp_dataset_speakers (ds, WKP_SPLIT_NONE);
    guint total = 0;
    for (int s = WKP_SPLIT_TRAIN; s <= WKP_SPLIT_TEST; s++)
      {
        g_auto(GStrv) part = wkp_dataset_speakers (ds, (WkpSplit) s);
        total += g_strv_length (part);
      }
    g_assert_cmpuint (total, ==, g_strv_length (all));
  }
  manifest1 = read_bytes (ds_dir, WKP_DATASET_MANIFEST);
  g_clear_pointer (&ds, wkp_dataset_free);

  /* second run: everything cached, nothing changes */
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_ok, ==, 4);
  g_assert_cmpint (rep.n_cached, ==, 4);
  g_assert_cmpint (rep.n_computed, ==, 0);   /* the bad clip's failure is cached too */
  manifest2 = read_bytes (ds_dir, WKP_DATASET_MANIFEST);
  g_assert_true (g_bytes_equal (manifest1, manifest2));

  /* the CLI says whether a failure is an earlier run's record or was tried
   * again (after --retry-failed it read "0 computed" as if nothing had been) */
  {
    g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
    g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "prepare", csv, "-o", ds_dir, "-q", NULL }, &out, &err), ==, 0);
    g_test_message ("%s%s", out, err);
    g_assert_nonnull (strstr (out, "4 ok (0 computed, 4 cached), 1 failed (as an earlier run recorded: "
                                   "--retry-failed tries it again)"));
    g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "prepare", csv, "-o", ds_dir, "-q", "--retry-failed", NULL },
                                       &out2, &err2), ==, 0);
    g_test_message ("%s%s", out2, err2);
    g_assert_nonnull (strstr (out2, "4 ok (0 computed, 4 cached), 1 failed (tried again)"));
  }

  /* check --model: a second opinion on each clip's timing from a model.
   * The default model hears the delayed copy's delay (its lag within a frame
   * of DELAY_FRAMES: it agrees with the energy estimate); given a wrong
   * estimate (the manifest edited to its negative, as an energy envelope
   * peaking at a wrong lag would say), it disputes it. */
  {
    g_autofree char *model = g_test_build_filename (G_TEST_DIST, "..", "data", "default.wkpm", NULL);
    g_autofree char *json = g_build_filename (src_dir, "check.json", NULL);
    g_autofree char *manifest = g_build_filename (ds_dir, WKP_DATASET_MANIFEST, NULL);
    g_autoptr(GBytes) saved = read_bytes (ds_dir, WKP_DATASET_MANIFEST);
    g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
    JsonObject *clip;
    for (int pass = 0; pass < 2; pass++)
      {
        g_autoptr(JsonParser) parser = json_parser_new ();
        char **o = pass == 0 ? &out : &out2, **e = pass == 0 ? &err : &err2;
        int status = wkp_test_run_cli ((const char *[]) { "check", ds_dir, "--model", model, "--json", json, NULL },
                                       o, e);
        g_test_message ("%s%s", *o, *e);
        g_assert_cmpint (status, ==, 0);
        g_assert_true (json_parser_load_from_file (parser, json, &error));
        g_assert_no_error (error);
        clip = json_array_get_object_element (json_object_get_array_member (
                 json_node_get_object (json_parser_get_root (parser)), "clips"), i_delayed);
        g_assert_cmpint (ABS (json_object_get_int_member (clip, "model_lag") - DELAY_FRAMES), <=, 1);
        g_assert_cmpfloat (json_object_get_double_member (clip, "model_r_lag"), >,
                           json_object_get_double_member (clip, "model_r0") + 0.1);
        g_assert_cmpint (json_object_get_boolean_member (clip, "model_disputes"), ==, pass == 1);
        if (pass == 0)
          {
            /* the estimate, wrong (text edited: the manifest as prepare wrote it) */
            g_autofree char *text = NULL, *edited = NULL, *from = NULL, *to = NULL;
            char *at, *field;
            g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
            at = strstr (text, "\"speaker\" : \"grid_s1_delayed\"");
            g_assert_nonnull (at);
            field = strstr (at, "\"offset_frames\" : ");
            g_assert_nonnull (field);
            {
              int found = (int) strtol (field + strlen ("\"offset_frames\" : "), NULL, 10);
              g_assert_cmpint (ABS (found - DELAY_FRAMES), <=, 1);
              from = g_strdup_printf ("\"offset_frames\" : %d,", found);
              to = g_strdup_printf ("\"offset_frames\" : %d,", -found);
            }
            g_assert_true (g_str_has_prefix (field, from));
            edited = g_strdup_printf ("%.*s%s%s", (int) (field - text), text, to, field + strlen (from));
            g_assert_true (g_file_set_contents (manifest, edited, -1, NULL));
          }
      }
    g_assert_nonnull (strstr (out, "default.wkpm on the 1 offset flagged: 1 agrees within a frame, 0 dispute it"));
    g_assert_nonnull (strstr (out2, " disputed\n"));
    g_assert_nonnull (strstr (out2, "0 agree within a frame, 1 disputes it"));
    restore_file (manifest, saved);
  }

  /* a clip folder that `check` calls damaged for its values (NaN features) is
   * recomputed by the next run, as check's message promises */
  {
    g_autoptr(WkpDataset) before = wkp_dataset_open (ds_dir, &error);
    g_autoptr(WkpDataset) after = NULL;
    g_autoptr(GBytes) old = NULL;
    int i_clip = i_orig;   /* the manifest is unchanged: same index */
    g_assert_no_error (error);
    old = spoil_clip_array (before, i_clip, WKP_CLIP_ARRAY_FEATURES, 3, NAN);
    g_assert_false (wkp_dataset_clip_verify (before, i_clip, NULL));
    g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rep.n_ok, ==, 4);
    g_assert_cmpint (rep.n_cached, ==, 3);
    g_assert_cmpint (rep.n_computed, ==, 1);
    after = wkp_dataset_open (ds_dir, &error);
    g_assert_no_error (error);
    g_assert_true (wkp_dataset_clip_verify (after, i_clip, &error));
    g_assert_no_error (error);
  }

  /* a clip folder without its clip.json, and a file where a clip folder goes,
   * are leftovers too: recomputed and in place, mode as mkdir gives (they
   * failed on every run: "cannot move the clip into place"; and g_mkdtemp
   * made every clip folder 0700) */
  {
    g_autoptr(WkpDataset) before = wkp_dataset_open (ds_dir, &error);
    g_autoptr(WkpDataset) after = NULL;
    const WkpDatasetClip *c0 = wkp_dataset_get_clip (before, i_orig), *c1 = wkp_dataset_get_clip (before, i_delayed);
    g_autofree char *dir0 = g_build_filename (ds_dir, "clips", c0->id, NULL);
    g_autofree char *record0 = g_build_filename (dir0, "clip.json", NULL);
    g_autofree char *dir1 = g_build_filename (ds_dir, "clips", c1->id, NULL);
    g_autofree char *arrays1 = g_build_filename (dir1, "features.npy", NULL);
    struct stat st;
    mode_t mask = umask (0);
    umask (mask);
    g_assert_cmpint (g_unlink (record0), ==, 0);
    {
      g_autoptr(GDir) d = g_dir_open (dir1, 0, NULL);
      const char *name;
      g_assert_nonnull (d);
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *f = g_build_filename (dir1, name, NULL);
          g_assert_cmpint (g_unlink (f), ==, 0);
        }
      g_assert_cmpint (g_rmdir (dir1), ==, 0);
    }
    g_assert_true (g_file_set_contents (dir1, "not a folder", -1, NULL));
    g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rep.n_ok, ==, 4);
    g_assert_cmpint (rep.n_failed, ==, 1);   /* the bad clip, as before */
    g_assert_cmpint (rep.n_computed, ==, 2);
    after = wkp_dataset_open (ds_dir, &error);
    g_assert_no_error (error);
    g_assert_true (wkp_dataset_clip_verify (after, i_orig, &error));
    g_assert_true (wkp_dataset_clip_verify (after, i_delayed, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_test (arrays1, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint (g_stat (dir0, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0777 & ~mask);
  }

  /* a feature config change recomputes the clips but reuses their landmarks */
  p.features.n_mfcc = 20;
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_ok, ==, 4);
  g_assert_cmpint (rep.n_cached, ==, 0);
  g_assert_cmpint (rep.n_landmarks_reused, ==, 4);
  /* the folders of the old config, counted for the summary as replaced, not
   * as clips the source "no longer lists" (it still lists them) */
  g_assert_cmpint (rep.n_superseded, ==, 4);
  g_assert_cmpint (rep.n_removed, ==, 0);
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wkp_dataset_get_feature_config (ds)->n_mfcc, ==, 20);
  g_assert_cmpint (wkp_dataset_get_feature_dim (ds), ==, 4 * 20 * 3);
  {
    /* old clip folders are gone: one folder per OK clip */
    g_autofree char *clips = g_build_filename (ds_dir, "clips", NULL);
    g_autoptr(GDir) d = g_dir_open (clips, 0, NULL);
    int n_dirs = 0;
    const char *n;
    while ((n = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *p2 = g_build_filename (clips, n, NULL);
        if (g_file_test (p2, G_FILE_TEST_IS_DIR))
          n_dirs++;
      }
    g_assert_cmpint (n_dirs, ==, 4);
  }

  /* another source into this dataset would delete what it does not list:
   * refused, naming both, unless asked for */
  {
    g_autofree char *other = g_build_filename (src_dir, "other.csv", NULL);   /* its paths resolve alike */
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (csv, &text, &len, NULL));
    g_assert_true (g_file_set_contents (other, text, (gssize) len, NULL));
    g_assert_false (wkp_dataset_prepare (other, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_assert_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "was prepared from"));
    g_assert_nonnull (strstr (error->message, "other.csv"));
    g_assert_nonnull (strstr (error->message, "--replace"));
    g_clear_error (&error);
    p.replace = TRUE;
    g_assert_true (wkp_dataset_prepare (other, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rep.n_cached, ==, 4);   /* the same clips: nothing lost */
    g_assert_cmpint (rep.n_removed, ==, 0);
    g_assert_cmpint (rep.n_superseded, ==, 0);
    p.replace = FALSE;
    /* the same CSV through a symlink is the same source */
    {
      g_autofree char *link = g_build_filename (src_dir, "link.csv", NULL);
      g_assert_no_errno (symlink (other, link));
      g_assert_true (wkp_dataset_prepare (link, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
      g_assert_no_error (error);
      g_assert_cmpint (rep.n_cached, ==, 4);
    }
    /* and back to the first source, for the rest of the test */
    g_assert_false (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_clear_error (&error);
    p.replace = TRUE;
    g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
    g_assert_no_error (error);
    p.replace = FALSE;
  }

  /* fix-offset: the delayed clip's features are shifted back */
  p.fix_offset = TRUE;
  g_clear_pointer (&ds, wkp_dataset_free);
  g_assert_true (wkp_dataset_prepare (csv, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  /* the recomputed clips' old folders were replaced; no clip was dropped */
  g_assert_cmpint (rep.n_superseded, >=, 1);
  g_assert_cmpint (rep.n_removed, ==, 0);
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  {
    int io = -1, id = -1;
    for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
      {
        const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
        if (strstr (c->name, "brif7a.mp4") != NULL)
          {
            if (g_strcmp0 (c->speaker, "grid_s1") == 0)
              io = i;
            else
              id = i;
          }
      }
    g_assert_cmpint (wkp_dataset_get_clip (ds, io)->offset_applied, ==, 0);
    g_assert_cmpint (wkp_dataset_get_clip (ds, id)->offset_applied, ==, wkp_dataset_get_clip (ds, id)->offset_frames);
    {
      g_autoptr(WkpNpy) fo = wkp_dataset_clip_load (ds, io, WKP_CLIP_ARRAY_FEATURES, &error);
      g_autoptr(WkpNpy) fd = wkp_dataset_clip_load (ds, id, WKP_CLIP_ARRAY_FEATURES, &error);
      int applied = wkp_dataset_get_clip (ds, id)->offset_applied;
      int dim = wkp_dataset_get_feature_dim (ds);
      double aligned = 0, misaligned = 0;
      const float *a = fo->data, *b = fd->data;
      g_assert_no_error (error);
      /* after the fix the delayed clip's rows match the original's (up to the
       * 16-bit WAV rounding), and clearly better than without the shift */
      g_assert_cmpint (ABS (applied - DELAY_FRAMES), <=, 1);
      for (int t = 10; t < 60; t++)
        for (int d = 0; d < dim; d++)
          {
            aligned += fabs (a[(t + applied - DELAY_FRAMES) * dim + d] - b[t * dim + d]);
            misaligned += fabs (a[(t - DELAY_FRAMES) * dim + d] - b[t * dim + d]);
          }
      g_test_message ("fix-offset: mean |difference| aligned %.4f, without the fix %.4f", aligned / (50.0 * dim),
                      misaligned / (50.0 * dim));
      g_assert_cmpfloat (aligned, <, 0.2 * misaligned);
    }
  }

  /* a manifest edited by hand is refused on open, naming the file and the
   * member: an implausible frame count before anything is allocated from it
   * (10^12 frames used to abort evaluate), and every member of the wrong
   * type (they used to read as their default) */
  {
    static const struct { const char *pattern, *replacement, *message; } edits[] = {
      { "\"n_frames\" *: *[0-9]+", "\"n_frames\" : 1000000000000", "plausible" },
      { "\"n_frames\" *: *[0-9]+", "\"n_frames\" : \"75\"", "“n_frames” is not an integer" },
      { "\"n_samples\" *: *[0-9]+", "\"n_samples\" : 4.5e4", "“n_samples” is not an integer" },
      { "\"face_rate\" *: *[0-9.]+", "\"face_rate\" : \"1\"", "“face_rate” is not a number" },
      { "\"video\" *: *\"[^\"]*\"", "\"video\" : 5", "“video” is not a string" },
      { "\"split\" *: *\"[a-z]+\"", "\"split\" : \"holdout\"", "unknown split “holdout”" },
      { "\"flags\" *: *\\[[^]]*\\]", "\"flags\" : \"none\"", "“flags” is not an array of strings" },
      { "\"tracking\" *: *(true|false)", "\"tracking\" : 1", "“tracking” is not true or false" },
      { "\"width\" *: *[0-9]+", "\"width\" : 5000000000", "plausible" },
      { "\"version\" *: *1", "\"version\" : \"1\"", "“version” is not an integer" },
      /* features computed at another rate than the manifest says */
      { "\"model_fps\" *: *\"[^\"]*\"", "\"model_fps\" : \"30\"", "feature frames, but its" },
      { "\"n_feature_frames\" *: *[0-9]+", "\"n_feature_frames\" : 7", "(model_fps or fps edited?)" },
    };
    g_autofree char *manifest = g_build_filename (ds_dir, "dataset.json", NULL);
    g_autofree char *text = NULL;
    g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
    for (guint k = 0; k < G_N_ELEMENTS (edits); k++)
      {
        g_autoptr(GRegex) re = g_regex_new (edits[k].pattern, 0, 0, NULL);
        g_autofree char *bad = NULL;
        g_autoptr(WkpDataset) broken = NULL;
        g_assert_nonnull (re);
        bad = g_regex_replace (re, text, -1, 0, edits[k].replacement, G_REGEX_MATCH_DEFAULT, NULL);
        g_assert_cmpstr (bad, !=, text);
        g_assert_true (g_file_set_contents (manifest, bad, -1, NULL));
        broken = wkp_dataset_open (ds_dir, &error);
        g_assert_null (broken);
        g_assert_nonnull (error);
        g_test_message ("%s -> %s", edits[k].replacement, error->message);
        g_assert_nonnull (strstr (error->message, edits[k].message));
        g_assert_nonnull (strstr (error->message, "dataset.json"));
        g_clear_error (&error);
      }
    g_assert_true (g_file_set_contents (manifest, text, -1, NULL));
    {
      g_autoptr(WkpDataset) restored = wkp_dataset_open (ds_dir, &error);
      g_assert_no_error (error);
      g_assert_nonnull (restored);
    }
  }
}

/* A folder source: one video with its own audio, one silent-style pair
 * video/ + wav/ (the WAV wins over the video's own audio). */
static void
test_prepare_folder (void)
{
  g_autofree char *root = NULL, *ds_dir = NULL, *clip = NULL;
  g_autofree char *a_dir = NULL, *bv_dir = NULL, *bw_dir = NULL, *a_link = NULL, *b_link = NULL, *b_wav = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDataset) ds = NULL;
  WkpPrepareParams p;
  WkpPrepareReport rep;
  const gint64 n_wav = 16000 * 2;
  g_autofree float *tone = g_new (float, n_wav);
  int ia, ib;

  if (wkp_test_shared_data () == NULL)
    return;
  clip = wkp_test_shared_file (GRID_DIR "bbaf4p.mp4");
  root = wkp_test_tmpdir ();
  ds_dir = wkp_test_tmpdir ();
  a_dir = g_build_filename (root, "anna", NULL);
  bv_dir = g_build_filename (root, "ben", "video", NULL);
  bw_dir = g_build_filename (root, "ben", "wav", NULL);
  g_assert_cmpint (g_mkdir_with_parents (a_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bv_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bw_dir, 0755), ==, 0);
  a_link = g_build_filename (a_dir, "one.mp4", NULL);
  b_link = g_build_filename (bv_dir, "two.mp4", NULL);
  b_wav = g_build_filename (bw_dir, "two.wav", NULL);
  g_assert_cmpint (symlink (clip, a_link), ==, 0);
  g_assert_cmpint (symlink (clip, b_link), ==, 0);
  for (gint64 i = 0; i < n_wav; i++)
    tone[i] = (float) (0.3 * sin (2 * G_PI * 440.0 * i / 16000.0));
  {
    /* in stereo, its right channel wired in reverse: flagged, and the mix is
     * the tone, not the silence a plain average gives */
    g_autofree float *lr = g_new (float, 2 * n_wav);
    for (gint64 i = 0; i < n_wav; i++)
      lr[2 * i] = tone[i], lr[2 * i + 1] = -tone[i];
    wkp_test_write_wav_channels (b_wav, lr, n_wav, 2, 16000);
  }
  {
    /* a sound named like a video (an audio-only .webm): skipped as audio-only
     * rows are, not failed ("has no video stream") */
    g_autofree char *snd = g_build_filename (a_dir, "voice.webm", NULL);
    wkp_test_write_wav (snd, tone, n_wav, 16000);
  }
  {
    /* telephone sound (8 kHz) paired with a video: flagged low-audio-rate
     * (the features' bands above 4 kHz read silence) */
    g_autofree char *cv = g_build_filename (root, "cara", "video", NULL), *cw = g_build_filename (root, "cara", "wav", NULL);
    g_autofree char *c_link = g_build_filename (cv, "three.mp4", NULL), *c_wav = g_build_filename (cw, "three.wav", NULL);
    g_assert_cmpint (g_mkdir_with_parents (cv, 0755), ==, 0);
    g_assert_cmpint (g_mkdir_with_parents (cw, 0755), ==, 0);
    g_assert_cmpint (symlink (clip, c_link), ==, 0);
    wkp_test_write_wav (c_wav, tone, n_wav, 8000);
  }
  {
    /* the same clip again under another speaker (a folder linked twice) */
    g_autofree char *dv = g_build_filename (root, "dave", NULL), *d_link = g_build_filename (dv, "one.mp4", NULL);
    g_assert_cmpint (g_mkdir_with_parents (dv, 0755), ==, 0);
    g_assert_cmpint (symlink (clip, d_link), ==, 0);
  }

  wkp_prepare_params_init_default (&p);
  /* (anna in train, the others shared out: dave's copy of her clip lands in val or test) */
  p.train_speakers = (char *[]) { (char *) "anna", NULL };
  p.val_fraction = 0.34;
  p.test_fraction = 0.34;
  g_assert_true (wkp_dataset_prepare (root, ds_dir, &p, NULL, NULL, NULL, &rep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rep.n_ok, ==, 4);
  g_assert_cmpint (rep.n_failed, ==, 0);
  g_assert_cmpint (rep.n_skipped, ==, 1);
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  ia = wkp_dataset_find_clip (ds, "anna/one.mp4");
  ib = wkp_dataset_find_clip (ds, "ben/video/two.mp4");
  {
    /* anna's and dave's clip are one: said when they sit in two splits */
    int id = wkp_dataset_find_clip (ds, "dave/one.mp4");
    WkpSplit sa = wkp_dataset_get_clip (ds, ia)->split, sd = wkp_dataset_get_clip (ds, id)->split;
    g_test_message ("anna %s, dave %s: %d duplicate(s), \"%s\"", wkp_split_to_string (sa), wkp_split_to_string (sd),
                    rep.n_duplicates, rep.duplicate_example);
    g_assert_cmpint (sa, !=, sd);   /* (the split of these four speakers, seed 1: the case to see) */
    g_assert_cmpint (rep.n_duplicates, ==, 1);
    g_assert_nonnull (strstr (rep.duplicate_example, "one.mp4 ("));
    g_assert_nonnull (strstr (rep.duplicate_example, ") = "));
  }
  {
    int iv = wkp_dataset_find_clip (ds, "anna/voice.webm");
    g_assert_cmpint (iv, >=, 0);
    g_assert_cmpint (wkp_dataset_get_clip (ds, iv)->status, ==, WKP_CLIP_SKIPPED);
    g_assert_nonnull (strstr (wkp_dataset_get_clip (ds, iv)->error, "voice.webm has no video stream"));
  }
  {
    int ic = wkp_dataset_find_clip (ds, "cara/video/three.mp4");
    g_assert_cmpint (ic, >=, 0);
    g_assert_cmpint (wkp_dataset_get_clip (ds, ic)->audio_rate, ==, 8000);
    g_assert_true (wkp_dataset_get_clip (ds, ic)->flags & WKP_CLIP_FLAG_LOW_AUDIO_RATE);
    g_assert_cmpint (wkp_dataset_get_clip (ds, ia)->audio_rate, ==, 44100);   /* (GRID's own sound) */
    g_assert_false (wkp_dataset_get_clip (ds, ia)->flags & WKP_CLIP_FLAG_LOW_AUDIO_RATE);
    g_assert_false (wkp_dataset_get_clip (ds, ib)->flags & WKP_CLIP_FLAG_LOW_AUDIO_RATE);
    {
      /* a clip record from before audio_rate: prepare again reads it from the
       * sound's header (the clip stays cached) and flags it */
      g_autofree char *rec = g_build_filename (ds_dir, "clips", wkp_dataset_get_clip (ds, ic)->id, "clip.json", NULL);
      g_autoptr(JsonNode) node = wkp_json_load_file (rec, &error);
      g_autoptr(WkpDataset) again = NULL;
      g_autofree char *text = NULL;
      WkpPrepareReport rep2;
      g_assert_no_error (error);
      g_assert_true (json_object_has_member (json_node_get_object (node), "audio_rate"));
      json_object_remove_member (json_node_get_object (node), "audio_rate");
      text = wkp_json_to_string (node, TRUE);
      write_text (rec, text);
      g_assert_true (wkp_dataset_prepare (root, ds_dir, &p, NULL, NULL, NULL, &rep2, &error));
      g_assert_no_error (error);
      g_assert_cmpint (rep2.n_computed, ==, 0);
      again = wkp_dataset_open (ds_dir, &error);
      g_assert_no_error (error);
      ic = wkp_dataset_find_clip (again, "cara/video/three.mp4");
      g_assert_cmpint (wkp_dataset_get_clip (again, ic)->audio_rate, ==, 8000);
      g_assert_true (wkp_dataset_get_clip (again, ic)->flags & WKP_CLIP_FLAG_LOW_AUDIO_RATE);
      {
        /* and keeps it in the clip's record (read once, not on every run) */
        g_autoptr(JsonNode) after = wkp_json_load_file (rec, &error);
        g_assert_no_error (error);
        g_assert_cmpint (json_object_get_int_member (json_node_get_object (after), "audio_rate"), ==, 8000);
      }
    }
  }
  g_assert_cmpint (ia, >=, 0);
  g_assert_cmpint (ib, >=, 0);
  g_assert_cmpstr (wkp_dataset_get_clip (ds, ia)->speaker, ==, "anna");
  g_assert_cmpstr (wkp_dataset_get_clip (ds, ib)->speaker, ==, "ben");
  g_assert_null (wkp_dataset_get_clip (ds, ia)->audio_path);
  g_assert_true (g_str_has_suffix (wkp_dataset_get_clip (ds, ib)->audio_path, "ben/wav/two.wav"));
  /* the pair's audio is the 2 s WAV (the video's own is 3 s), so its length is flagged */
  g_assert_cmpint (wkp_dataset_get_clip (ds, ib)->n_samples, ==, n_wav);
  g_assert_true (wkp_dataset_get_clip (ds, ib)->flags & WKP_CLIP_FLAG_LENGTH_MISMATCH);
  g_assert_false (wkp_dataset_get_clip (ds, ia)->flags & WKP_CLIP_FLAG_LENGTH_MISMATCH);
  g_assert_true (wkp_dataset_get_clip (ds, ib)->flags & WKP_CLIP_FLAG_AUDIO_INVERTED);
  g_assert_cmpint (wkp_dataset_get_clip (ds, ib)->audio_inverted, ==, 1);
  g_assert_false (wkp_dataset_get_clip (ds, ia)->flags & WKP_CLIP_FLAG_AUDIO_INVERTED);
  {
    g_autoptr(WkpNpy) au = wkp_dataset_clip_load (ds, ib, WKP_CLIP_ARRAY_AUDIO, &error);
    g_assert_no_error (error);
    for (gint64 i = 0; i < n_wav; i += 997)
      g_assert_cmpfloat_with_epsilon (((const float *) au->data)[i], tone[i], 1e-3);
  }
}

/* ------------------------------------------------------------------------ */
/* Kill safety                                                               */

static int
count_clip_dirs (const char *ds_dir)
{
  g_autofree char *clips = g_build_filename (ds_dir, "clips", NULL);
  g_autoptr(GDir) d = g_dir_open (clips, 0, NULL);
  const char *n;
  int count = 0;
  if (d == NULL)
    return 0;
  while ((n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (clips, n, NULL);
      if (n[0] != '.' && g_file_test (p, G_FILE_TEST_IS_DIR))
        count++;
    }
  return count;
}

/* Every clip folder present is complete: all arrays parse with shapes that
 * agree with its clip.json. */
static void
assert_clip_dirs_complete (const char *ds_dir)
{
  g_autofree char *clips = g_build_filename (ds_dir, "clips", NULL);
  g_autoptr(GDir) d = g_dir_open (clips, 0, NULL);
  const char *n;
  while (d != NULL && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (clips, n, NULL);
      g_autofree char *cj = g_build_filename (p, "clip.json", NULL);
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GError) error = NULL;
      JsonObject *o;
      gint64 T, Tf, N;
      if (n[0] == '.' || !g_file_test (p, G_FILE_TEST_IS_DIR))
        continue;
      node = wkp_json_load_file (cj, &error);
      g_assert_no_error (error);
      o = json_node_get_object (node);
      T = json_object_get_int_member (o, "n_frames");
      Tf = json_object_get_int_member (o, "n_feature_frames");
      N = json_object_get_int_member (o, "n_samples");
      for (int a = WKP_CLIP_ARRAY_FEATURES; a <= WKP_CLIP_ARRAY_ENVELOPE; a++)
        {
          g_autofree char *ap = g_build_filename (p, wkp_clip_array_filename (a), NULL);
          g_autoptr(WkpNpy) npy = wkp_npy_load (ap, &error);
          g_assert_no_error (error);
          g_assert_cmpint (npy->shape[0], ==, a == WKP_CLIP_ARRAY_FEATURES ? Tf : a == WKP_CLIP_ARRAY_AUDIO ? N : T);
        }
    }
}

/* `wav2kp prepare CSV -o DS --jobs 1` in the background, to be stopped. */
static GPid
spawn_prepare (const char *csv, const char *ds_dir)
{
  const char *argv[] = { wkp_test_cli (), "prepare", csv, "-o", ds_dir, "--jobs", "1", "-q", NULL };
  g_autoptr(GError) error = NULL;
  GPid pid;
  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  return pid;
}

/* The name of a clip's temporary folder in DS/clips, or NULL. */
static char *
find_tmp_dir (const char *ds_dir)
{
  g_autofree char *clips = g_build_filename (ds_dir, "clips", NULL);
  g_autoptr(GDir) d = g_dir_open (clips, 0, NULL);
  const char *n;
  if (d == NULL)
    return NULL;
  while ((n = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (n, ".tmp-"))
      return g_strdup (n);
  return NULL;
}

/* Ctrl+C while a clip is being computed removes its temporary folder, arrays
 * and all (it stayed until the next run). */
/* Runs prepare of @csv into @ds_dir and interrupts it (SIGINT) while a
 * clip's temporary folder exists (its name in *@seen); *@finished: the
 * clip folders written by then. Asserts that the signal ended it. */
static void
prepare_interrupted (const char *csv, const char *ds_dir, char **seen, int *finished)
{
  GPid pid = spawn_prepare (csv, ds_dir);
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  int status = 0;
  while ((*seen = find_tmp_dir (ds_dir)) == NULL && g_get_monotonic_time () < deadline)
    g_usleep (2000);
  g_assert_nonnull (*seen);
  *finished = count_clip_dirs (ds_dir);
  kill (pid, SIGINT);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGINT);
}

static void
test_interrupt_removes_tmp (void)
{
  g_autofree char *src_dir = NULL, *csv = NULL, *ds_dir = NULL, *seen = NULL, *left = NULL;
  int finished;

  if (wkp_test_shared_data () == NULL)
    return;
  src_dir = wkp_test_tmpdir ();
  ds_dir = wkp_test_tmpdir ();
  csv = make_source (src_dir, 4);
  prepare_interrupted (csv, ds_dir, &seen, &finished);
  left = find_tmp_dir (ds_dir);
  g_test_message ("interrupted while %s existed; left: %s", seen, left ? left : "nothing");
  g_assert_null (left);
  assert_clip_dirs_complete (ds_dir);
}

/* A first run into a folder it makes, interrupted before it finished a
 * clip, leaves no folder (it left DS/ with .lock and an empty clips/, which
 * later commands called "not a prepared dataset"); had a clip been
 * finished, the folder would stay, to resume. */
static void
test_interrupt_new_folder (void)
{
  g_autofree char *src_dir = NULL, *csv = NULL, *parent = NULL, *ds_dir = NULL, *seen = NULL;
  int finished;

  if (wkp_test_shared_data () == NULL)
    return;
  src_dir = wkp_test_tmpdir ();
  parent = wkp_test_tmpdir ();
  ds_dir = g_build_filename (parent, "DS", NULL);
  csv = make_source (src_dir, 4);
  prepare_interrupted (csv, ds_dir, &seen, &finished);
  finished = MAX (finished, g_file_test (ds_dir, G_FILE_TEST_EXISTS) ? count_clip_dirs (ds_dir) : 0);
  g_test_message ("interrupted with %d clips finished; the folder %s", finished,
                  g_file_test (ds_dir, G_FILE_TEST_EXISTS) ? "stays" : "is gone");
  if (finished == 0)
    g_assert_false (g_file_test (ds_dir, G_FILE_TEST_EXISTS));
  else
    assert_clip_dirs_complete (ds_dir);
}

static void
test_kill_safety (void)
{
  g_autofree char *src_dir = NULL, *csv = NULL, *ds_dir = NULL, *out = NULL, *err = NULL;
  GPid pid;
  g_autoptr(GError) error = NULL;
  int status = 0, before;
  gint64 deadline;

  if (wkp_test_shared_data () == NULL)
    return;
  src_dir = wkp_test_tmpdir ();
  ds_dir = wkp_test_tmpdir ();
  csv = make_source (src_dir, 4);
  pid = spawn_prepare (csv, ds_dir);
  /* kill it once the first clip has landed, i.e. while it works on the next */
  deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (count_clip_dirs (ds_dir) < 1 && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  g_usleep (g_test_rand_int_range (0, 300000));
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  before = count_clip_dirs (ds_dir);
  g_test_message ("killed with %d clip folders written", before);
  g_assert_cmpint (before, >=, 1);
  g_assert_cmpint (before, <, 5);   /* it really was interrupted */
  {
    g_autofree char *man = g_build_filename (ds_dir, WKP_DATASET_MANIFEST, NULL);
    g_assert_false (g_file_test (man, G_FILE_TEST_EXISTS));   /* no manifest before the end */
  }
  assert_clip_dirs_complete (ds_dir);

  /* rerun completes, reusing what was finished */
  {
    const char *args[] = { "prepare", csv, "-o", ds_dir, "--jobs", "2", NULL };
    g_autoptr(WkpDataset) ds = NULL;
    int rc = wkp_test_run_cli (args, &out, &err);
    g_test_message ("%s%s", out, err);
    g_assert_cmpint (rc, ==, 0);
    g_assert_nonnull (strstr (out, "5 ok"));
    g_assert_nonnull (strstr (out, "1 failed"));
    ds = wkp_dataset_open (ds_dir, &error);
    g_assert_no_error (error);
    g_assert_cmpint (wkp_dataset_n_clips (ds), ==, 7);
    assert_clip_dirs_complete (ds_dir);
    {
      /* no temporary folders left */
      g_autofree char *clips = g_build_filename (ds_dir, "clips", NULL);
      g_autoptr(GDir) d = g_dir_open (clips, 0, NULL);
      const char *n;
      while ((n = g_dir_read_name (d)) != NULL)
        g_assert_false (g_str_has_prefix (n, ".tmp-"));
    }
  }
  /* check --json lists every clip with its offset, confidence and flags */
  {
    const char *args[] = { "check", ds_dir, "--json", "-", NULL };
    g_autofree char *o2 = NULL, *e2 = NULL;
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonArray *clips;
    int rc = wkp_test_run_cli (args, &o2, &e2);
    g_assert_cmpint (rc, ==, 0);
    g_assert_true (json_parser_load_from_data (parser, o2, -1, &error));
    g_assert_no_error (error);
    clips = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "clips");
    g_assert_cmpuint (json_array_get_length (clips), ==, 7);
    for (guint i = 0; i < 7; i++)
      {
        JsonObject *c = json_array_get_object_element (clips, i);
        g_assert_true (json_object_has_member (c, "name"));
        g_assert_true (json_object_has_member (c, "offset_frames"));
        g_assert_true (json_object_has_member (c, "confidence"));
        g_assert_true (json_object_has_member (c, "flags"));
        if (g_strcmp0 (json_object_get_string_member (c, "speaker"), "grid_s1_delayed") == 0)
          {
            JsonArray *f = json_object_get_array_member (c, "flags");
            gboolean has_offset = FALSE;
            for (guint k = 0; k < json_array_get_length (f); k++)
              if (g_strcmp0 (json_array_get_string_element (f, k), "offset") == 0)
                has_offset = TRUE;
            g_assert_true (has_offset);
          }
      }
  }
  /* the table: an unsure offset is shown in parentheses, with a legend; a
   * measured one is a plain signed number.  The grid_s1_delayed clip's
   * manifest entry is made unsure (as prepare marks a low-confidence peak). */
  {
    g_autofree char *man = g_build_filename (ds_dir, WKP_DATASET_MANIFEST, NULL);
    g_autofree char *saved = NULL, *o9 = NULL, *e9 = NULL, *o10 = NULL, *e10 = NULL;
    g_autofree char *edited = NULL;
    g_autoptr(JsonParser) parser = json_parser_new ();
    const char *args[] = { "check", ds_dir, NULL };
    JsonArray *clips;
    int rc;
    g_assert_true (g_file_get_contents (man, &saved, NULL, NULL));
    rc = wkp_test_run_cli (args, &o9, &e9);
    g_test_message ("%s", o9);
    g_assert_cmpint (rc, ==, 0);
    g_assert_null (strstr (o9, "(offset): unsure"));
    /* where to look at the flagged offset: the delayed clip with its +4, in the studio */
    g_assert_nonnull (strstr (o9, "to see an offset corrected: wav2kp-studio --audio-late 4 "));
    g_assert_nonnull (strstr (o9, "delayed.wav'"));
    g_assert_true (json_parser_load_from_data (parser, saved, -1, &error));
    g_assert_no_error (error);
    clips = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "clips");
    for (guint i = 0; i < json_array_get_length (clips); i++)
      {
        JsonObject *c = json_array_get_object_element (clips, i);
        if (g_strcmp0 (json_object_get_string_member (c, "speaker"), "grid_s1_delayed") == 0)
          {
            JsonArray *f = json_array_new ();
            json_array_add_string_element (f, "offset-unsure");
            json_object_set_array_member (c, "flags", f);
            json_object_set_int_member (c, "offset_frames", -7);
            json_object_set_double_member (c, "offset_confidence", 0.05);
            /* (a name in another script: the columns stay in line) */
            json_object_set_string_member (c, "speaker", "grid_s1_délayé_ü");
          }
      }
    edited = wkp_json_to_string (json_parser_get_root (parser), TRUE);
    write_text (man, edited);
    rc = wkp_test_run_cli (args, &o10, &e10);
    g_test_message ("%s", o10);
    g_assert_cmpint (rc, ==, 0);
    {
      /* every row's split in the header's split column, counted in characters
       * (the padding counted bytes: rows with "é" were short by one each) */
      g_auto(GStrv) lines = g_strsplit (o10, "\n", -1);
      glong col = g_utf8_pointer_to_offset (lines[0], strstr (lines[0], " split ") + 1);
      int rows = 0;
      g_assert_true (g_str_has_prefix (lines[0], "clip"));
      for (int l = 1; lines[l] != NULL && lines[l][0] != '\0' && !g_str_has_prefix (lines[l], "("); l++, rows++)
        {
          const char *at = g_utf8_offset_to_pointer (lines[l], col);
          g_assert_true (g_str_has_prefix (at, "train") || g_str_has_prefix (at, "val") || g_str_has_prefix (at, "test")
                         || g_str_has_prefix (at, "none"));
          g_assert_cmpint (at[-1], ==, ' ');
        }
      g_assert_nonnull (strstr (o10, "grid_s1_délayé_ü"));
      g_assert_cmpint (rows, >=, 2);
    }
    g_assert_nonnull (strstr (o10, "(-7)  0.05"));
    g_assert_nonnull (strstr (o10, "(offset): unsure"));
    g_assert_null (strstr (o10, "to see an offset corrected"));   /* an unsure one is not offered */
    write_text (man, saved);
  }
  /* a damaged clip folder: check reports it (exit 2), prepare recomputes it */
  {
    g_autoptr(WkpDataset) ds = wkp_dataset_open (ds_dir, &error);
    g_autofree char *feat = NULL;
    const char *check[] = { "check", ds_dir, NULL };
    const char *again[] = { "prepare", csv, "-o", ds_dir, NULL };
    g_autofree char *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL, *o6 = NULL, *e6 = NULL;
    int victim = -1;
    g_assert_no_error (error);
    for (int i = 0; i < wkp_dataset_n_clips (ds) && victim < 0; i++)
      if (wkp_dataset_get_clip (ds, i)->status == WKP_CLIP_OK)
        victim = i;
    feat = wkp_dataset_clip_path (ds, victim, WKP_CLIP_ARRAY_FEATURES);
    g_assert_cmpint (truncate (feat, 100), ==, 0);
    g_assert_false (wkp_dataset_clip_verify (ds, victim, NULL));
    g_assert_cmpint (wkp_test_run_cli (check, &o4, &e4), ==, 2);
    g_assert_nonnull (strstr (o4, "damaged"));
    g_assert_nonnull (strstr (e4, "damaged"));
    /* the JSON report, to stdout or to a file, is complete (the damaged clip
     * flagged with its error) and the exit status is 2 as for the table */
    for (int to_file = 0; to_file < 2; to_file++)
      {
        g_autofree char *report = g_build_filename (src_dir, "check-report.json", NULL);
        const char *args[] = { "check", ds_dir, "--json", to_file ? report : "-", NULL };
        g_autofree char *oj = NULL, *ej = NULL, *text = NULL;
        g_autoptr(JsonParser) parser = json_parser_new ();
        JsonObject *c;
        JsonArray *flags;
        g_assert_cmpint (wkp_test_run_cli (args, &oj, &ej), ==, 2);
        g_assert_nonnull (strstr (ej, "1 clip folder(s) damaged"));
        if (to_file)
          g_assert_true (g_file_get_contents (report, &text, NULL, NULL));
        g_assert_true (json_parser_load_from_data (parser, to_file ? text : oj, -1, &error));
        g_assert_no_error (error);
        c = json_array_get_object_element (json_object_get_array_member (
              json_node_get_object (json_parser_get_root (parser)), "clips"), victim);
        flags = json_object_get_array_member (c, "flags");
        g_assert_cmpstr (json_array_get_string_element (flags, 0), ==, "damaged");
        g_assert_nonnull (strstr (json_object_get_string_member (c, "error"), "features.npy"));
      }
    g_assert_cmpint (wkp_test_run_cli (again, &o5, &e5), ==, 0);
    g_assert_nonnull (strstr (o5, "1 computed"));
    g_assert_cmpint (wkp_test_run_cli (check, &o6, &e6), ==, 0);
  }
  /* nothing preparable: exit 2, no dataset left behind */
  {
    g_autofree char *bad_csv = g_build_filename (src_dir, "none.csv", NULL);
    g_autofree char *bad_ds = g_build_filename (src_dir, "no-ds", NULL);
    const char *args[] = { "prepare", bad_csv, "-o", bad_ds, NULL };
    g_autofree char *o7 = NULL, *e7 = NULL;
    write_text (bad_csv, "video\nmissing.mp4\nbroken.mp4\n");
    g_assert_cmpint (wkp_test_run_cli (args, &o7, &e7), ==, 2);
    g_assert_nonnull (strstr (e7, "no clip could be prepared"));
    g_assert_nonnull (strstr (e7, "missing.mp4: no such file"));
    g_assert_false (g_file_test (bad_ds, G_FILE_TEST_EXISTS));
    /* a missing file beside a good clip fails in this run: said as this
     * run's failure (it read "as an earlier run recorded" on a first run) */
    {
      g_autofree char *good = wkp_test_shared_file (GRID_DIR "brif7a.mp4");
      g_autofree char *text = g_strdup_printf ("video\nmissing.mp4\n%s\n", good);
      g_autofree char *o9 = NULL, *e9 = NULL, *half_ds = g_build_filename (src_dir, "half-ds", NULL);
      write_text (bad_csv, text);
      g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "prepare", bad_csv, "-o", half_ds, NULL }, &o9, &e9), ==, 0);
      g_test_message ("%s%s", o9, e9);
      g_assert_nonnull (strstr (o9, "1 ok (1 computed, 0 cached), 1 failed, "));
    }
    /* a header and no rows: said as such (it said "only audio-only rows") */
    {
      g_autofree char *o8 = NULL, *e8 = NULL;
      write_text (bad_csv, "video,speaker\n");
      g_assert_cmpint (wkp_test_run_cli (args, &o8, &e8), ==, 2);
      g_assert_nonnull (strstr (e8, "none.csv: no clip to prepare (no rows)"));
      g_assert_false (g_file_test (bad_ds, G_FILE_TEST_EXISTS));
    }
  }
  /* bad input: one line, exit 2 */
  {
    const char *args[] = { "check", src_dir, NULL };
    g_autofree char *o3 = NULL, *e3 = NULL;
    g_assert_cmpint (wkp_test_run_cli (args, &o3, &e3), ==, 2);
    g_assert_nonnull (strstr (e3, "not a prepared dataset"));
  }
}

/* Clip names in the studio's Dataset window and `check`: the shortest path
 * tail that tells each clip from the others; an image pattern brings its folder. */
static void
test_short_names (void)
{
  const char *names[] = {
    "/data/GRID/s1/bbaf2n.mpg",             /* unique file name */
    "/data/VidTIMIT/fadg0/video/sa1/%03d",  /* a pattern: two components at least, */
    "/data/VidTIMIT/fadg0/video/sa2/%03d",
    "/data/VidTIMIT/mcem0/video/sa1/%03d",  /* ... more when its folder is not unique */
    "/data/A/clip.mp4",
    "/data/B/clip.mp4",
    "clip.mp4",                             /* a tail of others, whole */
    "/x/Mouth_Source/681600002/%06d.jpg",
    "/y/frames/take1/",                     /* a trailing '/' names the folder */
  };
  const char *expect[] = {
    "bbaf2n.mpg", "fadg0/video/sa1/%03d", "sa2/%03d", "mcem0/video/sa1/%03d",
    "A/clip.mp4", "B/clip.mp4", "clip.mp4", "681600002/%06d.jpg", "take1/",
  };
  g_auto(GStrv) out = wkp_path_short_names (names, G_N_ELEMENTS (names));
  g_assert_cmpuint (g_strv_length (out), ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpstr (out[i], ==, expect[i]);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    for (guint j = i + 1; j < G_N_ELEMENTS (names); j++)
      g_assert_cmpstr (out[i], !=, out[j]);
  g_strfreev (g_steal_pointer (&out));
  out = wkp_path_short_names (NULL, 0);
  g_assert_cmpuint (g_strv_length (out), ==, 0);
}

/* Clip folder names: safe characters, never a leading '-' (a file called
 * "-take1.mp4" made a folder "clips/-take1_mp4-…" that ls and rm read as
 * options), at most the last 48 characters of the name. */
static void
test_clip_id_base (void)
{
  const char *cases[][2] = {
    { "GRID/s1/bbaf2n.mpg", "GRID_s1_bbaf2n_mpg" },
    { "-take1.mp4", "take1_mp4" },
    { "--_-x", "x" },
    { "a-b c.wav", "a-b_c_wav" },
    { "sa1/%03d", "sa1__03d" },
    { "\xc3\xa9t\xc3\xa9.mp4", "t___mp4" },
    { "---", "clip" },
    { "", "clip" },
    { "abc/-defg.mp4", "abc_-defg_mp4" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = wkp_clip_id_base (cases[i][0]);
      g_assert_cmpstr (got, ==, cases[i][1]);
    }
  {
    g_autofree char *got = wkp_clip_id_base ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/clip.mp4");
    g_assert_cmpuint (strlen (got), ==, 48);
    g_assert_true (g_str_has_suffix (got, "_clip_mp4"));
  }
  {
    /* the 48-character cut falls on a '-' */
    g_autofree char *ys = g_strnfill (47, 'y');
    g_autofree char *name = g_strconcat ("xxxxxxxxxx-", ys, NULL);
    g_autofree char *got = wkp_clip_id_base (name);
    g_assert_cmpstr (got, ==, ys);
  }
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset/csv", test_csv);
  g_test_add_func ("/dataset/short-names", test_short_names);
  g_test_add_func ("/dataset/clip-id-base", test_clip_id_base);
  g_test_add_func ("/dataset/csv-errors", test_csv_errors);
  g_test_add_func ("/dataset/sources-csv", test_sources_csv);
  g_test_add_func ("/dataset/sources-folder", test_sources_folder);
  g_test_add_func ("/dataset/splits", test_splits);
  g_test_add_func ("/dataset/resample-reference", test_resample_reference);
  g_test_add_func ("/dataset/resample-nan", test_resample_nan);
  g_test_add_func ("/dataset/envelope-reference", test_envelope_reference);
  g_test_add_func ("/dataset/offset-synthetic", test_offset_synthetic);
  g_test_add_func ("/dataset/offset-reference", test_offset_reference);
  g_test_add_func ("/dataset/offset-errors", test_offset_errors);
  g_test_add_func ("/dataset/prepare-real", test_prepare_real);
  g_test_add_func ("/dataset/prepare-irregular-timing", test_prepare_irregular_timing);
  g_test_add_func ("/dataset/prepare-audio-late", test_prepare_audio_late);
  g_test_add_func ("/dataset/prepare-folder", test_prepare_folder);
  g_test_add_func ("/dataset/kill-safety", test_kill_safety);
  g_test_add_func ("/dataset/interrupt-removes-tmp", test_interrupt_removes_tmp);
  g_test_add_func ("/dataset/interrupt-new-folder", test_interrupt_new_folder);
  return g_test_run ();
}
