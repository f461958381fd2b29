/* `wav2kp evaluate` end to end on a small dataset prepared from five GRID
 * clips of ../shared/data (five speakers: 3 train, 1 val, 1 test):
 * known answers (the reference as a "model" scores zero; a neutral model
 * that predicts the mean face scores like the mean-face baseline), the
 * runner's pooling checked against the numpy reference, outputs, plots and
 * bad input. */
#include "wkp-dataset.h"
#include "wkp-evaluate.h"
#include "wkp-face.h"
#include "wkp-model.h"
#include "wkp-npy.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define NXY (WKP_N_LANDMARKS * 2)

static const char *grid_clips[] = {
  "av/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg",
  "av/rizkiarm__LipNet/evaluation/samples/GRID/brbk7n.mpg",
  "av/rizkiarm__LipNet/evaluation/samples/GRID/lbbc2a.mpg",
  "av/rizkiarm__LipNet/evaluation/samples/GRID/lrwp9a.mpg",
  "av/rizkiarm__LipNet/evaluation/samples/GRID/lwbsza.mpg",
};

static char *dataset_dir = NULL;
static char *work_dir = NULL;

/* Prepares the dataset once for all tests; NULL (and skip) without shared data. */
static const char *
dataset (void)
{
  g_autoptr(GString) csv = NULL;
  g_autofree char *csv_path = NULL, *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (dataset_dir != NULL)
    return dataset_dir;
  if (wkp_test_shared_data () == NULL)
    return NULL;
  work_dir = wkp_test_tmpdir ();
  csv = g_string_new ("video,speaker\n");
  for (guint i = 0; i < G_N_ELEMENTS (grid_clips); i++)
    {
      g_autofree char *path = wkp_test_shared_file (grid_clips[i]);
      if (path == NULL)
        return NULL;
      g_string_append_printf (csv, "%s,speaker%u\n", path, i);
    }
  csv_path = g_build_filename (work_dir, "clips.csv", NULL);
  g_assert_true (g_file_set_contents (csv_path, csv->str, -1, &error));
  dataset_dir = g_build_filename (work_dir, "ds", NULL);
  status = wkp_test_run_cli ((const char *[]) { "prepare", csv_path, "-o", dataset_dir, "-q", NULL }, &out, &err);
  g_test_message ("prepare: %s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  return dataset_dir;
}

static JsonObject *
find_entry (JsonObject *root, const char *kind)
{
  JsonArray *models = json_object_get_array_member (root, "models");
  for (guint i = 0; i < json_array_get_length (models); i++)
    {
      JsonObject *o = json_array_get_object_element (models, i);
      if (g_strcmp0 (json_object_get_string_member (o, "kind"), kind) == 0)
        return o;
    }
  g_error ("no %s entry in the evaluation JSON", kind);
  return NULL;
}

static double
pooled (JsonObject *entry, const char *name)
{
  JsonObject *p = json_object_get_object_member (entry, "pooled");
  JsonNode *n = json_object_get_member (p, name);
  g_assert_nonnull (n);
  return JSON_NODE_HOLDS_NULL (n) ? NAN : json_node_get_double (n);
}

static JsonParser *
load_json (const char *path)
{
  JsonParser *parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  return parser;
}

/* The dataset's own landmarks, one file per clip id, as a "model". */
static char *
make_reference_tracks (const WkpDataset *ds)
{
  g_autofree char *dir = g_build_filename (work_dir, "tracks", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    {
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, i);
      g_autofree char *src = NULL, *dst = NULL, *file = NULL, *data = NULL;
      gsize len;
      if (clip->status != WKP_CLIP_OK)
        continue;
      src = wkp_dataset_clip_path (ds, i, WKP_CLIP_ARRAY_LANDMARKS);
      file = g_strconcat (clip->id, ".npy", NULL);
      dst = g_build_filename (dir, file, NULL);
      g_assert_true (g_file_get_contents (src, &data, &len, NULL));
      g_assert_true (g_file_set_contents (dst, data, len, NULL));
    }
  return g_steal_pointer (&dir);
}

static void
test_reference_and_baselines (void)
{
  const char *ds_dir = dataset ();
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tracks = NULL, *csv = NULL, *json = NULL, *plots = NULL, *out = NULL, *err = NULL;
  g_autofree char *csv_text = NULL, *summary = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GArray) all = NULL;
  JsonObject *root, *ref, *mean, *energy;
  gint64 frames = 0;
  int status;

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  all = wkp_dataset_split_indices (ds, WKP_SPLIT_NONE);
  g_assert_cmpuint (all->len, >=, 4);
  for (guint i = 0; i < all->len; i++)
    frames += wkp_dataset_get_clip (ds, g_array_index (all, int, i))->n_frames;

  tracks = make_reference_tracks (ds);
  csv = g_build_filename (work_dir, "eval.csv", NULL);
  json = g_build_filename (work_dir, "eval.json", NULL);
  plots = g_build_filename (work_dir, "plots", NULL);
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", tracks, "--split", "all",
                                                "--csv", csv, "--json", json, "--plot", plots, "--per-clip",
                                                NULL }, &out, &err);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "tracks"));
  g_assert_nonnull (strstr (out, "mean face (baseline)"));
  g_assert_nonnull (strstr (out, "audio energy (baseline)"));
  g_assert_nonnull (strstr (out, "Per clip"));
  g_assert_nonnull (strstr (out, "bootstrap resamples"));
  g_assert_nonnull (strstr (out, "GRID/bbaf2n.mpg"));
  g_assert_true (g_utf8_validate (out, -1, NULL));   /* names are cut by characters, not bytes */

  parser = load_json (json);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "split"), ==, "all");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "clips")), ==, all->len);

  /* the reference compared with itself */
  ref = find_entry (root, "tracks");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ref, "pooled"), "frames"), ==, frames);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ref, "pooled"), "prediction_missing"), ==, 0);
  g_assert_cmpfloat (pooled (ref, "lmd_mouth"), ==, 0.0);
  g_assert_cmpfloat (pooled (ref, "lmd_face"), ==, 0.0);
  g_assert_cmpfloat (pooled (ref, "lve"), ==, 0.0);
  g_assert_cmpfloat (pooled (ref, "aperture_rmse"), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (pooled (ref, "aperture_r"), 1.0, 1e-9);
  g_assert_cmpfloat (pooled (ref, "best_lag"), ==, 0.0);
  {
    /* bootstrap over clips: a perfect "model" stays perfect in every resample */
    JsonObject *bs = json_object_get_object_member (ref, "bootstrap_over_clips");
    JsonArray *ci = json_object_get_array_member (bs, "aperture_r_95");
    g_assert_cmpint (json_object_get_int_member (bs, "resamples"), ==, 1000);
    g_assert_cmpfloat_with_epsilon (json_array_get_double_element (ci, 0), 1.0, 1e-9);
    g_assert_cmpfloat_with_epsilon (json_array_get_double_element (ci, 1), 1.0, 1e-9);
    g_assert_cmpfloat (json_object_get_double_member (bs, "r_above_energy_baseline"), ==, 1.0);
    g_assert_cmpfloat (json_object_get_double_member (bs, "lmd_mouth_below_mean_face"), ==, 1.0);
  }

  /* baselines: the mean face has landmark errors and no aperture correlation
   * (constant); the energy baseline has aperture metrics only */
  mean = find_entry (root, "mean-face");
  g_assert_cmpfloat (pooled (mean, "lmd_mouth"), >, 0.005);
  g_assert_cmpfloat (pooled (mean, "lmd_mouth"), <, 0.5);
  g_assert_true (isnan (pooled (mean, "aperture_r")));
  {
    JsonArray *ci = json_object_get_array_member (json_object_get_object_member (mean, "bootstrap_over_clips"),
                                                  "lmd_mouth_95");
    double lo = json_array_get_double_element (ci, 0), hi = json_array_get_double_element (ci, 1);
    g_test_message ("mean face LMD mouth %.4f [%.4f, %.4f]", pooled (mean, "lmd_mouth"), lo, hi);
    g_assert_cmpfloat (lo, <, pooled (mean, "lmd_mouth"));
    g_assert_cmpfloat (hi, >, pooled (mean, "lmd_mouth"));
  }
  energy = find_entry (root, "energy");
  g_assert_true (isnan (pooled (energy, "lmd_mouth")));
  g_assert_true (isfinite (pooled (energy, "aperture_r")));
  g_assert_true (isfinite (pooled (energy, "aperture_rmse")));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (energy, "fit"), "train_frames"), >, 100);

  /* CSV: header, then per entry a pooled row and one row per clip */
  g_assert_true (g_file_get_contents (csv, &csv_text, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv_text, "model,kind,clip,speaker,frames,"));
  {
    g_auto(GStrv) lines = g_strsplit (csv_text, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 1 + 3 * (1 + all->len) + 1);  /* + trailing "" */
  }
  summary = g_build_filename (plots, "summary.png", NULL);
  g_assert_true (g_file_test (summary, G_FILE_TEST_IS_REGULAR));
  {
    g_autoptr(GDir) d = g_dir_open (plots, 0, NULL);
    const char *name;
    int n = 0, png = 0;
    while ((name = g_dir_read_name (d)) != NULL)
      {
        n++;
        png += g_str_has_prefix (name, "clip-") && g_str_has_suffix (name, ".png");
      }
    g_assert_cmpint (n, ==, 2 * (1 + (int) all->len) + 1);   /* + .wav2kp-plots */
    g_assert_cmpint (png, ==, (int) all->len);
  }

  /* a second run on fewer clips into the same folder: the first run's plots
   * of clips it does not score go (they showed clips the summary did not
   * count); files of the user's there stay, even named like plots (a copy
   * "clip-001-NAME-edited.png" was removed by a name pattern) */
  {
    g_autoptr(GArray) train = wkp_dataset_split_indices (ds, WKP_SPLIT_TRAIN);
    g_autofree char *notes = g_build_filename (plots, "notes.txt", NULL);
    g_autofree char *mine = g_build_filename (plots, "clip-999-mine.png", NULL);
    g_autofree char *edited = g_build_filename (plots, "clip-001-edited.svg", NULL);
    g_autofree char *out2 = NULL, *err2 = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;
    int n = 0, png = 0;
    g_assert_cmpuint (train->len, >=, 1);
    g_assert_cmpuint (train->len, <, all->len);
    g_assert_true (g_file_set_contents (notes, "mine\n", -1, NULL));
    g_assert_true (g_file_set_contents (mine, "mine\n", -1, NULL));
    g_assert_true (g_file_set_contents (edited, "mine\n", -1, NULL));
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "train", "--plot", plots,
                                                  "--bootstrap", "0", NULL }, &out2, &err2);
    g_test_message ("%s%s", out2, err2);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out2, "removed"));
    {
      g_autofree char *expect = g_strdup_printf ("removed %u older per-clip plot files", 2 * (all->len - train->len));
      g_assert_nonnull (strstr (out2, expect));
    }
    d = g_dir_open (plots, 0, NULL);
    while ((name = g_dir_read_name (d)) != NULL)
      {
        n++;
        png += g_str_has_prefix (name, "clip-") && g_str_has_suffix (name, ".png");
      }
    g_assert_cmpint (png, ==, (int) train->len + 1);
    g_assert_cmpint (n, ==, 2 * (1 + (int) train->len) + 4);   /* + the list, notes and the two of the user's */
    g_assert_true (g_file_test (notes, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (mine, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (edited, G_FILE_TEST_IS_REGULAR));
  }
}

