/* The model file (round trip, every corruption a clear error), the input
 * pipeline, prediction at any length and frame rate, streaming. */
#include "wkp-model.h"
#include "wkp-config.h"
#include "wkp-media.h"
#include "wkp-npy.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-error.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <glib-unix.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <math.h>
#include <signal.h>
#include <string.h>

static const int mouth[20] = { 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67 };

/* A model with random weights; PCA basis random, scaled so predictions stay
 * near the mean face. */
static WkpModel *
random_model (int context, int delay, gboolean per_clip, int hidden, int layers, gboolean bidir, float wscale)
{
  WkpFeatureConfig fc;
  WkpModel *m;
  WkpLstm *l;
  int dim, dirs = bidir ? 2 : 1, K = 6;

  wkp_feature_config_init_default (&fc);
  dim = wkp_feature_config_dim (&fc);
  m = wkp_model_new (&fc, WKP_RATIONAL (25, 1), context, delay, per_clip, 20, mouth, K, hidden, layers, bidir);
  l = m->lstm;
  for (int k = 0; k < layers; k++)
    for (int d = 0; d < dirs; d++)
      {
        gsize in = (gsize) wkp_lstm_layer_input (l, k);
        wkp_test_random_fill (l->w_ih[k][d], 4 * (gsize) hidden * in, -wscale / sqrtf ((float) in), wscale / sqrtf ((float) in));
        wkp_test_random_fill (l->w_hh[k][d], 4 * (gsize) hidden * hidden, -0.3f, 0.3f);
        wkp_test_random_fill (l->b_ih[k][d], 4 * (gsize) hidden, -0.1f, 0.1f);
        wkp_test_random_fill (l->b_hh[k][d], 4 * (gsize) hidden, -0.1f, 0.1f);
      }
  wkp_test_random_fill (l->head_w, (gsize) K * hidden * dirs, -0.5f, 0.5f);
  wkp_test_random_fill (l->head_b, K, -0.1f, 0.1f);
  wkp_test_random_fill (m->feature_mean, dim, -1, 1);
  wkp_test_random_fill (m->feature_std, dim, 0.5f, 20.0f);
  for (int i = 0; i < 40; i++)
    m->pca_mean[i] = m->mean_face[2 * mouth[i / 2] + (i % 2)];
  wkp_test_random_fill (m->pca_basis, (gsize) K * 40, -0.05f, 0.05f);
  wkp_test_random_fill (m->pca_scale, K, 0.5f, 1.5f);
  return m;
}

static char *
save_tmp (const WkpModel *m, const char *name)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true (wkp_model_save (m, path, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_roundtrip (void)
{
  g_autoptr(WkpModel) m = random_model (2, 3, TRUE, 12, 2, TRUE, 1.0f);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) back = NULL;
  g_autoptr(JsonNode) desc = NULL;
  int dim = wkp_model_feature_dim (m);

  m->training = json_from_string ("{\"clips\": 12, \"speakers\": [\"a\", \"b\"]}", NULL);
  m->metrics = json_from_string ("{\"aperture_r\": 0.47}", NULL);
  m->features.n_mels = 32;   /* a non-default config survives too */
  path = save_tmp (m, "m.wkpm");
  back = wkp_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_nonnull (back->map);
  g_assert_true (wkp_feature_config_equal (&m->features, &back->features, "a", "b", NULL));
  g_assert_cmpint (back->fps.num, ==, 25);
  g_assert_cmpint (back->fps.den, ==, 1);
  g_assert_cmpint (back->context, ==, 2);
  g_assert_cmpint (back->delay, ==, 3);
  g_assert_true (back->per_clip_norm);
  g_assert_cmpint (back->n_points, ==, 20);
  g_assert_cmpmem (back->point_index, 20 * sizeof (int), mouth, sizeof mouth);
  g_assert_cmpint (back->n_components, ==, 6);
  g_assert_cmpint (back->lstm->hidden_size, ==, 12);
  g_assert_cmpint (back->lstm->num_layers, ==, 2);
  g_assert_true (back->lstm->bidirectional);
  g_assert_false (back->lstm->owns_weights);
  g_assert_cmpmem (back->feature_mean, dim * 4, m->feature_mean, dim * 4);
  g_assert_cmpmem (back->feature_std, dim * 4, m->feature_std, dim * 4);
  g_assert_cmpmem (back->mean_face, 136 * 4, m->mean_face, 136 * 4);
  g_assert_cmpmem (back->pca_basis, 6 * 40 * 4, m->pca_basis, 6 * 40 * 4);
  g_assert_cmpmem (back->pca_scale, 6 * 4, m->pca_scale, 6 * 4);
  g_assert_cmpmem (back->lstm->w_hh[1][1], 48 * 12 * 4, m->lstm->w_hh[1][1], 48 * 12 * 4);
  g_assert_cmpmem (back->lstm->w_ih[0][1], (gsize) 48 * m->lstm->input_size * 4, m->lstm->w_ih[0][1],
                   (gsize) 48 * m->lstm->input_size * 4);
  g_assert_cmpmem (back->lstm->head_w, 6 * 24 * 4, m->lstm->head_w, 6 * 24 * 4);
  /* tensors are 64-byte aligned in memory */
  g_assert_cmpuint (GPOINTER_TO_SIZE (back->lstm->w_ih[1][0]) % 64, ==, 0);
  g_assert_cmpuint (GPOINTER_TO_SIZE (back->pca_scale) % 64, ==, 0);
  g_assert_true (json_node_equal (back->training, m->training));
  g_assert_true (json_node_equal (back->metrics, m->metrics));
  desc = wkp_model_describe (back);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (desc), "n_params"), ==,
                   (gint64) wkp_lstm_n_params (m->lstm));
  /* saving the loaded (mapped) model gives the same bytes */
  {
    g_autofree char *path2 = save_tmp (back, "m2.wkpm");
    g_autofree char *a = NULL, *b = NULL;
    gsize na, nb;
    g_assert_true (g_file_get_contents (path, &a, &na, NULL));
    g_assert_true (g_file_get_contents (path2, &b, &nb, NULL));
    g_assert_cmpmem (a, na, b, nb);
  }
}

/* --- corrupted files ------------------------------------------------------------- */

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  GBytes *b = wkp_read_file (path, &error);
  g_assert_no_error (error);
  return b;
}

static void
write_bytes (const char *path, const void *data, gsize n)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (g_file_set_contents (path, data, (gssize) n, &error));
  g_assert_no_error (error);
}

static void
expect_load_error (const char *path, int code, const char *const *fragments)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) m = wkp_model_load (path, &error);
  g_assert_null (m);
  g_assert_error (error, WKP_MODEL_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  for (int i = 0; fragments != NULL && fragments[i] != NULL; i++)
    if (strstr (error->message, fragments[i]) == NULL)
      g_error ("“%s” lacks “%s”", error->message, fragments[i]);
}

/* Rewrites the header JSON with @edit applied, keeping the data section. */
typedef void (*HeaderEdit) (JsonObject *root);

static void
rewrite_header (const char *src, const char *dst, HeaderEdit edit)
{
  g_autoptr(GBytes) b = read_bytes (src);
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  guint32 hl;
  gsize old_start, new_start;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree guint8 *out = NULL;

  memcpy (&hl, d + 12, 4);
  old_start = (16 + hl + 63) / 64 * 64;
  {
    g_autofree char *orig = g_strndup ((const char *) d + 16, hl);
    root = json_from_string (orig, NULL);
  }
  g_assert_nonnull (root);
  edit (json_node_get_object (root));
  text = wkp_json_to_string (root, FALSE);
  hl = (guint32) strlen (text);
  new_start = (16 + hl + 63) / 64 * 64;
  out = g_malloc0 (new_start + (n - old_start));
  memcpy (out, d, 12);
  memcpy (out + 12, &hl, 4);
  memcpy (out + 16, text, hl);
  memcpy (out + new_start, d + old_start, n - old_start);
  write_bytes (dst, out, new_start + (n - old_start));
}

static JsonObject *
find_tensor (JsonObject *root, const char *name)
{
  JsonArray *a = json_object_get_array_member (root, "tensors");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *t = json_array_get_object_element (a, i);
      if (strcmp (json_object_get_string_member (t, "name"), name) == 0)
        return t;
    }
  g_assert_not_reached ();
}

static void
edit_shape (JsonObject *root)
{
  JsonObject *t = find_tensor (root, "pca.scale");
  JsonArray *shape = json_array_new ();
  json_array_add_int_element (shape, 2);
  json_array_add_int_element (shape, 3);
  json_object_set_array_member (t, "shape", shape);
}

static void
edit_remove (JsonObject *root)
{
  JsonArray *a = json_object_get_array_member (root, "tensors");
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (strcmp (json_object_get_string_member (json_array_get_object_element (a, i), "name"),
                "lstm.bias_hh_l1") == 0)
      {
        json_array_remove_element (a, i);
        return;
      }
  g_assert_not_reached ();
}

static void
edit_offset (JsonObject *root)
{
  JsonObject *t = find_tensor (root, "head.weight");
  json_object_set_int_member (t, "offset", json_object_get_int_member (t, "offset") + 1000000000);
}

/* found by fuzzing: a tensor moved onto another's bytes loaded silently */
static void
edit_overlap (JsonObject *root)
{
  JsonObject *t = find_tensor (root, "head.weight");
  json_object_set_int_member (t, "offset", json_object_get_int_member (find_tensor (root, "lstm.weight_ih_l0"), "offset"));
}

static void
edit_twice (JsonObject *root)
{
  JsonArray *tensors = json_object_get_array_member (root, "tensors");
  json_array_add_element (tensors, json_node_copy (json_array_get_element (tensors, 0)));
}

static void
edit_nbytes (JsonObject *root)
{
  JsonObject *t = find_tensor (root, "head.bias");
  json_object_set_int_member (t, "nbytes", 4);
}

static void
edit_hidden (JsonObject *root)
{
  JsonObject *meta = json_object_get_object_member (root, "metadata");
  json_object_set_int_member (json_object_get_object_member (meta, "lstm"), "hidden_size", 13);
}

static void
edit_context (JsonObject *root)
{
  JsonObject *meta = json_object_get_object_member (root, "metadata");
  json_object_set_string_member (meta, "context", "two");
}

static void
edit_level_gain_text (JsonObject *root)
{
  json_object_set_string_member (json_object_get_object_member (root, "metadata"), "level_gain", "2");
}

static void
edit_level_gain_range (JsonObject *root)
{
  json_object_set_double_member (json_object_get_object_member (root, "metadata"), "level_gain", -0.5);
}

/* found by fuzzing: an array where a feature integer belongs was read as the
 * default with a json-glib critical */
static void
edit_delta_width_array (JsonObject *root)
{
  JsonObject *feat = json_object_get_object_member (json_object_get_object_member (root, "metadata"), "features");
  JsonArray *a = json_array_new ();
  json_array_add_int_element (a, 2);
  json_array_add_int_element (a, 2);
  json_object_set_array_member (feat, "delta_width", a);
}

static void
edit_window_text (JsonObject *root)
{
  JsonObject *feat = json_object_get_object_member (json_object_get_object_member (root, "metadata"), "features");
  json_object_set_string_member (feat, "window_ms", "25");
}

static void
edit_kind_object (JsonObject *root)
{
  JsonObject *feat = json_object_get_object_member (json_object_get_object_member (root, "metadata"), "features");
  json_object_set_object_member (feat, "kind", json_object_new ());
}

