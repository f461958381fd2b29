/* PyTorch interop: state dicts exported from torch (.npz and .safetensors)
 * become model files whose predictions equal torch's; models export back to
 * .npz. Tolerance: err = max |ours - torch| / max |torch| over all outputs of
 * the whole pipeline (normalisation, context stacking, delay, LSTM, head):
 * <= 1e-5 against torch float32 and against torch float64; the same with a
 * clip-level gain (torch's output plus 1.5 times its clip mean). */
#include "wkp-convert.h"
#include "wkp-io.h"
#include "wkp-npy.h"
#include "wkp-error.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static double
rel_err (const float *ours, const WkpNpy *theirs, gsize n)
{
  double num = 0, den = 0;
  for (gsize i = 0; i < n; i++)
    {
      double t = theirs->dtype == WKP_DTYPE_F64 ? ((const double *) theirs->data)[i]
                                                 : ((const float *) theirs->data)[i];
      num = MAX (num, fabs ((double) ours[i] - t));
      den = MAX (den, fabs (t));
    }
  return den > 0 ? num / den : num;
}

static WkpNpy *
load_npy (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  WkpNpy *n = wkp_npy_load (p, &error);
  g_assert_no_error (error);
  return n;
}

/* Arguments of one "make" configuration (12 strings, owned by @a). */
static void
config_args (GPtrArray *args, const char *dir, int layers, int hidden, gboolean bidir, int context, int delay,
             gboolean per_clip, int K, const char *fmt)
{
  g_ptr_array_add (args, g_strdup (dir));
  g_ptr_array_add (args, g_strdup_printf ("%d", layers));
  g_ptr_array_add (args, g_strdup_printf ("%d", hidden));
  g_ptr_array_add (args, g_strdup_printf ("%d", bidir ? 1 : 0));
  g_ptr_array_add (args, g_strdup_printf ("%d", context));
  g_ptr_array_add (args, g_strdup_printf ("%d", delay));
  g_ptr_array_add (args, g_strdup_printf ("%d", per_clip ? 1 : 0));
  g_ptr_array_add (args, g_strdup_printf ("%d", K));
  g_ptr_array_add (args, g_strdup (fmt));
  g_ptr_array_add (args, g_strdup_printf ("%d", g_test_rand_int_range (0, 1000000)));
  g_ptr_array_add (args, g_strdup ("120"));
  g_ptr_array_add (args, g_strdup ("156"));
}