/* Arguments every numpy reference script starts with: the canonical face and
 * the stable points, as .npy files. */
static GPtrArray *
reference_args (void)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  char *canon = g_build_filename (work_dir, "canonical.npy", NULL);
  char *stable = g_build_filename (work_dir, "stable.npy", NULL);
  gint64 shape[2] = { WKP_N_LANDMARKS, 2 };
  int n_stable;
  const int *stable_idx = wkp_face_stable_points (&n_stable);

  g_assert_true (wkp_npy_save (canon, WKP_DTYPE_F32, 2, shape, wkp_face_canonical (), &error));
  shape[0] = n_stable;
  g_assert_true (wkp_npy_save (stable, WKP_DTYPE_I32, 1, shape, stable_idx, &error));
  g_assert_no_error (error);
  g_ptr_array_add (args, canon);
  g_ptr_array_add (args, stable);
  return args;
}

/* The same tolerance as the metrics test: float32 normalisation vs float64. */
static void
assert_metrics_close (const char *what, const WkpMetrics *m, JsonObject *o)
{
  static const struct { const char *key; gsize offset; } fields[] = {
    { "lmd_mouth", G_STRUCT_OFFSET (WkpMetrics, lmd_mouth) },
    { "lmd_face", G_STRUCT_OFFSET (WkpMetrics, lmd_face) },
    { "lve", G_STRUCT_OFFSET (WkpMetrics, lve) },
    { "lvd_mouth", G_STRUCT_OFFSET (WkpMetrics, lvd_mouth) },
    { "aperture_rmse", G_STRUCT_OFFSET (WkpMetrics, aperture_rmse) },
    { "aperture_motion", G_STRUCT_OFFSET (WkpMetrics, aperture_motion) },
  };
  g_assert_cmpint (m->n_compared, ==, json_object_get_int_member (o, "n_compared"));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      double c = G_STRUCT_MEMBER (double, m, fields[i].offset);
      double want = json_object_get_double_member (o, fields[i].key);
      g_test_message ("%s %-14s C %.9f numpy %.9f", what, fields[i].key, c, want);
      g_assert_cmpfloat (fabs (c - want), <=, 1e-6 + 1e-5 * fabs (want));
    }
}