static void
test_corrupt (void)
{
  g_autoptr(WkpModel) m = random_model (1, 0, FALSE, 8, 2, FALSE, 1.0f);
  g_autofree char *path = save_tmp (m, "good.wkpm");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *bad = g_build_filename (dir, "bad.wkpm", NULL);
  g_autoptr(GBytes) good = read_bytes (path);
  gsize n;
  const guint8 *d = g_bytes_get_data (good, &n);
  g_autofree guint8 *copy = g_memdup2 (d, n);

  /* truncated: in the data, in the header, in the fixed header, empty */
  {
    const char *f[] = { "truncated", NULL };
    write_bytes (bad, d, n - 100);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
    write_bytes (bad, d, 200);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
    write_bytes (bad, d, 10);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
    write_bytes (bad, d, 0);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  /* an ensemble whose header counts fewer networks than it holds (the 4th
   * network of the shipped model was dropped without a word) */
  {
    g_autofree char *shipped = g_build_filename (WKP_SOURCE_DIR, "data", "default.wkpm", NULL);
    g_autofree char *bytes = NULL;
    gsize len;
    char *at;
    const char *f[] = { "member3.", "beyond the 3 the header counts", NULL };
    if (g_file_get_contents (shipped, &bytes, &len, NULL))
      {
        const char *key = "\"members\" : 4";
        at = NULL;
        for (gsize i = 0; at == NULL && i + strlen (key) <= MIN (len, 65536); i++)   /* the header holds NULs */
          if (memcmp (bytes + i, key, strlen (key)) == 0)
            at = bytes + i;
        g_assert_nonnull (at);
        at[strlen ("\"members\" : ")] = '3';
        write_bytes (bad, (const guint8 *) bytes, len);
        expect_load_error (bad, WKP_ERROR_INVALID, f);
      }
  }
  /* flipped magic */
  {
    const char *f[] = { "magic", NULL };
    copy[3] ^= 0x20;
    write_bytes (bad, copy, n);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
    copy[3] ^= 0x20;
  }
  /* future version */
  {
    const char *f[] = { "version 2", "newer", NULL };
    guint32 v = GUINT32_TO_LE (2);
    memcpy (copy + 8, &v, 4);
    write_bytes (bad, copy, n);
    expect_load_error (bad, WKP_ERROR_UNSUPPORTED, f);
    v = GUINT32_TO_LE (WKP_MODEL_FORMAT_VERSION);
    memcpy (copy + 8, &v, 4);
  }
  /* header length past the end */
  {
    const char *f[] = { "header length", NULL };
    guint32 v = GUINT32_TO_LE ((guint32) n);
    guint32 keep;
    memcpy (&keep, copy + 12, 4);
    memcpy (copy + 12, &v, 4);
    write_bytes (bad, copy, n);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
    memcpy (copy + 12, &keep, 4);
  }
  /* a NaN and an Inf in weights: find their place through the mapping */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WkpModel) loaded = wkp_model_load (path, &error);
    const guint8 *base;
    gsize off;
    float nan = NAN, inf = INFINITY;
    const char *f1[] = { "lstm.weight_hh_l1", "NaN", NULL };
    const char *f2[] = { "pca.basis", "Inf", NULL };

    g_assert_no_error (error);
    base = (const guint8 *) g_mapped_file_get_contents (loaded->map);
    off = (const guint8 *) loaded->lstm->w_hh[1][0] - base + 4 * 7;
    memcpy (copy + off, &nan, 4);
    write_bytes (bad, copy, n);
    expect_load_error (bad, WKP_ERROR_INVALID, f1);
    memcpy (copy + off, d + off, 4);
    off = (const guint8 *) loaded->pca_basis - base;
    memcpy (copy + off, &inf, 4);
    write_bytes (bad, copy, n);
    expect_load_error (bad, WKP_ERROR_INVALID, f2);
    memcpy (copy + off, d + off, 4);
    /* finite but absurd (3e38: Inf after the first product) */
    {
      const char *f4[] = { "lstm.weight_hh_l1", "absurd", NULL };
      float huge = 3e38f;
      off = (const guint8 *) loaded->lstm->w_hh[1][0] - base + 4 * 3;
      memcpy (copy + off, &huge, 4);
      write_bytes (bad, copy, n);
      expect_load_error (bad, WKP_ERROR_INVALID, f4);
      memcpy (copy + off, d + off, 4);
    }
    /* feature_std of zero */
    {
      const char *f3[] = { "feature_std", NULL };
      float zero = 0;
      off = (const guint8 *) loaded->feature_std - base + 8;
      memcpy (copy + off, &zero, 4);
      write_bytes (bad, copy, n);
      expect_load_error (bad, WKP_ERROR_INVALID, f3);
      memcpy (copy + off, d + off, 4);
    }
  }
  /* the copy is intact again */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WkpModel) ok = NULL;
    write_bytes (bad, copy, n);
    ok = wkp_model_load (bad, &error);
    g_assert_no_error (error);
  }
  /* header edits */
  {
    const char *f[] = { "lstm.bias_hh_l1", "missing", NULL };
    rewrite_header (path, bad, edit_remove);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "head.weight", "past the end", NULL };
    rewrite_header (path, bad, edit_offset);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "lstm.weight_ih_l0", "head.weight", "overlap", NULL };
    rewrite_header (path, bad, edit_overlap);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "appears twice", NULL };
    rewrite_header (path, bad, edit_twice);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "head.bias", "nbytes", NULL };
    rewrite_header (path, bad, edit_nbytes);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "lstm.weight_ih_l0", "shape", "expected [52, ", NULL };
    rewrite_header (path, bad, edit_hidden);
    expect_load_error (bad, WKP_ERROR_MISMATCH, f);
  }
  {
    const char *f[] = { "context", "not an integer", NULL };
    rewrite_header (path, bad, edit_context);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "level_gain", "not a number", NULL };
    rewrite_header (path, bad, edit_level_gain_text);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "level gain -0.5", "out of range", NULL };
    rewrite_header (path, bad, edit_level_gain_range);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "feature config", "“delta_width” is not an integer", NULL };
    rewrite_header (path, bad, edit_delta_width_array);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "feature config", "“window_ms” is not a number", NULL };
    rewrite_header (path, bad, edit_window_text);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  {
    const char *f[] = { "feature config", "“kind” is not a string", NULL };
    rewrite_header (path, bad, edit_kind_object);
    expect_load_error (bad, WKP_ERROR_INVALID, f);
  }
  /* missing file */
  {
    g_autofree char *missing = g_build_filename (dir, "nope.wkpm", NULL);
    expect_load_error (missing, WKP_ERROR_NOT_FOUND, NULL);
  }
}

/* wrong shape with consistent nbytes: a clear shape message */
static void
test_wrong_shape (void)
{
  g_autoptr(WkpModel) m = random_model (0, 0, FALSE, 8, 1, FALSE, 1.0f);
  g_autofree char *path = save_tmp (m, "good.wkpm");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *bad = g_build_filename (dir, "bad.wkpm", NULL);
  const char *f[] = { "pca.scale", "[2, 3]", "expected [6]", NULL };

  /* pca.scale has 6 floats: [2, 3] keeps nbytes right, so the shape check speaks */
  rewrite_header (path, bad, edit_shape);
  expect_load_error (bad, WKP_ERROR_MISMATCH, f);
}