static void
check_config (const char *dir, int layers, int hidden, gboolean bidir, int context, int delay, gboolean per_clip,
              int K, const char *fmt)
{
  const int T = 120, dim = 156;
  g_autoptr(GError) error = NULL;
  g_autofree char *sd_path = g_strdup_printf ("%s/sd.%s", dir, fmt);
  g_autofree char *meta_path = g_build_filename (dir, "meta.json", NULL);
  g_autoptr(WkpStateDict) sd = NULL;
  g_autoptr(JsonNode) meta = NULL;
  g_autoptr(WkpModel) m = NULL, back = NULL;
  g_autoptr(WkpNpy) x = NULL, y32 = NULL, y64 = NULL;
  g_autofree float *y = NULL, *yb = NULL;
  double e32, e64;

  sd = wkp_state_dict_load (sd_path, &error);
  g_assert_no_error (error);
  meta = wkp_json_load_file (meta_path, &error);
  g_assert_no_error (error);
  m = wkp_model_from_state_dict (sd, json_node_get_object (meta), NULL, NULL, sd_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->lstm->num_layers, ==, layers);
  g_assert_cmpint (m->lstm->hidden_size, ==, hidden);
  g_assert_cmpint (m->lstm->bidirectional, ==, bidir);
  g_assert_cmpint (m->context, ==, context);
  g_assert_cmpint (m->delay, ==, delay);
  g_assert_cmpint (m->n_points, ==, 20);
  g_assert_cmpint (m->point_index[0], ==, 48);

  x = load_npy (dir, "x.npy");
  y32 = load_npy (dir, "y32.npy");
  y64 = load_npy (dir, "y64.npy");
  g_assert_cmpint (x->shape[0], ==, T);
  g_assert_cmpint (x->shape[1], ==, dim);
  y = wkp_model_predict_coeffs (m, x->data, T, 1, &error);
  g_assert_no_error (error);
  e32 = rel_err (y, y32, (gsize) T * K);
  e64 = rel_err (y, y64, (gsize) T * K);
  g_test_message ("%dx%d %s context %d delay %d per-clip %d K %d (%s): vs torch f32 %.2e, vs torch f64 %.2e",
                  layers, hidden, bidir ? "bi" : "uni", context, delay, per_clip, K, fmt, e32, e64);
  g_assert_cmpfloat (e32, <=, 1e-5);
  g_assert_cmpfloat (e64, <=, 1e-5);

  /* model file round trip keeps the predictions bit-identical */
  {
    g_autofree char *mp = g_build_filename (dir, "m.wkpm", NULL);
    g_assert_true (wkp_model_save (m, mp, &error));
    back = wkp_model_load (mp, &error);
    g_assert_no_error (error);
    yb = wkp_model_predict_coeffs (back, x->data, T, 1, &error);
    g_assert_cmpmem (y, sizeof (float) * T * K, yb, sizeof (float) * T * K);
  }
  /* a level gain of 1.5 (model_torch.py LEVEL_GAIN) written to the file: torch's output plus 1.5
   * times its mean over the clip, same tolerance */
  {
    g_autofree char *gp = g_build_filename (dir, "gain.wkpm", NULL);
    g_autoptr(WkpModel) gm = NULL;
    g_autoptr(WkpNpy) yg64 = load_npy (dir, "y64_gain.npy");
    g_autofree float *yg = NULL;
    double eg;

    back->level_gain = 1.5;
    g_assert_true (wkp_model_save (back, gp, &error));
    back->level_gain = 0.0;
    gm = wkp_model_load (gp, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (gm->level_gain, ==, 1.5);
    yg = wkp_model_predict_coeffs (gm, x->data, T, 1, &error);
    g_assert_no_error (error);
    eg = rel_err (yg, yg64, (gsize) T * K);
    g_test_message ("  with level gain 1.5: vs torch f64 %.2e", eg);
    g_assert_cmpfloat (eg, <=, 1e-5);
    /* and the gain survives export to .npz + .json and back */
    {
      g_autofree char *gnpz = g_build_filename (dir, "gain.npz", NULL);
      g_autofree char *gjs = g_build_filename (dir, "gain.json", NULL);
      g_autoptr(WkpStateDict) gsd = NULL;
      g_autoptr(JsonNode) gmeta = NULL;
      g_autoptr(WkpModel) g2 = NULL;
      g_assert_true (wkp_model_export_npz (gm, gnpz, &error));
      gsd = wkp_state_dict_load (gnpz, &error);
      g_assert_no_error (error);
      gmeta = wkp_json_load_file (gjs, &error);
      g_assert_no_error (error);
      g2 = wkp_model_from_state_dict (gsd, json_node_get_object (gmeta), NULL, NULL, gnpz, &error);
      g_assert_no_error (error);
      g_assert_cmpfloat (g2->level_gain, ==, 1.5);
    }
  }
  /* and back to .npz: numpy reads the same tensors; the .npz + its JSON
   * sidecar convert to the same model again */
  {
    g_autofree char *np = g_build_filename (dir, "out.npz", NULL);
    g_autofree char *js = g_build_filename (dir, "out.json", NULL);
    g_autoptr(WkpStateDict) sd2 = NULL;
    g_autoptr(JsonNode) meta2 = NULL;
    g_autoptr(WkpModel) m2 = NULL;
    g_autofree float *y2 = NULL;

    g_assert_true (wkp_model_export_npz (back, np, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_test (js, G_FILE_TEST_IS_REGULAR));
    if (strcmp (fmt, "npz") == 0)
      {
        const char *cargs[] = { "check", dir, np, NULL };
        g_autofree char *out = wkp_test_run_python ("model_torch.py", cargs);
        g_assert_cmpint (atoi (out), ==, 4 * layers * (bidir ? 2 : 1) + 2 + 2 + (K != 40 ? 3 : 0));
      }
    sd2 = wkp_state_dict_load (np, &error);
    g_assert_no_error (error);
    meta2 = wkp_json_load_file (js, &error);
    g_assert_no_error (error);
    m2 = wkp_model_from_state_dict (sd2, json_node_get_object (meta2), NULL, NULL, np, &error);
    g_assert_no_error (error);
    y2 = wkp_model_predict_coeffs (m2, x->data, T, 1, &error);
    g_assert_cmpmem (y, sizeof (float) * T * K, y2, sizeof (float) * T * K);
  }
  /* an ensemble survives the round trip too: all its networks (it used to
   * come back as member 0 alone, without a word), with and without the
   * sidecar's "members" */
  {
    g_autofree char *op = g_build_filename (dir, "out.npz", NULL);
    g_autofree char *ojs = g_build_filename (dir, "out.json", NULL);
    g_autofree char *np = g_build_filename (dir, "ens.npz", NULL);
    g_autofree char *js = g_build_filename (dir, "ens.json", NULL);
    g_autoptr(WkpStateDict) osd = wkp_state_dict_load (op, &error);
    g_autoptr(JsonNode) ometa = wkp_json_load_file (ojs, &error);
    g_autoptr(WkpModel) other = NULL;   /* a copy whose weights are its own (not mapped) */
    g_autoptr(WkpModel) ens = NULL;
    g_autoptr(WkpStateDict) sd3 = NULL;
    g_autoptr(JsonNode) meta3 = NULL;
    g_autofree float *ye = NULL;

    g_assert_no_error (error);
    other = wkp_model_from_state_dict (osd, json_node_get_object (ometa), NULL, NULL, op, &error);
    g_assert_no_error (error);
    for (int i = 0; i < other->lstm->output_size; i++)
      other->lstm->head_b[i] += 0.25f;
    ens = wkp_model_ensemble ((WkpModel *[]) { back, other }, 2, (const char *[]) { "a", "b" }, &error);
    g_assert_no_error (error);
    ye = wkp_model_predict_coeffs (ens, x->data, T, 1, &error);
    g_assert_true (wkp_model_export_npz (ens, np, &error));
    sd3 = wkp_state_dict_load (np, &error);
    g_assert_no_error (error);
    meta3 = wkp_json_load_file (js, &error);
    g_assert_no_error (error);
    for (int with_meta = 1; with_meta >= 0; with_meta--)
      {
        g_autoptr(WkpModel) e2 = NULL;
        g_autofree float *y3 = NULL;
        if (!with_meta)
          json_object_remove_member (json_node_get_object (meta3), "members");
        e2 = wkp_model_from_state_dict (sd3, json_node_get_object (meta3), NULL, NULL, np, &error);
        g_assert_no_error (error);
        g_assert_cmpint (wkp_model_n_members (e2), ==, 2);
        y3 = wkp_model_predict_coeffs (e2, x->data, T, 1, &error);
        g_assert_cmpmem (ye, sizeof (float) * T * K, y3, sizeof (float) * T * K);
      }
    /* metadata that promises more networks than the file has is refused */
    json_object_set_int_member (json_node_get_object (meta3), "members", 3);
    g_assert_null (wkp_model_from_state_dict (sd3, json_node_get_object (meta3), NULL, NULL, np, &error));
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "member2.lstm.weight_ih_l0 is missing"));
    g_clear_error (&error);
  }
}