static void
test_numpy_pooling (void)
{
  const char *ds_dir = dataset ();
  const char *py = wkp_test_python ("numpy");
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpEvaluation) ev = NULL;
  g_autoptr(GPtrArray) args = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *out = NULL;
  WkpEvalParams params;
  JsonObject *o;
  const WkpMetrics *m;

  if (ds_dir == NULL || py == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  wkp_eval_params_init_default (&params);
  ev = wkp_evaluate (ds, WKP_SPLIT_NONE, NULL, 0, &params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ev->n_entries, ==, 2);
  g_assert_cmpint (ev->entries[0].kind, ==, WKP_EVAL_MEAN_FACE);
  m = &ev->entries[0].pooled;

  /* numpy: every clip's landmarks against a constant mean-face track */
  args = reference_args ();
  g_ptr_array_add (args, g_strdup_printf ("%d", WKP_METRICS_MAX_LAG));
  for (int c = 0; c < ev->n_clips; c++)
    {
      gint64 n = ev->clip_frames[c];
      g_autofree float *track = g_new (float, n * NXY);
      gint64 tshape[3] = { n, WKP_N_LANDMARKS, 2 };
      char *path = g_strdup_printf ("%s/meanface%d.npy", work_dir, c);
      for (gint64 t = 0; t < n; t++)
        memcpy (track + t * NXY, wkp_dataset_get_mean_face (ds), sizeof (float) * NXY);
      g_assert_true (wkp_npy_save (path, WKP_DTYPE_F32, 3, tshape, track, &error));
      g_ptr_array_add (args, wkp_dataset_clip_path (ds, ev->clip_index[c], WKP_CLIP_ARRAY_LANDMARKS));
      g_ptr_array_add (args, path);
    }
  g_ptr_array_add (args, NULL);
  out = wkp_test_run_python ("metrics_reference.py", (const char * const *) args->pdata);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (m->n_frames, ==, json_object_get_int_member (o, "n_frames"));
  g_assert_cmpint (m->n_ref_missing, ==, json_object_get_int_member (o, "n_ref_missing"));
  assert_metrics_close ("mean face", m, o);

  /* the energy baseline: fit on the train split, pooled over all clips */
  {
    g_autoptr(GPtrArray) eargs = reference_args ();
    g_autoptr(GArray) train = wkp_dataset_split_indices (ds, WKP_SPLIT_TRAIN);
    g_autoptr(JsonParser) eparser = json_parser_new ();
    g_autofree char *eout = NULL;
    const WkpEvalEntry *energy = &ev->entries[1];
    JsonObject *e;

    g_assert_cmpint (energy->kind, ==, WKP_EVAL_ENERGY);
    g_assert_null (energy->problem);
    g_ptr_array_add (eargs, g_strdup ("16000"));
    for (int pass = 0; pass < 2; pass++)
      {
        guint n = pass == 0 ? train->len : (guint) ev->n_clips;
        for (guint k = 0; k < n; k++)
          {
            int index = pass == 0 ? g_array_index (train, int, k) : ev->clip_index[k];
            const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, index);
            g_ptr_array_add (eargs, g_strdup (pass == 0 ? "train" : "eval"));
            g_ptr_array_add (eargs, wkp_dataset_clip_path (ds, index, WKP_CLIP_ARRAY_LANDMARKS));
            g_ptr_array_add (eargs, wkp_dataset_clip_path (ds, index, WKP_CLIP_ARRAY_AUDIO));
            g_ptr_array_add (eargs, g_strdup_printf ("%d", clip->fps.num));
            g_ptr_array_add (eargs, g_strdup_printf ("%d", clip->fps.den));
          }
      }
    g_ptr_array_add (eargs, NULL);
    eout = wkp_test_run_python ("metrics_energy.py", (const char * const *) eargs->pdata);
    g_assert_true (json_parser_load_from_data (eparser, eout, -1, &error));
    e = json_node_get_object (json_parser_get_root (eparser));
    g_test_message ("energy: C slope %.8f intercept %.8f r %.8f rmse %.8f; numpy %s",
                    ev->energy_slope, ev->energy_intercept, energy->pooled.aperture_r, energy->pooled.aperture_rmse, eout);
    g_assert_cmpint (ev->energy_fit_frames, ==, json_object_get_int_member (e, "train_frames"));
    g_assert_cmpfloat (fabs (ev->energy_slope - json_object_get_double_member (e, "slope")), <=,
                       1e-5 * fabs (json_object_get_double_member (e, "slope")));
    g_assert_cmpfloat (fabs (ev->energy_intercept - json_object_get_double_member (e, "intercept")), <=, 1e-6);
    g_assert_cmpfloat (fabs (energy->pooled.aperture_r - json_object_get_double_member (e, "aperture_r")), <=, 1e-5);
    g_assert_cmpfloat (fabs (energy->pooled.aperture_rmse - json_object_get_double_member (e, "aperture_rmse")), <=, 1e-6);
  }
}

/* --oracles: both bounds scored exactly as numpy scores the same constructions
 * (tests/oracle_reference.py), kept out of "best" and out of the plots. */
static void
test_oracles (void)
{
  const char *ds_dir = dataset ();
  const char *py = wkp_test_python ("numpy");
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpEvaluation) ev = NULL;
  g_autoptr(GPtrArray) args = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) cli_parser = NULL;
  g_autofree char *out = NULL, *meanface = NULL;
  g_autofree char *json = NULL, *plots = NULL, *svg = NULL, *svg_text = NULL, *cli_out = NULL, *cli_err = NULL;
  WkpEvalParams params;
  int status;
  gint64 shape[2] = { WKP_N_LANDMARKS, 2 };
  JsonObject *root;
  const WkpEvalEntry *mean, *motion, *level;

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  wkp_eval_params_init_default (&params);
  params.oracles = TRUE;
  params.bootstrap = 0;
  ev = wkp_evaluate (ds, WKP_SPLIT_NONE, NULL, 0, &params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ev->n_entries, ==, 4);
  mean = &ev->entries[0];
  motion = &ev->entries[2];
  level = &ev->entries[3];
  g_assert_cmpint (mean->kind, ==, WKP_EVAL_MEAN_FACE);
  g_assert_cmpint (motion->kind, ==, WKP_EVAL_ORACLE_MOTION);
  g_assert_cmpint (level->kind, ==, WKP_EVAL_ORACLE_LEVEL);
  g_assert_true (wkp_eval_kind_is_oracle (motion->kind) && wkp_eval_kind_is_oracle (level->kind));
  g_assert_false (wkp_eval_kind_is_oracle (mean->kind));
  g_test_message ("motion oracle r %.4f LMD %.4f; level oracle r %.4f LMD %.4f; mean face LMD %.4f",
                  motion->pooled.aperture_r, motion->pooled.lmd_mouth, level->pooled.aperture_r,
                  level->pooled.lmd_mouth, mean->pooled.lmd_mouth);
  /* what the constructions imply whatever the data: the motion oracle has the
   * reference's own motion, so its r is high; a clip mean is closer to every
   * frame on average than the dataset mean (Jensen), so both oracles beat the
   * mean face's LMD; the level oracle is constant within each clip */
  g_assert_cmpfloat (motion->pooled.aperture_r, >, 0.5);
  g_assert_cmpfloat (motion->pooled.lmd_mouth, <, mean->pooled.lmd_mouth);
  g_assert_cmpfloat (level->pooled.lmd_mouth, <, mean->pooled.lmd_mouth);
  for (int c = 0; c < ev->n_clips; c++)
    {
      g_assert_true (isnan (level->clips[c].aperture_r));
      /* same motion at another level: not exactly 1 because the aperture is a
       * distance, not linear in the coordinates it is shifted by */
      g_assert_cmpfloat (motion->clips[c].aperture_r, >, 0.9);
    }

  if (py != NULL)
    {
      meanface = g_build_filename (work_dir, "meanface.npy", NULL);
      g_assert_true (wkp_npy_save (meanface, WKP_DTYPE_F32, 2, shape, wkp_dataset_get_mean_face (ds), &error));
      args = reference_args ();
      g_ptr_array_add (args, g_strdup (meanface));
      g_ptr_array_add (args, g_strdup_printf ("%d", WKP_METRICS_MAX_LAG));
      for (int c = 0; c < ev->n_clips; c++)
        g_ptr_array_add (args, wkp_dataset_clip_path (ds, ev->clip_index[c], WKP_CLIP_ARRAY_LANDMARKS));
      g_ptr_array_add (args, NULL);
      out = wkp_test_run_python ("oracle_reference.py", (const char * const *) args->pdata);
      g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
      /* C normalises in float32 (twice here), numpy in float64 */
      for (int k = 0; k < 2; k++)
        {
          const WkpMetrics *m = &(k == 0 ? motion : level)->pooled;
          const char *name = k == 0 ? "motion" : "level";
          JsonObject *o = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), name);
          double want_r = json_object_get_double_member (o, "aperture_r");
          assert_metrics_close (name, m, o);
          g_test_message ("%s aperture_r C %.9f numpy %.9f", name, m->aperture_r, want_r);
          g_assert_cmpfloat (fabs (m->aperture_r - want_r), <=, 1e-6 + 1e-5 * fabs (want_r));
        }
    }

  /* the CLI: JSON kinds, a note, no star on an oracle row, no oracle in the plots */
  json = g_build_filename (work_dir, "oracles.json", NULL);
  plots = g_build_filename (work_dir, "oracle-plots", NULL);
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--oracles", "--json", json,
                                                "--plot", plots, "--bootstrap", "0", NULL }, &cli_out, &cli_err);
  g_test_message ("%s%s", cli_out, cli_err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (cli_out, "Oracles read the reference"));
  {
    g_auto(GStrv) lines = g_strsplit (cli_out, "\n", -1);
    int oracle_rows = 0;
    for (int i = 0; lines[i] != NULL; i++)
      if (g_str_has_prefix (lines[i], "oracle: "))
        {
          oracle_rows++;
          g_assert_null (strchr (lines[i], '*'));
        }
    g_assert_cmpint (oracle_rows, ==, 2);
  }
  cli_parser = load_json (json);
  root = json_node_get_object (json_parser_get_root (cli_parser));
  g_assert_cmpfloat_with_epsilon (pooled (find_entry (root, "oracle-motion"), "aperture_r"), motion->pooled.aperture_r, 1e-9);
  g_assert_true (isnan (pooled (find_entry (root, "oracle-level"), "aperture_r"))
                 == isnan (level->pooled.aperture_r));
  /* the plots are those of the same run without oracles, byte for byte */
  {
    g_autofree char *plain = g_build_filename (work_dir, "plain-plots", NULL);
    g_autofree char *plain_svg = g_build_filename (plain, "summary.svg", NULL), *plain_text = NULL;
    g_autofree char *o2 = NULL, *e2 = NULL;
    gsize len, plain_len;
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--plot", plain,
                                                  "--bootstrap", "0", NULL }, &o2, &e2);
    g_assert_cmpint (status, ==, 0);
    svg = g_build_filename (plots, "summary.svg", NULL);
    g_assert_true (g_file_get_contents (svg, &svg_text, &len, NULL));
    g_assert_true (g_file_get_contents (plain_svg, &plain_text, &plain_len, NULL));
    g_assert_cmpmem (svg_text, len, plain_text, plain_len);
  }
}