static void
test_save_refuses_nan (void)
{
  g_autoptr(WkpModel) m = random_model (0, 0, FALSE, 8, 1, FALSE, 1.0f);
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "x.wkpm", NULL);
  g_autoptr(GError) error = NULL;

  m->lstm->b_ih[0][0][3] = NAN;
  g_assert_false (wkp_model_save (m, path, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "lstm.bias_ih_l0"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* an internal frame rate no clip can use (convert --fps 2147483647/1 used
   * to write such a file, which predict then refused) */
  m->lstm->b_ih[0][0][3] = 0.0f;
  m->fps = WKP_RATIONAL (2147483647, 1);
  g_assert_false (wkp_model_save (m, path, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "frame rate"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_check_features (void)
{
  g_autoptr(WkpModel) m = random_model (0, 0, FALSE, 8, 1, FALSE, 1.0f);
  WkpFeatureConfig fc = m->features;
  g_autoptr(GError) error = NULL;

  g_assert_true (wkp_model_check_features (m, &fc, &error));
  g_assert_no_error (error);
  fc.n_mels = 80;
  g_assert_false (wkp_model_check_features (m, &fc, &error));
  g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "n_mels"));
  g_assert_nonnull (strstr (error->message, "40"));
  g_assert_nonnull (strstr (error->message, "80"));
}

/* --- pipeline ------------------------------------------------------------------------ */

/* Independent recomputation of normalisation + context + delay + LSTM ref +
 * PCA for a model with per-clip normalisation. */
static void
test_pipeline_reference (void)
{
  g_autoptr(WkpModel) m = random_model (2, 3, TRUE, 10, 2, FALSE, 1.0f);
  const gint64 T = 37;
  int dim = wkp_model_feature_dim (m), K = m->n_components, in = m->lstm->input_size;
  g_autofree float *f = g_new (float, T * dim);
  g_autofree float *nf = g_new (float, T * dim);
  g_autofree float *x = g_new (float, (T + 3) * in);
  g_autofree float *y = g_new (float, (T + 3) * K);
  g_autofree float *coeffs = NULL;
  g_autofree float *pts = NULL;
  g_autoptr(GError) error = NULL;

  wkp_test_random_fill (f, T * dim, -30, 30);
  for (int j = 0; j < dim; j++)
    {
      double mean = 0, var = 0;
      for (gint64 t = 0; t < T; t++)
        mean += f[t * dim + j];
      mean /= T;
      for (gint64 t = 0; t < T; t++)
        var += (f[t * dim + j] - mean) * (f[t * dim + j] - mean);
      for (gint64 t = 0; t < T; t++)
        nf[t * dim + j] = (float) (((f[t * dim + j] - mean) / sqrt (var / T) - m->feature_mean[j]) / m->feature_std[j]);
    }
  for (gint64 s = 0; s < T + 3; s++)
    for (int k = 0; k < 5; k++)
      {
        gint64 src = s + k - 2;
        src = src < 0 ? 0 : src > T - 1 ? T - 1 : src;
        memcpy (x + s * in + k * dim, nf + src * dim, sizeof (float) * dim);
      }
  g_assert_true (wkp_lstm_forward_ref (m->lstm, x, T + 3, y, &error));
  coeffs = wkp_model_predict_coeffs (m, f, T, 1, &error);
  g_assert_no_error (error);
  for (gint64 t = 0; t < T; t++)
    for (int k = 0; k < K; k++)
      g_assert_cmpfloat_with_epsilon (coeffs[t * K + k], y[(t + 3) * K + k], 1e-4);

  /* reconstruction: mouth from PCA, the rest the mean face */
  pts = wkp_model_predict_features (m, f, T, m->fps, T, 1, &error);
  g_assert_no_error (error);
  for (gint64 t = 0; t < T; t++)
    {
      const float *p = pts + t * 136;
      for (int i = 0; i < 48; i++)
        {
          g_assert_cmpfloat (p[2 * i], ==, m->mean_face[2 * i]);
          g_assert_cmpfloat (p[2 * i + 1], ==, m->mean_face[2 * i + 1]);
        }
      for (int q = 0; q < 40; q++)
        {
          double v = m->pca_mean[q];
          for (int k = 0; k < K; k++)
            v += (double) coeffs[t * K + k] * m->pca_scale[k] * m->pca_basis[k * 40 + q];
          g_assert_cmpfloat_with_epsilon (p[2 * 48 + q], v, 1e-5);
        }
    }
}

static float *
synth_speechlike (gint64 n, int rate)
{
  float *a = g_new (float, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    {
      double t = (double) i / rate;
      double env = 0.5 + 0.5 * sin (2 * G_PI * 3.7 * t) * sin (2 * G_PI * 0.6 * t);
      double f0 = 140 + 40 * sin (2 * G_PI * 0.9 * t);
      a[i] = (float) (0.3 * env * (sin (2 * G_PI * f0 * t) + 0.5 * sin (2 * G_PI * 2.7 * f0 * t) +
                                   0.05 * g_test_rand_double_range (-1, 1)));
    }
  return a;
}

/* Any length: 0, 1 frame, tiny audio, a video longer than its audio. */
static void
test_predict_lengths (void)
{
  g_autoptr(WkpModel) m = random_model (1, 2, TRUE, 8, 1, FALSE, 1.0f);
  g_autoptr(GError) error = NULL;
  g_autofree float *audio = synth_speechlike (16000 * 3, 16000);
  const struct { gint64 samples, frames; } cases[] = {
    { 0, 0 }, { 16000 * 3, 0 }, { 0, 1 }, { 0, 5 }, { 10, 1 }, { 640, 1 }, { 16000, 25 },
    { 16000, 90 } /* video longer than the audio */, { 16000 * 3, 75 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree float *p = wkp_model_predict_audio (m, audio, cases[c].samples, WKP_RATIONAL (30000, 1001),
                                                     cases[c].frames, 1, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (p);
      for (gint64 i = 0; i < cases[c].frames * 136; i++)
        g_assert_true (isfinite (p[i]));
    }
}

/* No padding artefacts: predicting the first 8 s of a 12 s clip gives the same
 * frames as the 12 s prediction, except the last context+delay frames plus the
 * analysis window (unidirectional model, global normalisation). */
static void
test_prefix_consistency (void)
{
  g_autoptr(WkpModel) m = random_model (2, 2, FALSE, 16, 2, FALSE, 1.0f);
  g_autoptr(GError) error = NULL;
  const int rate = 16000;
  g_autofree float *audio = synth_speechlike (rate * 12, rate);
  g_autofree float *full = wkp_model_predict_audio (m, audio, rate * 12, WKP_RATIONAL (25, 1), 300, 1, NULL, &error);
  g_autofree float *part = wkp_model_predict_audio (m, audio, rate * 8, WKP_RATIONAL (25, 1), 200, 1, NULL, &error);
  double maxd = 0;

  g_assert_no_error (error);
  for (gint64 i = 0; i < (200 - 6) * 136; i++)
    maxd = MAX (maxd, fabs (full[i] - part[i]));
  g_test_message ("prefix vs full: max |diff| %.3g", maxd);
  g_assert_cmpfloat (maxd, <=, 1e-6);
}

/* Linear interpolation on the exact frame grid. */
static void
test_resample (void)
{
  float in[5] = { 0, 10, 20, 30, 40 };
  float out[8];

  /* same rate: identity */
  wkp_model_resample (in, 5, 1, WKP_RATIONAL (25, 1), out, 5, WKP_RATIONAL (25, 1));
  g_assert_cmpmem (out, sizeof (float) * 5, in, sizeof in);
  /* 50 fps from 25: centres at 0.01, 0.03, ... s = input frames -0.25, 0.25, 0.75, ... */
  wkp_model_resample (in, 5, 1, WKP_RATIONAL (25, 1), out, 8, WKP_RATIONAL (50, 1));
  g_assert_cmpfloat (out[0], ==, 0);       /* clamped before the first centre */
  g_assert_cmpfloat_with_epsilon (out[1], 2.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[2], 7.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[7], 32.5, 1e-6);
  /* beyond the end: the last frame */
  wkp_model_resample (in, 5, 1, WKP_RATIONAL (25, 1), out, 3, WKP_RATIONAL (5, 1));
  g_assert_cmpfloat_with_epsilon (out[0], 20, 1e-6);
  g_assert_cmpfloat (out[1], ==, 40);
}

/* Frame-rate independence: the same audio predicted for a 25 fps clip and a
 * 30 fps clip gives the same inner-lip aperture curve on a common time grid.
 * The model runs at 25 fps internally, so the 25 fps prediction is the network
 * output itself and the 30 fps one its interpolation at the 30 fps frame
 * centres. Two checks, stated tolerances:
 *  (a) on the 30 fps grid, the 25 fps landmarks linearly interpolated at the
 *      30 fps frame centres equal the 30 fps landmarks: max |diff| <= 1e-5
 *      (canonical units, inter-ocular distance 1) at every 30 fps frame whose
 *      centre lies between the first and last 25 fps centres, i.e. nothing in the
 *      features or the network depends on the clip rate (the aperture itself
 *      is a distance, not linear in the points, so it is compared in (b));
 *  (b) on a common 100 Hz grid (both curves interpolated), correlation >= 0.98
 *      and RMS difference <= 20% of the curve's std: what remains is the
 *      interpolation error of a curve sampled at 25 Hz (the model below has
 *      slow dynamics, forget-gate bias +3, like a trained mouth track). */
static double
interp_at (const double *v, gint64 n, double fps, double t)
{
  double p = t * fps - 0.5;
  gint64 k;
  if (p <= 0)
    return v[0];
  k = (gint64) floor (p);
  if (k >= n - 1)
    return v[n - 1];
  return v[k] + (p - k) * (v[k + 1] - v[k]);
}

static void
check_fps_independence (const float *audio, WkpModel *given)
{
  g_autoptr(WkpModel) own = NULL;
  WkpModel *m = given;
  g_autoptr(GError) error = NULL;
  const int rate = 16000, secs = 10;
  g_autofree float *p25 = NULL, *p30 = NULL;

  if (m == NULL)
    {
      m = own = random_model (1, 1, TRUE, 24, 1, FALSE, 1.0f);
      for (int j = 24; j < 48; j++)
        m->lstm->b_ih[0][0][j] += 3.0f;    /* forget gates: slow dynamics */
      /* an open mouth (aperture ~0.1) moved by small PCA offsets, so the aperture
       * (a distance, not linear in the points) stays away from its kink at 0 */
      for (int i = 65; i <= 67; i++)
        m->pca_mean[2 * (i - 48) + 1] += 0.1f;
      wkp_test_random_fill (m->pca_basis, (gsize) m->n_components * 40, -0.02f, 0.02f);
    }
  g_assert_cmpint (m->fps.num, ==, 25 * m->fps.den);   /* the checks below assume a 25 fps model */
  p25 = wkp_model_predict_audio (m, audio, (gint64) rate * secs, WKP_RATIONAL (25, 1), 25 * secs, 1, NULL, &error);
  p30 = wkp_model_predict_audio (m, audio, (gint64) rate * secs, WKP_RATIONAL (30, 1), 30 * secs, 1, NULL, &error);
  {
  g_autofree double *a25 = g_new (double, 25 * secs), *a30 = g_new (double, 30 * secs);
  double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0, sd2 = 0, r, sd, rms, maxd = 0;
  int n = 0;

  g_assert_no_error (error);
  for (int i = 0; i < 25 * secs; i++)
    a25[i] = wkp_face_inner_aperture (p25 + i * 136);
  for (int i = 0; i < 30 * secs; i++)
    a30[i] = wkp_face_inner_aperture (p30 + i * 136);
  /* (a) on the 30 fps grid, the landmarks themselves (linear in the network output) */
  {
    g_autofree double *track = g_new (double, 25 * secs);
    for (int q = 0; q < 136; q++)
      {
        for (int i = 0; i < 25 * secs; i++)
          track[i] = p25[i * 136 + q];
        for (int i = 0; i < 30 * secs; i++)
          if ((i + 0.5) / 30.0 <= (25 * secs - 0.5) / 25.0)   /* inside the 25 fps centres */
            maxd = MAX (maxd, fabs (interp_at (track, 25 * secs, 25, (i + 0.5) / 30.0) - p30[i * 136 + q]));
      }
  }
  g_test_message ("landmarks at 25 fps interpolated at 30 fps frame centres vs 30 fps: max |diff| %.3g", maxd);
  g_assert_cmpfloat (maxd, <=, 1e-5);
  /* (b) on a 100 Hz grid */
  for (int k = 0; k < 100 * secs; k++)
    {
      double t = (k + 0.5) / 100.0;
      double u = interp_at (a25, 25 * secs, 25, t), v = interp_at (a30, 30 * secs, 30, t);
      s1 += u; s2 += v; s11 += u * u; s22 += v * v; s12 += u * v; sd2 += (u - v) * (u - v);
      n++;
    }
  sd = sqrt (s11 / n - (s1 / n) * (s1 / n));
  r = (s12 / n - s1 * s2 / n / n) / (sd * sqrt (s22 / n - (s2 / n) * (s2 / n)));
  rms = sqrt (sd2 / n);
  g_test_message ("aperture 25 vs 30 fps on a 100 Hz grid: r = %.4f, rms diff = %.4f x std (std %.4g)", r,
                  rms / sd, sd);
  g_assert_cmpfloat (sd, >, 1e-4);   /* the curve actually moves */
  g_assert_cmpfloat (r, >=, 0.98);
  g_assert_cmpfloat (rms / sd, <=, 0.2);
  }
}

static void
test_fps_independence (void)
{
  g_autofree float *audio = synth_speechlike (16000 * 10, 16000);
  check_fps_independence (audio, NULL);
}

/* ... and for a clip that is not a whole number of seconds long (5.013 s):
 * how far 126 frames at 25 fps or 151 at 30 fps reach past the audio changes
 * no prediction (the end used to differ by up to 0.017, twice the motion). */
static void
test_fps_independence_any_length (void)
{
  g_autoptr(WkpModel) m = random_model (1, 1, TRUE, 24, 1, FALSE, 1.0f);
  g_autoptr(GError) error = NULL;
  const int rate = 16000;
  const gint64 n = 80208;   /* 5.013 s */
  const gint64 n25 = 126, n30 = 151;   /* ceil (5.013 x fps) */
  g_autofree float *audio = synth_speechlike (n, rate);
  g_autofree float *p25 = wkp_model_predict_audio (m, audio, n, WKP_RATIONAL (25, 1), n25, 1, NULL, &error);
  g_autofree float *p30 = wkp_model_predict_audio (m, audio, n, WKP_RATIONAL (30, 1), n30, 1, NULL, &error);
  double maxd = 0;
  int compared = 0;
  g_assert_no_error (error);
  for (gint64 i = 0; i < n30; i++)
    {
      double pos = ((double) i + 0.5) / 30.0 * 25.0 - 0.5;   /* in 25 fps frames */
      gint64 k0 = (gint64) floor (pos);
      double f = pos - (double) k0;
      if (pos < 0 || k0 + 1 >= n25)
        continue;
      for (int q = 0; q < 136; q++)
        maxd = MAX (maxd, fabs ((1 - f) * p25[k0 * 136 + q] + f * p25[(k0 + 1) * 136 + q] - p30[i * 136 + q]));
      compared++;
    }
  g_test_message ("5.013 s: %d frames at 30 fps against the 25 fps curve, max |difference| %.2e", compared, maxd);
  g_assert_cmpint (compared, >=, 148);   /* up to the last 25 fps centre */
  g_assert_cmpfloat (maxd, <, 1e-5);
}

/* The same on 10 s of real speech (Obama, ../shared/data). */
static void
test_fps_independence_speech (void)
{
  g_autofree char *wav = wkp_test_shared_file ("av/FuxiVirtualHuman__styletalk/samples/source_video/wav/Obama_clip1.wav");
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpAudio) a = NULL;

  if (wav == NULL)
    return;
  a = wkp_audio_load (wav, 16000, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->n_samples, >=, 16000 * 10);
  check_fps_independence (a->samples, NULL);
}

/* And with the shipped default model (a trained one), when it is there. */
static void
test_fps_independence_default_model (void)
{
  g_autofree char *wav = wkp_test_shared_file ("av/FuxiVirtualHuman__styletalk/samples/source_video/wav/Obama_clip1.wav");
  g_autofree char *path = g_build_filename (WKP_SOURCE_DIR, "data", "default.wkpm", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpAudio) a = NULL;
  g_autoptr(WkpModel) m = NULL;

  if (wav == NULL)
    return;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("no default model in data/ yet");
      return;
    }
  m = wkp_model_load (path, &error);
  g_assert_no_error (error);
  if (m->fps.num != 25 * m->fps.den)
    {
      g_test_skip ("the default model does not run at 25 fps");
      return;
    }
  a = wkp_audio_load (wav, m->features.sample_rate, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->n_samples, >=, 16000 * 10);
  check_fps_independence (a->samples, m);
}

/* Streaming fed feature chunks equals whole-utterance prediction. */
static void
stream_check_model (WkpModel *m)
{
  int context = m->context, delay = m->delay;
  gboolean per_clip = m->per_clip_norm;
  const gint64 T = 400;
  int dim = wkp_model_feature_dim (m), K = m->n_components;
  g_autofree float *f = g_new (float, T * dim);
  g_autofree float *whole = NULL;
  g_autofree float *got = g_new0 (float, T * K);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModelStream) st = wkp_model_stream_new (m, 1, &error);
  gint64 fed = 0, out = 0, k;
  float *c = NULL;
  double maxd = 0, scale = 0;

  g_assert_no_error (error);
  wkp_test_random_fill (f, T * dim, -5, 5);
  whole = wkp_model_predict_coeffs (m, f, T, 1, &error);
  g_assert_no_error (error);
  while (fed < T)
    {
      gint64 r = g_test_rand_int_range (0, 9), n = MIN (T - fed, r);
      k = wkp_model_stream_push (st, f + fed * dim, n, &c, &error);
      g_assert_no_error (error);
      g_assert_cmpint (k, >=, 0);
      /* lag is bounded by context + delay */
      g_assert_cmpint (out + k, >=, fed + n - context - delay);
      if (k > 0)
        memcpy (got + out * K, c, sizeof (float) * k * K);
      g_clear_pointer (&c, g_free);
      out += k;
      fed += n;
    }
  k = wkp_model_stream_finish (st, &c, &error);
  g_assert_no_error (error);
  if (k > 0)
    memcpy (got + out * K, c, sizeof (float) * k * K);
  g_clear_pointer (&c, g_free);
  out += k;
  g_assert_cmpint (out, ==, T);
  if (per_clip)
    return;   /* running statistics: not equal by design */
  for (gint64 i = 0; i < T * K; i++)
    {
      maxd = MAX (maxd, fabs (got[i] - whole[i]));
      scale = MAX (scale, fabs (whole[i]));
    }
  g_test_message ("stream (context %d, delay %d) vs whole: %.3g relative", context, delay, maxd / scale);
  g_assert_cmpfloat (maxd / scale, <=, 5e-6);   /* float rounding: sgemm blocking and summation order differ */
}

static void
stream_check (int context, int delay, gboolean per_clip)
{
  g_autoptr(WkpModel) m = random_model (context, delay, per_clip, 16, 2, FALSE, 1.0f);
  stream_check_model (m);
}

static void
test_stream (void)
{
  stream_check (0, 0, FALSE);
  stream_check (2, 0, FALSE);
  stream_check (0, 3, FALSE);
  stream_check (3, 2, FALSE);
  stream_check (1, 1, TRUE);
}

static void
test_to_pixels (void)
{
  const float *canon = wkp_face_canonical ();
  float pixels[136], back[136], out[136];
  WkpSimilarity tf;
  g_autoptr(GError) error = NULL;

  /* a face in pixels: the canonical face scaled, rotated, moved */
  for (int i = 0; i < 68; i++)
    {
      double x = canon[2 * i], y = canon[2 * i + 1], a = 80 * cos (0.2), b = 80 * sin (0.2);
      pixels[2 * i] = (float) (a * x - b * y + 320);
      pixels[2 * i + 1] = (float) (b * x + a * y + 240);
    }
  g_assert_true (wkp_face_normalize (pixels, back, &tf, &error));
  g_assert_no_error (error);
  wkp_model_to_pixels (back, 1, &tf, NULL, out);
  for (int i = 0; i < 136; i++)
    g_assert_cmpfloat_with_epsilon (out[i], pixels[i], 1e-3);
  {
    gboolean valid = FALSE;
    wkp_model_to_pixels (back, 1, &tf, &valid, out);
    g_assert_true (isnan (out[0]));
  }
}


/* Audio chunks in (10 ms and random sizes), the whole-utterance result out. */
static void
test_audio_stream (void)
{
  g_autoptr(WkpModel) m = random_model (2, 1, FALSE, 16, 2, FALSE, 1.0f);
  const int rate = 16000;
  const gint64 n = rate * 5 + 123;
  g_autofree float *audio = synth_speechlike (n, rate);
  gint64 T = wkp_frames_for_samples (n, m->fps, rate);
  int K = m->n_components;
  g_autoptr(GError) error = NULL;
  /* the reference: the whole audio's features followed by rows of silence
   * for the network's look-ahead past the end, as predict_audio computes
   * them (the stream's end used to edge-pad the last row instead) */
  gint64 R = T + m->context + m->delay;
  g_autofree float *feats = wkp_features_compute (&m->features, audio, n, m->fps, R, &error);
  g_autofree float *whole = wkp_model_predict_coeffs (m, feats, R, 1, &error);

  g_assert_no_error (error);
  for (int mode = 0; mode < 2; mode++)
    {
      g_autoptr(WkpModelAudioStream) st = wkp_model_audio_stream_new (m, 1, &error);
      g_autofree float *got = g_new0 (float, T * K);
      gint64 fed = 0, out = 0, k;
      float *c = NULL;
      double maxd = 0, scale = 0;

      g_assert_no_error (error);
      while (fed < n)
        {
          gint64 r = mode == 0 ? 160 : g_test_rand_int_range (0, 3000);
          gint64 chunk = MIN (n - fed, r);
          k = wkp_model_audio_stream_push (st, audio + fed, chunk, &c, &error);
          g_assert_no_error (error);
          g_assert_cmpint (out + k, <=, T);
          if (k > 0)
            memcpy (got + out * K, c, sizeof (float) * k * K);
          g_clear_pointer (&c, g_free);
          out += k;
          fed += chunk;
          /* bounded latency: frames lag the audio by lag + context + delay (+1 partial) */
          g_assert_cmpint (out, >=, fed / 640 - wkp_model_audio_stream_lag (st) - m->context - m->delay - 1);
        }
      k = wkp_model_audio_stream_finish (st, &c, &error);
      g_assert_no_error (error);
      if (k > 0)
        memcpy (got + out * K, c, sizeof (float) * k * K);
      g_clear_pointer (&c, g_free);
      out += k;
      g_assert_cmpint (out, ==, T);
      for (gint64 i = 0; i < T * K; i++)
        {
          maxd = MAX (maxd, fabs (got[i] - whole[i]));
          scale = MAX (scale, fabs (whole[i]));
        }
      g_test_message ("audio stream (%s chunks, lag %d frames) vs whole: %.3g relative", mode == 0 ? "10 ms" : "random",
                      wkp_model_audio_stream_lag (st), maxd / scale);
      g_assert_cmpfloat (maxd / scale, <=, 5e-6);   /* float rounding: sgemm blocking and summation order differ */
    }
  /* a rate whose frames are not whole samples per sub-frame is refused */
  m->fps = WKP_RATIONAL (30000, 1001);
  {
    g_autoptr(WkpModelAudioStream) st = wkp_model_audio_stream_new (m, 1, &error);
    g_assert_null (st);
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED);
  }
}

/* --- CLI ------------------------------------------------------------------------------------ */

static char *
write_model_file (const char *dir)
{
  g_autoptr(WkpModel) m = random_model (1, 2, TRUE, 12, 2, FALSE, 1.0f);
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, "model.wkpm", NULL);
  g_assert_true (wkp_model_save (m, path, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_cli_predict_audio (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = write_model_file (dir);
  g_autofree char *wav = g_build_filename (dir, "a.wav", NULL);
  g_autofree char *out = g_build_filename (dir, "p.npy", NULL);
  g_autofree char *side = g_build_filename (dir, "p.json", NULL);
  g_autofree float *audio = synth_speechlike (16000 * 2 + 123, 16000);
  g_autofree char *so = NULL, *se = NULL;
  g_autoptr(GError) error = NULL;
  const char *args[] = { "predict", wav, "--model", model, "--fps", "30000/1001", "-o", out, NULL };
  int status;

  wkp_test_write_wav (wav, audio, 16000 * 2 + 123, 16000);
  status = wkp_test_run_cli (args, &so, &se);
  g_assert_cmpstr (se, ==, "");
  g_assert_cmpint (status, ==, 0);
  {
    g_autoptr(WkpNpy) npy = wkp_npy_load (out, &error);
    g_autoptr(WkpModel) m = wkp_model_load (model, &error);
    g_autoptr(WkpAudio) a = wkp_audio_load (wav, 16000, NULL, NULL, &error);
    gint64 n = wkp_frames_for_samples (16000 * 2 + 123, WKP_RATIONAL (30000, 1001), 16000);
    gint64 shape[] = { n, 68, 2 };
    g_autofree float *want = NULL;
    g_autoptr(JsonNode) js = NULL;

    g_assert_no_error (error);
    g_assert_true (wkp_npy_check (npy, out, WKP_DTYPE_F32, 3, shape, &error));
    want = wkp_model_predict_audio (m, a->samples, a->n_samples, WKP_RATIONAL (30000, 1001), n, 1, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (npy->data, sizeof (float) * n * 136, want, sizeof (float) * n * 136);
    js = wkp_json_load_file (side, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (js), "fps"), ==, "30000/1001");
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (js), "space"), ==, "canonical");
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (js), "frames"), ==, n);
  }
}

