/* Frame-aligned features against the independent numpy/scipy reference
 * (tests/features_ref.py), plus edge cases.
 *
 * Tolerance: |ours - reference| <= 2e-3 + 1e-4 * |reference| for every value
 * (ours is float32 with an av_tx float FFT, the reference float64). */
#include "wkp-features.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-npy.h"
#include "wkp-test-util.h"

#include <math.h>
#include <string.h>

#define ATOL 2e-3
#define RTOL 1e-4

/* Runs the reference and compares every value. */
static void
compare_with_reference (const WkpFeatureConfig *c, const float *audio, gint64 n, WkpRational fps,
                        gint64 n_frames, const char *label)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *apath = g_build_filename (dir, "audio.npy", NULL);
  g_autofree char *cpath = g_build_filename (dir, "config.json", NULL);
  g_autofree char *opath = g_build_filename (dir, "ref.npy", NULL);
  g_autofree char *num = g_strdup_printf ("%d", fps.num);
  g_autofree char *den = g_strdup_printf ("%d", fps.den);
  g_autofree char *frames = g_strdup_printf ("%" G_GINT64_FORMAT, n_frames);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) cj = wkp_feature_config_to_json (c);
  g_autoptr(GBytes) cb = wkp_json_to_bytes (cj);
  g_autofree float *ours = NULL;
  g_autoptr(WkpNpy) ref = NULL;
  gint64 shape[] = { n };
  const double *r;
  double max_err = 0;
  int dim = wkp_feature_config_dim (c);

  if (wkp_test_python ("scipy") == NULL)
    return;
  g_assert_true (wkp_npy_save (apath, WKP_DTYPE_F32, 1, shape, audio, &error));
  g_assert_true (wkp_write_file_atomic (cpath, cb, &error));
  g_assert_no_error (error);
  {
    const char *args[] = { apath, cpath, num, den, frames, opath, NULL };
    g_autofree char *out = wkp_test_run_python ("features_ref.py", args);
    (void) out;
  }
  ours = wkp_features_compute (c, audio, n, fps, n_frames, &error);
  g_assert_no_error (error);
  ref = wkp_npy_load (opath, &error);
  g_assert_no_error (error);
  {
    gint64 want[] = { n_frames, dim };
    g_assert_true (wkp_npy_check (ref, opath, WKP_DTYPE_F64, 2, want, &error));
  }
  r = ref->data;
  for (gint64 i = 0; i < n_frames * dim; i++)
    {
      double err = fabs ((double) ours[i] - r[i]);
      g_assert_true (isfinite (ours[i]));
      if (err > ATOL + RTOL * fabs (r[i]))
        g_error ("%s: value %" G_GINT64_FORMAT " (frame %" G_GINT64_FORMAT ", column %" G_GINT64_FORMAT
                 "): ours %.6f, reference %.6f", label, i, i / dim, i % dim, ours[i], r[i]);
      max_err = MAX (max_err, err);
    }
  g_test_message ("%s: %" G_GINT64_FORMAT " x %d values, max abs error %.2e", label, n_frames, dim, max_err);
}

static float *
synth_speechlike (gint64 n, int rate)
{
  float *x = g_new (float, n);
  for (gint64 i = 0; i < n; i++)
    {
      double t = (double) i / rate;
      /* a vowel-like harmonic sound gated at syllable rate, plus noise */
      double f0 = 120 + 30 * sin (2 * G_PI * 0.7 * t);
      double gate = 0.5 + 0.5 * sin (2 * G_PI * 4.0 * t);
      double v = 0;
      for (int h = 1; h <= 8; h++)
        v += sin (2 * G_PI * f0 * h * t) / h;
      x[i] = (float) (0.2 * gate * v + 0.01 * g_test_rand_double_range (-1, 1));
    }
  return x;
}