/* 1x16 unidirectional (.npz, no PCA, no context), 2x32 bidirectional
 * (.safetensors, PCA, context 1, delay 2, per-clip normalisation), 3x8
 * unidirectional (.npz, PCA, context 2, delay 1): one python run makes all
 * three (the torch import dominates the test's time). */
static void
test_torch (void)
{
  struct { int layers, hidden; gboolean bidir; int context, delay; gboolean per_clip; int K; const char *fmt; } c[] = {
    { 1, 16, FALSE, 0, 0, FALSE, 40, "npz" },
    { 2, 32, TRUE, 1, 2, TRUE, 8, "safetensors" },
    { 3, 8, FALSE, 2, 1, FALSE, 8, "npz" },
  };
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  char *dirs[G_N_ELEMENTS (c)];

  if (wkp_test_python ("torch") == NULL)
    return;
  g_ptr_array_add (args, g_strdup ("make"));
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      dirs[i] = wkp_test_tmpdir ();
      config_args (args, dirs[i], c[i].layers, c[i].hidden, c[i].bidir, c[i].context, c[i].delay, c[i].per_clip,
                   c[i].K, c[i].fmt);
    }
  g_ptr_array_add (args, NULL);
  g_free (wkp_test_run_python ("model_torch.py", (const char * const *) args->pdata));
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      check_config (dirs[i], c[i].layers, c[i].hidden, c[i].bidir, c[i].context, c[i].delay, c[i].per_clip, c[i].K,
                    c[i].fmt);
      g_free (dirs[i]);
    }
}