/* --- wav2kp stream ------------------------------------------------------------------------- */

/* random_model (@context, @delay, @per_clip, @hidden, 1 or 2 layers, @bidir) saved to @path. */
static void
save_random_model (const char *path, int context, int delay, gboolean per_clip, int hidden, int layers, gboolean bidir)
{
  g_autoptr(WkpModel) m = random_model (context, delay, per_clip, hidden, layers, bidir, 1.0f);
  g_autoptr(GError) error = NULL;
  g_assert_true (wkp_model_save (m, path, &error));
  g_assert_no_error (error);
}

/* @n float samples as 16-bit PCM, as a WAV writer rounds them. */
static gint16 *
to_s16 (const float *audio, gint64 n)
{
  gint16 *pcm = g_new (gint16, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    pcm[i] = (gint16) CLAMP (lrintf (audio[i] * 32767.0f), -32768, 32767);
  return pcm;
}

/* Runs `wav2kp stream ARGS` with @input on its standard input; returns the
 * exit status, its stdout and stderr. */
static int
run_stream (const char * const *args, GBytes *input, char **out, char **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GBytes) o = NULL, e = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) wkp_test_cli ());
  g_ptr_array_add (argv, (gpointer) "stream");
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  p = g_subprocess_newv ((const char * const *) argv->pdata,
                         G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (p, input, NULL, &o, &e, &error));
  g_assert_no_error (error);
  /* the data of empty bytes may be NULL */
  *out = g_strndup (g_bytes_get_size (o) > 0 ? g_bytes_get_data (o, NULL) : "", g_bytes_get_size (o));
  *err = g_strndup (g_bytes_get_size (e) > 0 ? g_bytes_get_data (e, NULL) : "", g_bytes_get_size (e));
  return g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
}

/* The CSV of `stream` as [n, 68, 2] (checking the header, frame numbers and
 * timestamps at @fps). */
static float *
parse_stream_csv (const char *csv, WkpRational fps, gint64 *n_out)
{
  g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);
  guint n_lines = g_strv_length (lines);
  GArray *pts = g_array_new (FALSE, FALSE, sizeof (float));
  gint64 n = 0;

  g_assert_cmpuint (n_lines, >=, 2);
  g_assert_true (g_str_has_prefix (lines[0], "frame,timestamp,x_0,x_1,"));
  g_assert_true (g_str_has_suffix (lines[0], ",y_66,y_67"));
  g_assert_cmpstr (lines[n_lines - 1], ==, "");   /* every line ends with a newline */
  for (guint l = 1; l + 1 < n_lines; l++, n++)
    {
      g_auto(GStrv) f = g_strsplit (lines[l], ",", -1);
      float p[136];
      g_assert_cmpuint (g_strv_length (f), ==, 2 + 136);
      g_assert_cmpint (g_ascii_strtoll (f[0], NULL, 10), ==, n);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[1], NULL), wkp_frame_to_us (n, fps) / 1e6, 1e-6);
      for (int i = 0; i < 68; i++)
        {
          p[2 * i] = (float) g_ascii_strtod (f[2 + i], NULL);
          p[2 * i + 1] = (float) g_ascii_strtod (f[2 + 68 + i], NULL);
        }
      g_array_append_vals (pts, p, 136);
    }
  *n_out = n;
  return (float *) g_array_free (pts, FALSE);
}

/* What `stream` writes from a WAV piped in equals what `predict` writes for
 * the same file, at the model's rate and at 29.97 fps (frames interpolated
 * between the model's), for raw PCM too and for 48 kHz stereo resampled: the
 * model has no per-clip normalisation, which a stream can only approximate.
 * Tolerance 2e-5: the CSV prints 5 decimals. */