static WkpModel *
neutral_model (const WkpDataset *ds, const WkpFeatureConfig *config)
{
  int points[WKP_MOUTH_COUNT];
  WkpModel *model;
  const float *mean = wkp_dataset_get_mean_face (ds);
  for (int i = 0; i < WKP_MOUTH_COUNT; i++)
    points[i] = WKP_MOUTH_FIRST + i;
  model = wkp_model_new (config, WKP_RATIONAL (25, 1), 1, 0, FALSE, WKP_MOUTH_COUNT, points, 4, 8, 1, FALSE);
  /* zero weights: every frame is pca_mean = the dataset's mean mouth */
  memcpy (model->mean_face, mean, sizeof (float) * NXY);
  for (int i = 0; i < WKP_MOUTH_COUNT; i++)
    {
      model->pca_mean[2 * i] = mean[2 * points[i]];
      model->pca_mean[2 * i + 1] = mean[2 * points[i] + 1];
    }
  return model;
}

/* A neutral model whose network has fixed pseudo-random weights, so that its
 * mouth follows its input features. */
static WkpModel *
random_model (const WkpDataset *ds, const WkpFeatureConfig *config)
{
  WkpModel *m = neutral_model (ds, config);
  WkpLstm *l = m->lstm;
  gsize k = 0;
  for (int i = 0; i < l->num_layers; i++)
    {
      gsize n_ih = 4 * (gsize) l->hidden_size * wkp_lstm_layer_input (l, i), n_hh = 4 * (gsize) l->hidden_size * l->hidden_size;
      for (gsize j = 0; j < n_ih; j++)
        l->w_ih[i][0][j] = (float) (0.3 * sin (1.7 * (double) k++));
      for (gsize j = 0; j < n_hh; j++)
        l->w_hh[i][0][j] = (float) (0.3 * sin (1.7 * (double) k++));
    }
  for (gsize j = 0; j < (gsize) l->output_size * l->hidden_size; j++)
    l->head_w[j] = (float) (0.5 * sin (1.3 * (double) k++));
  for (gsize j = 0; j < (gsize) m->n_components * m->n_points * 2; j++)
    m->pca_basis[j] = (float) (0.3 * sin (0.7 * (double) k++));
  return m;
}

static void
test_models (void)
{
  const char *ds_dir = dataset ();
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) good = NULL, bad = NULL;
  g_autofree char *good_path = NULL, *bad_path = NULL, *json = NULL, *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = NULL;
  WkpFeatureConfig other;
  JsonObject *root, *model, *mean;
  JsonArray *entries;
  int status;

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  good = neutral_model (ds, wkp_dataset_get_feature_config (ds));
  other = *wkp_dataset_get_feature_config (ds);
  other.n_mels = other.n_mels == 40 ? 64 : 40;
  bad = neutral_model (ds, &other);
  good_path = g_build_filename (work_dir, "neutral.wkpm", NULL);
  bad_path = g_build_filename (work_dir, "other-features.wkpm", NULL);
  g_assert_true (wkp_model_save (good, good_path, &error));
  g_assert_true (wkp_model_save (bad, bad_path, &error));
  g_assert_no_error (error);

  json = g_build_filename (work_dir, "models.json", NULL);
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", good_path, "--model", bad_path,
                                                "--split", "all", "--json", json, NULL }, &out, &err);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (out, "incompatible"));

  parser = load_json (json);
  root = json_node_get_object (json_parser_get_root (parser));
  entries = json_object_get_array_member (root, "models");
  g_assert_cmpuint (json_array_get_length (entries), ==, 4);
  model = json_array_get_object_element (entries, 0);
  g_assert_cmpstr (json_object_get_string_member (model, "label"), ==, "neutral.wkpm");
  g_assert_false (json_object_has_member (model, "problem"));
  /* another feature config is no obstacle: that model reads features computed from the audio */
  g_assert_false (json_object_has_member (json_array_get_object_element (entries, 1), "problem"));
  /* the neutral model predicts the mean mouth: it scores like the mean-face baseline */
  mean = find_entry (root, "mean-face");
  g_assert_cmpfloat_with_epsilon (pooled (model, "lmd_mouth"), pooled (mean, "lmd_mouth"), 1e-6);
  g_assert_cmpfloat_with_epsilon (pooled (model, "lmd_face"), pooled (mean, "lmd_face"), 1e-6);
}

/* The mean predicted aperture evaluate reports for each clip with @model,
 * against that of wkp_model_predict_audio on the clip's audio (*diff_audio)
 * and of wkp_model_predict_features on the dataset's cached rows
 * (*diff_rows): largest absolute differences. */
