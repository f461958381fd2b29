/* Training: gradients by finite differences, the training forward against the
 * inference reference, overfitting, determinism and exact resume. */
#include "wkp-lstm.h"
#include "wkp-model.h"
#include "wkp-train-net.h"
#include "wkp-metrics.h"
#include "wkp-train.h"
#include "wkp-train-log.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>

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

/* ---- synthetic corpora ----------------------------------------------------- */

/* Features: smooth random curves. The mouth opens with a delayed, squashed
 * function of feature 0 (plus a speaker-specific mouth width and offset, which
 * identity removal should take out), so the mapping is learnable with the
 * default delay/context. */
static WkpTrainData *
synthetic_data (int n_speakers, int clips_per_speaker, int frames, guint32 seed)
{
  WkpFeatureConfig fc;
  wkp_feature_config_init_default (&fc);
  fc.subframes = 1;
  fc.n_mfcc = 4;
  fc.deltas = 0;
  const int D = wkp_feature_config_dim (&fc);
  g_assert_cmpint (D, ==, 4);
  WkpTrainData *data = wkp_train_data_new (&fc, WKP_RATIONAL (25, 1));
  GRand *rand = g_rand_new_with_seed (seed);
  const float *canon = wkp_face_canonical ();
  for (int s = 0; s < n_speakers; s++)
    {
      g_autofree char *spk = g_strdup_printf ("spk%d", s);
      WkpSplit split = s == n_speakers - 1 && n_speakers > 2 ? WKP_SPLIT_TEST
                       : s == n_speakers - 2 && n_speakers > 2 ? WKP_SPLIT_VAL : WKP_SPLIT_TRAIN;
      double width = 1.0 + 0.1 * s, lift = 0.02 * s;
      for (int c = 0; c < clips_per_speaker; c++)
        {
          g_autofree char *name = g_strdup_printf ("%s/clip%d.mp4", spk, c);
          float *f = g_new (float, frames * D);
          float *t = g_new (float, frames * WKP_N_LANDMARKS * 2);
          double state[4] = { 0 };
          for (int i = 0; i < frames; i++)
            for (int j = 0; j < D; j++)
              {
                state[j] = 0.8 * state[j] + g_rand_double_range (rand, -1, 1);
                f[i * D + j] = (float) (state[j] * (j + 1) + 3.0);
              }
          for (int i = 0; i < frames; i++)
            {
              int src = MAX (i - 1, 0);
              double open = 0.08 * (1.0 + tanh (0.7 * (f[src * D] - 3.0)));
              float *pt = t + i * WKP_N_LANDMARKS * 2;
              for (int k = 0; k < WKP_N_LANDMARKS; k++)
                {
                  pt[2 * k] = canon[2 * k];
                  pt[2 * k + 1] = canon[2 * k + 1];
                }
              for (int k = WKP_MOUTH_FIRST; k < WKP_N_LANDMARKS; k++)
                {
                  double cx = canon[2 * 51];
                  pt[2 * k] = (float) (cx + width * (canon[2 * k] - cx));
                  double lower = (k >= 55 && k <= 59) || (k >= 64 && k <= 67) ? 1.0 : 0.0;
                  pt[2 * k + 1] = (float) (canon[2 * k + 1] + lift + lower * open);
                }
              if (i % 17 == 5)   /* a missing face now and then */
                for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
                  pt[k] = NAN;
            }
          wkp_train_data_add_clip (data, name, spk, split, frames, f, t);
        }
    }
  g_rand_free (rand);
  return data;
}

static void
small_params (WkpTrainParams *p)
{
  wkp_train_params_init_default (p);
  p->hidden_size = 12;
  p->n_components = 4;
  p->context = 1;
  p->delay = 1;
  p->batch_size = 4;
  p->window = 24;
  p->warmup = 4;
  p->steps_per_epoch = 8;
  p->max_epochs = 6;
  p->lr_warmup_steps = 5;
  p->patience = 0;
}

typedef struct {
  double first, last;
  int n;
} LossTrace;

static void
trace_epoch (const WkpTrainEpoch *e, gpointer user_data)
{
  LossTrace *t = user_data;
  if (t->n++ == 0)
    t->first = e->train_loss;
  t->last = e->train_loss;
}

static float *
model_weights (const char *path, gsize *n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) m = wkp_model_load (path, &error);
  g_assert_no_error (error);
  WkpNetShape s;
  wkp_net_shape_of_lstm (m->lstm, &s);
  *n = wkp_net_n_params (&s);
  float *w = g_new (float, *n);
  wkp_net_from_lstm (m->lstm, w);
  return w;
}

static void
test_overfit_tiny (void)
{
  g_autoptr(WkpTrainData) data = synthetic_data (1, 2, 48, 7);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autoptr(GError) error = NULL;
  WkpTrainParams p;
  small_params (&p);
  p.hidden_size = 24;
  p.window = 49;
  p.warmup = 0;
  p.aug_noise = p.aug_gain = 0;
  p.aug_shift = 0;
  p.aug_dropout = 0;
  p.weight_decay = 0;
  p.velocity_weight = 0;
  p.lr = 1e-2;
  p.schedule = WKP_LR_CONSTANT;
  p.max_epochs = 40;
  p.steps_per_epoch = 10;
  LossTrace tr = { 0 };
  WkpTrainResult res;
  g_assert_true (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, trace_epoch, &tr, NULL, &res, &error));
  g_assert_no_error (error);
  g_test_message ("overfit: train loss %.4g -> %.4g after %d epochs", tr.first, tr.last, tr.n);
  g_assert_cmpint (tr.n, ==, 40);
  g_assert_cmpfloat (tr.first, >, 0.3);
  g_assert_cmpfloat (tr.last, <, 0.02);
}