static void
test_cli_stream_matches_predict (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  g_autofree char *wav = g_build_filename (dir, "a.wav", NULL), *wav48 = g_build_filename (dir, "b.wav", NULL);
  g_autofree char *inv48 = g_build_filename (dir, "inv.wav", NULL);
  g_autofree char *npy_path = g_build_filename (dir, "p.npy", NULL);
  const gint64 n = 16000 * 3 + 123, n48 = 48000 * 2 + 77;
  g_autofree float *audio = synth_speechlike (n, 16000), *a48 = synth_speechlike (n48, 48000);
  g_autofree float *stereo = g_new (float, 2 * n48);
  g_autoptr(GError) error = NULL;

  save_random_model (model, 2, 1, FALSE, 16, 2, FALSE);
  wkp_test_write_wav (wav, audio, n, 16000);
  for (gint64 i = 0; i < n48; i++)
    {
      stereo[2 * i] = a48[i];
      stereo[2 * i + 1] = 0.5f * a48[i];
    }
  wkp_test_write_wav_channels (wav48, stereo, n48, 2, 48000);
  /* a second microphone wired with reversed polarity: the file readers
   * invert it before the mix, and so must the stream (its plain average
   * left a fifth of the speech, and keypoints 0.04 off predict's) */
  for (gint64 i = 0; i < n48; i++)
    stereo[2 * i + 1] = -0.8f * a48[i];
  wkp_test_write_wav_channels (inv48, stereo, n48, 2, 48000);

  struct { const char *wav, *fps, *format; gboolean raw; } cases[] = {
    { wav, NULL, "csv", FALSE },
    { wav, "30000/1001", "csv", FALSE },
    { wav, NULL, "csv", TRUE },
    { wav48, "30000/1001", "csv", FALSE },
    { wav48, NULL, "csv", TRUE },
    { wav, NULL, "jsonl", FALSE },
    { inv48, NULL, "csv", FALSE },
    { inv48, "30000/1001", "csv", TRUE },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *wav_bytes = NULL, *so = NULL, *se = NULL, *po = NULL, *pe = NULL;
      gsize len;
      g_autoptr(GBytes) input = NULL;
      g_autoptr(WkpNpy) npy = NULL;
      g_autofree float *got = NULL;
      WkpRational fps = cases[c].fps != NULL ? WKP_RATIONAL (30000, 1001) : WKP_RATIONAL (25, 1);
      gint64 frames = 0;
      gboolean inverted = cases[c].wav == inv48, is48 = cases[c].wav == wav48 || inverted;
      const char *pargs[] = { "predict", cases[c].wav, "--model", model, "-o", npy_path,
                              cases[c].fps ? "--fps" : NULL, cases[c].fps, NULL };
      const char *sargs[16] = { "--model", model, "--output-format", cases[c].format };
      int k = 4;

      if (!inverted)   /* (whose note is looked for) */
        sargs[k++] = "-q";

      g_assert_cmpint (wkp_test_run_cli (pargs, &po, &pe), ==, 0);
      npy = wkp_npy_load (npy_path, &error);
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (cases[c].wav, &wav_bytes, &len, NULL));
      /* raw: the PCM after the 44-byte header, described by the options */
      input = cases[c].raw ? g_bytes_new (wav_bytes + 44, len - 44) : g_bytes_new (wav_bytes, len);
      if (cases[c].fps != NULL)
        {
          sargs[k++] = "--fps";
          sargs[k++] = cases[c].fps;
        }
      if (cases[c].raw && !is48)
        {
          sargs[k++] = "--format";
          sargs[k++] = "s16le";
        }
      if (cases[c].raw && is48)
        {
          sargs[k++] = "--rate";
          sargs[k++] = "48000";
          sargs[k++] = "--channels";
          sargs[k++] = "2";
        }
      g_assert_cmpint (run_stream (sargs, input, &so, &se), ==, 0);
      if (inverted)
        {
          g_assert_nonnull (strstr (pe, "channel 2 of 2 is in antiphase with channel 1 (reversed polarity)"));
          g_assert_nonnull (strstr (se, "channel 2 of 2 is in antiphase with channel 1 (reversed polarity) and was "
                                        "inverted before mixing to mono"));
        }
      else
        g_assert_cmpstr (se, ==, "");
      if (g_strcmp0 (cases[c].format, "jsonl") == 0)
        {
          g_auto(GStrv) lines = g_strsplit (so, "\n", -1);
          GArray *pts = g_array_new (FALSE, FALSE, sizeof (float));
          for (guint l = 0; lines[l] != NULL && lines[l][0] != '\0'; l++, frames++)
            {
              g_autoptr(JsonParser) jp = json_parser_new ();
              JsonObject *o;
              JsonArray *a;
              g_assert_true (json_parser_load_from_data (jp, lines[l], -1, &error));
              o = json_node_get_object (json_parser_get_root (jp));
              g_assert_cmpint (json_object_get_int_member (o, "frame"), ==, frames);
              g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "timestamp"),
                                              wkp_frame_to_us (frames, fps) / 1e6, 1e-6);
              a = json_object_get_array_member (o, "points");
              g_assert_cmpuint (json_array_get_length (a), ==, 68);
              for (guint i = 0; i < 68; i++)
                for (guint j = 0; j < 2; j++)
                  {
                    float v = (float) json_array_get_double_element (json_array_get_array_element (a, i), j);
                    g_array_append_val (pts, v);
                  }
            }
          got = (float *) g_array_free (pts, FALSE);
        }
      else
        got = parse_stream_csv (so, fps, &frames);
      g_test_message ("stream case %u: %" G_GINT64_FORMAT " frames, max |stream - predict| %.2g", c, frames,
                      wkp_test_max_abs_diff (got, npy->data, (gsize) MIN (frames, npy->shape[0]) * 136));
      g_assert_cmpint (frames, ==, npy->shape[0]);
      g_assert_cmpfloat (wkp_test_max_abs_diff (got, npy->data, (gsize) frames * 136), <=, 2e-5);
    }
}

/* WAV streams as writers make them: a LIST chunk after the data (its text
 * was read as sound on a pipe), 70 KB of metadata before the data (refused
 * as "not a WAV stream"), WAVE_FORMAT_EXTENSIBLE float with three channels;
 * each gives what predict gives for the same file, read from a pipe. */
static void
test_cli_stream_wav_chunks (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL), *npy_path = g_build_filename (dir, "p.npy", NULL);
  const gint64 n = 16000 * 2 + 50;
  g_autofree float *audio = synth_speechlike (n, 16000);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) pcm = g_byte_array_new ();

  g_autofree gint16 *s16 = to_s16 (audio, n);

  save_random_model (model, 2, 1, FALSE, 16, 1, FALSE);
  for (gint64 i = 0; i < n; i++)
    {
      guint8 b[2] = { (guint8) (s16[i] & 0xff), (guint8) ((guint16) s16[i] >> 8) };
      g_byte_array_append (pcm, b, 2);
    }
  for (int variant = 0; variant < 3; variant++)
    {
      g_autoptr(GByteArray) w = g_byte_array_new ();
      g_autofree char *path = g_strdup_printf ("%s/v%d.wav", dir, variant);
      g_autofree char *so = NULL, *se = NULL, *po = NULL, *pe = NULL;
      g_autoptr(WkpNpy) npy = NULL;
      g_autofree float *got = NULL;
      gint64 frames;
      guint8 u32[4];
      const int ch = variant == 2 ? 3 : 1, bits = variant == 2 ? 32 : 16;
      const guint32 data_bytes = (guint32) (n * ch * bits / 8);
#define PUT32(x) do { guint32 x_ = (x); u32[0] = x_ & 0xff; u32[1] = (x_ >> 8) & 0xff; u32[2] = (x_ >> 16) & 0xff; u32[3] = x_ >> 24; g_byte_array_append (w, u32, 4); } while (0)
#define PUT16(x) do { guint16 x_ = (x); guint8 b_[2] = { x_ & 0xff, x_ >> 8 }; g_byte_array_append (w, b_, 2); } while (0)
      g_byte_array_append (w, (const guint8 *) "RIFF\0\0\0\0WAVE", 12);
      if (variant == 1)
        {
          /* a 70,000-byte comment before the format */
          g_byte_array_append (w, (const guint8 *) "LIST", 4);
          PUT32 (70000);
          for (int i = 0; i < 70000; i++)
            g_byte_array_append (w, (const guint8 *) "x", 1);
        }
      g_byte_array_append (w, (const guint8 *) "fmt ", 4);
      PUT32 (variant == 2 ? 40 : 16);
      PUT16 (variant == 2 ? 0xFFFE : 1);
      PUT16 (ch);
      PUT32 (16000);
      PUT32 (16000 * ch * bits / 8);
      PUT16 (ch * bits / 8);
      PUT16 (bits);
      if (variant == 2)
        {
          static const guint8 ext[24] = { 22, 0, 32, 0, 7, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA,
                                          0, 0x38, 0x9B, 0x71 };
          g_byte_array_append (w, ext, sizeof ext);
        }
      g_byte_array_append (w, (const guint8 *) "data", 4);
      PUT32 (data_bytes);
      if (variant == 2)
        for (gint64 i = 0; i < n; i++)
          for (int c = 0; c < ch; c++)
            {
              float v = audio[i];
              guint32 u;
              memcpy (&u, &v, 4);
              PUT32 (u);
            }
      else
        g_byte_array_append (w, pcm->data, pcm->len);
      if (variant == 0)
        {
          /* after the data: a LIST chunk of text */
          g_byte_array_append (w, (const guint8 *) "LIST", 4);
          PUT32 (4000);
          for (int i = 0; i < 4000; i++)
            g_byte_array_append (w, (const guint8 *) "INFO", 1);
        }
#undef PUT32
#undef PUT16
      {
        guint32 riff = w->len - 8;
        w->data[4] = riff & 0xff;
        w->data[5] = (riff >> 8) & 0xff;
        w->data[6] = (riff >> 16) & 0xff;
        w->data[7] = riff >> 24;
      }
      g_assert_true (g_file_set_contents (path, (const char *) w->data, w->len, &error));
      {
        const char *pargs[] = { "predict", path, "--model", model, "-o", npy_path, NULL };
        const char *sargs[] = { "--model", model, "-q", NULL };
        g_autoptr(GBytes) input = g_bytes_new (w->data, w->len);
        g_assert_cmpint (wkp_test_run_cli (pargs, &po, &pe), ==, 0);
        g_assert_cmpint (run_stream (sargs, input, &so, &se), ==, 0);
        g_assert_cmpstr (se, ==, "");
      }
      npy = wkp_npy_load (npy_path, &error);
      g_assert_no_error (error);
      got = parse_stream_csv (so, WKP_RATIONAL (25, 1), &frames);
      g_test_message ("variant %d: %" G_GINT64_FORMAT " frames, predict %" G_GINT64_FORMAT, variant, frames,
                      npy->shape[0]);
      g_assert_cmpint (frames, ==, npy->shape[0]);
      g_assert_cmpfloat (wkp_test_max_abs_diff (got, npy->data, (gsize) frames * 136), <=, 2e-5);
    }
}

/* A standard input inherited in non-blocking mode (event-loop parents do
 * that) is waited on: the first read that found no data yet ended the run
 * with "Resource temporarily unavailable". */
static void
test_cli_stream_nonblocking (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  const gint64 n = 16000;
  g_autofree float *audio = synth_speechlike (n, 16000);
  g_autofree gint16 *pcm = to_s16 (audio, n);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *so = NULL;
  int fds[2];

  save_random_model (model, 2, 1, FALSE, 8, 1, FALSE);
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, &error));
  g_assert_true (g_unix_set_fd_nonblocking (fds[0], TRUE, &error));
  g_subprocess_launcher_take_stdin_fd (launcher, fds[0]);
  p = g_subprocess_launcher_spawn (launcher, &error, wkp_test_cli (), "stream", "--model", model, "--format", "s16le", "-q", NULL);
  g_assert_no_error (error);
  /* nothing for a while, then the audio in pieces */
  g_usleep (300000);
  for (gint64 done = 0; done < n;)
    {
      gint64 k = MIN (n - done, 4000);
      g_assert_cmpint (write (fds[1], pcm + done, sizeof (gint16) * k), ==, (gssize) (sizeof (gint16) * k));
      done += k;
      g_usleep (50000);
    }
  close (fds[1]);
  g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, &so, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  {
    gint64 lines = 0;
    for (const char *c = so; *c; c++)
      lines += *c == '\n';
    g_assert_cmpint (lines, ==, 1 + 25);   /* header + 1 s at 25 fps */
  }
}

/* A standard output in non-blocking mode (the flag belongs to the pipe, so
 * a reader that sets it on its end sets it on ours): a full pipe is waited
 * on. The run stopped at the first full pipe with "Resource temporarily
 * unavailable", its remaining frames lost. 10 s of audio make 250 lines,
 * about 270 KB, against a 64 KB pipe that is not read for the first 0.5 s. */
static void
test_cli_stream_nonblocking_stdout (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  const gint64 n = 16000 * 10;
  g_autofree float *audio = synth_speechlike (n, 16000);
  g_autofree gint16 *pcm = to_s16 (audio, n);
  g_autoptr(GBytes) input = g_bytes_new (pcm, sizeof (gint16) * n);
  g_autofree char *raw = g_build_filename (dir, "in.raw", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = g_byte_array_new ();
  g_autofree char *expected = NULL, *expected_err = NULL, *se = NULL;
  const char *args[] = { "--model", model, "--format", "s16le", "-q", NULL };
  guint8 buf[65536];
  int fds[2];

  save_random_model (model, 2, 1, FALSE, 8, 1, FALSE);
  g_assert_cmpint (run_stream (args, input, &expected, &expected_err), ==, 0);
  g_assert_cmpuint (strlen (expected), >, 4 * 65536);

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, &error));
  g_assert_true (g_unix_set_fd_nonblocking (fds[1], TRUE, &error));
  /* (the input from a file: writing it to a pipe would wait on the stream,
   * which waits on us) */
  g_assert_true (g_file_set_contents (raw, (const char *) pcm, (gssize) (sizeof (gint16) * n), &error));
  g_subprocess_launcher_set_stdin_file_path (launcher, raw);
  g_subprocess_launcher_take_stdout_fd (launcher, fds[1]);
  p = g_subprocess_launcher_spawn (launcher, &error, wkp_test_cli (), "stream", "--model", model, "--format", "s16le", "-q", NULL);
  g_assert_no_error (error);
  g_subprocess_launcher_close (launcher);   /* our copy of the pipe's write end: else no end of file */
  g_usleep (500000);
  for (;;)
    {
      gssize k = read (fds[0], buf, sizeof buf);
      if (k < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (k, >=, 0);
      if (k == 0)
        break;
      g_byte_array_append (got, buf, (guint) k);
    }
  close (fds[0]);
  g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &se, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpstr (se, ==, "");
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  g_assert_cmpuint (got->len, ==, strlen (expected));
  g_assert_true (memcmp (got->data, expected, got->len) == 0);
}

