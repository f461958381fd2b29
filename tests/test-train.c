/* Training: gradients by finite differences, the training forward against the
 * inference reference, overfitting, determinism and exact resume. */
#include "wkp-lstm.h"
#include "wkp-train-net.h"
#include "wkp-test-util.h"

#include <math.h>
#include <string.h>

/* ---- gradient check ------------------------------------------------------ */

static double
loss_f64 (WkpNetWsF64 *ws, const double *p, const double *x, const double *z, const double *mask, int T, int B,
          int K, const double *w, double vel, double *y)
{
  wkp_net_forward_f64 (ws, p, x, T, B, y);
  return wkp_net_loss_f64 (y, z, mask, T, B, K, w, vel, NULL);
}

static double
loss_f32 (WkpNetWsF32 *ws, const float *p, const float *x, const float *z, const float *mask, int T, int B,
          int K, const float *w, double vel, float *y)
{
  wkp_net_forward_f32 (ws, p, x, T, B, y);
  return wkp_net_loss_f32 (y, z, mask, T, B, K, w, vel, NULL);
}

/* Checks every entry of every parameter tensor; the relative error of a
 * tensor is |g_fd - g| / (|g_fd| + |g|) over its entries (L2 norms). */
static void
gradcheck (const WkpNetShape *shape, gboolean f64)
{
  const int T = 6, B = 3, K = shape->output_size, in = shape->input_size;
  const gsize n = wkp_net_n_params (shape);
  const double vel = 0.5;
  g_autofree double *p = g_new (double, n);
  g_autofree double *g = g_new (double, n);
  g_autofree double *x = g_new (double, T * B * in);
  g_autofree double *z = g_new (double, T * B * K);
  g_autofree double *y = g_new (double, T * B * K);
  g_autofree double *dy = g_new (double, T * B * K);
  g_autofree double *mask = g_new (double, T * B);
  g_autofree double *w = g_new (double, K);
  for (gsize i = 0; i < n; i++)
    p[i] = g_test_rand_double_range (-0.6, 0.6);
  for (int i = 0; i < T * B * in; i++)
    x[i] = g_test_rand_double_range (-1.5, 1.5);
  for (int i = 0; i < T * B * K; i++)
    z[i] = g_test_rand_double_range (-1, 1);
  for (int i = 0; i < T * B; i++)
    mask[i] = (i % 5 == 3) ? 0.0 : 1.0;
  for (int k = 0; k < K; k++)
    w[k] = 0.5 + k;

  /* float copies */
  g_autofree float *pf = g_new (float, n), *gf = g_new (float, n), *xf = g_new (float, T * B * in);
  g_autofree float *zf = g_new (float, T * B * K), *yf = g_new (float, T * B * K), *dyf = g_new (float, T * B * K);
  g_autofree float *mf = g_new (float, T * B), *wf = g_new (float, K);
  for (gsize i = 0; i < n; i++)
    pf[i] = (float) p[i];
  for (int i = 0; i < T * B * in; i++)
    xf[i] = (float) x[i];
  for (int i = 0; i < T * B * K; i++)
    zf[i] = (float) z[i];
  for (int i = 0; i < T * B; i++)
    mf[i] = (float) mask[i];
  for (int k = 0; k < K; k++)
    wf[k] = (float) w[k];

  g_autoptr(WkpNetWsF64) ws = wkp_net_ws_new_f64 (shape, T * B);
  g_autoptr(WkpNetWsF32) wsf = wkp_net_ws_new_f32 (shape, T * B);
  if (f64)
    {
      wkp_net_forward_f64 (ws, p, x, T, B, y);
      wkp_net_loss_f64 (y, z, mask, T, B, K, w, vel, dy);
      wkp_net_backward_f64 (ws, p, x, dy, g);
    }
  else
    {
      wkp_net_forward_f32 (wsf, pf, xf, T, B, yf);
      wkp_net_loss_f32 (yf, zf, mf, T, B, K, wf, vel, dyf);
      wkp_net_backward_f32 (wsf, pf, xf, dyf, gf);
    }

  for (int t = 0; t < wkp_net_n_tensors (shape); t++)
    {
      gsize off, size;
      char name[64];
      wkp_net_tensor_info (shape, t, &off, &size, name);
      double num = 0.0, den_fd = 0.0, den_an = 0.0;
      for (gsize i = off; i < off + size; i++)
        {
          double fd, an;
          if (f64)
            {
              const double eps = 1e-6, keep = p[i];
              p[i] = keep + eps;
              double lp = loss_f64 (ws, p, x, z, mask, T, B, K, w, vel, y);
              p[i] = keep - eps;
              double lm = loss_f64 (ws, p, x, z, mask, T, B, K, w, vel, y);
              p[i] = keep;
              fd = (lp - lm) / (2 * eps);
              an = g[i];
            }
          else
            {
              const float eps = 1e-2f, keep = pf[i];
              pf[i] = keep + eps;
              double lp = loss_f32 (wsf, pf, xf, zf, mf, T, B, K, wf, vel, yf);
              pf[i] = keep - eps;
              double lm = loss_f32 (wsf, pf, xf, zf, mf, T, B, K, wf, vel, yf);
              pf[i] = keep;
              fd = (lp - lm) / (2.0 * eps);
              an = gf[i];
            }
          num += (fd - an) * (fd - an);
          den_fd += fd * fd;
          den_an += an * an;
        }
      double rel = sqrt (num) / MAX (sqrt (den_fd) + sqrt (den_an), 1e-30);
      g_test_message ("%s %s: %zu entries, |g| %.3g, relative error %.3g", f64 ? "f64" : "f32", name, size,
                      sqrt (den_an), rel);
      /* a gradient that is identically zero would pass trivially: refuse it */
      g_assert_cmpfloat (sqrt (den_an), >, 1e-6);
      g_assert_cmpfloat (rel, <, f64 ? 1e-3 : 1e-2);
    }
}

