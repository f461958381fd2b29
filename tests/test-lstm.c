/* LSTM inference: fast path (OpenBLAS) vs PyTorch, vs the scalar reference,
 * and streaming vs whole-utterance.
 *
 * Tolerances (how they are measured): err = max_i |ours_i - theirs_i| /
 * max_i |theirs_i| over all outputs of a sequence (relative to the output
 * scale, so near-zero elements don't blow up the ratio).
 *   fast float32 vs torch float32 .............. err <= 1e-5
 *   reference (double accumulation, float32 output) vs torch float64 with the
 *   same weights ................................ err <= 1e-6 (output rounding)
 *   fast vs reference ........................... err <= 1e-5
 *   streaming vs whole-utterance ................ err <= 5e-6 (sgemm blocking differs by chunk)
 */
#include "wkp-lstm.h"
#include "wkp-npy.h"
#include "wkp-error.h"
#include "wkp-test-util.h"

#include <math.h>
#include <string.h>

static WkpLstm *
random_lstm (int input, int hidden, int layers, gboolean bidir, int output, float scale)
{
  WkpLstm *lstm = wkp_lstm_new (input, hidden, layers, bidir, output);
  int dirs = bidir ? 2 : 1;
  for (int l = 0; l < layers; l++)
    for (int d = 0; d < dirs; d++)
      {
        gsize in = (gsize) wkp_lstm_layer_input (lstm, l);
        wkp_test_random_fill (lstm->w_ih[l][d], 4 * (gsize) hidden * in, -scale, scale);
        wkp_test_random_fill (lstm->w_hh[l][d], 4 * (gsize) hidden * hidden, -scale, scale);
        wkp_test_random_fill (lstm->b_ih[l][d], 4 * (gsize) hidden, -scale, scale);
        wkp_test_random_fill (lstm->b_hh[l][d], 4 * (gsize) hidden, -scale, scale);
      }
  wkp_test_random_fill (lstm->head_w, (gsize) output * hidden * dirs, -scale, scale);
  wkp_test_random_fill (lstm->head_b, (gsize) output, -scale, scale);
  return lstm;
}

static double
rel_err (const float *ours, const void *theirs, gboolean theirs_f64, gsize n)
{
  double num = 0, den = 0;
  for (gsize i = 0; i < n; i++)
    {
      double t = theirs_f64 ? ((const double *) theirs)[i] : ((const float *) theirs)[i];
      num = MAX (num, fabs ((double) ours[i] - t));
      den = MAX (den, fabs (t));
    }
  return den > 0 ? num / den : num;
}