/* Frames leave while the audio is still coming: with the first 2 s of 4 s
 * written and the pipe held open, the lines of all but the last few frames
 * of those 2 s arrive (the note on stderr says how many ms behind). */
static void
test_cli_stream_live (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = g_build_filename (dir, "m.wkpm", NULL);
  const gint64 n = 16000 * 4;
  g_autofree float *audio = synth_speechlike (n, 16000);
  g_autofree gint16 *pcm = to_s16 (audio, n);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) got = g_string_new (NULL);
  GOutputStream *in;
  GInputStream *out;
  gint64 deadline, lines = 0;
  const char *scale = g_getenv ("WKP_TEST_WAIT_SCALE");

  save_random_model (model, 2, 1, TRUE, 16, 1, FALSE);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, wkp_test_cli (),
                        "stream", "--model", model, "--format", "s16le", "-q", NULL);
  g_assert_no_error (error);
  in = g_subprocess_get_stdin_pipe (p);
  out = g_subprocess_get_stdout_pipe (p);
  g_assert_true (g_output_stream_write_all (in, pcm, sizeof (gint16) * n / 2, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_flush (in, NULL, &error));
  /* 2 s = 50 frames at 25 fps; the output may lag by the feature look-ahead,
   * context and delay (a few frames): 40 frames + the header must come */
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC * 20 * (scale != NULL ? atoi (scale) : 1);
  while (lines < 41 && g_get_monotonic_time () < deadline)
    {
      char buf[65536];
      gssize r;
      g_assert_true (G_IS_POLLABLE_INPUT_STREAM (out));
      if (!g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (out)))
        {
          g_usleep (20000);
          continue;
        }
      r = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (out), buf, sizeof buf, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (r, >, 0);   /* no end of output while the input is open */
      g_string_append_len (got, buf, r);
      lines = 0;
      for (const char *c = got->str; *c; c++)
        lines += *c == '\n';
    }
  g_test_message ("%" G_GINT64_FORMAT " lines out after 2 s of audio in", lines);
  g_assert_cmpint (lines, >=, 41);
  g_assert_cmpint (lines, <=, 51);   /* nothing from audio not yet sent */
  /* the rest, then the end: every frame of the 4 s */
  g_assert_true (g_output_stream_write_all (in, pcm + n / 2, sizeof (gint16) * (n - n / 2), NULL, NULL, &error));
  g_assert_true (g_output_stream_close (in, NULL, &error));
  g_assert_no_error (error);
  for (;;)
    {
      char buf[65536];
      gssize r = g_input_stream_read (out, buf, sizeof buf, NULL, &error);
      g_assert_no_error (error);
      if (r == 0)
        break;
      g_string_append_len (got, buf, r);
    }
  g_assert_true (g_subprocess_wait_check (p, NULL, &error));
  g_assert_no_error (error);
  lines = 0;
  for (const char *c = got->str; *c; c++)
    lines += *c == '\n';
  g_assert_cmpint (lines, ==, 1 + 100);
}

/* Bad input and bad options: exit 2, a message naming the problem and
 * nothing on standard output. */
static void
test_cli_stream_bad (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *bidi = g_build_filename (dir, "bidi.wkpm", NULL), *uni = g_build_filename (dir, "uni.wkpm", NULL);
  g_autoptr(GError) error = NULL;
  guint8 wav24[64] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\0\0\0\x03\0\x18\0data\0\0\0\0";
  guint8 riff_avi[16] = "RIFF\0\0\0\0AVI LIST";
  guint8 short_header[20] = "RIFF\0\0\0\0WAVEfmt \x10\0";
  guint8 wav_align[48] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\0\0\0\x04\0\x10\0data\x04\0\0\0\0\0\0";
  guint8 wav_rate[48] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\xff\xff\xff\xff\0\0\0\0\x02\0\x10\0data\x04\0\0\0\0\0\0";

  save_random_model (bidi, 1, 0, FALSE, 8, 1, TRUE);
  save_random_model (uni, 1, 0, FALSE, 8, 1, FALSE);
  struct { const char *args[8]; const guint8 *in; gsize len; const char *want; } cases[] = {
    { { "--model", bidi, NULL }, (const guint8 *) "\0\0", 2, "bidi.wkpm" },
    /* (said first: a "16-bit PCM" format line came before it) */
    { { "--model", uni, NULL }, (const guint8 *) "", 0, "standard input: no audio (the input is empty)" },
    { { "--model", uni, NULL }, wav24, 44, "24-bit" },
    { { "--model", uni, NULL }, riff_avi, sizeof riff_avi, "not WAVE" },
    { { "--model", uni, NULL }, short_header, sizeof short_header, "WAV header ends before its data" },
    { { "--model", uni, "--format", "s24le", NULL }, (const guint8 *) "", 0, "--format must be s16le or f32le" },
    { { "--model", uni, "--rate", "1", NULL }, (const guint8 *) "", 0, "--rate must be between" },
    { { "--model", uni, "--channels", "0", NULL }, (const guint8 *) "", 0, "--channels must be between" },
    { { "--model", uni, "--fps", "0", NULL }, (const guint8 *) "", 0, "--fps" },
    { { "--model", uni, "--output-format", "xml", NULL }, (const guint8 *) "", 0, "--output-format must be" },
    { { "--model", uni, "/nonexistent/in.wav", NULL }, (const guint8 *) "", 0, "/nonexistent/in.wav" },
    /* found by fuzzing: an RF64 stream was read as raw samples, header and all */
    { { "--model", uni, NULL }, (const guint8 *) "RF64\xff\xff\xff\xffWAVEds64", 16, "RF64 WAV" },
    { { "--model", uni, NULL }, (const guint8 *) "RIFF\x10\0", 6, "WAV header ends before its data" },
    { { "--model", uni, NULL }, wav_align, sizeof wav_align, "block size 4 does not fit 1 channels" },
    { { "--model", uni, NULL }, wav_rate, sizeof wav_rate, "sample rate 4294967295 Hz" },
    /* without a WAV header, raw PCM only when said: any file was read as
     * samples and gave keypoints, exit 0 (a review fed it an MP3, an MP4
     * and text) */
    { { "--model", uni, NULL }, (const guint8 *) "\x10\x00\xf0\xff\x22\x01", 6, "not a WAV stream (no RIFF header); for raw PCM give --format" },
    { { "--model", uni, NULL }, (const guint8 *) "# notes, \xe2\x80\x94 not audio\n", 23, "not a WAV stream (it starts like text)" },
    { { "--model", uni, NULL }, (const guint8 *) "ID3\x04\0\0\0\0\0\x23", 10, "(it starts like MP3 or AAC)" },
    { { "--model", uni, NULL }, (const guint8 *) "\0\0\0\x20" "ftypisom\0\0\x02\0", 16, "(it starts like MP4 or MOV)" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GBytes) input = g_bytes_new_static (cases[c].in, cases[c].len);
      g_autofree char *so = NULL, *se = NULL;
      int status = run_stream (cases[c].args, input, &so, &se);
      g_test_message ("case %u: %s", c, se);
      g_assert_cmpint (status, ==, 2);
      g_assert_nonnull (strstr (se, cases[c].want));
      g_assert_cmpstr (so, ==, "");
      g_assert_null (strstr (se, "keypoints at"));   /* no format line before a refusal */
    }
}

static void
test_cli_predict_video (void)
{
  g_autofree char *video = wkp_test_shared_file ("av/astorfi__lip-reading-deeplearning/data/sample_video.mp4");
  g_autofree char *dir = NULL, *model = NULL, *out = NULL, *side = NULL, *so = NULL, *se = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (video == NULL)
    return;
  dir = wkp_test_tmpdir ();
  model = write_model_file (dir);
  out = g_build_filename (dir, "v.npy", NULL);
  side = g_build_filename (dir, "v.json", NULL);
  {
    const char *args[] = { "predict", video, "--model", model, "-o", out, NULL };
    status = wkp_test_run_cli (args, &so, &se);
  }
  g_assert_cmpint (status, ==, 0);
  {
    WkpSourceSpec spec = { video, NULL, { 0, 0 } };
    g_autoptr(WkpClipAudio) clip = wkp_clip_audio_load (&spec, 16000, NULL, &error);
    g_autoptr(WkpNpy) npy = wkp_npy_load (out, &error);
    g_autoptr(JsonNode) js = wkp_json_load_file (side, &error);
    gint64 shape[] = { -1, 68, 2 };
    g_assert_no_error (error);
    g_assert_true (wkp_npy_check (npy, out, WKP_DTYPE_F32, 3, shape, &error));
    /* one row per video frame, at the video's own 29.97 fps */
    g_assert_cmpint (npy->shape[0], ==, clip->n_frames);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (js), "fps"), ==, "30000/1001");
    for (gint64 i = 0; i < npy->n_elements; i++)
      g_assert_true (isfinite (((const float *) npy->data)[i]));
  }
}

/* Runs the CLI and checks a clean failure: exit 2 and one line on stderr
 * that starts with "wav2kp COMMAND" and contains @want. */
static void
assert_cli_fails (const char *const *args, const char *want)
{
  g_autofree char *so = NULL, *se = NULL, *prefix = g_strdup_printf ("wav2kp %s", args[0]);
  int status = wkp_test_run_cli (args, &so, &se);
  g_test_message ("%s", se);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (se, want));
  g_assert_true (g_str_has_prefix (se, prefix));
  g_assert_cmpint (strchr (se, '\n') - se, ==, (int) strlen (se) - 1);   /* one line */
}

static void
assert_file_text (const char *path, const char *want)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, want);
}

static void
test_cli_predict_bad (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = write_model_file (dir);
  g_autofree char *wav = g_build_filename (dir, "a.wav", NULL);
  g_autofree char *out = g_build_filename (dir, "p.npy", NULL);
  g_autofree char *bad_model = g_build_filename (dir, "bad.wkpm", NULL);
  g_autofree char *missing = g_build_filename (dir, "nope.wav", NULL);
  g_autofree char *nodir = g_build_filename (dir, "no", "such", "p.npy", NULL);
  float audio[1600] = { 0 };

  wkp_test_write_wav (wav, audio, G_N_ELEMENTS (audio), 16000);
  g_assert_true (g_file_set_contents (bad_model, "WKPMODEL\002\000\000\000xxxxxxxxxxxxxxxx", 24, NULL));
  g_assert_true (g_file_set_contents (out, "keep me", -1, NULL));
  {
    struct { const char *args[10]; const char *want; } cases[] = {
      { { "predict", missing, "--model", model, "-o", out, NULL }, "nope.wav" },
      { { "predict", wav, "--model", bad_model, "-o", out, NULL }, "bad.wkpm" },
      { { "predict", wav, "--model", missing, "-o", out, NULL }, "nope.wav" },
      { { "predict", wav, "--model", model, "-o", nodir, NULL }, "no" },
      { { "predict", wav, "--model", model, "--fps", "abc", "-o", out, NULL }, "abc" },
      { { "predict", wav, "--model", model, NULL }, "-o" },
      { { "predict", "--model", model, "-o", out, NULL }, "FILE" },
      { { "predict", wav, "--model", model, "--threads", "0", "-o", out, NULL }, "threads" },
    };
    for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
      assert_cli_fails (cases[c].args, cases[c].want);
  }
  /* the existing output survived every failure */
  assert_file_text (out, "keep me");
}

/* Gives @dst the normalisation and PCA of @src (what ensemble members share). */
static void
share_arrays (WkpModel *dst, const WkpModel *src)
{
  int dim = wkp_model_feature_dim (src), K = src->n_components;
  memcpy (dst->feature_mean, src->feature_mean, sizeof (float) * dim);
  memcpy (dst->feature_std, src->feature_std, sizeof (float) * dim);
  memcpy (dst->pca_basis, src->pca_basis, sizeof (float) * K * 2 * src->n_points);
  memcpy (dst->pca_scale, src->pca_scale, sizeof (float) * K);
}

/* An ensemble predicts the average of its members' coefficients, survives a
 * save/load round trip, streams like whole-utterance mode, and refuses
 * models that differ in anything but their weights, naming the difference. */