/* Hand-made safetensors and npz files: every malformation a clear error. */
static void
write_st (const char *path, const char *header, const void *data, gsize n)
{
  guint64 len = GUINT64_TO_LE (strlen (header));
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) &len, 8);
  g_byte_array_append (b, (const guint8 *) header, (guint) strlen (header));
  g_byte_array_append (b, data, (guint) n);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
}

static void
test_bad_inputs (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *p = g_build_filename (dir, "x.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  float data[16] = { 0 };

  /* truncated data */
  write_st (p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4, 4], \"data_offsets\": [0, 64]}}", data, 32);
  g_assert_null (wkp_state_dict_load (p, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, p));
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);
  /* shape vs offsets */
  write_st (p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4, 3], \"data_offsets\": [0, 64]}}", data, 64);
  g_assert_null (wkp_state_dict_load (p, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);
  /* two tensors on the same bytes (found by fuzzing: accepted) */
  write_st (p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [8], \"data_offsets\": [0, 32]},"
               " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [16, 32]}}", data, 64);
  g_assert_null (wkp_state_dict_load (p, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "tensors a and b overlap"));
  g_clear_error (&error);
  /* unknown dtype */
  write_st (p, "{\"a\": {\"dtype\": \"I8\", \"shape\": [4], \"data_offsets\": [0, 4]}}", data, 4);
  g_assert_null (wkp_state_dict_load (p, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "I8"));
  g_clear_error (&error);
  /* garbage */
  g_assert_true (g_file_set_contents (p, "hello world, not a tensor file", -1, NULL));
  g_assert_null (wkp_state_dict_load (p, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);
  /* short garbage: not called a truncated safetensors file (it was, for any
   * 7-byte file, "hello" named .npz included) */
  g_assert_true (g_file_set_contents (p, "hello", -1, NULL));
  g_assert_null (wkp_state_dict_load (p, &error));
  g_assert_nonnull (strstr (error->message, "not a .npz (zip) or .safetensors file"));
  g_clear_error (&error);
  /* a valid file without LSTM tensors */
  write_st (p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", data, 16);
  {
    g_autoptr(WkpStateDict) sd = wkp_state_dict_load (p, &error);
    g_autoptr(WkpModel) m = NULL;
    g_assert_no_error (error);
    g_assert_nonnull (wkp_state_dict_get (sd, "a"));
    m = wkp_model_from_state_dict (sd, NULL, NULL, NULL, p, &error);
    g_assert_null (m);
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "weight_ih_l0"));
  }
  g_clear_error (&error);
  /* a truncated .npz */
  {
    g_autofree char *z = g_build_filename (dir, "x.npz", NULL);
    g_assert_true (g_file_set_contents (z, "PK\003\004 broken zip", -1, NULL));
    g_assert_null (wkp_state_dict_load (z, &error));
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, z));
    g_clear_error (&error);
  }
  /* a flipped byte in a member's data (numpy's stored, uncompressed .npz):
   * the CRC-32 says so (it used to convert silently into wrong weights) */
  if (wkp_test_python ("numpy") != NULL)
    {
      g_autofree char *z = g_build_filename (dir, "crc.npz", NULL);
      g_autofree char *out = NULL, *raw = NULL;
      const char *args[] = { z, NULL };
      gsize len;
      char *magic;
      out = wkp_test_run_python ("npz_make.py", args);
      {
        g_autoptr(WkpStateDict) sd = wkp_state_dict_load (z, &error);   /* intact: fine */
        g_assert_no_error (error);
        g_assert_nonnull (wkp_state_dict_get (sd, "a"));
      }
      g_assert_true (g_file_get_contents (z, &raw, &len, NULL));
      magic = NULL;
      for (gsize i = 0; magic == NULL && i + 6 <= len; i++)
        if (memcmp (raw + i, "\x93NUMPY", 6) == 0)
          magic = raw + i;
      g_assert_nonnull (magic);
      g_assert_cmpuint (magic - raw + 200, <, len);
      magic[200] ^= 0x40;   /* inside the 400 data bytes after the 128-byte header */
      g_assert_true (g_file_set_contents (z, raw, len, NULL));
      g_assert_null (wkp_state_dict_load (z, &error));
      g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "crc.npz:a.npy"));
      g_assert_nonnull (strstr (error->message, "CRC"));
    }
}