static void
evaluated_against_paths (const char *ds_dir, const WkpDataset *ds, WkpModel *model, const char *name,
                         double *diff_audio, double *diff_rows)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *file = g_strconcat (name, ".wkpm", NULL), *jfile = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_build_filename (work_dir, file, NULL), *json = g_build_filename (work_dir, jfile, NULL);
  g_autofree char *out = NULL, *err = NULL;
  JsonArray *clips;

  *diff_audio = *diff_rows = 0;
  g_assert_true (wkp_model_save (model, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", path, "--split", "all",
                                                        "--no-baselines", "--bootstrap", "0", "--json", json, NULL },
                                     &out, &err), ==, 0);
  g_test_message ("%s%s", out, err);
  parser = load_json (json);
  {
    JsonObject *root = json_node_get_object (json_parser_get_root (parser));
    JsonObject *e = json_array_get_object_element (json_object_get_array_member (root, "models"), 0);
    g_assert_false (json_object_has_member (e, "problem"));
    clips = json_object_get_array_member (e, "clips");
  }
  g_assert_cmpuint (json_array_get_length (clips), ==, (guint) wkp_dataset_n_clips (ds));
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    {
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, i);
      g_autoptr(WkpNpy) audio = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_AUDIO, &error);
      g_autoptr(WkpNpy) rows = wkp_dataset_clip_load (ds, i, WKP_CLIP_ARRAY_FEATURES, &error);
      g_assert_no_error (error);
      g_autofree float *pa = wkp_model_predict_audio (model, audio->data, audio->n_elements, clip->fps,
                                                      clip->n_frames, 1, NULL, &error);
      g_autofree float *pr = wkp_model_predict_features (model, rows->data, rows->shape[0], clip->fps,
                                                         clip->n_frames, 1, &error);
      g_assert_no_error (error);
      double ma = 0, mr = 0, reported = NAN;
      for (gint64 t = 0; t < clip->n_frames; t++)
        {
          ma += wkp_face_inner_aperture (pa + t * NXY) / clip->n_frames;
          mr += wkp_face_inner_aperture (pr + t * NXY) / clip->n_frames;
        }
      for (guint j = 0; j < json_array_get_length (clips); j++)
        {
          JsonObject *o = json_array_get_object_element (clips, j);
          if (g_strcmp0 (json_object_get_string_member (o, "clip"), clip->name) == 0)
            reported = json_object_get_double_member (o, "aperture_prediction_mean");
        }
      g_assert_true (isfinite (reported));
      *diff_audio = MAX (*diff_audio, fabs (reported - ma));
      *diff_rows = MAX (*diff_rows, fabs (reported - mr));
    }
  g_test_message ("%s: mean predicted aperture vs the model's features from audio: max |diff| %.2e; vs the "
                  "dataset's rows: %.2e", name, *diff_audio, *diff_rows);
}

static void
test_other_features (void)
{
  /* a model is evaluated on its own features computed from each clip's
   * audio, as `predict` and the studio run it: with another feature config
   * (64 mel bands against the dataset's 40; the same 156 columns) the
   * dataset's rows are not its features at all; with the dataset's own
   * config they are, but end at the clip's last frame (edge-padded look-ahead
   * there, where prediction reads silence): evaluate used them and differed
   * from the studio by up to 0.02 in r */
  const char *ds_dir = dataset ();
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) other = NULL, own = NULL;
  WkpFeatureConfig fc;
  double diff_audio, diff_rows;

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  fc = *wkp_dataset_get_feature_config (ds);
  g_assert_cmpint (fc.n_mels, ==, 40);
  fc.n_mels = 64;
  other = random_model (ds, &fc);
  evaluated_against_paths (ds_dir, ds, other, "random-64", &diff_audio, &diff_rows);
  g_assert_cmpfloat (diff_audio, <, 1e-6);
  g_assert_cmpfloat (diff_rows, >, 1e-4);

  own = random_model (ds, wkp_dataset_get_feature_config (ds));
  evaluated_against_paths (ds_dir, ds, own, "random-40", &diff_audio, &diff_rows);
  g_assert_cmpfloat (diff_audio, <, 1e-6);
}

/* Fields of one CSV line, with RFC 4180 quotes. */
static int
csv_field_count (const char *line)
{
  int n = 1;
  gboolean quoted = FALSE;
  for (const char *c = line; *c; c++)
    if (*c == '"')
      quoted = !quoted;
    else if (*c == ',' && !quoted)
      n++;
  return n;
}

static double
member_double (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  g_assert_nonnull (n);
  return JSON_NODE_HOLDS_NULL (n) ? NAN : json_node_get_double (n);
}

/* Two predictors against each other on the same bootstrap resamples, and
 * what a model's training metadata says about the evaluated speakers, in the
 * JSON, the CSV and the plots. */