static void
test_learns_and_generalises (void)
{
  /* 5 speakers: 3 train, 1 val, 1 test; the unseen speaker's aperture is
   * predicted well because the mapping is shared and identity is removed */
  g_autoptr(WkpTrainData) data = synthetic_data (5, 4, 80, 11);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autofree char *csv = g_build_filename (dir, "m.csv", NULL);
  g_autoptr(GError) error = NULL;
  WkpTrainParams p;
  small_params (&p);
  p.max_epochs = 30;
  p.lr = 1e-2;
  WkpTrainResult res;
  g_assert_true (wkp_train_run (data, &p, model, NULL, csv, FALSE, NULL, NULL, NULL, NULL, &res, &error));
  g_assert_no_error (error);
  g_test_message ("val r %.3f test r %.3f best epoch %d", res.best_val_r, res.test_r, res.best_epoch);
  g_assert_cmpfloat (res.best_val_r, >, 0.7);
  g_assert_cmpfloat (res.test_r, >, 0.7);

  /* the saved model predicts what the trainer evaluated: run it through the
   * inference path on the test clip's features and compare apertures */
  g_autoptr(WkpModel) m = wkp_model_load (model, &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->n_components, ==, 4);
  g_assert_cmpint (m->context, ==, 1);
  g_assert_cmpint (m->delay, ==, 1);
  g_assert_nonnull (m->metrics);
  JsonObject *mo = json_node_get_object (m->metrics);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (mo, "test_aperture_r"), res.test_r, 1e-9);
  JsonArray *per_clip = json_object_get_array_member (mo, "test_clips");
  g_assert_nonnull (per_clip);
  int checked = 0;
  for (guint i = 0; i < data->clips->len; i++)
    {
      const WkpTrainClip *c = g_ptr_array_index (data->clips, i);
      if (c->split != WKP_SPLIT_TEST)
        continue;
      /* inference path of the model module: normalisation, context, delay, PCA, mean face */
      g_autofree float *pts = wkp_model_predict_features (m, c->features, c->n_frames, m->fps, c->n_frames, 1,
                                                          &error);
      g_assert_no_error (error);
      g_autofree double *ref = g_new (double, c->n_frames), *pred = g_new (double, c->n_frames);
      for (gint64 t = 0; t < c->n_frames; t++)
        {
          ref[t] = wkp_face_inner_aperture (c->targets + t * WKP_N_LANDMARKS * 2);
          pred[t] = wkp_face_inner_aperture (pts + t * WKP_N_LANDMARKS * 2);
        }
      double r = wkp_metrics_pearson (ref, pred, c->n_frames);
      for (guint j = 0; j < json_array_get_length (per_clip); j++)
        {
          JsonObject *o = json_array_get_object_element (per_clip, j);
          if (g_strcmp0 (json_object_get_string_member (o, "name"), c->name) == 0)
            {
              /* same weights, float32 on both sides: r agrees to 1e-4 */
              g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "aperture_r"), r, 1e-4);
              checked++;
            }
        }
    }
  g_assert_cmpint (checked, ==, 4);

  /* CSV log: header + one row per epoch */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit (g_strstrip (text), "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 1 + res.epochs_run);
  g_assert_true (g_str_has_prefix (lines[0], "epoch,step,lr,train_loss,val_loss,val_aperture_r"));

  /* the model carries the same history, read back as the CSV is: every
   * epoch run, the kept epoch, and its val r as the trainer reported it */
  {
    g_autoptr(WkpTrainLog) from_csv = wkp_train_log_load (csv, &error);
    g_autoptr(GPtrArray) logs = wkp_model_train_logs (m, "m.wkpm");
    const WkpTrainLog *h;
    int best_row = -1;
    g_assert_no_error (error);
    g_assert_cmpint (logs->len, ==, 1);
    h = g_ptr_array_index (logs, 0);
    g_assert_cmpstr (h->name, ==, "m.wkpm");
    g_assert_cmpint (h->n, ==, res.epochs_run);
    g_assert_cmpint (from_csv->n, ==, res.epochs_run);
    g_assert_cmpint (h->best_epoch, ==, res.best_epoch);
    g_assert_cmpint (from_csv->best_epoch, ==, res.best_epoch);
    for (int i = 0; i < h->n; i++)
      {
        g_assert_cmpint (h->epoch[i], ==, i + 1);
        g_assert_cmpint (from_csv->epoch[i], ==, i + 1);
        g_assert_cmpfloat (h->lr[i], ==, from_csv->lr[i]);
        g_assert_cmpfloat (h->train_loss[i], ==, from_csv->train_loss[i]);
        g_assert_cmpfloat (h->val_loss[i], ==, from_csv->val_loss[i]);
        g_assert_cmpfloat (h->val_r[i], ==, from_csv->val_r[i]);
        if (h->epoch[i] == h->best_epoch)
          best_row = i;
      }
    g_assert_cmpint (best_row, >=, 0);
    /* the CSV holds 6 significant digits */
    g_assert_cmpfloat_with_epsilon (h->val_r[best_row], res.best_val_r, 1e-5);
    /* the validation loss of a constant prediction: in the model's history
     * (the CSV has no column for it), as the run reported it, and kept by a
     * JSON round trip */
    g_assert_true (isfinite (res.val_loss_constant) && res.val_loss_constant > 0);
    g_assert_cmpfloat (h->val_loss_constant, ==, res.val_loss_constant);
    g_assert_true (isnan (from_csv->val_loss_constant));
    {
      g_autoptr(JsonNode) node = wkp_train_log_to_json (h);
      g_autoptr(WkpTrainLog) again = wkp_train_log_from_json (node, "again", &error);
      g_assert_no_error (error);
      g_assert_cmpfloat (again->val_loss_constant, ==, h->val_loss_constant);
      json_object_remove_member (json_node_get_object (node), "val_loss_constant");   /* a model before 7 Dec */
      g_clear_pointer (&again, wkp_train_log_free);
      again = wkp_train_log_from_json (node, "older", &error);
      g_assert_no_error (error);
      g_assert_true (isnan (again->val_loss_constant));
      json_object_set_string_member (json_node_get_object (node), "val_loss_constant", "1.7");
      g_clear_pointer (&again, wkp_train_log_free);
      again = wkp_train_log_from_json (node, "bad", &error);
      g_assert_null (again);
      g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "val_loss_constant"));
      g_clear_error (&error);
    }
  }

  /* an ensemble keeps each member's history, named after its file */
  {
    g_autofree char *model2 = g_build_filename (dir, "m2.wkpm", NULL);
    g_autoptr(WkpModel) m2 = NULL, ens = NULL;
    g_autoptr(GPtrArray) logs = NULL;
    WkpTrainResult res2;
    p.seed += 1;
    p.max_epochs = 3;
    g_assert_true (wkp_train_run (data, &p, model2, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, &res2, &error));
    g_assert_no_error (error);
    /* a constant prediction does not depend on the network: another seed,
     * the same level (the data, split and PCA are the same) */
    g_assert_cmpfloat (res2.val_loss_constant, ==, res.val_loss_constant);
    g_assert_cmpfloat (res2.best_val_loss, !=, res.best_val_loss);
    m2 = wkp_model_load (model2, &error);
    g_assert_no_error (error);
    ens = wkp_model_ensemble ((WkpModel *[]) { m, m2 }, 2, (const char *[]) { "m.wkpm", "m2.wkpm" }, &error);
    g_assert_no_error (error);
    logs = wkp_model_train_logs (ens, "ens.wkpm");
    g_assert_cmpint (logs->len, ==, 2);
    g_assert_cmpstr (((WkpTrainLog *) g_ptr_array_index (logs, 0))->name, ==, "ens.wkpm, member 1 (m.wkpm)");
    g_assert_cmpstr (((WkpTrainLog *) g_ptr_array_index (logs, 1))->name, ==, "ens.wkpm, member 2 (m2.wkpm)");
    g_assert_cmpint (((WkpTrainLog *) g_ptr_array_index (logs, 0))->n, ==, res.epochs_run);
    g_assert_cmpint (((WkpTrainLog *) g_ptr_array_index (logs, 1))->n, ==, res2.epochs_run);
  }
}