static void
save_tensor (const char *dir, const char *name, int ndim, const gint64 *shape, const float *data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strdup_printf ("%s.npy", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_assert_true (wkp_npy_save (path, WKP_DTYPE_F32, ndim, shape, data, &error));
  g_assert_no_error (error);
}

typedef struct {
  int       layers, hidden;
  gboolean  bidir;
  gint64    T;
  char     *dir;
  WkpLstm  *lstm;
  float    *x;
  char      a_layers[8], a_hidden[8];
} TorchCase;

static void
prepare_case (TorchCase *tc)
{
  const int input = 20, output = 7;
  int dirs = tc->bidir ? 2 : 1;

  tc->T = g_test_rand_int_range (100, 260);
  tc->dir = wkp_test_tmpdir ();
  tc->lstm = random_lstm (input, tc->hidden, tc->layers, tc->bidir, output, 0.6f);
  tc->x = g_new (float, tc->T * input);
  wkp_test_random_fill (tc->x, tc->T * input, -1.5f, 1.5f);
  {
    gint64 shape[] = { tc->T, input };
    save_tensor (tc->dir, "x", 2, shape, tc->x);
  }
  for (int l = 0; l < tc->layers; l++)
    for (int d = 0; d < dirs; d++)
      {
        gint64 in = wkp_lstm_layer_input (tc->lstm, l), H = tc->hidden;
        gint64 s_ih[] = { 4 * H, in }, s_hh[] = { 4 * H, H }, s_b[] = { 4 * H };
        g_autofree char *n1 = wkp_lstm_tensor_name ("weight_ih", l, d);
        g_autofree char *n2 = wkp_lstm_tensor_name ("weight_hh", l, d);
        g_autofree char *n3 = wkp_lstm_tensor_name ("bias_ih", l, d);
        g_autofree char *n4 = wkp_lstm_tensor_name ("bias_hh", l, d);
        save_tensor (tc->dir, n1, 2, s_ih, tc->lstm->w_ih[l][d]);
        save_tensor (tc->dir, n2, 2, s_hh, tc->lstm->w_hh[l][d]);
        save_tensor (tc->dir, n3, 1, s_b, tc->lstm->b_ih[l][d]);
        save_tensor (tc->dir, n4, 1, s_b, tc->lstm->b_hh[l][d]);
      }
  {
    gint64 s_w[] = { output, tc->hidden * dirs }, s_b[] = { output };
    save_tensor (tc->dir, "head.weight", 2, s_w, tc->lstm->head_w);
    save_tensor (tc->dir, "head.bias", 1, s_b, tc->lstm->head_b);
  }
  g_snprintf (tc->a_layers, sizeof tc->a_layers, "%d", tc->layers);
  g_snprintf (tc->a_hidden, sizeof tc->a_hidden, "%d", tc->hidden);
}

static void
check_case (TorchCase *tc)
{
  const int output = 7;
  gint64 T = tc->T;
  g_autofree float *y = g_new (float, T * output);
  g_autofree float *yref = g_new (float, T * output);
  g_autofree char *p32 = g_build_filename (tc->dir, "y32.npy", NULL);
  g_autofree char *p64 = g_build_filename (tc->dir, "y64.npy", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpNpy) y32 = NULL, y64 = NULL;
  gint64 shape[] = { T, output };
  double e32, e64;

  g_assert_true (wkp_lstm_forward (tc->lstm, tc->x, T, y, 1, &error));
  g_assert_no_error (error);
  g_assert_true (wkp_lstm_forward_ref (tc->lstm, tc->x, T, yref, &error));
  g_assert_no_error (error);
  y32 = wkp_npy_load (p32, &error);
  g_assert_no_error (error);
  y64 = wkp_npy_load (p64, &error);
  g_assert_no_error (error);
  g_assert_true (wkp_npy_check (y32, p32, WKP_DTYPE_F32, 2, shape, &error));
  g_assert_true (wkp_npy_check (y64, p64, WKP_DTYPE_F64, 2, shape, &error));
  e32 = rel_err (y, y32->data, FALSE, T * output);
  e64 = rel_err (yref, y64->data, TRUE, T * output);
  g_test_message ("%dx%d %s T=%" G_GINT64_FORMAT ": fast vs torch f32 %.2e, ref vs torch f64 %.2e",
                  tc->layers, tc->hidden, tc->bidir ? "bi" : "uni", T, e32, e64);
  g_assert_cmpfloat (e32, <=, 1e-5);
  g_assert_cmpfloat (e64, <=, 1e-6);
}

/* 1x16 unidirectional, 2x32 bidirectional, 3x8 unidirectional: one python
 * run for all three (the torch import dominates the test's time). */
static void
test_torch (void)
{
  TorchCase cases[] = { { 1, 16, FALSE }, { 2, 32, TRUE }, { 3, 8, FALSE } };
  const char *args[3 * 4 + 1];
  int n = 0;

  if (wkp_test_python ("torch") == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      prepare_case (&cases[i]);
      args[n++] = cases[i].dir;
      args[n++] = cases[i].a_layers;
      args[n++] = cases[i].a_hidden;
      args[n++] = cases[i].bidir ? "1" : "0";
    }
  args[n] = NULL;
  g_free (wkp_test_run_python ("lstm_torch.py", args));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      check_case (&cases[i]);
      g_free (cases[i].dir);
      g_free (cases[i].x);
      wkp_lstm_free (cases[i].lstm);
    }
}