static void
test_reference_synthetic (void)
{
  WkpFeatureConfig c;
  gint64 n = 16000 * 3 + 123;
  g_autofree float *x = synth_speechlike (n, 16000);
  WkpRational ntsc = WKP_RATIONAL (30000, 1001);

  wkp_feature_config_init_default (&c);
  compare_with_reference (&c, x, n, ntsc, wkp_frames_for_samples (n, ntsc, 16000), "default@29.97");

  c.kind = WKP_FEATURE_LOGMEL;
  c.subframes = 1;
  c.deltas = 0;
  c.window_ms = 40;
  c.n_fft = 1024;
  c.n_mels = 64;
  c.preemphasis = 0;
  compare_with_reference (&c, x, n, WKP_RATIONAL (25, 1), 75, "logmel-64@25");

  wkp_feature_config_init_default (&c);
  c.subframes = 2;
  c.deltas = 1;
  c.delta_width = 3;
  c.n_mfcc = 20;
  c.fmin = 0;
  c.fmax = 8000;
  compare_with_reference (&c, x, n, WKP_RATIONAL (50, 1), 150, "mfcc20-deltas@50");
}

/* Real speech decoded by our media layer (MPEG-1 + MP2 stereo 44.1 kHz). */
static void
test_reference_real (void)
{
  g_autofree char *path = wkp_test_shared_file ("av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpClipAudio) clip = NULL;
  WkpSourceSpec spec = { 0 };
  WkpFeatureConfig c;

  if (path == NULL)
    return;
  spec.video = path;
  clip = wkp_clip_audio_load (&spec, 16000, NULL, &error);
  g_assert_no_error (error);
  wkp_feature_config_init_default (&c);
  compare_with_reference (&c, clip->audio->samples, clip->audio->n_samples, clip->fps, clip->n_frames, "grid-mpg");
}

static void
assert_all_equal (const float *v, gint64 n, float want, float tol)
{
  for (gint64 i = 0; i < n; i++)
    if (fabsf (v[i] - want) > tol)
      g_error ("value %" G_GINT64_FORMAT ": %f, want %f", i, v[i], want);
}

/* Silence: every log-mel band sits at the floor, MFCC c0 = sqrt(n_mels)*ln(1e-10),
 * every other coefficient and every delta is zero. */
static void
test_silence (void)
{
  WkpFeatureConfig c;
  gint64 n = 16000;
  g_autofree float *x = g_new0 (float, n);
  g_autofree float *f = NULL;
  g_autoptr(GError) error = NULL;
  int dim, k;

  wkp_feature_config_init_default (&c);
  dim = wkp_feature_config_dim (&c);
  k = c.n_mfcc;
  f = wkp_features_compute (&c, x, n, WKP_RATIONAL (25, 1), 25, &error);
  g_assert_no_error (error);
  for (int row = 0; row < 25; row++)
    for (int s = 0; s < c.subframes; s++)
      {
        const float *sub = f + row * dim + s * 3 * k;
        g_assert_cmpfloat_with_epsilon (sub[0], sqrt (c.n_mels) * log (1e-10), 1e-3);
        assert_all_equal (sub + 1, 3 * k - 1, 0.0f, 1e-4f);
      }

  c.kind = WKP_FEATURE_LOGMEL;
  c.deltas = 0;
  g_clear_pointer (&f, g_free);
  f = wkp_features_compute (&c, x, n, WKP_RATIONAL (25, 1), 25, &error);
  g_assert_no_error (error);
  assert_all_equal (f, 25 * wkp_feature_config_dim (&c), (float) log (1e-10), 1e-4f);
}

/* DC offset, hard clipping and input shorter than one window are all
 * finite and match the reference. */
static void
test_dc_clipping_short (void)
{
  WkpFeatureConfig c;
  gint64 n = 8000;
  g_autofree float *dc = g_new (float, n);
  g_autofree float *clip = g_new (float, n);
  float tiny[100];

  wkp_feature_config_init_default (&c);
  for (gint64 i = 0; i < n; i++)
    {
      dc[i] = 0.5f;
      clip[i] = (float) CLAMP (5.0 * sin (2 * G_PI * 220 * i / 16000.0), -1.0, 1.0);
    }
  compare_with_reference (&c, dc, n, WKP_RATIONAL (25, 1), 13, "dc");
  compare_with_reference (&c, clip, n, WKP_RATIONAL (25, 1), 13, "clipping");
  for (int i = 0; i < 100; i++)
    tiny[i] = (float) sin (i * 0.3);
  /* 100 samples (6 ms) is shorter than the 25 ms window and than one frame */
  compare_with_reference (&c, tiny, 100, WKP_RATIONAL (25, 1), 1, "shorter-than-window");
  compare_with_reference (&c, tiny, 100, WKP_RATIONAL (30000, 1001), 3, "short-padded-to-3-frames");
}

static void
test_empty (void)
{
  WkpFeatureConfig c;
  g_autoptr(GError) error = NULL;
  g_autofree float *none = NULL, *three = NULL;

  wkp_feature_config_init_default (&c);
  /* no audio and no frames: an empty result, not an error */
  none = wkp_features_compute (&c, NULL, 0, WKP_RATIONAL (25, 1), 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (none);
  /* no audio but frames requested (a silent video): floor values */
  three = wkp_features_compute (&c, NULL, 0, WKP_RATIONAL (25, 1), 3, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (three[0], sqrt (c.n_mels) * log (1e-10), 1e-3);
  /* invalid requests are errors */
  g_assert_null (wkp_features_compute (&c, NULL, 0, WKP_RATIONAL (0, 1), 3, &error));
  g_assert_error (error, WKP_FEATURES_ERROR, WKP_ERROR_INVALID);
}

static void
test_config (void)
{
  WkpFeatureConfig a, b;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *diff = NULL;
  g_autofree char *h1 = NULL, *h2 = NULL;

  wkp_feature_config_init_default (&a);
  g_assert_cmpint (wkp_feature_config_dim (&a), ==, 4 * 13 * 3);
  node = wkp_feature_config_to_json (&a);
  g_assert_true (wkp_feature_config_from_json (node, &b, &error));
  g_assert_no_error (error);
  g_assert_true (wkp_feature_config_equal (&a, &b, "model", "features", NULL));
  h1 = wkp_feature_config_hash (&a);
  b.n_mels = 80;
  h2 = wkp_feature_config_hash (&b);
  g_assert_cmpstr (h1, !=, h2);
  g_assert_false (wkp_feature_config_equal (&a, &b, "model", "features", &diff));
  g_assert_cmpstr (diff, ==, "n_mels: model has 40, features have 80");

  /* the stored row layout says the deltas there are (it said "delta,
   * delta-delta" for none); the keys' text stays one, so that prepared clips
   * and checkpoints keep their identity */
  for (int d = 0; d <= 2; d++)
    {
      g_autoptr(JsonNode) shown = NULL, key = NULL;
      const char *layout, *key_layout;
      b = a;
      b.deltas = d;
      shown = wkp_feature_config_to_json (&b);
      key = wkp_feature_config_to_key_json (&b);
      layout = json_object_get_string_member (json_node_get_object (shown), "row_layout");
      key_layout = json_object_get_string_member (json_node_get_object (key), "row_layout");
      g_test_message ("deltas %d: %s", d, layout);
      g_assert_cmpint (strstr (layout, "delta") != NULL, ==, d >= 1);
      g_assert_cmpint (strstr (layout, "delta-delta") != NULL, ==, d == 2);
      g_assert_cmpstr (key_layout, ==, "per video frame: for each sub-frame [coeffs, delta, delta-delta]");
      json_object_remove_member (json_node_get_object (shown), "row_layout");
      json_object_remove_member (json_node_get_object (key), "row_layout");
      g_assert_true (json_node_equal (shown, key));
    }

  /* invalid settings are refused with the setting named */
  b = a;
  b.n_fft = 300;
  g_assert_false (wkp_feature_config_validate (&b, &error));
  g_assert_nonnull (strstr (error->message, "n_fft"));
  g_clear_error (&error);
  b = a;
  b.window_ms = 100;   /* 1600 samples > n_fft 512 */
  g_assert_false (wkp_feature_config_validate (&b, &error));
  g_assert_nonnull (strstr (error->message, "window_ms"));
  g_clear_error (&error);
  b = a;
  b.fmax = 9000;
  g_assert_false (wkp_feature_config_validate (&b, &error));
  g_assert_nonnull (strstr (error->message, "fmax"));
}

/* An hour of audio at 29.97 fps: one row per frame, and the last row is
 * computed from the end of the audio (not from drifted, padded silence). */
static void
test_hour_rows (void)
{
  WkpFeatureConfig c;
  WkpRational fps = WKP_RATIONAL (30000, 1001);
  gint64 n = (gint64) 3600 * 16000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *f = NULL;
  g_autoptr(GError) error = NULL;
  gint64 frames = wkp_frames_for_samples (n, fps, 16000);

  wkp_feature_config_init_default (&c);
  c.subframes = 1;
  c.deltas = 0;
  /* a tone only in the last 40 ms */
  for (gint64 i = 0; i < n; i++)
    x[i] = i >= n - 640 ? (float) sin (2 * G_PI * 440 * i / 16000.0) : 0.0f;
  g_assert_cmpint (frames, ==, 107893);  /* ceil (3600 * 29.97002997) */
  f = wkp_features_compute (&c, x, n, fps, frames, &error);
  g_assert_no_error (error);
  /* the second to last frame [107891, 107892) ends at 3599.9964 s: its centred
   * window reaches into the tone; the frame before the tone starts is silent */
  g_assert_cmpfloat (f[(frames - 2) * c.n_mfcc], >, sqrt (c.n_mels) * log (1e-10) + 50);
  g_assert_cmpfloat_with_epsilon (f[(frames - 4) * c.n_mfcc], sqrt (c.n_mels) * log (1e-10), 1e-3);
}

/* Frequency warp (VTLP): the matrix equals an independent numpy/scipy
 * construction (tests/features_warp_ref.py, |diff| <= 1e-9), alpha = 1 is the
 * identity, the rows are transformed block by block, and it does what it
 * claims on sound: MFCC of a sound whose partials are moved from f to alpha f
 * are much closer to the warped MFCC of the original than to the original's. */
static void
compare_warp_with_reference (const WkpFeatureConfig *c, double alpha)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *cpath = g_build_filename (dir, "config.json", NULL);
  g_autofree char *opath = g_build_filename (dir, "warp.npy", NULL);
  g_autofree char *a = g_strdup_printf ("%.17g", alpha);
  g_autoptr(JsonNode) cj = wkp_feature_config_to_json (c);
  g_autoptr(GBytes) cb = wkp_json_to_bytes (cj);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpNpy) ref = NULL;
  g_autofree double *M = wkp_features_warp_matrix (c, alpha);
  int Q = wkp_feature_config_coeffs (c);
  double max_err = 0;

  g_assert_nonnull (M);
  if (wkp_test_python ("scipy") == NULL)
    return;
  g_assert_true (wkp_write_file_atomic (cpath, cb, &error));
  {
    const char *args[] = { cpath, a, opath, NULL };
    g_autofree char *out = wkp_test_run_python ("features_warp_ref.py", args);
    (void) out;
  }
  ref = wkp_npy_load (opath, &error);
  g_assert_no_error (error);
  {
    gint64 want[] = { Q, Q };
    g_assert_true (wkp_npy_check (ref, opath, WKP_DTYPE_F64, 2, want, &error));
  }
  for (int i = 0; i < Q * Q; i++)
    max_err = MAX (max_err, fabs (M[i] - ((const double *) ref->data)[i]));
  g_test_message ("warp %s alpha %.3f: max abs difference %.2e", c->kind == WKP_FEATURE_MFCC ? "mfcc" : "logmel",
                  alpha, max_err);
  g_assert_cmpfloat (max_err, <=, 1e-9);
}

static float *
synth_partials (gint64 n, double scale)
{
  float *x = g_new0 (float, n);
  /* 40 partials from 300 to 3200 Hz under a smooth two-formant envelope,
   * all frequencies multiplied by @scale */
  for (int k = 0; k < 40; k++)
    {
      double f = 300.0 + k * (2900.0 / 39.0);
      double amp = exp (-pow ((f - 700) / 250, 2)) + 0.6 * exp (-pow ((f - 2200) / 400, 2)) + 0.02;
      for (gint64 i = 0; i < n; i++)
        x[i] += (float) (0.05 * amp * sin (2 * G_PI * f * scale * i / 16000.0 + k));
    }
  return x;
}

static void
test_warp (void)
{
  WkpFeatureConfig c;
  gint64 n = 16000, frames = 25;
  const double alpha = 1.12;
  g_autofree float *xa = synth_partials (n, 1.0), *xb = synth_partials (n, alpha);
  g_autofree float *fa = NULL, *fb = NULL, *fw = NULL;
  g_autoptr(GError) error = NULL;
  double moved = 0, left = 0;
  int dim, Q;

  wkp_feature_config_init_default (&c);
  compare_warp_with_reference (&c, 0.9);
  compare_warp_with_reference (&c, 1.1);
  {
    WkpFeatureConfig l = c;
    l.kind = WKP_FEATURE_LOGMEL;
    l.n_mels = 24;
    compare_warp_with_reference (&l, 1.07);
  }
  g_assert_null (wkp_features_warp_matrix (&c, 0.4));
  g_assert_null (wkp_features_warp_matrix (&c, NAN));

  /* identity */
  {
    g_autofree double *I = wkp_features_warp_matrix (&c, 1.0);
    for (int i = 0; i < c.n_mfcc; i++)
      for (int j = 0; j < c.n_mfcc; j++)
        g_assert_cmpfloat (fabs (I[i * c.n_mfcc + j] - (i == j)), <, 1e-12);
  }

  /* on sound: static, delta and delta-delta blocks of every sub-frame */
  dim = wkp_feature_config_dim (&c);
  Q = c.n_mfcc;
  fa = wkp_features_compute (&c, xa, n, WKP_RATIONAL (25, 1), frames, &error);
  g_assert_no_error (error);
  fb = wkp_features_compute (&c, xb, n, WKP_RATIONAL (25, 1), frames, &error);
  g_assert_no_error (error);
  fw = g_memdup2 (fa, sizeof (float) * frames * dim);
  {
    g_autofree double *M = wkp_features_warp_matrix (&c, alpha);
    wkp_features_warp_rows (&c, M, fw, frames);
    /* block by block: a delta block is warped exactly like a static one */
    for (int b = 0; b < c.subframes * (1 + c.deltas); b++)
      for (int i = 0; i < Q; i++)
        {
          double s = 0;
          for (int j = 0; j < Q; j++)
            s += M[i * Q + j] * fa[3 * dim + b * Q + j];
          g_assert_cmpfloat (fabs (s - fw[3 * dim + b * Q + i]), <, 1e-4 * (1 + fabs (s)));
        }
  }
  /* c1..c12 of the static blocks, away from the clip edges */
  for (gint64 t = 2; t < frames - 2; t++)
    for (int sub = 0; sub < c.subframes; sub++)
      for (int i = 1; i < Q; i++)
        {
          gint64 k = t * dim + (gint64) sub * Q * (1 + c.deltas) + i;
          moved += pow (fb[k] - fw[k], 2);
          left += pow (fb[k] - fa[k], 2);
        }
  g_test_message ("partials moved by %.2f: distance to the warped features %.2f, to the unwarped %.2f", alpha,
                  sqrt (moved), sqrt (left));
  g_assert_cmpfloat (sqrt (moved), <, 0.5 * sqrt (left));
}

/* Garbage float samples (huge, NaN) give finite features, not NaN/Inf. */
static void
test_garbage_samples (void)
{
  WkpFeatureConfig c;
  gint64 n = 16000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *f = NULL;
  g_autoptr(GError) error = NULL;

  wkp_feature_config_init_default (&c);
  for (gint64 i = 0; i < n; i++)
    x[i] = i % 97 == 0 ? NAN : (i % 2 ? 3e38f : -3e38f);
  f = wkp_features_compute (&c, x, n, WKP_RATIONAL (25, 1), 25, &error);
  g_assert_no_error (error);
  for (gint64 i = 0; i < 25 * wkp_feature_config_dim (&c); i++)
    g_assert_true (isfinite (f[i]));
}

/* The pre-emphasis is applied window by window (x[-1] = 0), with the
 * arithmetic it had over a pre-emphasised copy of the whole signal: features
 * of the audio are bit for bit those of that copy with pre-emphasis off. */
static void
test_preemphasis_in_place (void)
{
  WkpFeatureConfig c, off;
  gint64 n = 16000 * 3 + 123;
  g_autofree float *a = g_new (float, n), *x = g_new (float, n);
  g_autofree float *fa = NULL, *fx = NULL;
  g_autoptr(GError) error = NULL;
  gint64 frames = wkp_frames_for_samples (n, WKP_RATIONAL (25, 1), 16000);

  wkp_feature_config_init_default (&c);
  off = c;
  off.preemphasis = 0;
  wkp_test_random_fill (a, n, -0.9f, 0.9f);
  for (gint64 i = 0; i < n; i++)
    x[i] = (float) (a[i] - (i > 0 ? c.preemphasis * a[i - 1] : 0.0));
  fa = wkp_features_compute (&c, a, n, WKP_RATIONAL (25, 1), frames, &error);
  g_assert_no_error (error);
  fx = wkp_features_compute (&off, x, n, WKP_RATIONAL (25, 1), frames, &error);
  g_assert_no_error (error);
  g_assert_true (memcmp (fa, fx, frames * wkp_feature_config_dim (&c) * sizeof (float)) == 0);
}

/* Computing features holds nothing the size of the audio: the pre-emphasised
 * copy of the whole signal it used to make doubled the memory of long audio
 * (537 MB for an hour at 16 kHz). Measured as the rise of the peak resident
 * set over 10 minutes of audio: the rows and small buffers only. */
static void
test_memory (void)
{
  WkpFeatureConfig c;
  gint64 n = (gint64) 600 * 16000, audio_bytes = n * (gint64) sizeof (float);
  g_autofree float *x = g_new (float, n);
  g_autofree float *f = NULL;
  g_autoptr(GError) error = NULL;
  gint64 frames = wkp_frames_for_samples (n, WKP_RATIONAL (25, 1), 16000), rows_bytes, before, rise;

  wkp_feature_config_init_default (&c);
  rows_bytes = frames * wkp_feature_config_dim (&c) * (gint64) sizeof (float);
  wkp_test_random_fill (x, n, -0.5f, 0.5f);   /* every page of the audio resident */
  if ((before = wkp_test_peak_reset ()) < 0)
    {
      g_test_skip ("no /proc/self/clear_refs to measure the peak resident set");
      return;
    }
  f = wkp_features_compute (&c, x, n, WKP_RATIONAL (25, 1), frames, &error);
  g_assert_no_error (error);
  rise = wkp_test_peak_rss () - before;
  g_test_message ("audio %" G_GINT64_FORMAT " bytes, rows %" G_GINT64_FORMAT " bytes, peak rose by %"
                  G_GINT64_FORMAT " bytes", audio_bytes, rows_bytes, rise);
  g_assert_cmpint (rise, <, rows_bytes + audio_bytes / 2);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/features/reference/synthetic", test_reference_synthetic);
  g_test_add_func ("/features/reference/real-mpg", test_reference_real);
  g_test_add_func ("/features/silence", test_silence);
  g_test_add_func ("/features/dc-clipping-short", test_dc_clipping_short);
  g_test_add_func ("/features/empty", test_empty);
  g_test_add_func ("/features/config", test_config);
  g_test_add_func ("/features/hour-rows", test_hour_rows);
  g_test_add_func ("/features/warp", test_warp);
  g_test_add_func ("/features/garbage-samples", test_garbage_samples);
  g_test_add_func ("/features/preemphasis-in-place", test_preemphasis_in_place);
  g_test_add_func ("/features/memory", test_memory);
  return g_test_run ();
}