/* F16, BF16 and F64 tensors are read as float32. */
static void
test_dtypes (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *p = g_build_filename (dir, "d.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpStateDict) sd = NULL;
  /* f16: 1.0, -2.0, 0.5, 65504, 2^-24 (subnormal); bf16: 1.0, -3.0; f64: 0.1 */
  guint16 f16[5] = { 0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001 };
  guint16 bf16[2] = { 0x3f80, 0xc040 };
  double f64 = 0.1;
  guint8 data[10 + 4 + 8];
  const WkpTensor *t;

  memcpy (data, f16, 10);
  memcpy (data + 10, bf16, 4);
  memcpy (data + 14, &f64, 8);
  write_st (p, "{\"h\": {\"dtype\": \"F16\", \"shape\": [5], \"data_offsets\": [0, 10]},"
               " \"b\": {\"dtype\": \"BF16\", \"shape\": [1, 2], \"data_offsets\": [10, 14]},"
               " \"d\": {\"dtype\": \"F64\", \"shape\": [], \"data_offsets\": [14, 22]},"
               " \"__metadata__\": {\"format\": \"pt\"}}", data, sizeof data);
  sd = wkp_state_dict_load (p, &error);
  g_assert_no_error (error);
  t = wkp_state_dict_get (sd, "h");
  g_assert_nonnull (t);
  g_assert_cmpint (t->n_elements, ==, 5);
  g_assert_cmpfloat (t->data[0], ==, 1.0f);
  g_assert_cmpfloat (t->data[1], ==, -2.0f);
  g_assert_cmpfloat (t->data[2], ==, 0.5f);
  g_assert_cmpfloat (t->data[3], ==, 65504.0f);
  g_assert_cmpfloat (t->data[4], ==, ldexpf (1.0f, -24));
  t = wkp_state_dict_get (sd, "b");
  g_assert_cmpint (t->ndim, ==, 2);
  g_assert_cmpfloat (t->data[0], ==, 1.0f);
  g_assert_cmpfloat (t->data[1], ==, -3.0f);
  t = wkp_state_dict_get (sd, "d");
  g_assert_cmpint (t->ndim, ==, 0);
  g_assert_cmpint (t->n_elements, ==, 1);
  g_assert_cmpfloat (t->data[0], ==, 0.1f);
  g_assert_null (wkp_state_dict_get (sd, "__metadata__"));
}

/* A state dict whose head does not match the PCA: a clear mismatch. */
static void
test_mismatch (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *p = g_build_filename (dir, "m.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  /* LSTM input 156, hidden 1, head 5 outputs, no PCA: must be 40 outputs */
  g_autofree char *hdr = g_strdup_printf (
    "{\"lstm.weight_ih_l0\": {\"dtype\": \"F32\", \"shape\": [4, 156], \"data_offsets\": [0, %d]},"
    " \"lstm.weight_hh_l0\": {\"dtype\": \"F32\", \"shape\": [4, 1], \"data_offsets\": [%d, %d]},"
    " \"lstm.bias_ih_l0\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [%d, %d]},"
    " \"lstm.bias_hh_l0\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [%d, %d]},"
    " \"head.weight\": {\"dtype\": \"F32\", \"shape\": [5, 1], \"data_offsets\": [%d, %d]},"
    " \"head.bias\": {\"dtype\": \"F32\", \"shape\": [5], \"data_offsets\": [%d, %d]}}",
    4 * 624, 4 * 624, 4 * 628, 4 * 628, 4 * 632, 4 * 632, 4 * 636, 4 * 636, 4 * 641, 4 * 641, 4 * 646);
  g_autofree float *data = g_new0 (float, 646);
  g_autoptr(WkpStateDict) sd = NULL;
  g_autoptr(WkpModel) m = NULL;

  write_st (p, hdr, data, 4 * 646);
  sd = wkp_state_dict_load (p, &error);
  g_assert_no_error (error);
  m = wkp_model_from_state_dict (sd, NULL, NULL, NULL, p, &error);
  g_assert_null (m);
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "pca.basis"));
  g_assert_nonnull (strstr (error->message, "5 outputs"));
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/convert/torch", test_torch);
  g_test_add_func ("/convert/bad-inputs", test_bad_inputs);
  g_test_add_func ("/convert/mismatch", test_mismatch);
  g_test_add_func ("/convert/dtypes", test_dtypes);
  return g_test_run ();
}