/* Block boundaries of the fast path (512 steps) and tiny lengths. */
static void
test_fast_vs_ref_lengths (void)
{
  const gint64 lengths[] = { 0, 1, 2, 511, 512, 513, 1100 };
  g_autoptr(WkpLstm) lstm = random_lstm (11, 12, 2, TRUE, 5, 0.5f);
  g_autoptr(GError) error = NULL;

  for (guint k = 0; k < G_N_ELEMENTS (lengths); k++)
    {
      gint64 T = lengths[k];
      g_autofree float *x = g_new (float, MAX (T, 1) * 11);
      g_autofree float *y = g_new (float, MAX (T, 1) * 5);
      g_autofree float *yref = g_new (float, MAX (T, 1) * 5);
      wkp_test_random_fill (x, T * 11, -1, 1);
      g_assert_true (wkp_lstm_forward (lstm, x, T, y, 1, &error));
      g_assert_true (wkp_lstm_forward_ref (lstm, x, T, yref, &error));
      g_assert_no_error (error);
      if (T > 0)
        g_assert_cmpfloat (rel_err (y, yref, FALSE, T * 5), <=, 1e-5);
      /* two threads: the directions run concurrently, same result */
      g_assert_true (wkp_lstm_forward (lstm, x, T, y, 2, &error));
      g_assert_no_error (error);
      if (T > 0)
        g_assert_cmpfloat (rel_err (y, yref, FALSE, T * 5), <=, 1e-5);
    }
}

/* The packed path (T >= 64 steps) in every shape it handles: hidden sizes
 * that are and are not multiples of its 8-unit panels (a padded last
 * panel), one and two threads (two: a unidirectional layer's units split
 * between threads meeting once per step; bidirectional: one thread per
 * direction), block boundaries, and the context-window input, each against
 * the double-precision reference. */