static void
test_ensemble (void)
{
  g_autoptr(WkpModel) a = random_model (2, 1, FALSE, 16, 2, FALSE, 1.0f);
  g_autoptr(WkpModel) b = random_model (2, 1, FALSE, 16, 2, FALSE, 1.0f);
  g_autoptr(WkpModel) c = random_model (2, 1, FALSE, 16, 2, FALSE, 1.0f);
  g_autoptr(WkpModel) ab = NULL, abc = NULL, loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const gint64 T = 300;
  int dim = wkp_model_feature_dim (a), K = a->n_components;
  g_autofree float *f = g_new (float, T * dim);
  g_autofree float *ya = NULL, *yb = NULL, *yc = NULL, *yab = NULL, *yabc = NULL, *yl = NULL;
  const char *names2[] = { "a.wkpm", "b.wkpm" };
  double maxd = 0;

  /* members share everything but the networks */
  share_arrays (b, a);
  share_arrays (c, a);

  wkp_test_random_fill (f, T * dim, -5, 5);
  ya = wkp_model_predict_coeffs (a, f, T, 1, &error);
  yb = wkp_model_predict_coeffs (b, f, T, 1, &error);
  yc = wkp_model_predict_coeffs (c, f, T, 1, &error);
  g_assert_no_error (error);

  ab = wkp_model_ensemble ((WkpModel *[]) { a, b }, 2, names2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wkp_model_n_members (ab), ==, 2);
  yab = wkp_model_predict_coeffs (ab, f, T, 1, &error);
  g_assert_no_error (error);
  for (gint64 i = 0; i < T * K; i++)
    maxd = MAX (maxd, fabs (yab[i] - 0.5 * ((double) ya[i] + yb[i])));
  g_assert_cmpfloat (maxd, <=, 1e-6);

  /* an ensemble as a member is flattened: (a, b) + c = three networks */
  abc = wkp_model_ensemble ((WkpModel *[]) { ab, c }, 2, (const char *[]) { "ab.wkpm", "c.wkpm" }, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wkp_model_n_members (abc), ==, 3);
  path = save_tmp (abc, "abc.wkpm");
  loaded = wkp_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wkp_model_n_members (loaded), ==, 3);
  yabc = wkp_model_predict_coeffs (abc, f, T, 1, &error);
  yl = wkp_model_predict_coeffs (loaded, f, T, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (yabc, sizeof (float) * T * K, yl, sizeof (float) * T * K);
  maxd = 0;
  for (gint64 i = 0; i < T * K; i++)
    maxd = MAX (maxd, fabs (yl[i] - ((double) ya[i] + yb[i] + yc[i]) / 3));
  g_assert_cmpfloat (maxd, <=, 1e-6);
  {
    g_autoptr(JsonNode) d = wkp_model_describe (loaded);
    g_autoptr(JsonNode) d1 = wkp_model_describe (a);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (d), "n_params"), ==,
                     3 * json_object_get_int_member (json_node_get_object (d1), "n_params"));
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (d), "members"), ==, 3);
  }
  stream_check_model (loaded);

  /* disagreements are refused, naming the setting or tensor */
  {
    g_autoptr(WkpModel) other = random_model (2, 3, FALSE, 16, 2, FALSE, 1.0f);   /* delay 3 */
    g_autoptr(WkpModel) none = wkp_model_ensemble ((WkpModel *[]) { a, other }, 2, names2, &error);
    g_assert_null (none);
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "“delay”"));
    g_assert_nonnull (strstr (error->message, "b.wkpm"));
    g_clear_error (&error);
  }
  {
    g_autoptr(WkpModel) none = NULL;
    b->feature_std[3] *= 1.5f;
    none = wkp_model_ensemble ((WkpModel *[]) { a, b }, 2, names2, &error);
    g_assert_null (none);
    g_assert_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH);
    g_assert_nonnull (strstr (error->message, "feature_std"));
    g_clear_error (&error);
  }
  {
    WkpModel *many[17];
    const char *mnames[17];
    g_autoptr(WkpModel) none = NULL;
    for (int i = 0; i < 17; i++)
      {
        many[i] = a;
        mnames[i] = "a.wkpm";
      }
    none = wkp_model_ensemble (many, 17, mnames, &error);
    g_assert_null (none);
    g_assert_nonnull (strstr (error->message, "at most 16"));
    g_clear_error (&error);
  }
}

/* wav2kp ensemble: writes a loadable ensemble; refuses one model, a
 * mismatch and a bad file with exit 2 and a one-line message, leaving an
 * existing output untouched. */