static void
test_model_against_model (void)
{
  const char *ds_dir = dataset ();
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) rnd = NULL;
  g_autoptr(JsonParser) parser = NULL, meta = NULL;
  g_autofree char *tracks = NULL, *copy = NULL, *model = NULL, *json = NULL, *csv = NULL, *plots = NULL;
  g_autofree char *out = NULL, *err = NULL, *csv_text = NULL;
  JsonObject *root;
  JsonArray *cmp;

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  tracks = make_reference_tracks (ds);
  copy = g_strconcat (tracks, "-copy", NULL);
  g_assert_true (g_rename (tracks, copy) == 0);
  g_free (make_reference_tracks (ds));   /* the reference twice, in two folders */
  rnd = random_model (ds, wkp_dataset_get_feature_config (ds));
  /* as if trained on speaker0 and speaker1, early-stopped on speaker3 */
  meta = json_parser_new ();
  g_assert_true (json_parser_load_from_data (meta, "{\"train\": {\"speakers\": [\"speaker0\", \"speaker1\"]}, "
                                                   "\"val\": {\"speakers\": [\"speaker3\"]}}", -1, NULL));
  rnd->training = json_node_copy (json_parser_get_root (meta));
  model = g_build_filename (work_dir, "random.wkpm", NULL);
  g_assert_true (wkp_model_save (rnd, model, &error));
  g_assert_no_error (error);
  json = g_build_filename (work_dir, "pair.json", NULL);
  csv = g_build_filename (work_dir, "pair.csv", NULL);
  plots = g_build_filename (work_dir, "pair-plots", NULL);
  g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "-m", tracks, "-m", copy, "-m", model,
                                                        "--split", "all", "--json", json, "--csv", csv, "--plot",
                                                        plots, NULL }, &out, &err), ==, 0);
  g_test_message ("%s%s", out, err);
  g_assert_nonnull (strstr (out, "Model against model"));
  g_assert_nonnull (strstr (out, "Not held out: random.wkpm was trained on 2 of the evaluated speakers"));
  g_assert_nonnull (strstr (out, "Validated on: random.wkpm chose its best epoch on 1 of the evaluated speakers (speaker3)"));

  parser = load_json (json);
  root = json_node_get_object (json_parser_get_root (parser));
  cmp = json_object_get_array_member (root, "comparisons_over_clips");
  g_assert_cmpuint (json_array_get_length (cmp), ==, 3);   /* 3 predictors: 3 pairs, baselines not among them */
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *c = json_array_get_object_element (cmp, i);
      const char *b = json_object_get_string_member (c, "b");
      JsonArray *ci_r = json_object_get_array_member (c, "aperture_r_b_minus_a_95");
      JsonArray *ci_l = json_object_get_array_member (c, "lmd_mouth_b_minus_a_95");
      g_assert_cmpint (json_object_get_int_member (c, "resamples"), ==, 1000);
      if (g_strcmp0 (b, "random.wkpm") != 0)
        {
          /* the reference against itself: no difference in any resample */
          g_assert_cmpfloat (fabs (member_double (c, "aperture_r_b_minus_a")), <, 1e-12);
          g_assert_cmpfloat (fabs (json_array_get_double_element (ci_r, 0)), <, 1e-12);
          g_assert_cmpfloat (fabs (json_array_get_double_element (ci_r, 1)), <, 1e-12);
          g_assert_cmpfloat (member_double (c, "b_r_higher_in"), ==, 0.0);
          g_assert_cmpfloat (member_double (c, "b_lmd_mouth_lower_in"), ==, 0.0);
        }
      else
        {
          /* a random network against the reference (r = 1, LMD = 0 in every
           * resample): worse in all of them, and the point difference is the
           * difference of the pooled numbers */
          JsonObject *r_entry = NULL;
          JsonArray *models = json_object_get_array_member (root, "models");
          for (guint k = 0; k < json_array_get_length (models); k++)
            if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (models, k), "label"),
                           "random.wkpm") == 0)
              r_entry = json_array_get_object_element (models, k);
          g_assert_nonnull (r_entry);
          g_assert_cmpfloat_with_epsilon (member_double (c, "aperture_r_b_minus_a"),
                                          pooled (r_entry, "aperture_r") - 1.0, 1e-9);
          g_assert_cmpfloat_with_epsilon (member_double (c, "lmd_mouth_b_minus_a"), pooled (r_entry, "lmd_mouth"),
                                          1e-9);
          g_assert_cmpfloat (json_array_get_double_element (ci_r, 1), <, 0.0);
          g_assert_cmpfloat (json_array_get_double_element (ci_l, 0), >, 0.0);
          g_assert_cmpfloat (member_double (c, "b_r_higher_in"), ==, 0.0);
          g_assert_cmpfloat (member_double (c, "b_lmd_mouth_lower_in"), ==, 0.0);
        }
    }

  /* CSV: every row has the header's fields; speaker_seen per clip and pooled */
  g_assert_true (g_file_get_contents (csv, &csv_text, NULL, NULL));
  {
    g_auto(GStrv) lines = g_strsplit (csv_text, "\n", -1);
    int fields = csv_field_count (lines[0]), seen_train = 0, seen_val = 0;
    g_assert_true (g_str_has_suffix (lines[0], ",problem,speaker_seen"));
    for (int i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
      {
        g_assert_cmpint (csv_field_count (lines[i]), ==, fields);
        if (g_str_has_prefix (lines[i], "random.wkpm,"))
          {
            seen_train += g_str_has_suffix (lines[i], ",train");
            seen_val += g_str_has_suffix (lines[i], ",val");
          }
        else
          g_assert_true (g_str_has_suffix (lines[i], ","));
      }
    g_assert_cmpint (seen_train, ==, 1 + 2);   /* the pooled row and speaker0's and speaker1's clips */
    g_assert_cmpint (seen_val, ==, 1);         /* speaker3's clip */
  }
  /* a clip whose row has a problem keeps the columns too */
  {
    WkpEvalEntry entry = { 0 };
    WkpEvaluation ev = { 0 };
    g_autoptr(GBytes) bytes = NULL;
    g_auto(GStrv) lines = NULL;
    entry.label = (char *) "x.wkpm";
    entry.kind = WKP_EVAL_MODEL;
    entry.problem = (char *) "incompatible, for a test";
    ev.n_entries = 1;
    ev.entries = &entry;
    bytes = wkp_evaluation_to_csv (&ev);
    lines = g_strsplit (g_bytes_get_data (bytes, NULL), "\n", -1);
    g_assert_cmpint (csv_field_count (lines[1]), ==, csv_field_count (lines[0]));
    g_assert_nonnull (strstr (lines[1], ",\"incompatible, for a test\","));
  }
  /* a track folder missing a clip is scored on the others and says which,
   * without "best" marks (it scored on fewer frames than the baselines, best
   * marks and all, without a word) */
  {
    const WkpDatasetClip *first = wkp_dataset_get_clip (ds, 0);
    g_autofree char *file = g_strconcat (first->id, ".npy", NULL), *gone = g_build_filename (copy, file, NULL);
    g_autofree char *o = NULL, *e = NULL, *want = NULL, *jpath = g_build_filename (work_dir, "missing.json", NULL);
    g_autoptr(JsonParser) mp = NULL;
    JsonObject *entry;
    g_assert_cmpint (g_unlink (gone), ==, 0);
    g_assert_cmpint (wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "-m", copy, "--split", "all",
                                                          "--bootstrap", "0", "--json", jpath, NULL }, &o, &e), ==, 0);
    g_test_message ("%s", o);
    want = g_strdup_printf ("has no track for 1 of the %d clips (%s): it is scored on the others",
                            wkp_dataset_n_clips (ds), first->name);
    g_assert_nonnull (strstr (o, want));
    {
      /* its row carries no best mark */
      g_auto(GStrv) lines = g_strsplit (o, "\n", -1);
      for (int i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], "tracks-copy "))
          g_assert_null (strchr (lines[i], '*'));
    }
    mp = load_json (jpath);
    entry = find_entry (json_node_get_object (json_parser_get_root (mp)), "tracks");
    g_assert_nonnull (entry);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (entry, "clips_without_track")), ==, 1);
  }
  g_assert_true (g_file_test (plots, G_FILE_TEST_IS_DIR));
}

static void
test_single_track (void)
{
  const char *ds_dir = dataset ();
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) test = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *track = NULL, *json = NULL, *out = NULL, *err = NULL;
  JsonObject *root, *ref;
  int status;

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  test = wkp_dataset_split_indices (ds, WKP_SPLIT_TEST);
  g_assert_cmpuint (test->len, ==, 1);
  track = wkp_dataset_clip_path (ds, g_array_index (test, int, 0), WKP_CLIP_ARRAY_LANDMARKS);
  json = g_build_filename (work_dir, "single.json", NULL);

  /* default split: test, one clip */
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", track, "--json", json,
                                                "--no-baselines", NULL }, &out, &err);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  parser = load_json (json);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "split"), ==, "test");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "models")), ==, 1);
  ref = find_entry (root, "tracks");
  g_assert_cmpfloat (pooled (ref, "lmd_face"), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (pooled (ref, "aperture_r"), 1.0, 1e-9);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* a track made from another video (its sidecar's source) is scored, with a
   * note asking whether it is this clip's (another GRID clip's track of the
   * same length was scored without a word) */
  {
    const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, g_array_index (test, int, 0));
    g_autofree char *lm = g_build_filename (work_dir, "own.npy", NULL), *side = g_build_filename (work_dir, "own.json", NULL);
    g_autofree char *text = NULL, *edited = NULL, *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *from = NULL;
    g_autofree char *base = g_path_get_basename (clip->video_path);
    const char *mk[] = { "landmarks", clip->video_path, "-q", "-o", lm, NULL };
    const char *ev[] = { "evaluate", ds_dir, "--model", lm, "--no-baselines", "--bootstrap", "0", NULL };
    g_assert_cmpint (wkp_test_run_cli (mk, &o1, &e1), ==, 0);
    g_clear_pointer (&o1, g_free);
    g_clear_pointer (&e1, g_free);
    g_assert_cmpint (wkp_test_run_cli (ev, &o1, &e1), ==, 0);
    g_assert_null (strstr (o1, "Note: "));   /* its own: no note */
    g_assert_true (g_file_get_contents (side, &text, NULL, NULL));
    from = g_strdup_printf ("\"%s\"", clip->video_path);
    g_assert_nonnull (strstr (text, from));
    {
      g_auto(GStrv) parts = g_strsplit (text, from, 2);
      edited = g_strjoin ("\"/elsewhere/other_clip.mpg\"", parts[0], parts[1], NULL);
    }
    g_assert_true (g_file_set_contents (side, edited, -1, NULL));
    g_assert_cmpint (wkp_test_run_cli (ev, &o2, &e2), ==, 0);
    g_test_message ("%s", o2);
    g_assert_nonnull (strstr (o2, "own.npy was made from other_clip.mpg (its sidecar says), not from this clip's "));
    g_assert_nonnull (strstr (o2, base));
  }

  /* a track a few frames short is scored (the rest NaN-padded); one that is far off in
   * length is the track of another clip and refused, naming the file and both lengths */
  {
    g_autoptr(WkpNpy) ref_npy = wkp_npy_load (track, &error);
    g_assert_no_error (error);
    g_assert_cmpint (ref_npy->ndim, ==, 3);
    const gint64 n_ref = ref_npy->shape[0];
    const gint64 cuts[] = { n_ref - 3, n_ref / 3 };
    for (guint k = 0; k < G_N_ELEMENTS (cuts); k++)
      {
        g_autofree char *cut = g_build_filename (work_dir, "cut.npy", NULL);
        const gint64 shape[] = { cuts[k], ref_npy->shape[1], ref_npy->shape[2] };
        g_assert_true (wkp_npy_save (cut, WKP_DTYPE_F32, 3, shape, ref_npy->data, &error));
        g_assert_no_error (error);
        g_clear_pointer (&out, g_free);
        g_clear_pointer (&err, g_free);
        status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", cut, "--no-baselines", NULL },
                                   &out, &err);
        g_test_message ("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " frames: %s%s", cuts[k], n_ref, out, err);
        if (k == 0)
          {
            g_assert_cmpint (status, ==, 0);
            g_assert_nonnull (strstr (out, "1.0000"));
          }
        else
          {
            g_assert_cmpint (status, ==, 2);
            g_assert_nonnull (strstr (err, cut));
            g_assert_nonnull (strstr (err, "looks like the track of another clip"));
          }
      }
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* several clips: a single file is refused with a hint */
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", track, "--split", "all", NULL },
                             &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "single track file"));
}