static void
test_packed_paths (void)
{
  const struct { int layers, hidden; gboolean bidir; } shapes[] = {
    { 1, 8, FALSE }, { 3, 20, FALSE }, { 2, 64, FALSE }, { 1, 5, FALSE }, { 2, 13, TRUE }, { 1, 24, TRUE },
  };
  const gint64 lengths[] = { 63, 64, 65, 600 };
  const int input = 9, output = 3;
  g_autoptr(GError) error = NULL;

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autoptr(WkpLstm) lstm = random_lstm (input, shapes[s].hidden, shapes[s].layers, shapes[s].bidir, output, 0.5f);
      for (guint k = 0; k < G_N_ELEMENTS (lengths); k++)
        {
          gint64 T = lengths[k];
          g_autofree float *x = g_new (float, T * input);
          g_autofree float *yref = g_new (float, T * output), *y = g_new (float, T * output);
          wkp_test_random_fill (x, T * input, -1, 1);
          g_assert_true (wkp_lstm_forward_ref (lstm, x, T, yref, &error));
          for (int threads = 1; threads <= 2; threads++)
            {
              double e;
              g_assert_true (wkp_lstm_forward (lstm, x, T, y, threads, &error));
              g_assert_no_error (error);
              e = rel_err (y, yref, FALSE, T * output);
              if (e > 1e-5)
                g_error ("%dx%d %s T=%" G_GINT64_FORMAT " threads=%d: relative error %.2e", shapes[s].layers,
                         shapes[s].hidden, shapes[s].bidir ? "bi" : "uni", T, threads, e);
            }
        }
    }
  /* the context-window input on the split path: 3 x 3 columns, context 1 */
  {
    const gint64 T = 700;
    g_autoptr(WkpLstm) lstm = random_lstm (9, 40, 2, FALSE, output, 0.5f);
    g_autofree float *x = g_new (float, T * 3), *st = g_new (float, T * 9);
    g_autofree float *y1 = g_new (float, T * output), *y2 = g_new (float, T * output);
    wkp_test_random_fill (x, T * 3, -1, 1);
    for (gint64 t = 0; t < T; t++)
      for (int j = -1; j <= 1; j++)
        memcpy (st + t * 9 + (j + 1) * 3, x + CLAMP (t + j, 0, T - 1) * 3, sizeof (float) * 3);
    g_assert_true (wkp_lstm_forward_ref (lstm, st, T, y1, &error));
    g_assert_true (wkp_lstm_forward_context (lstm, x, T, 1, T, y2, 2, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (rel_err (y2, y1, FALSE, T * output), <=, 1e-5);
  }
}


/* Context windows without the stacked copy equal the stacked input. */
static void
test_forward_context (void)
{
  const int dim = 7;
  const struct { int context; gint64 T, steps; gboolean bidir; } c[] = {
    { 0, 50, 50, FALSE }, { 2, 1, 1, FALSE }, { 2, 1, 4, TRUE }, { 1, 600, 603, FALSE }, { 3, 40, 42, TRUE },
  };
  g_autoptr(GError) error = NULL;

  for (guint k = 0; k < G_N_ELEMENTS (c); k++)
    {
      int ctx = c[k].context, in = dim * (2 * ctx + 1);
      g_autoptr(WkpLstm) lstm = random_lstm (in, 9, 2, c[k].bidir, 4, 0.5f);
      g_autofree float *x = g_new (float, c[k].T * dim);
      g_autofree float *st = g_new (float, c[k].steps * in);
      g_autofree float *y1 = g_new (float, c[k].steps * 4), *y2 = g_new (float, c[k].steps * 4);

      wkp_test_random_fill (x, c[k].T * dim, -1, 1);
      for (gint64 t = 0; t < c[k].steps; t++)
        for (int j = -ctx; j <= ctx; j++)
          memcpy (st + t * in + (j + ctx) * dim, x + CLAMP (t + j, 0, c[k].T - 1) * dim, sizeof (float) * dim);
      g_assert_true (wkp_lstm_forward (lstm, st, c[k].steps, y1, 1, &error));
      g_assert_true (wkp_lstm_forward_context (lstm, x, c[k].T, ctx, c[k].steps, y2, 1, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (rel_err (y2, y1, FALSE, c[k].steps * 4), <=, 1e-5);
    }
}

/* A bidirectional layer's reverse direction sees the future: changing the
 * last input changes the first output (a check that the reverse pass runs),
 * while for a unidirectional model it leaves earlier outputs bit-identical. */
static void
test_causality (void)
{
  const gint64 T = 40;
  g_autoptr(WkpLstm) uni = random_lstm (6, 10, 2, FALSE, 3, 0.5f);
  g_autoptr(WkpLstm) bi = random_lstm (6, 10, 2, TRUE, 3, 0.5f);
  float x[40 * 6], y1[40 * 3], y2[40 * 3];
  g_autoptr(GError) error = NULL;

  wkp_test_random_fill (x, G_N_ELEMENTS (x), -1, 1);
  g_assert_true (wkp_lstm_forward (uni, x, T, y1, 1, &error));
  x[(T - 1) * 6] += 1.0f;
  g_assert_true (wkp_lstm_forward (uni, x, T, y2, 1, &error));
  g_assert_cmpmem (y1, sizeof (float) * (T - 1) * 3, y2, sizeof (float) * (T - 1) * 3);
  /* 6 steps: the influence must not vanish below float resolution on the way back */
  g_assert_true (wkp_lstm_forward (bi, x, 6, y1, 1, &error));
  x[5 * 6] += 2.0f;
  g_assert_true (wkp_lstm_forward (bi, x, 6, y2, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (fabsf (y1[0] - y2[0]) + fabsf (y1[1] - y2[1]) + fabsf (y1[2] - y2[2]), >, 0.0f);
}

static void
test_stream_equals_whole (void)
{
  const gint64 T = 1500;
  const int input = 9, output = 4;
  g_autoptr(WkpLstm) lstm = random_lstm (input, 24, 3, FALSE, output, 0.5f);
  g_autofree float *x = g_new (float, T * input);
  g_autofree float *y = g_new (float, T * output);
  g_autofree float *ys = g_new (float, T * output);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpLstmStream) st = wkp_lstm_stream_new (lstm, 1, &error);
  gint64 done = 0;
  double err;

  g_assert_no_error (error);
  wkp_test_random_fill (x, T * input, -1, 1);
  g_assert_true (wkp_lstm_forward (lstm, x, T, y, 1, &error));
  /* chunks: 0, 1, then random sizes including ones longer than a block */
  g_assert_true (wkp_lstm_stream_push (st, x, 0, ys, &error));
  while (done < T)
    {
      gint64 r = g_test_rand_int_range (0, 700);
      gint64 n = done == 0 ? 1 : MIN (T - done, r);
      g_assert_true (wkp_lstm_stream_push (st, x + done * input, n, ys + done * output, &error));
      g_assert_no_error (error);
      done += n;
    }
  err = rel_err (ys, y, FALSE, T * output);
  g_test_message ("stream vs whole: %.2e", err);
  g_assert_cmpfloat (err, <=, 5e-6);

  /* reset starts over */
  wkp_lstm_stream_reset (st);
  g_assert_true (wkp_lstm_stream_push (st, x, 50, ys, &error));
  g_assert_cmpfloat (rel_err (ys, y, FALSE, 50 * output), <=, 1e-6);
}

static void
test_stream_bidir_refused (void)
{
  g_autoptr(WkpLstm) lstm = random_lstm (3, 4, 1, TRUE, 2, 0.5f);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpLstmStream) st = wkp_lstm_stream_new (lstm, 1, &error);
  g_assert_null (st);
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "bidirectional"));
}

static void
test_check_finite (void)
{
  g_autoptr(WkpLstm) lstm = random_lstm (3, 4, 2, TRUE, 2, 0.5f);
  g_autoptr(GError) error = NULL;

  g_assert_true (wkp_lstm_check_finite (lstm, &error));
  g_assert_no_error (error);
  lstm->w_hh[1][1][5] = NAN;
  g_assert_false (wkp_lstm_check_finite (lstm, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "lstm.weight_hh_l1_reverse"));
  g_assert_nonnull (strstr (error->message, "NaN"));
  g_clear_error (&error);
  lstm->w_hh[1][1][5] = 0;
  lstm->head_b[1] = INFINITY;
  g_assert_false (wkp_lstm_check_finite (lstm, &error));
  g_assert_nonnull (strstr (error->message, "head.bias"));
}

/* Parameter count equals the sum of the tensor sizes torch would have:
 * computed here independently from the tensor shapes. */
static void
test_n_params (void)
{
  g_autoptr(WkpLstm) lstm = wkp_lstm_new (30, 16, 2, TRUE, 5);
  gsize want = 0;
  /* layer 0: 2 dirs * (64*30 + 64*16 + 64 + 64); layer 1: 2 * (64*32 + 64*16 + 128); head 5*32+5 */
  want += 2 * (64 * 30 + 64 * 16 + 128);
  want += 2 * (64 * 32 + 64 * 16 + 128);
  want += 5 * 32 + 5;
  g_assert_cmpuint (wkp_lstm_n_params (lstm), ==, want);
}

/* The kernel that the other tests exercise: AVX-512 where the CPU has it
 * (the `lstm` run), never with WKP_LSTM_NO_AVX512 (the `lstm-avx2` run). */
static void
test_kernel (void)
{
  const char *name = wkp_lstm_kernel_name ();
  g_test_message ("recurrence kernel: %s", name);
  __builtin_cpu_init ();
  if (g_getenv ("WKP_LSTM_NO_AVX512") != NULL)
    g_assert_cmpstr (name, !=, "avx512");
  else if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512vl"))
    g_assert_cmpstr (name, ==, "avx512");
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lstm/kernel", test_kernel);
  g_test_add_func ("/lstm/torch", test_torch);
  g_test_add_func ("/lstm/fast-vs-ref-lengths", test_fast_vs_ref_lengths);
  g_test_add_func ("/lstm/causality", test_causality);
  g_test_add_func ("/lstm/forward-context", test_forward_context);
  g_test_add_func ("/lstm/packed-paths", test_packed_paths);
  g_test_add_func ("/lstm/stream-equals-whole", test_stream_equals_whole);
  g_test_add_func ("/lstm/stream-bidir-refused", test_stream_bidir_refused);
  g_test_add_func ("/lstm/check-finite", test_check_finite);
  g_test_add_func ("/lstm/n-params", test_n_params);
  return g_test_run ();
}