/* Training logs that are not one are refused, naming the file and line. */
static void
test_train_log_errors (void)
{
  static const struct { const char *text, *message; } cases[] = {
    { "", "not a wav2kp training log" },
    { "epoch,loss\n1,2\n", "not a wav2kp training log" },
    { WKP_TRAIN_LOG_HEADER "\n1,20,0.001,1.0,1.1,0.3,1,100\n", "line 2: 8 fields" },
    { WKP_TRAIN_LOG_HEADER "\n1,20,0.001,1.0,1.1,0.3,1,100,1\n2,40,abc,1.0,1.1,0.3,1,100,0\n", "line 3: not a row" },
    { WKP_TRAIN_LOG_HEADER "\n1,20,0.001,1.0,1.1,1.7,1,100,1\n", "line 2: not a row" },
    { WKP_TRAIN_LOG_HEADER "\n2,20,0.001,1.0,1.1,0.3,1,100,1\n1,40,0.001,1.0,1.1,0.3,1,100,0\n", "line 3: epoch 1 out of order" },
    { WKP_TRAIN_LOG_HEADER "\n1,20,0.001,1.0,1.1,0.3,1,100,2\n", "line 2: not a row" },
    { "\x89PNG\r\n\x1a\n", "not a text file" },
  };
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "log.csv", NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(WkpTrainLog) log = NULL;
      g_assert_true (g_file_set_contents (path, cases[i].text, -1, NULL));
      log = wkp_train_log_load (path, &error);
      g_assert_null (log);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_clear_error (&error);
    }
  /* a missing file */
  {
    g_autofree char *missing = g_build_filename (dir, "none.csv", NULL);
    g_autoptr(WkpTrainLog) none = wkp_train_log_load (missing, &error);
    g_assert_null (none);
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_IO);
    g_assert_nonnull (strstr (error->message, missing));
    g_clear_error (&error);
  }

  /* CRLF, a BOM, undefined values and a blank last line are fine */
  {
    g_autoptr(WkpTrainLog) log = NULL;
    g_assert_true (g_file_set_contents (path, "\xef\xbb\xbf" WKP_TRAIN_LOG_HEADER "\r\n1,20,0.001,1.5,nan,nan,1,100,0\r\n"
                                        "2,40,0.002,1.25,1.1,-0.25,1,100,1\r\n\r\n", -1, NULL));
    log = wkp_train_log_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (log->n, ==, 2);
    g_assert_true (isnan (log->val_r[0]) && isnan (log->val_loss[0]));
    g_assert_cmpfloat (log->val_r[1], ==, -0.25);
    g_assert_cmpfloat (log->train_loss[0], ==, 1.5);
    g_assert_cmpint (log->best_epoch, ==, 2);
    /* and through the model's JSON form (null for NaN) unchanged */
    {
      g_autoptr(JsonNode) node = wkp_train_log_to_json (log);
      g_autoptr(WkpTrainLog) back = wkp_train_log_from_json (node, "x", &error);
      g_assert_no_error (error);
      g_assert_cmpint (back->n, ==, 2);
      g_assert_true (isnan (back->val_r[0]));
      g_assert_cmpfloat (back->val_r[1], ==, -0.25);
      g_assert_cmpfloat (back->lr[1], ==, 0.002);
      g_assert_cmpint (back->best_epoch, ==, 2);
    }
  }
}