static void
test_gradcheck_f64_uni (void)
{
  WkpNetShape s = { 4, 5, 2, FALSE, 3 };
  gradcheck (&s, TRUE);
}

static void
test_gradcheck_f64_bi (void)
{
  WkpNetShape s = { 3, 4, 2, TRUE, 2 };
  gradcheck (&s, TRUE);
}

static void
test_gradcheck_f32 (void)
{
  WkpNetShape s = { 4, 5, 2, FALSE, 3 };
  gradcheck (&s, FALSE);
  WkpNetShape sb = { 3, 4, 1, TRUE, 2 };
  gradcheck (&sb, FALSE);
}

/* The training forward (batched, BLAS) on a flat vector equals the inference
 * reference of the model module on the same weights copied into a WkpLstm. */
static void
test_forward_matches_inference (void)
{
  const WkpNetShape shapes[] = { { 7, 16, 2, FALSE, 5 }, { 6, 8, 2, TRUE, 4 }, { 5, 12, 1, FALSE, 3 } };
  for (guint si = 0; si < G_N_ELEMENTS (shapes); si++)
    {
      const WkpNetShape *s = &shapes[si];
      const int T = 37, B = 3;
      const gsize n = wkp_net_n_params (s);
      g_autofree float *p = g_new (float, n);
      g_autofree float *x = g_new (float, T * B * s->input_size);
      g_autofree float *y = g_new (float, T * B * s->output_size);
      g_autofree float *xs = g_new (float, T * s->input_size);
      g_autofree float *yr = g_new (float, T * s->output_size);
      g_autoptr(GError) error = NULL;
      wkp_test_random_fill (p, n, -0.4f, 0.4f);
      wkp_test_random_fill (x, T * B * s->input_size, -2.0f, 2.0f);
      g_autoptr(WkpLstm) lstm = wkp_lstm_new (s->input_size, s->hidden_size, s->num_layers, s->bidirectional,
                                              s->output_size);
      g_assert_cmpuint (wkp_lstm_n_params (lstm), ==, n);
      wkp_net_to_lstm (s, p, lstm);
      g_autofree float *back = g_new (float, n);
      wkp_net_from_lstm (lstm, back);
      g_assert_cmpmem (back, n * sizeof (float), p, n * sizeof (float));

      g_autoptr(WkpNetWsF32) ws = wkp_net_ws_new_f32 (s, T * B);
      wkp_net_forward_f32 (ws, p, x, T, B, y);
      for (int b = 0; b < B; b++)
        {
          for (int t = 0; t < T; t++)
            memcpy (xs + t * s->input_size, x + ((gsize) t * B + b) * s->input_size, sizeof (float) * s->input_size);
          g_assert_true (wkp_lstm_forward_ref (lstm, xs, T, yr, &error));
          g_assert_no_error (error);
          /* tolerance: 1e-5 absolute + relative (float32 vs double-accumulated reference) */
          for (int t = 0; t < T; t++)
            for (int k = 0; k < s->output_size; k++)
              {
                float a = y[((gsize) t * B + b) * s->output_size + k], r = yr[t * s->output_size + k];
                g_assert_cmpfloat (fabsf (a - r), <=, 1e-5f * (1.0f + fabsf (r)));
              }
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/gradcheck/f64-unidirectional", test_gradcheck_f64_uni);
  g_test_add_func ("/train/gradcheck/f64-bidirectional", test_gradcheck_f64_bi);
  g_test_add_func ("/train/gradcheck/f32", test_gradcheck_f32);
  g_test_add_func ("/train/forward-matches-inference", test_forward_matches_inference);
  return g_test_run ();
}