/* --speakers: only those speakers' clips, each with the same per-clip numbers as in the
 * whole run; the energy baseline is fitted without them; an unknown speaker is refused. */
static void
test_speakers (void)
{
  const char *ds_dir = dataset ();
  g_autofree char *all_json = NULL, *sub_json = NULL, *out = NULL, *err = NULL;
  g_autoptr(JsonParser) pa = NULL, ps = NULL;
  JsonObject *ra, *rs;
  JsonArray *clips_a, *clips_s, *spk;
  int status;

  if (ds_dir == NULL)
    return;
  all_json = g_build_filename (work_dir, "all.json", NULL);
  sub_json = g_build_filename (work_dir, "sub.json", NULL);
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--bootstrap", "0",
                                                "--json", all_json, NULL }, &out, &err);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    /* --json -: the same report alone on standard output (as check --json -;
     * it was refused, "must end in .json") */
    g_autoptr(JsonParser) from_stdout = json_parser_new ();
    g_autoptr(JsonParser) from_file = load_json (all_json);
    g_autoptr(GError) error = NULL;
    g_autofree char *a = NULL, *b = NULL;
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--bootstrap", "0",
                                                  "--json", "-", NULL }, &out, &err);
    g_assert_cmpint (status, ==, 0);
    g_assert_true (json_parser_load_from_data (from_stdout, out, -1, &error));
    g_assert_no_error (error);
    {
      /* (all but the timings) */
      JsonObject *ro = json_node_get_object (json_parser_get_root (from_stdout));
      JsonObject *rf = json_node_get_object (json_parser_get_root (from_file));
      JsonArray *mo = json_object_get_array_member (ro, "models"), *mf = json_object_get_array_member (rf, "models");
      a = json_to_string (json_object_get_member (ro, "clips"), FALSE);
      b = json_to_string (json_object_get_member (rf, "clips"), FALSE);
      g_assert_cmpstr (a, ==, b);
      g_assert_cmpuint (json_array_get_length (mo), ==, json_array_get_length (mf));
      for (guint m = 0; m < json_array_get_length (mo); m++)
        {
          g_autofree char *pa_ = json_to_string (json_object_get_member (json_array_get_object_element (mo, m), "pooled"), FALSE);
          g_autofree char *pf_ = json_to_string (json_object_get_member (json_array_get_object_element (mf, m), "pooled"), FALSE);
          g_assert_cmpstr (pa_, ==, pf_);
        }
      g_assert_null (strstr (out, "Evaluation of"));   /* (no table) */
    }
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--bootstrap", "0",
                                                "--speakers", "speaker3, speaker1,speaker3", "--json", sub_json, NULL },
                             &out, &err);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "all split, speakers speaker3, speaker1: 2 clips"));
  g_assert_nonnull (strstr (out, "(without the evaluated speakers' "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  pa = load_json (all_json);
  ps = load_json (sub_json);
  ra = json_node_get_object (json_parser_get_root (pa));
  rs = json_node_get_object (json_parser_get_root (ps));
  /* the energy fit leaves out exactly the train clips of the evaluated speakers, and says so
   * only when there were such clips (a test-only speaker changes nothing) */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WkpDataset) ds = wkp_dataset_open (ds_dir, &error);
    g_autoptr(GArray) train = NULL, test = NULL;
    int excluded = 0;
    g_assert_no_error (error);
    train = wkp_dataset_split_indices (ds, WKP_SPLIT_TRAIN);
    test = wkp_dataset_split_indices (ds, WKP_SPLIT_TEST);
    for (guint i = 0; i < train->len; i++)
      {
        const char *sp = wkp_dataset_get_clip (ds, g_array_index (train, int, i))->speaker;
        excluded += g_strcmp0 (sp, "speaker1") == 0 || g_strcmp0 (sp, "speaker3") == 0;
      }
    JsonObject *fit = json_object_get_object_member (find_entry (rs, "energy"), "fit");
    g_assert_cmpint (json_object_get_int_member (fit, "excluded_train_clips"), ==, excluded);
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (find_entry (ra, "energy"), "fit"),
                                                 "excluded_train_clips"), ==, 0);
    g_assert_cmpuint (test->len, >, 0);
    const char *test_speaker = wkp_dataset_get_clip (ds, g_array_index (test, int, 0))->speaker;
    gboolean test_only = TRUE;
    for (guint i = 0; i < train->len; i++)
      test_only &= g_strcmp0 (wkp_dataset_get_clip (ds, g_array_index (train, int, i))->speaker, test_speaker) != 0;
    g_assert_true (test_only);
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--bootstrap", "0",
                                                  "--speakers", test_speaker, NULL }, &out, &err);
    g_test_message ("%s%s", out, err);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out, "train-split frames."));
    g_assert_null (strstr (out, "without the evaluated speakers"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  spk = json_object_get_array_member (rs, "speakers");
  g_assert_cmpuint (json_array_get_length (spk), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (spk, 0), ==, "speaker3");
  g_assert_false (json_object_has_member (ra, "speakers"));
  clips_a = json_object_get_array_member (ra, "clips");
  clips_s = json_object_get_array_member (rs, "clips");
  g_assert_cmpuint (json_array_get_length (clips_a), ==, 5);
  g_assert_cmpuint (json_array_get_length (clips_s), ==, 2);
  /* the model's per-clip aperture r of each kept clip equals the whole run's */
  {
    JsonObject *ma = find_entry (ra, "model"), *ms = find_entry (rs, "model");
    JsonArray *ca = json_object_get_array_member (ma, "clips"), *cs = json_object_get_array_member (ms, "clips");
    for (guint i = 0; i < json_array_get_length (clips_s); i++)
      {
        JsonObject *c = json_array_get_object_element (clips_s, i);
        const char *sp = json_object_get_string_member (c, "speaker");
        gboolean found = FALSE;
        g_assert_true (g_str_equal (sp, "speaker1") || g_str_equal (sp, "speaker3"));
        for (guint j = 0; j < json_array_get_length (clips_a); j++)
          if (g_str_equal (json_object_get_string_member (json_array_get_object_element (clips_a, j), "name"),
                           json_object_get_string_member (c, "name")))
            {
              double a = json_object_get_double_member (json_array_get_object_element (ca, j), "aperture_r");
              double b = json_object_get_double_member (json_array_get_object_element (cs, i), "aperture_r");
              g_assert_cmpfloat (a, ==, b);
              found = TRUE;
            }
        g_assert_true (found);
      }
  }
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "all", "--speakers", "speaker1,nobody",
                                                NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "no usable clip of speaker “nobody” in the all split"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--speakers", ",", NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "--speakers needs"));
}

/* A clip whose audio holds NaN is refused naming the file (the model row
 * used to drop those frames silently, and NaN audio changed the energy
 * baseline). Models read their features from the audio, so evaluate reads
 * no features.npy (train's tests cover a broken one). */
static void
test_non_finite (void)
{
  const char *ds_dir = dataset ();
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) neutral = NULL;
  g_autoptr(GArray) train = NULL;
  g_autofree char *model_path = NULL;
  const WkpClipArray arrays[] = { WKP_CLIP_ARRAY_AUDIO };

  if (ds_dir == NULL)
    return;
  ds = wkp_dataset_open (ds_dir, &error);
  g_assert_no_error (error);
  neutral = neutral_model (ds, wkp_dataset_get_feature_config (ds));
  model_path = g_build_filename (work_dir, "neutral-nf.wkpm", NULL);
  g_assert_true (wkp_model_save (neutral, model_path, &error));
  g_assert_no_error (error);
  train = wkp_dataset_split_indices (ds, WKP_SPLIT_TRAIN);
  g_assert_cmpuint (train->len, >, 0);

  for (guint k = 0; k < G_N_ELEMENTS (arrays); k++)
    {
      int index = g_array_index (train, int, 0);
      g_autofree char *path = wkp_dataset_clip_path (ds, index, arrays[k]);
      g_autofree char *old = NULL, *out = NULL, *err = NULL;
      g_autofree float *data = NULL;
      gsize len;
      int status;
      {
        g_autoptr(WkpNpy) npy = wkp_npy_load (path, &error);
        g_assert_no_error (error);
        data = g_memdup2 (npy->data, npy->n_elements * sizeof (float));
        data[npy->n_elements / 2] = NAN;
        g_assert_true (g_file_get_contents (path, &old, &len, NULL));
        g_assert_true (wkp_npy_save (path, WKP_DTYPE_F32, npy->ndim, npy->shape, data, &error));
        g_assert_no_error (error);
      }
      status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", model_path, "--split", "all",
                                                    NULL }, &out, &err);
      g_test_message ("%s%s", out, err);
      g_assert_cmpint (status, ==, 2);
      g_assert_nonnull (strstr (err, path));
      g_assert_nonnull (strstr (err, "(NaN or infinity)"));
      g_assert_true (g_file_set_contents (path, old, len, NULL));
    }
}