static void
test_cli_ensemble (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *m1 = write_model_file (dir);
  g_autofree char *m2 = g_build_filename (dir, "m2.wkpm", NULL);
  g_autofree char *m3 = g_build_filename (dir, "m3.wkpm", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.wkpm", NULL);
  g_autofree char *out = g_build_filename (dir, "ens.wkpm", NULL);
  g_autofree char *keep = g_build_filename (dir, "keep.wkpm", NULL);
  g_autofree char *gained = g_build_filename (dir, "gained.wkpm", NULL);
  g_autofree char *m4 = g_build_filename (dir, "m4.wkpm", NULL);
  g_autofree char *copy = g_build_filename (dir, "copy-of-m1.wkpm", NULL);
  g_autoptr(GError) error = NULL;

  {
    /* m2, m4: m1 with other weights; m3: another context; a byte copy of m1 */
    g_autoptr(WkpModel) m = wkp_model_load (m1, &error);
    g_autoptr(WkpModel) w = random_model (1, 2, TRUE, 12, 2, FALSE, 1.0f);
    g_autoptr(WkpModel) x = random_model (2, 2, TRUE, 12, 2, FALSE, 1.0f);
    g_autoptr(WkpModel) y = random_model (1, 2, TRUE, 12, 2, FALSE, 1.0f);
    g_autofree char *bytes = NULL;
    gsize len;
    g_assert_no_error (error);
    share_arrays (w, m);
    share_arrays (y, m);
    g_assert_true (wkp_model_save (w, m2, &error));
    g_assert_true (wkp_model_save (x, m3, &error));
    g_assert_true (wkp_model_save (y, m4, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (m1, &bytes, &len, NULL));
    g_assert_true (g_file_set_contents (copy, bytes, len, NULL));
  }
  {
    const char *args[] = { "ensemble", m1, m2, "-o", out, NULL };
    g_autofree char *so = NULL, *se = NULL;
    g_autoptr(WkpModel) e = NULL;
    g_assert_cmpint (wkp_test_run_cli (args, &so, &se), ==, 0);
    g_assert_nonnull (strstr (so, "ensemble of 2 networks"));
    e = wkp_model_load (out, &error);
    g_assert_no_error (error);
    g_assert_cmpint (wkp_model_n_members (e), ==, 2);
  }
  /* one model with --level-gain: the same network, the gain in the file and in the message */
  {
    const char *args[] = { "ensemble", out, "--level-gain", "2.5", "-o", gained, NULL };
    g_autofree char *so = NULL, *se = NULL;
    g_autoptr(WkpModel) e = NULL, g = NULL;
    g_assert_cmpint (wkp_test_run_cli (args, &so, &se), ==, 0);
    g_assert_nonnull (strstr (so, "ensemble of 2 networks (1 file), level gain 2.5"));
    g = wkp_model_load (gained, &error);
    g_assert_no_error (error);
    e = wkp_model_load (out, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (g->level_gain, ==, 2.5);
    g_assert_cmpfloat (e->level_gain, ==, 0.0);
    g_assert_cmpint (wkp_model_n_members (g), ==, 2);
    {
      gsize nw = sizeof (float) * 4 * (gsize) e->lstm->hidden_size * (gsize) e->lstm->hidden_size;
      g_assert_cmpmem (g->extra[0]->w_hh[0][0], nw, e->extra[0]->w_hh[0][0], nw);
    }
  }
  /* models with different gains: refused (below), unless --level-gain sets the result's */
  {
    g_autofree char *mixed = g_build_filename (dir, "mixed.wkpm", NULL);
    const char *args[] = { "ensemble", m4, gained, "--level-gain", "1", "-o", mixed, NULL };
    g_autoptr(WkpModel) x = NULL;
    g_autofree char *so = NULL, *se = NULL;
    g_assert_cmpint (wkp_test_run_cli (args, &so, &se), ==, 0);
    x = wkp_model_load (mixed, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (x->level_gain, ==, 1.0);
    g_assert_cmpint (wkp_model_n_members (x), ==, 3);
  }
  g_assert_true (g_file_set_contents (bad, "not a model", -1, NULL));
  g_assert_true (g_file_set_contents (keep, "keep me", -1, NULL));
  {
    struct { const char *args[8]; const char *want; } cases[] = {
      { { "ensemble", m1, "-o", keep, NULL }, "at least two" },
      { { "ensemble", m1, m3, "-o", keep, NULL }, "differ in “context” (" },   /* (with both values) */
      { { "ensemble", m1, bad, "-o", keep, NULL }, "bad.wkpm" },
      { { "ensemble", m1, m2, NULL }, "-o" },
      { { "ensemble", m1, m2, m1, "-o", keep, NULL }, "are the same model file" },
      /* found by fuzzing: a copy of a file passed as another model */
      { { "ensemble", m1, m2, copy, "-o", keep, NULL }, "are the same trained network" },
      { { "ensemble", m1, gained, "--level-gain", "1", "-o", keep, NULL }, "(network 1) are the same trained network" },
      { { "ensemble", m1, "--level-gain", "11", "-o", keep, NULL }, "--level-gain must be a number between 0 and 10" },
      { { "ensemble", m1, "--level-gain", "-2", "-o", keep, NULL }, "--level-gain must be a number between 0 and 10" },
      { { "ensemble", m1, "--level-gain", "nan", "-o", keep, NULL }, "--level-gain" },
      { { "ensemble", m1, "--level-gain", "-1", "-o", keep, NULL }, "--level-gain must be a number between 0 and 10" },
      { { "ensemble", m1, m2, "--level-gain", "-1", "-o", keep, NULL }, "(got “-1”)" },
      { { "ensemble", m1, "--level-gain", "2x", "-o", keep, NULL }, "(got “2x”)" },
      { { "ensemble", out, gained, "-o", keep, NULL }, "“level_gain”" },
      /* a good ensemble onto an existing file: refused without --overwrite, as train does */
      { { "ensemble", m1, m2, "-o", keep, NULL }, "keep.wkpm exists: choose another -o, or give --overwrite" },
    };
    for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
      assert_cli_fails (cases[c].args, cases[c].want);
  }
  assert_file_text (keep, "keep me");
  {
    const char *args[] = { "ensemble", m1, m2, "-o", keep, "--overwrite", NULL };
    g_autofree char *so = NULL, *se = NULL;
    g_autoptr(WkpModel) x = NULL;
    g_assert_cmpint (wkp_test_run_cli (args, &so, &se), ==, 0);
    x = wkp_model_load (keep, &error);
    g_assert_no_error (error);
    g_assert_cmpint (wkp_model_n_members (x), ==, 2);
  }
}

/* Without --model: the default model, or a clear error when none is installed. */
static void
test_cli_default_model (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *wav = g_build_filename (dir, "a.wav", NULL);
  g_autofree char *out = g_build_filename (dir, "p.npy", NULL);
  g_autofree char *built = g_build_filename (WKP_SOURCE_DIR, "data", "default.wkpm", NULL);
  g_autofree char *installed = g_build_filename (WKP_PKGDATADIR, "default.wkpm", NULL);
  g_autofree char *so = NULL, *se = NULL;
  const char *args[] = { "predict", wav, "-o", out, NULL };
  float audio[8000] = { 0 };
  int status;

  g_assert_null (g_getenv ("WKP_MODEL"));
  wkp_test_write_wav (wav, audio, G_N_ELEMENTS (audio), 16000);
  status = wkp_test_run_cli (args, &so, &se);
  if (g_file_test (built, G_FILE_TEST_IS_REGULAR) || g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    {
      g_assert_cmpint (status, ==, 0);
      g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
    }
  else
    {
      g_assert_cmpint (status, ==, 2);
      g_assert_nonnull (strstr (se, "No default model installed"));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}


/* --to-pixels: the prediction mapped into each frame's face; frames without a face are NaN. */
static void
test_cli_predict_pixels (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = write_model_file (dir);
  g_autofree char *wav = g_build_filename (dir, "a.wav", NULL);
  g_autofree char *lm = g_build_filename (dir, "lm.npy", NULL);
  g_autofree char *canon_out = g_build_filename (dir, "c.npy", NULL);
  g_autofree char *pix_out = g_build_filename (dir, "px.npy", NULL);
  g_autofree float *audio = synth_speechlike (16000, 16000);
  const gint64 n = 25;
  g_autofree float *faces = g_new (float, n * 136);
  const float *canon = wkp_face_canonical ();
  g_autoptr(GError) error = NULL;

  wkp_test_write_wav (wav, audio, 16000, 16000);
  for (gint64 f = 0; f < n; f++)
    for (int i = 0; i < 68; i++)
      {
        double ang = 0.02 * f, sc = 60 + f, a = sc * cos (ang), b = sc * sin (ang);
        faces[f * 136 + 2 * i] = (float) (a * canon[2 * i] - b * canon[2 * i + 1] + 200 + 3 * f);
        faces[f * 136 + 2 * i + 1] = (float) (b * canon[2 * i] + a * canon[2 * i + 1] + 150);
      }
  for (int i = 0; i < 136; i++)
    faces[7 * 136 + i] = NAN;   /* no face in frame 7 */
  {
    gint64 shape[] = { n, 68, 2 };
    g_assert_true (wkp_npy_save (lm, WKP_DTYPE_F32, 3, shape, faces, &error));
  }
  {
    const char *a1[] = { "predict", wav, "--model", model, "-o", canon_out, NULL };
    const char *a2[] = { "predict", wav, "--model", model, "--to-pixels", lm, "-o", pix_out, NULL };
    g_assert_cmpint (wkp_test_run_cli (a1, NULL, NULL), ==, 0);
    g_assert_cmpint (wkp_test_run_cli (a2, NULL, NULL), ==, 0);
  }
  {
    g_autoptr(WkpNpy) c = wkp_npy_load (canon_out, &error);
    g_autoptr(WkpNpy) p = wkp_npy_load (pix_out, &error);
    const float *cd, *pd;
    g_assert_no_error (error);
    g_assert_cmpint (p->shape[0], ==, n);
    cd = c->data;
    pd = p->data;
    for (gint64 f = 0; f < n; f++)
      {
        WkpSimilarity tf;
        float canon_face[136], back[136];
        if (f == 7)
          {
            g_assert_true (isnan (pd[f * 136]));
            continue;
          }
        /* map the pixel prediction back with this frame's own transform */
        g_assert_true (wkp_face_normalize (faces + f * 136, canon_face, &tf, &error));
        wkp_similarity_apply (&tf, pd + f * 136, back, 68);
        for (int i = 0; i < 136; i++)
          g_assert_cmpfloat_with_epsilon (back[i], cd[f * 136 + i], 1e-4);
      }
  }
  /* landmarks of the wrong length: a clear error */
  {
    gint64 shape[] = { n - 3, 68, 2 };
    const char *a3[] = { "predict", wav, "--model", model, "--to-pixels", lm, "-o", pix_out, NULL };
    g_autofree char *se = NULL;
    g_assert_true (wkp_npy_save (lm, WKP_DTYPE_F32, 3, shape, faces, &error));
    g_assert_cmpint (wkp_test_run_cli (a3, NULL, &se), ==, 2);
    g_assert_nonnull (strstr (se, "lm.npy"));
  }
  /* a face a billion pixels away is refused as render --keypoints refuses it
   * (found by fuzzing: it was mapped into, giving keypoints at 1e30) */
  {
    gint64 shape[] = { n, 68, 2 };
    const char *a4[] = { "predict", wav, "--model", model, "--to-pixels", lm, "-o", pix_out, NULL };
    g_autofree char *se = NULL;
    for (int i = 0; i < 136; i++)
      faces[3 * 136 + i] *= 1e9f;
    g_assert_true (wkp_npy_save (lm, WKP_DTYPE_F32, 3, shape, faces, &error));
    g_assert_cmpint (wkp_test_run_cli (a4, NULL, &se), ==, 2);
    g_test_message ("%s", se);
    g_assert_nonnull (strstr (se, "lm.npy"));
  }
}

static void
test_cli_convert_roundtrip (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model = write_model_file (dir);
  g_autofree char *npz = g_build_filename (dir, "x.npz", NULL);
  g_autofree char *js = g_build_filename (dir, "x.json", NULL);
  g_autofree char *back = g_build_filename (dir, "back.wkpm", NULL);
  g_autofree char *a = NULL, *b = NULL, *so = NULL, *se = NULL;
  gsize na, nb;

  {
    const char *args[] = { "convert", model, "-o", npz, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, NULL, NULL), ==, 0);
  }
  {
    const char *args[] = { "convert", npz, "--metadata", js, "-o", back, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, NULL, NULL), ==, 0);
  }
  /* the model survives the trip through .npz byte for byte */
  g_assert_true (g_file_get_contents (model, &a, &na, NULL));
  g_assert_true (g_file_get_contents (back, &b, &nb, NULL));
  g_assert_cmpmem (a, na, b, nb);
  /* also without --metadata: the x.json sidecar beside x.npz is read (it
   * carries delay 2, which the state dict alone cannot tell) */
  {
    g_autofree char *back2 = g_build_filename (dir, "back2.wkpm", NULL);
    g_autofree char *c = NULL;
    gsize nc;
    const char *args[] = { "convert", npz, "-o", back2, NULL };
    g_assert_cmpint (wkp_test_run_cli (args, NULL, NULL), ==, 0);
    g_assert_true (g_file_get_contents (back2, &c, &nc, NULL));
    g_assert_cmpmem (a, na, c, nc);
  }
  {
    const char *args[] = { "convert", "--info", back, NULL };
    g_autoptr(JsonNode) info = NULL;
    g_assert_cmpint (wkp_test_run_cli (args, &so, &se), ==, 0);
    info = json_from_string (so, NULL);
    g_assert_nonnull (info);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (info), "context"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (info), "delay"), ==, 2);
  }
  /* options override the metadata; a wrong context is a clear mismatch */
  {
    const char *args[] = { "convert", npz, "--metadata", js, "--context", "3", "-o", back, NULL };
    g_clear_pointer (&se, g_free);
    g_assert_cmpint (wkp_test_run_cli (args, NULL, &se), ==, 2);
    g_assert_nonnull (strstr (se, "context"));
  }
  /* a x.json beside x.npz that is another program's JSON object is passed
   * over, and the error says so; one that is no JSON object at all is an
   * error of its own (it was passed over too, and a conversion without it
   * could succeed with the default delay) */
  {
    const char *args[] = { "convert", npz, "--points", "48,49", "-o", back, NULL };   /* fails without the sidecar */
    g_assert_true (g_file_set_contents (js, "{\"made_by\": \"another tool\"}", -1, NULL));
    g_clear_pointer (&se, g_free);
    g_assert_cmpint (wkp_test_run_cli (args, NULL, &se), ==, 2);
    g_test_message ("%s", se);
    g_assert_nonnull (strstr (se, "x.json was not used as metadata"));
    g_assert_true (g_file_set_contents (js, "[]", -1, NULL));
    g_clear_pointer (&se, g_free);
    g_assert_cmpint (wkp_test_run_cli (args, NULL, &se), ==, 2);
    g_test_message ("%s", se);
    g_assert_nonnull (strstr (se, "its metadata sidecar cannot be used"));
  }
}

/* Audio-only input is framed at the model's own rate unless --fps says
 * otherwise, in predict and render (a 29.97 fps model gave 25 fps keypoints). */
static void
test_cli_audio_only_fps (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *model_path = g_build_filename (dir, "ntsc.wkpm", NULL);
  g_autofree char *wav = g_build_filename (dir, "speech.wav", NULL);
  g_autofree char *npy = g_build_filename (dir, "p.npy", NULL);
  g_autofree char *npy25 = g_build_filename (dir, "p25.npy", NULL);
  g_autofree char *mp4 = g_build_filename (dir, "r.mp4", NULL);
  g_autofree float *x = g_new (float, 32000);
  g_autoptr(WkpModel) m = random_model (1, 1, TRUE, 8, 1, FALSE, 1.0f);
  g_autoptr(GError) error = NULL;
  const WkpRational ntsc = WKP_RATIONAL (30000, 1001);

  m->fps = ntsc;
  g_assert_true (wkp_model_save (m, model_path, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 32000; i++)
    x[i] = (float) (0.3 * sin (2 * G_PI * 200.0 * i / 16000.0));
  wkp_test_write_wav (wav, x, 32000, 16000);
  {
    const char *a[] = { "predict", wav, "-m", model_path, "-o", npy, NULL };
    const char *b[] = { "predict", wav, "-m", model_path, "--fps", "25", "-o", npy25, NULL };
    g_autofree char *o = NULL, *e = NULL, *o2 = NULL, *e2 = NULL;
    g_autoptr(WkpNpy) p = NULL, p25 = NULL;
    int status = wkp_test_run_cli (a, &o, &e);
    g_test_message ("predict: %s", e);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpint (wkp_test_run_cli (b, &o2, &e2), ==, 0);
    p = wkp_npy_load (npy, &error);
    g_assert_no_error (error);
    p25 = wkp_npy_load (npy25, &error);
    g_assert_no_error (error);
    g_assert_cmpint (p->shape[0], ==, wkp_frames_for_samples (32000, ntsc, 16000));   /* 60 */
    g_assert_cmpint (p->shape[0], ==, 60);
    g_assert_cmpint (p25->shape[0], ==, 50);
  }
  {
    const char *a[] = { "render", wav, "-m", model_path, "--height", "240", "-o", mp4, NULL };
    g_autofree char *o = NULL, *e = NULL;
    g_autoptr(WkpMediaInfo) info = NULL;
    int status = wkp_test_run_cli (a, &o, &e);
    g_test_message ("render: %s", e);
    g_assert_cmpint (status, ==, 0);
    info = wkp_media_probe (mp4, WKP_RATIONAL (0, 0), WKP_PROBE_COUNT_FRAMES, &error);
    g_assert_no_error (error);
    g_assert_cmpint (info->fps.num, ==, 30000);
    g_assert_cmpint (info->fps.den, ==, 1001);
    g_assert_cmpint (info->n_frames, ==, 60);
  }
}

int
main (int argc, char **argv)
{
  /* the random networks and signals drawn here are the same in every run
   * unless --seed says otherwise: with a fresh seed per run, about 1 run in
   * 30 drew a network whose aperture moves too fast between 25 fps frames for
   * check_fps_independence's 100 Hz comparison (r 0.964-0.976 against 0.98;
   * a CI run failed on it), which is the draw, not the code */
  wkp_test_fixed_seed (&argc, &argv);

  /* a stream that exits early must fail a test with EPIPE, not kill it */
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/roundtrip", test_roundtrip);
  g_test_add_func ("/model/corrupt", test_corrupt);
  g_test_add_func ("/model/wrong-shape", test_wrong_shape);
  g_test_add_func ("/model/save-refuses-nan", test_save_refuses_nan);
  g_test_add_func ("/model/check-features", test_check_features);
  g_test_add_func ("/model/pipeline-reference", test_pipeline_reference);
  g_test_add_func ("/model/predict-lengths", test_predict_lengths);
  g_test_add_func ("/model/prefix-consistency", test_prefix_consistency);
  g_test_add_func ("/model/resample", test_resample);
  g_test_add_func ("/model/fps-independence", test_fps_independence);
  g_test_add_func ("/model/fps-independence-speech", test_fps_independence_speech);
  g_test_add_func ("/model/fps-independence-default-model", test_fps_independence_default_model);
  g_test_add_func ("/model/stream", test_stream);
  g_test_add_func ("/model/ensemble", test_ensemble);
  g_test_add_func ("/model/cli-ensemble", test_cli_ensemble);
  g_test_add_func ("/model/audio-stream", test_audio_stream);
  g_test_add_func ("/model/to-pixels", test_to_pixels);
  g_test_add_func ("/model/cli/predict-audio", test_cli_predict_audio);
  g_test_add_func ("/model/cli/stream-matches-predict", test_cli_stream_matches_predict);
  g_test_add_func ("/model/cli/stream-live", test_cli_stream_live);
  g_test_add_func ("/model/cli/stream-wav-chunks", test_cli_stream_wav_chunks);
  g_test_add_func ("/model/cli/stream-nonblocking", test_cli_stream_nonblocking);
  g_test_add_func ("/model/cli/stream-nonblocking-stdout", test_cli_stream_nonblocking_stdout);
  g_test_add_func ("/model/cli/stream-bad", test_cli_stream_bad);
  g_test_add_func ("/model/fps-independence-any-length", test_fps_independence_any_length);
  g_test_add_func ("/model/cli/predict-video", test_cli_predict_video);
  g_test_add_func ("/model/cli/predict-bad", test_cli_predict_bad);
  g_test_add_func ("/model/cli/predict-pixels", test_cli_predict_pixels);
  g_test_add_func ("/model/cli/default-model", test_cli_default_model);
  g_test_add_func ("/model/cli/convert-roundtrip", test_cli_convert_roundtrip);
  g_test_add_func ("/model/cli/audio-only-fps", test_cli_audio_only_fps);
  return g_test_run ();
}