static void
test_seed_determinism (void)
{
  g_autoptr(WkpTrainData) data = synthetic_data (4, 2, 60, 3);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *a = g_build_filename (dir, "a.wkpm", NULL);
  g_autofree char *b = g_build_filename (dir, "b.wkpm", NULL);
  g_autofree char *c = g_build_filename (dir, "c.wkpm", NULL);
  g_autoptr(GError) error = NULL;
  WkpTrainParams p;
  small_params (&p);
  p.max_epochs = 3;
  p.early_stop = WKP_EARLY_STOP_LOSS;
  g_assert_true (wkp_train_run (data, &p, a, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_true (wkp_train_run (data, &p, b, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
  p.seed = 2;
  g_assert_true (wkp_train_run (data, &p, c, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  gsize na, nb, nc;
  g_autofree float *wa = model_weights (a, &na), *wb = model_weights (b, &nb), *wc = model_weights (c, &nc);
  g_assert_cmpmem (wa, na * sizeof (float), wb, nb * sizeof (float));
  g_assert_cmpuint (na, ==, nc);
  g_assert_true (memcmp (wa, wc, na * sizeof (float)) != 0);

  /* with the frequency-warp augmentation: reproducible, and it does change
   * what is learnt (windows come from warped copies too) */
  {
    g_autofree char *d = g_build_filename (dir, "d.wkpm", NULL), *e = g_build_filename (dir, "e.wkpm", NULL);
    p.seed = 1;
    p.aug_warp = 0.15;
    g_assert_true (wkp_train_run (data, &p, d, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_true (wkp_train_run (data, &p, e, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    gsize nd, ne;
    g_autofree float *wd = model_weights (d, &nd), *we = model_weights (e, &ne);
    g_assert_cmpmem (wd, nd * sizeof (float), we, ne * sizeof (float));
    g_assert_true (memcmp (wa, wd, na * sizeof (float)) != 0);
  }
}

static void
record_lr (const WkpTrainEpoch *e, gpointer user_data)
{
  g_array_append_val ((GArray *) user_data, e->lr);
}

/* A short run warms up over at most a quarter of its steps: 2 epochs of 8
 * steps with --lr-warmup 100 reach --lr after 4 steps (it used to end the run
 * at 16 % of it). */
static void
test_short_warmup (void)
{
  g_autoptr(WkpTrainData) data = synthetic_data (4, 2, 60, 5);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autoptr(GArray) lrs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GError) error = NULL;
  WkpTrainParams p;
  small_params (&p);
  p.max_epochs = 2;
  p.steps_per_epoch = 8;
  p.lr_warmup_steps = 100;
  p.schedule = WKP_LR_CONSTANT;
  g_assert_true (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, record_lr, lrs, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lrs->len, ==, 2);
  g_assert_cmpfloat (g_array_index (lrs, double, 0), ==, p.lr);
  g_assert_cmpfloat (g_array_index (lrs, double, 1), ==, p.lr);
  /* the model records the warm-up used beside the one asked */
  {
    g_autoptr(WkpModel) m = wkp_model_load (model, &error);
    JsonObject *t;
    g_assert_no_error (error);
    t = json_node_get_object (m->training);
    g_assert_cmpint (json_object_get_int_member (t, "lr_warmup_steps_used"), ==, 4);
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (t, "params"), "lr_warmup_steps"), ==, 100);
  }
}

static void
test_resume_exact (void)
{
  g_autoptr(WkpTrainData) data = synthetic_data (4, 2, 60, 5);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *a = g_build_filename (dir, "a.wkpm", NULL);
  g_autofree char *b = g_build_filename (dir, "b.wkpm", NULL);
  g_autofree char *ca = g_build_filename (dir, "a.csv", NULL);
  g_autofree char *cb = g_build_filename (dir, "b.csv", NULL);
  g_autoptr(GError) error = NULL;
  WkpTrainParams p;
  WkpTrainResult ra, rb;
  small_params (&p);
  p.max_epochs = 6;
  p.ema_decay = 0.9;   /* the averaged weights are part of the state too */
  g_assert_true (wkp_train_run (data, &p, a, NULL, ca, FALSE, NULL, NULL, NULL, NULL, &ra, &error));
  g_assert_no_error (error);
  g_assert_false (ra.interrupted);

  p.stop_after = 3;
  g_assert_true (wkp_train_run (data, &p, b, NULL, cb, FALSE, NULL, NULL, NULL, NULL, &rb, &error));
  g_assert_true (rb.interrupted);
  g_assert_cmpint (rb.epochs_run, ==, 3);
  /* resuming with other settings is refused */
  {
    WkpTrainParams q = p;
    q.lr *= 2;
    g_autoptr(GError) e2 = NULL;
    g_assert_false (wkp_train_run (data, &q, b, NULL, cb, TRUE, NULL, NULL, NULL, NULL, NULL, &e2));
    g_assert_error (e2, WKP_TRAIN_ERROR, WKP_ERROR_MISMATCH);
    /* naming the setting (it said only "other training settings or data") */
    g_test_message ("%s", e2->message);
    g_assert_nonnull (strstr (e2->message, "(lr 0.001, now 0.002)"));
  }
  {
    WkpTrainParams q = p;
    q.max_epochs = 9;
    g_autoptr(GError) e2 = NULL;
    g_assert_false (wkp_train_run (data, &q, b, NULL, cb, TRUE, NULL, NULL, NULL, NULL, NULL, &e2));
    g_assert_nonnull (strstr (e2->message, "(max_epochs 6, now 9)"));
    g_assert_nonnull (strstr (e2->message, "the learning-rate schedule spans them"));
  }
  {
    /* the same clips with other features (a dataset prepared again with
     * --fmin 300 between the two halves was resumed on) */
    double fmin = data->features.fmin;
    g_autoptr(GError) e2 = NULL;
    data->features.fmin = 300;
    g_assert_false (wkp_train_run (data, &p, b, NULL, cb, TRUE, NULL, NULL, NULL, NULL, NULL, &e2));
    g_assert_error (e2, WKP_TRAIN_ERROR, WKP_ERROR_MISMATCH);
    g_test_message ("%s", e2->message);
    g_assert_nonnull (strstr (e2->message, "(the dataset's features (prepared again with other options))"));
    data->features.fmin = fmin;
  }
  p.stop_after = 0;
  g_assert_true (wkp_train_run (data, &p, b, NULL, cb, TRUE, NULL, NULL, NULL, NULL, &rb, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rb.epochs_run, ==, 6);
  g_assert_cmpint (rb.best_epoch, ==, ra.best_epoch);
  g_assert_cmpfloat (rb.best_val_r, ==, ra.best_val_r);
  g_assert_cmpfloat (rb.test_r, ==, ra.test_r);

  gsize na, nb;
  g_autofree float *wa = model_weights (a, &na), *wb = model_weights (b, &nb);
  g_assert_cmpmem (wa, na * sizeof (float), wb, nb * sizeof (float));
  /* final checkpoints hold the same weights and optimiser state too */
  g_autofree char *ka = g_strconcat (a, ".ckpt", NULL), *kb = g_strconcat (b, ".ckpt", NULL);
  g_autofree char *ta = NULL, *tb = NULL;
  gsize la, lb;
  g_assert_true (g_file_get_contents (ka, &ta, &la, NULL));
  g_assert_true (g_file_get_contents (kb, &tb, &lb, NULL));
  gsize tensors = 5 * na * sizeof (float);   /* params, Adam m and v, best params, average: at the end */
  g_assert_cmpuint (la, >, tensors);
  g_assert_cmpuint (lb, >, tensors);
  g_assert_cmpmem (ta + la - tensors, tensors, tb + lb - tensors, tensors);
  /* the CSV logs agree on everything but wall time */
  g_autofree char *xa = NULL, *xb = NULL;
  g_assert_true (g_file_get_contents (ca, &xa, NULL, NULL));
  g_assert_true (g_file_get_contents (cb, &xb, NULL, NULL));
  g_auto(GStrv) la_ = g_strsplit (xa, "\n", -1), lb_ = g_strsplit (xb, "\n", -1);
  g_assert_cmpint (g_strv_length (la_), ==, g_strv_length (lb_));
  for (int i = 1; la_[i] && la_[i][0]; i++)
    {
      g_auto(GStrv) fa = g_strsplit (la_[i], ",", -1), fb = g_strsplit (lb_[i], ",", -1);
      for (int k = 0; k < 6; k++)
        g_assert_cmpstr (fa[k], ==, fb[k]);
    }
}

/* A checkpoint whose stored tensors are damaged (NaN weights, a negative Adam
 * second moment, a weight of 1e38) is refused as corrupt, naming the file, instead of resuming
 * into "training diverged ... lower --lr"; the files stay as they were. */
static void edit_checkpoint_header (const char *path, const char *from, const char *to, const char *to_key);

static void
test_resume_corrupt (void)
{
  g_autoptr(WkpTrainData) data = synthetic_data (4, 2, 60, 5);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autofree char *ckpt = g_strconcat (model, ".ckpt", NULL);
  g_autofree char *good = NULL, *model_before = NULL;
  g_autoptr(GError) error = NULL;
  gsize len, model_len, n;
  WkpTrainParams p;
  WkpTrainResult r;
  small_params (&p);
  g_assert_cmpfloat (p.ema_decay, ==, 0);   /* four tensor blocks in the checkpoint */
  p.stop_after = 2;
  g_assert_true (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, &r, &error));
  g_assert_no_error (error);
  g_assert_true (r.interrupted);
  p.stop_after = 0;
  g_free (model_weights (model, &n));
  g_assert_true (g_file_get_contents (ckpt, &good, &len, NULL));
  g_assert_true (g_file_get_contents (model, &model_before, &model_len, NULL));
  g_assert_cmpuint (len, >, 4 * n * sizeof (float));   /* params, Adam m and v, best params (no average) */

  for (int c = 0; c < 3; c++)
    {
      g_autofree char *bad = g_memdup2 (good, len);
      g_autofree char *after = NULL, *model_after = NULL;
      gsize data_off = len - 4 * n * sizeof (float), after_len, model_after_len;
      if (c == 0)
        memset (bad + data_off + 64, 0xff, 300);   /* NaN weights */
      else if (c == 1)
        {
          float minus = -1.0f;                     /* a negative second moment */
          memcpy (bad + data_off + 2 * n * sizeof (float) + 8, &minus, sizeof minus);
        }
      else
        {
          float huge = 1e38f;                      /* finite, but no trained weight */
          memcpy (bad + data_off + 8, &huge, sizeof huge);
        }
      g_assert_true (g_file_set_contents (ckpt, bad, len, NULL));
      g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
      g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, ckpt));
      g_assert_nonnull (strstr (error->message, "corrupt checkpoint"));
      g_assert_null (strstr (error->message, "diverged"));
      g_clear_error (&error);
      g_assert_true (g_file_get_contents (ckpt, &after, &after_len, NULL));
      g_assert_cmpmem (after, after_len, bad, len);
      g_assert_true (g_file_get_contents (model, &model_after, &model_after_len, NULL));
      g_assert_cmpmem (model_after, model_after_len, model_before, model_len);
    }
  /* header fields with bad values, each named (all used to pass or to say "truncated") */
  {
    struct { const char *key, *value; } cases[] = {
      { "epoch", "-1" }, { "epoch", "\"2\"" }, { "step", "-5" }, { "best_epoch", "1000" },
      { "bad_epochs", "-1" }, { "rng", "[\"zz\", \"1\", \"2\", \"3\"]" },
      { "rng", "[\"0000000000000000\", \"0000000000000000\", \"0000000000000000\", \"0000000000000000\"]" },
      { "rng", "[1, 2, 3, 4]" }, { "doubles", "[]" }, { "finished", "1" }, { "log", NULL }, { "log", "{}" },
      /* NaN times (the resumed run wrote a model with "nan" in its JSON header and exited 0) */
      { "doubles", "[\"7ff8000000000000\", \"7ff8000000000000\", \"7ff8000000000000\", "
                   "\"7ff8000000000000\", \"7ff8000000000000\"]" },
      { "log", "\"1\"" },   /* not the run's CSV: the log lost its header */
    };
    for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
      {
        g_autofree char *want = g_strdup_printf ("field “%s”", cases[c].key);
        g_assert_true (g_file_set_contents (ckpt, good, len, NULL));
        edit_checkpoint_header (ckpt, NULL, cases[c].value, cases[c].key);
        g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
        g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
        g_test_message ("%s = %s: %s", cases[c].key, cases[c].value, error->message);
        g_assert_true (g_str_has_prefix (error->message, ckpt));
        g_assert_nonnull (strstr (error->message, "corrupt checkpoint header"));
        g_assert_nonnull (strstr (error->message, want));
        g_clear_error (&error);
      }
    /* an optimiser step that does not follow from the epoch (2^63-1 used to resume into
     * "training diverged ... lower --lr"), and integers json-glib would wrap */
    {
      const char *steps[] = { "9223372036854775807", "3" };
      for (guint c = 0; c < G_N_ELEMENTS (steps); c++)
        {
          g_assert_true (g_file_set_contents (ckpt, good, len, NULL));
          edit_checkpoint_header (ckpt, NULL, steps[c], "step");
          g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
          g_test_message ("step = %s: %s", steps[c], error->message);
          g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
          g_assert_true (g_str_has_prefix (error->message, ckpt));
          g_assert_nonnull (strstr (error->message, "inconsistent checkpoint (step"));
          g_assert_null (strstr (error->message, "diverged"));
          g_clear_error (&error);
        }
      g_assert_true (g_file_set_contents (ckpt, good, len, NULL));
      edit_checkpoint_header (ckpt, NULL, "777777", "epoch");   /* then as text: json-glib would wrap it */
      edit_checkpoint_header (ckpt, "777777", "18446744073709551618", NULL);
      g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
      g_test_message ("epoch = 2^64 + 2: %s", error->message);
      g_assert_nonnull (strstr (error->message, "corrupt checkpoint header: the integer 18446744073709551618 "
                                                "does not fit in 64 bits"));
      g_clear_error (&error);
    }
    /* no config string: one line, no GLib critical */
    g_assert_true (g_file_set_contents (ckpt, good, len, NULL));
    edit_checkpoint_header (ckpt, NULL, "{}", "config");
    g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_nonnull (strstr (error->message, "corrupt checkpoint header: not a JSON object with a “config” string"));
    g_clear_error (&error);
    /* cut short: the sizes are named */
    g_assert_true (g_file_set_contents (ckpt, good, len - 40, NULL));
    g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "truncated, or from another model size"));
    g_clear_error (&error);
  }
  /* a folder given as the checkpoint: named as what it is (it said "Cannot write") */
  {
    g_autofree char *folder = g_build_filename (dir, "ckpt-folder", NULL);
    g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
    g_assert_false (wkp_train_run (data, &p, model, folder, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
    g_test_message ("%s", error->message);
    g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "Cannot resume from"));
    g_assert_nonnull (strstr (error->message, "it is a folder, not a checkpoint"));
    g_clear_error (&error);
  }
  /* the intact checkpoint still resumes */
  g_assert_true (g_file_set_contents (ckpt, good, len, NULL));
  g_assert_true (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, &r, &error));
  g_assert_no_error (error);
}

/* Rewrites the JSON header of checkpoint @path with @from replaced by @to
 * (the tensors keep their 16-byte alignment); with @from NULL, sets member
 * @to_key to the JSON value @to instead (NULL @to: removes it). */
static void
edit_checkpoint_header (const char *path, const char *from, const char *to, const char *to_key)
{
  g_autofree char *d = NULL, *edited = NULL;
  gsize size;
  guint32 len;
  g_assert_true (g_file_get_contents (path, &d, &size, NULL));
  memcpy (&len, d + 12, 4);
  len = GUINT32_FROM_LE (len);
  gsize data_off = (16 + (gsize) len + 15) / 16 * 16;
  g_autofree char *js = g_strndup (d + 16, len);
  if (from != NULL)
    {
      char *at = strstr (js, from);
      g_assert_nonnull (at);
      g_autofree char *head = g_strndup (js, at - js);
      edited = g_strconcat (head, to, at + strlen (from), NULL);
    }
  else
    {
      g_autoptr(JsonNode) root = json_from_string (js, NULL);
      g_assert_nonnull (root);
      if (to != NULL)
        json_object_set_member (json_node_get_object (root), to_key, json_from_string (to, NULL));
      else
        json_object_remove_member (json_node_get_object (root), to_key);
      edited = json_to_string (root, FALSE);
    }
  guint32 nlen = GUINT32_TO_LE ((guint32) strlen (edited));
  GByteArray *buf = g_byte_array_new ();
  g_byte_array_append (buf, (const guint8 *) d, 12);
  g_byte_array_append (buf, (const guint8 *) &nlen, 4);
  g_byte_array_append (buf, (const guint8 *) edited, strlen (edited));
  while (buf->len % 16)
    g_byte_array_append (buf, (const guint8 *) "", 1);
  g_byte_array_append (buf, (const guint8 *) d + data_off, size - data_off);
  g_assert_true (g_file_set_contents (path, (const char *) buf->data, buf->len, NULL));
  g_byte_array_unref (buf);
}

static void
edit_checkpoint (const char *path, const char *from, const char *to)
{
  edit_checkpoint_header (path, from, to, NULL);
}

/* --resume from the checkpoint of a finished run writes the model and the log
 * it announces (the log used to be missing); a checkpoint that claims more
 * epochs than it can have finished is refused, nothing written (it used to
 * succeed without writing the model). */
static void
test_resume_finished (void)
{
  g_autoptr(WkpTrainData) data = synthetic_data (4, 2, 60, 5);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autofree char *log = g_build_filename (dir, "m.csv", NULL);
  g_autofree char *ckpt = g_build_filename (dir, "m.wkpm.ckpt", NULL);
  g_autofree char *log_before = NULL, *log_after = NULL;
  g_autoptr(GError) error = NULL;
  WkpTrainParams p;
  WkpTrainResult res;
  small_params (&p);
  p.max_epochs = 2;
  g_assert_true (wkp_train_run (data, &p, model, NULL, log, FALSE, NULL, NULL, NULL, NULL, &res, &error));
  g_assert_no_error (error);
  double constant = res.val_loss_constant;
  g_assert_true (isfinite (constant));
  g_assert_true (g_file_get_contents (log, &log_before, NULL, NULL));
  g_assert_cmpint (g_unlink (model), ==, 0);
  g_assert_cmpint (g_unlink (log), ==, 0);

  g_assert_true (wkp_train_run (data, &p, model, NULL, log, TRUE, NULL, NULL, NULL, NULL, &res, &error));
  g_assert_no_error (error);
  g_assert_false (res.interrupted);
  g_assert_cmpfloat (res.val_loss_constant, ==, constant);   /* (it was nan: no epoch ran) */
  g_assert_true (g_file_test (model, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_get_contents (log, &log_after, NULL, NULL));
  g_assert_cmpstr (log_after, ==, log_before);

  /* all epochs done but not finished: nothing left to run, no model to write */
  g_assert_cmpint (g_unlink (model), ==, 0);
  g_assert_cmpint (g_unlink (log), ==, 0);
  edit_checkpoint (ckpt, "\"finished\":true", "\"finished\":false");
  g_assert_false (wkp_train_run (data, &p, model, NULL, log, TRUE, NULL, NULL, NULL, NULL, &res, &error));
  g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, ckpt));
  g_assert_nonnull (strstr (error->message, "epoch 2 of 2"));
  g_assert_false (g_file_test (model, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (log, G_FILE_TEST_EXISTS));
}

/* The same architecture, data, initial weights and optimiser settings trained
 * in PyTorch: losses agree step by step. */
static void
test_torch_parity (void)
{
  if (wkp_test_python ("torch") == NULL)
    return;
  g_autoptr(WkpTrainData) data = synthetic_data (4, 3, 70, 9);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autoptr(GError) error = NULL;
  const int n_steps = 40;
  for (int bidir = 0; bidir < 2; bidir++)
    {
      WkpTrainParams p;
      small_params (&p);
      p.num_layers = 2;
      p.hidden_size = 16;
      p.bidirectional = bidir;
      p.lr = 5e-3;
      p.clip_norm = 0.5;   /* small enough to be active */
      p.max_epochs = 2;    /* cosine schedule changes the lr within the replay */
      p.steps_per_epoch = 20;
      g_autofree char *sub = g_build_filename (dir, bidir ? "bi" : "uni", NULL);
      g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
      g_assert_true (wkp_train_parity_dump (data, &p, n_steps, sub, NULL, &error));
      g_assert_no_error (error);
      const char *args[] = { sub, NULL };
      g_autofree char *out = wkp_test_run_python ("train_parity.py", args);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      double rel = json_object_get_double_member (o, "max_rel_loss_diff");
      double rel10 = json_object_get_double_member (o, "max_rel_loss_diff_first10");
      double wd = json_object_get_double_member (o, "max_weight_diff");
      JsonArray *tl = json_object_get_array_member (o, "torch_loss");
      g_test_message ("%s: loss %.4f -> %.4f; max relative loss difference %.2e (first 10 steps %.2e), "
                      "max weight difference after %d steps %.2e",
                      bidir ? "bidirectional" : "unidirectional", json_array_get_double_element (tl, 0),
                      json_array_get_double_element (tl, n_steps - 1), rel, rel10, n_steps, wd);
      /* the loss must actually move, or agreement would mean nothing */
      g_assert_cmpfloat (json_array_get_double_element (tl, n_steps - 1), <,
                         0.9 * json_array_get_double_element (tl, 0));
      /* tolerances: float32 on both sides, different summation orders */
      g_assert_cmpfloat (rel10, <, 1e-5);
      g_assert_cmpfloat (rel, <, 1e-4);
      g_assert_cmpfloat (wd, <, 1e-4);
    }
}

static void
test_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  WkpTrainParams p;
  small_params (&p);
  /* no train split */
  {
    g_autoptr(WkpTrainData) data = synthetic_data (1, 1, 30, 1);
    ((WkpTrainClip *) g_ptr_array_index (data->clips, 0))->split = WKP_SPLIT_TEST;
    g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
    g_clear_error (&error);
  }
  /* keypoints that never move: said as such, not as "training diverged;
   * lower --lr" after every epoch (found by fuzzing with one-frame clips) */
  {
    g_autoptr(WkpTrainData) data = synthetic_data (3, 2, 30, 1);
    const WkpTrainClip *first = g_ptr_array_index (data->clips, 0);
    float still[WKP_N_LANDMARKS * 2];
    memcpy (still, first->targets, sizeof still);
    for (guint i = 0; i < data->clips->len; i++)
      {
        WkpTrainClip *c = g_ptr_array_index (data->clips, i);
        for (gint64 t = 0; t < c->n_frames; t++)
          memcpy (c->targets + t * WKP_N_LANDMARKS * 2, still, sizeof still);
      }
    g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "do not vary"));
    g_clear_error (&error);
    g_assert_false (g_file_test (model, G_FILE_TEST_EXISTS));
  }
  /* resume without a checkpoint */
  {
    g_autoptr(WkpTrainData) data = synthetic_data (1, 1, 30, 1);
    g_assert_false (wkp_train_run (data, &p, model, NULL, NULL, TRUE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "nothing to resume"));
    g_clear_error (&error);
    g_assert_false (g_file_test (model, G_FILE_TEST_EXISTS));
  }
  /* each bad parameter is named by its option */
  {
    struct { int field; const char *want; } cases[] = {
      { 0, "--epochs" }, { 1, "--hidden" }, { 2, "--lr" }, { 3, "--dropout" }, { 4, "--warmup" }, { 5, "--warp" },
      { 6, "--noise" }, { 7, "--hidden" }, { 8, "--lr-min" }, { 9, "--explained" },
    };
    for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
      {
        g_autoptr(WkpTrainData) data = synthetic_data (1, 1, 30, 1);
        WkpTrainParams q = p;
        switch (cases[c].field)
          {
          case 0: q.max_epochs = 0; break;
          case 1: q.hidden_size = -3; break;
          case 2: q.lr = 0; break;
          case 3: q.aug_dropout = 1.5; break;
          case 5: q.aug_warp = 0.5; break;
          case 6: q.aug_noise = NAN; break;          /* used to be written into the model header as "nan" */
          case 7: q.hidden_size = 100000; break;     /* used to abort on the allocation */
          case 8: q.lr_min = -1; break;
          case 9: q.pca_min_explained = NAN; break;
          default: q.warmup = q.window; break;
          }
        g_assert_false (wkp_train_run (data, &q, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
        g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, cases[c].want));
        g_clear_error (&error);
        g_assert_false (g_file_test (model, G_FILE_TEST_EXISTS));
      }
  }
  /* --val-speakers names train speakers, and does not go with --merge-val
   * (each of these used to train as if the option was not given) */
  {
    static const struct { const char *names[3]; gboolean merge; const char *want; } cases[] = {
      { { "nosuch", NULL }, FALSE, "speaker “nosuch” is not in the train split" },
      { { "spk0", "spk2", NULL }, FALSE, "speaker “spk2” is not in the train split" },   /* a val speaker */
      { { "", "", NULL }, FALSE, "--val-speakers has an empty speaker name" },
      { { "spk0", NULL }, TRUE, "--merge-val and --val-speakers cannot be combined" },
    };
    for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
      {
        g_autoptr(WkpTrainData) data = synthetic_data (4, 1, 30, 1);
        WkpTrainParams q = p;
        q.val_speakers = (char **) cases[c].names;
        q.merge_val = cases[c].merge;
        g_assert_false (wkp_train_run (data, &q, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
        g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
        g_test_message ("%s", error->message);
        g_assert_nonnull (strstr (error->message, cases[c].want));
        g_clear_error (&error);
        g_assert_false (g_file_test (model, G_FILE_TEST_EXISTS));
      }
  }
  /* output folder missing */
  {
    g_autoptr(WkpTrainData) data = synthetic_data (1, 1, 30, 1);
    g_autofree char *bad = g_build_filename (dir, "no", "such", "m.wkpm", NULL);
    g_assert_false (wkp_train_run (data, &p, bad, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, NULL, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
  }
}

static void
test_cli_errors (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-dataset", NULL);
  const char *args[] = { "train", missing, "-o", model, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (wkp_test_run_cli (args, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "no-such-dataset"));
  g_auto(GStrv) lines = g_strsplit (g_strstrip (err), "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 1);
  g_assert_false (g_file_test (model, G_FILE_TEST_EXISTS));
  const char *args2[] = { "train", dir, NULL };
  g_autofree char *out2 = NULL, *err2 = NULL;
  g_assert_cmpint (wkp_test_run_cli (args2, &out2, &err2), ==, 2);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The mean face a model must carry: the average over the train speakers of
 * each speaker's reference shape, recomputed here from the targets: the mean
 * of all its faces (q = 0) or of those whose inner-lip aperture is at most
 * its q quantile (nearest rank over all its faces in every split). */
static void
expected_mean_face (const WkpTrainData *data, double q, double *out)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  int n_train = 0;
  memset (out, 0, sizeof (double) * WKP_N_LANDMARKS * 2);
  for (guint i = 0; i < data->clips->len; i++)
    {
      const WkpTrainClip *c = g_ptr_array_index (data->clips, i);
      if (c->split != WKP_SPLIT_TRAIN || g_hash_table_contains (seen, c->speaker))
        continue;
      g_hash_table_add (seen, c->speaker);
      g_autoptr(GArray) ap = g_array_new (FALSE, FALSE, sizeof (double));
      for (guint k = 0; k < data->clips->len; k++)
        {
          const WkpTrainClip *o = g_ptr_array_index (data->clips, k);
          for (gint64 t = 0; g_strcmp0 (o->speaker, c->speaker) == 0 && t < o->n_frames; t++)
            {
              double a = wkp_face_inner_aperture (o->targets + t * WKP_N_LANDMARKS * 2);
              if (isfinite (a))
                g_array_append_val (ap, a);
            }
        }
      qsort (ap->data, ap->len, sizeof (double), cmp_double);
      double thr = q > 0 ? g_array_index (ap, double, (guint) floor (q * (ap->len - 1) + 0.5)) : INFINITY;
      double sum[WKP_N_LANDMARKS * 2] = { 0 };
      int n = 0;
      for (guint k = 0; k < data->clips->len; k++)
        {
          const WkpTrainClip *o = g_ptr_array_index (data->clips, k);
          for (gint64 t = 0; g_strcmp0 (o->speaker, c->speaker) == 0 && t < o->n_frames; t++)
            {
              const float *f = o->targets + t * WKP_N_LANDMARKS * 2;
              double a = wkp_face_inner_aperture (f);
              if (!isfinite (a) || a > thr)
                continue;
              for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
                sum[j] += f[j];
              n++;
            }
        }
      g_assert_cmpint (n, >, 0);
      for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
        out[j] += sum[j] / n;
      n_train++;
    }
  for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
    out[j] /= n_train;
}

static void
test_identity_rest (void)
{
  /* identity by the speaker's rest pose: the model's mean face (the identity
   * at inference) is the average rest pose, with a closed mouth, where the
   * mean-shape identity gives a half-open one; exact against a recomputation */
  g_autoptr(WkpTrainData) data = synthetic_data (5, 3, 60, 13);
  g_autofree char *dir = wkp_test_tmpdir ();
  double aperture[2];
  const double qs[2] = { 0.0, 0.1 };

  for (int k = 0; k < 2; k++)
    {
      g_autofree char *model = g_strdup_printf ("%s/m%d.wkpm", dir, k);
      g_autoptr(GError) error = NULL;
      WkpTrainParams p;
      WkpTrainResult res;
      double want[WKP_N_LANDMARKS * 2], err = 0;
      small_params (&p);
      p.max_epochs = 1;
      p.identity_rest = qs[k];
      g_assert_true (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, &res, &error));
      g_assert_no_error (error);
      g_autoptr(WkpModel) m = wkp_model_load (model, &error);
      g_assert_no_error (error);
      expected_mean_face (data, qs[k], want);
      for (int j = 0; j < WKP_N_LANDMARKS * 2; j++)
        err = MAX (err, fabs (m->mean_face[j] - want[j]));
      g_test_message ("identity quantile %.1f: mean face max |diff| %.2e", qs[k], err);
      g_assert_cmpfloat (err, <, 1e-5);   /* float32 storage of double means */
      aperture[k] = wkp_face_inner_aperture (m->mean_face);
      /* the setting is recorded in the model's training config only when used */
      g_autofree char *cfg = json_to_string (m->training, FALSE);
      g_assert_true ((strstr (cfg, "\"identity_rest\"") != NULL) == (qs[k] > 0));
    }
  g_test_message ("mean-face aperture: mean identity %.4f, rest identity %.4f", aperture[0], aperture[1]);
  /* the synthetic mouths open by 0..0.16 (mean ~0.07) on top of the canonical face */
  g_assert_cmpfloat (aperture[0] - aperture[1], >, 0.04);
}

static void
test_align_train (void)
{
  /* the train clips' audio lags their landmarks by 8 frames (more than the
   * model can look ahead) and each is flagged with that offset; val and test
   * are in sync. Aligned training learns the mapping; unaligned learns it worse. */
  g_autoptr(WkpTrainData) data = synthetic_data (5, 4, 80, 11);
  g_autofree char *dir = wkp_test_tmpdir ();
  const int D = data->dim, lag = 8;
  double val_r[2];

  for (guint i = 0; i < data->clips->len; i++)
    {
      WkpTrainClip *c = g_ptr_array_index (data->clips, i);
      if (c->split != WKP_SPLIT_TRAIN)
        continue;
      for (gint64 t = c->n_frames - 1; t >= 0; t--)
        memcpy (c->features + t * D, c->features + MAX (t - lag, 0) * D, sizeof (float) * D);
      c->offset_steps = lag;
    }
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *model = g_strdup_printf ("%s/m%d.wkpm", dir, k);
      g_autoptr(GError) error = NULL;
      WkpTrainParams p;
      WkpTrainResult res;
      small_params (&p);
      p.max_epochs = 30;
      p.lr = 1e-2;
      p.align_train = k == 1;
      g_assert_true (wkp_train_run (data, &p, model, NULL, NULL, FALSE, NULL, NULL, NULL, NULL, &res, &error));
      g_assert_no_error (error);
      val_r[k] = res.best_val_r;
    }
  g_test_message ("val r: unaligned %.3f, aligned %.3f", val_r[0], val_r[1]);
  g_assert_cmpfloat (val_r[1], >, 0.7);
  g_assert_cmpfloat (val_r[1], >, val_r[0] + 0.2);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/gradcheck/f64-unidirectional", test_gradcheck_f64_uni);
  g_test_add_func ("/train/gradcheck/f64-bidirectional", test_gradcheck_f64_bi);
  g_test_add_func ("/train/gradcheck/f32", test_gradcheck_f32);
  g_test_add_func ("/train/forward-matches-inference", test_forward_matches_inference);
  g_test_add_func ("/train/overfit-tiny", test_overfit_tiny);
  g_test_add_func ("/train/learns-unseen-speaker", test_learns_and_generalises);
  g_test_add_func ("/train/seed-determinism", test_seed_determinism);
  g_test_add_func ("/train/resume-exact", test_resume_exact);
  g_test_add_func ("/train/short-warmup", test_short_warmup);
  g_test_add_func ("/train/log-errors", test_train_log_errors);
  g_test_add_func ("/train/resume-finished", test_resume_finished);
  g_test_add_func ("/train/resume-corrupt", test_resume_corrupt);
  g_test_add_func ("/train/bad-input", test_bad_input);
  g_test_add_func ("/train/torch-parity", test_torch_parity);
  g_test_add_func ("/train/cli-errors", test_cli_errors);
  g_test_add_func ("/train/identity-rest", test_identity_rest);
  g_test_add_func ("/train/align-train", test_align_train);
  return g_test_run ();
}