static void
test_bad_input (void)
{
  const char *ds_dir = dataset ();
  g_autofree char *csv = NULL, *out = NULL, *err = NULL, *text = NULL, *missing = NULL;
  int status;

  if (ds_dir == NULL)
    return;
  csv = g_build_filename (work_dir, "keep.csv", NULL);
  missing = g_build_filename (work_dir, "no-such-model.wkpm", NULL);
  g_assert_true (g_file_set_contents (csv, "keep me", -1, NULL));

  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", missing, "--csv", csv, NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "no-such-model.wkpm"));
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);   /* one line */
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "keep me");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--split", "dev", NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "dev"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = wkp_test_run_cli ((const char *[]) { "evaluate", "/nonexistent/dataset", "--model", missing, NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--plot", "/nonexistent/folder/plots", NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "/nonexistent/folder"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* a track folder that fits no clip used to give an empty row and exit 0 */
  {
    g_autofree char *empty = g_build_filename (work_dir, "no-tracks", NULL);
    g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
    g_assert_true (g_file_set_contents (csv, "keep me", -1, NULL));
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", empty, "--split", "all",
                                                  "--bootstrap", "5", "--csv", csv, NULL }, &out, &err);
    g_test_message ("%s", err);
    g_assert_cmpint (status, ==, 2);
    g_assert_cmpstr (out, ==, "");
    g_assert_nonnull (strstr (err, "no-tracks: no track file matches any clip of the split"));
    g_clear_pointer (&text, g_free);
    g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
    g_assert_cmpstr (text, ==, "keep me");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* a clip's "track" that is a folder fails the run naming it (it scored as
   * a clip without a track: n/a, exit 0) */
  {
    g_autofree char *folder = g_build_filename (work_dir, "folder-tracks", NULL);
    g_autoptr(WkpDataset) ds = wkp_dataset_open (ds_dir, NULL);
    const WkpDatasetClip *c = wkp_dataset_get_clip (ds, 0);
    g_autofree char *name = g_strconcat (c->id, ".npy", NULL);
    g_autofree char *sub = g_build_filename (folder, name, NULL);
    g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", folder, "--split", "all",
                                                  "--bootstrap", "0", NULL }, &out, &err);
    g_test_message ("%s", err);
    g_assert_cmpint (status, ==, 2);
    g_assert_nonnull (strstr (err, sub));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* a file that is neither a model nor a track (it was read as a track and the message spoke of
   * one-clip splits) */
  {
    g_autofree char *wav = g_build_filename (work_dir, "speech.wav", NULL);
    g_assert_true (g_file_set_contents (wav, "RIFF", -1, NULL));
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--model", wav, "--split", "all", NULL },
                               &out, &err);
    g_test_message ("%s", err);
    g_assert_cmpint (status, ==, 2);
    g_assert_nonnull (strstr (err, "speech.wav: neither a model file (.wkpm) nor a landmark track"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* --csv and --json naming one file: one would overwrite the other (exit 0);
   * each must carry its kind's extension, so only a link can do it now */
  {
    g_autofree char *alias = g_build_filename (work_dir, "alias.json", NULL);
    g_assert_no_errno (symlink (csv, alias));
    status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, "--csv", csv, "--json", alias, NULL },
                               &out, &err);
    g_test_message ("%s", err);
    g_assert_cmpint (status, ==, 2);
    g_assert_nonnull (strstr (err, "--csv"));
    g_assert_nonnull (strstr (err, "would be the same file"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_unlink (alias);
  }

  /* each out-of-range option is named with its range */
  {
    static const struct { const char *option, *value, *want; } cases[] = {
      { "--bootstrap", "-1", "--bootstrap must be in 0..100000" },
      { "--max-lag", "100000", "--max-lag must be in 0..50" },
      { "--threads", "0", "--threads must be in 1..64" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        status = wkp_test_run_cli ((const char *[]) { "evaluate", ds_dir, cases[i].option, cases[i].value, NULL },
                                   &out, &err);
        g_test_message ("%s", err);
        g_assert_cmpint (status, ==, 2);
        g_assert_nonnull (strstr (err, cases[i].want));
        g_clear_pointer (&out, g_free);
        g_clear_pointer (&err, g_free);
      }
  }
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/evaluate/reference-and-baselines", test_reference_and_baselines);
  g_test_add_func ("/evaluate/numpy-pooling", test_numpy_pooling);
  g_test_add_func ("/evaluate/other-features", test_other_features);
  g_test_add_func ("/evaluate/models", test_models);
  g_test_add_func ("/evaluate/model-against-model", test_model_against_model);
  g_test_add_func ("/evaluate/oracles", test_oracles);
  g_test_add_func ("/evaluate/single-track", test_single_track);
  g_test_add_func ("/evaluate/non-finite", test_non_finite);
  g_test_add_func ("/evaluate/speakers", test_speakers);
  g_test_add_func ("/evaluate/bad-input", test_bad_input);
  return g_test_run ();
}
