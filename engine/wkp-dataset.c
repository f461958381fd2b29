/* wkp-dataset.c: the prepared-dataset reader, source listing (CSV / folder),
 * splits, resampling and the audio/video offset estimate. The preparation
 * pipeline itself is in wkp-dataset-prepare.c. */
#include "wkp-dataset-private.h"
#include "wkp-face.h"
#include "wkp-io.h"

#include <libavutil/mem.h>
#include <libavutil/tx.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Enums                                                                     */

static const char *split_names[] = { "train", "val", "test", "none" };

const char *
wkp_split_to_string (WkpSplit split)
{
  if ((guint) split < G_N_ELEMENTS (split_names))
    return split_names[split];
  return "none";
}

gboolean
wkp_split_from_string (const char *text, WkpSplit *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (split_names); i++)
    if (g_strcmp0 (text, split_names[i]) == 0)
      {
        *out = (WkpSplit) i;
        return TRUE;
      }
  return FALSE;
}

static const char *status_names[] = { "ok", "failed", "skipped" };

const char *
wkp_clip_status_to_string (WkpClipStatus status)
{
  if ((guint) status < G_N_ELEMENTS (status_names))
    return status_names[status];
  return "failed";
}

static const char *flag_names[] = { "offset", "offset-unsure", "low-face-rate", "length-mismatch",
                                    "audio-inverted", "irregular-timing", "low-audio-rate" };

char *
wkp_clip_flags_to_string (guint flags)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (flag_names); i++)
    if (flags & (1u << i))
      {
        if (s->len > 0)
          g_string_append_c (s, ',');
        g_string_append (s, flag_names[i]);
      }
  return g_string_free (s, FALSE);
}

static const char *array_files[] = {
  "features.npy", "landmarks.npy", "normalized.npy", "status.npy", "transform.npy", "audio.npy",
  "envelope.npy",
};

const char *
wkp_clip_array_filename (WkpClipArray which)
{
  g_return_val_if_fail ((guint) which < G_N_ELEMENTS (array_files), NULL);
  return array_files[which];
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                              */

/* Reads optional members of one JSON object: a member that is absent gives
 * the default, one of the wrong type records an error naming the file
 * (@name), the object (@what) and the member, and reading goes on, so that a
 * record is checked once at its end (`r.error == NULL`) instead of at every
 * member. Only the first error is kept. */
typedef struct {
  const char *name;
  const char *what;
  GError    **error;
  gboolean    failed;
} JRead;

static void
jread_fail (JRead *r, const char *key, const char *type)
{
  if (!r->failed && r->what != NULL)
    g_set_error (r->error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: %s: “%s” is not %s", r->name, r->what, key,
                 type);
  else if (!r->failed)
    g_set_error (r->error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: “%s” is not %s", r->name, key, type);
  r->failed = TRUE;
}

static gboolean
jbool (JRead *r, JsonObject *o, const char *key, gboolean def)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL)
    return def;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      jread_fail (r, key, "true or false");
      return def;
    }
  return json_node_get_boolean (n);
}

static gint64
jint (JRead *r, JsonObject *o, const char *key, gint64 def)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL)
    return def;
  if (!wkp_json_node_is_integer (n, G_MININT64, G_MAXINT64))
    {
      jread_fail (r, key, "an integer");
      return def;
    }
  return json_node_get_int (n);
}

/* a number; null reads as NaN (how non-finite values are written) */
static double
jdbl (JRead *r, JsonObject *o, const char *key, double def)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL)
    return def;
  if (JSON_NODE_HOLDS_NULL (n))
    return NAN;
  if (!wkp_json_node_is_number (n))
    {
      jread_fail (r, key, "a number");
      return def;
    }
  return wkp_json_node_get_number (n);
}

/* a string; null reads as NULL (how a missing value is written) */
static const char *
jstr (JRead *r, JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      jread_fail (r, key, "a string");
      return NULL;
    }
  return json_node_get_string (n);
}

static void
add_double (JsonBuilder *b, const char *key, double v)
{
  json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_string (JsonBuilder *b, const char *key, const char *v)
{
  json_builder_set_member_name (b, key);
  if (v != NULL)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *key, gint64 v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_int_value (b, v);
}

/* A number array (non-finite values as null) of floats (@f) or doubles (@d);
 * null when both are NULL. */
static void
add_number_array (JsonBuilder *b, const char *key, const float *f, const double *d, gsize n)
{
  json_builder_set_member_name (b, key);
  if (f == NULL && d == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_array (b);
  for (gsize i = 0; i < n; i++)
    {
      double v = f != NULL ? (double) f[i] : d[i];
      if (isfinite (v))
        json_builder_add_double_value (b, v);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_array (b);
}

static void
add_float_array (JsonBuilder *b, const char *key, const float *v, gsize n)
{
  add_number_array (b, key, v, NULL, n);
}

static void
add_double_array (JsonBuilder *b, const char *key, const double *v, gsize n)
{
  add_number_array (b, key, NULL, v, n);
}

/* Reads a number array of exactly @n (or any length when n < 0) into a new
 * double array; NULL member -> *out NULL. */
static gboolean
read_double_array (JsonObject *o, const char *key, gssize n, double **out, gsize *n_out,
                   const char *name, GError **error)
{
  JsonNode *node = json_object_get_member (o, key);
  JsonArray *a;
  guint len;

  *out = NULL;
  if (n_out)
    *n_out = 0;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    goto bad;
  a = json_node_get_array (node);
  len = json_array_get_length (a);
  if (n >= 0 && (gssize) len != n)
    goto bad;
  *out = g_new (double, MAX (len, 1));
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_NULL (e))
        (*out)[i] = NAN;
      else if (wkp_json_node_is_number (e))
        (*out)[i] = wkp_json_node_get_number (e);
      else
        {
          g_clear_pointer (out, g_free);
          goto bad;
        }
    }
  if (n_out)
    *n_out = len;
  return TRUE;

bad:
  if (n >= 0)
    g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: “%s” is not an array of %" G_GSSIZE_FORMAT
                 " numbers", name, key, n);
  else
    g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: “%s” is not an array of numbers", name, key);
  return FALSE;
}

JsonNode *
wkp_landmark_params_to_json (const WkpLandmarkParams *p)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_int (b, "detect_every", p->detect_every);
  json_builder_set_member_name (b, "tracking");
  json_builder_add_boolean_value (b, p->tracking);
  add_int (b, "max_detect_width", p->max_detect_width);
  add_int (b, "min_face_px", p->min_face_px);
  json_builder_set_member_name (b, "smooth");
  json_builder_add_boolean_value (b, p->smooth);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
wkp_landmark_params_from_json (JsonNode *node, WkpLandmarkParams *p, GError **error)
{
  JsonObject *o;
  /* the values that matter are all in the file; no call into the landmarks
   * module so that readers link without it */
  memset (p, 0, sizeof *p);
  p->detect_every = 1;
  p->n_threads = 1;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "landmark params: not an object");
      return FALSE;
    }
  o = json_node_get_object (node);
  {
    JRead r = { "landmark params", NULL, error, FALSE };
    p->detect_every = (int) jint (&r, o, "detect_every", p->detect_every);
    p->tracking = jbool (&r, o, "tracking", p->tracking);
    p->max_detect_width = (int) jint (&r, o, "max_detect_width", p->max_detect_width);
    p->min_face_px = (int) jint (&r, o, "min_face_px", p->min_face_px);
    p->smooth = jbool (&r, o, "smooth", p->smooth);
    return !r.failed;
  }
}

/* ------------------------------------------------------------------------ */
/* Clip records                                                              */

void
wkp_clip_record_clear (WkpClipRecord *rec)
{
  WkpDatasetClip *c = &rec->clip;
  g_free (c->id);
  g_free (c->name);
  g_free (c->speaker);
  g_free (c->error);
  g_free (c->video_path);
  g_free (c->audio_path);
  g_free (c->feature_mean);
  g_free (c->feature_std);
  g_free (rec->key);
  g_free (rec->landmark_key);
  g_free (rec->face_mean);
  memset (rec, 0, sizeof *rec);
}

JsonNode *
wkp_clip_record_to_json (const WkpClipRecord *rec, gboolean with_stats)
{
  const WkpDatasetClip *c = &rec->clip;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *fps = wkp_rational_to_string (c->fps);

  json_builder_begin_object (b);
  add_string (b, "name", c->name);
  add_string (b, "id", c->id);
  add_string (b, "speaker", c->speaker);
  add_string (b, "split", wkp_split_to_string (c->split));
  add_string (b, "status", wkp_clip_status_to_string (c->status));
  add_string (b, "error", c->error);
  add_string (b, "video", c->video_path);
  add_string (b, "audio", c->audio_path);
  add_string (b, "key", rec->key);
  add_string (b, "landmark_key", rec->landmark_key);
  if (c->status == WKP_CLIP_OK)
    {
      add_string (b, "fps", fps);
      add_int (b, "n_frames", c->n_frames);
      add_int (b, "n_feature_frames", c->n_feature_frames);
      add_int (b, "n_samples", c->n_samples);
      add_int (b, "width", c->width);
      add_int (b, "height", c->height);
      add_int (b, "n_face_frames", c->n_face_frames);
      add_double (b, "face_rate", c->face_rate);
      add_double (b, "audio_seconds", c->audio_seconds);
      add_double (b, "video_seconds", c->video_seconds);
      add_int (b, "offset_frames", c->offset_frames);
      add_double (b, "offset_confidence", c->offset_confidence);
      add_double (b, "offset_peak_r", c->offset_peak_r);
      add_double (b, "offset_gain", c->offset_gain);
      add_int (b, "offset_applied", c->offset_applied);
      add_int (b, "audio_inverted", c->audio_inverted);
      if (c->audio_rate > 0)
        add_int (b, "audio_rate", c->audio_rate);
      if (isfinite (c->timing_error_ms))
        add_double (b, "timing_error_ms", c->timing_error_ms);
      json_builder_set_member_name (b, "flags");
      json_builder_begin_array (b);
      for (guint i = 0; i < G_N_ELEMENTS (flag_names); i++)
        if (c->flags & (1u << i))
          json_builder_add_string_value (b, flag_names[i]);
      json_builder_end_array (b);
      add_int (b, "feature_dim", rec->feature_dim);
      if (with_stats)
        {
          add_double_array (b, "feature_mean", c->feature_mean, rec->feature_dim);
          add_double_array (b, "feature_std", c->feature_std, rec->feature_dim);
          add_float_array (b, "face_mean", rec->face_mean, WKP_N_LANDMARKS * 2);
        }
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
wkp_clip_record_from_json (JsonNode *node, WkpClipRecord *rec, const char *name, GError **error)
{
  WkpDatasetClip *c = &rec->clip;
  JsonObject *o;
  const char *s;
  JsonNode *flags;
  g_autofree char *what = NULL;
  JRead r = { name, NULL, error, FALSE };

  memset (rec, 0, sizeof *rec);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: clip record is not an object", name);
      return FALSE;
    }
  o = json_node_get_object (node);
  if (wkp_json_get_string (o, "name") == NULL || wkp_json_get_string (o, "speaker") == NULL)
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: clip record without name or speaker", name);
      return FALSE;
    }
  c->name = g_strdup (wkp_json_get_string (o, "name"));
  c->speaker = g_strdup (wkp_json_get_string (o, "speaker"));
  what = g_strdup_printf ("clip “%s”", c->name);
  r.what = what;
  c->id = g_strdup (jstr (&r, o, "id"));
  c->error = g_strdup (jstr (&r, o, "error"));
  c->video_path = g_strdup (jstr (&r, o, "video"));
  c->audio_path = g_strdup (jstr (&r, o, "audio"));
  rec->key = g_strdup (jstr (&r, o, "key"));
  rec->landmark_key = g_strdup (jstr (&r, o, "landmark_key"));
  s = jstr (&r, o, "split");
  if (r.failed || (s != NULL && !wkp_split_from_string (s, &c->split)))
    {
      if (!r.failed)
        g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: clip “%s” has an unknown split “%s”", name,
                     c->name, s);
      wkp_clip_record_clear (rec);
      return FALSE;
    }
  if (s == NULL)
    c->split = WKP_SPLIT_NONE;
  s = wkp_json_get_string (o, "status");
  if (g_strcmp0 (s, "ok") == 0)
    c->status = WKP_CLIP_OK;
  else if (g_strcmp0 (s, "skipped") == 0)
    c->status = WKP_CLIP_SKIPPED;
  else if (g_strcmp0 (s, "failed") == 0)
    c->status = WKP_CLIP_FAILED;
  else
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: clip “%s” has an unknown status “%s”",
                   name, c->name, s ? s : "(none)");
      wkp_clip_record_clear (rec);
      return FALSE;
    }
  c->offset_peak_r = NAN;
  c->offset_confidence = NAN;
  c->offset_gain = NAN;
  c->timing_error_ms = NAN;
  if (c->status != WKP_CLIP_OK)
    return TRUE;

  if (c->id == NULL || strchr (c->id, '/') != NULL || c->id[0] == '.'
      || !wkp_frame_rate_parse (wkp_json_get_string (o, "fps"), &c->fps, NULL))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: clip “%s” has no valid id or fps", name,
                   c->name);
      wkp_clip_record_clear (rec);
      return FALSE;
    }
  c->n_frames = jint (&r, o, "n_frames", -1);
  c->n_feature_frames = jint (&r, o, "n_feature_frames", -1);
  c->n_samples = jint (&r, o, "n_samples", -1);
  c->width = (int) CLAMP (jint (&r, o, "width", 0), -1, G_MAXINT);
  c->height = (int) CLAMP (jint (&r, o, "height", 0), -1, G_MAXINT);
  c->n_face_frames = jint (&r, o, "n_face_frames", 0);
  c->face_rate = jdbl (&r, o, "face_rate", 0);
  c->audio_seconds = jdbl (&r, o, "audio_seconds", 0);
  c->video_seconds = jdbl (&r, o, "video_seconds", 0);
  c->offset_frames = (int) jint (&r, o, "offset_frames", 0);
  c->offset_confidence = jdbl (&r, o, "offset_confidence", NAN);
  c->offset_peak_r = jdbl (&r, o, "offset_peak_r", NAN);
  c->offset_gain = jdbl (&r, o, "offset_gain", NAN);
  c->offset_applied = (int) jint (&r, o, "offset_applied", 0);
  c->audio_inverted = (int) CLAMP (jint (&r, o, "audio_inverted", 0), 0, 64);
  c->audio_rate = (int) CLAMP (jint (&r, o, "audio_rate", 0), 0, G_MAXINT);
  c->timing_error_ms = jdbl (&r, o, "timing_error_ms", NAN);
  rec->feature_dim = (int) jint (&r, o, "feature_dim", -1);
  if (r.failed)
    {
      wkp_clip_record_clear (rec);
      return FALSE;
    }
  /* (a day at 1000 fps / 192 kHz bounds what a clip can be: larger counts
   * are corruption, and would be allocated before the arrays are checked) */
  if (c->n_frames < 0 || c->n_feature_frames < 0 || c->n_samples < 0 || rec->feature_dim <= 0
      || c->width < 0 || c->width > 100000 || c->height < 0 || c->height > 100000
      || rec->feature_dim > 100000 || c->n_frames > 86400000 || c->n_feature_frames > 86400000
      || c->n_samples > G_GINT64_CONSTANT (16588800000))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                   "%s: clip “%s” lacks plausible frame counts or feature size", name, c->name);
      wkp_clip_record_clear (rec);
      return FALSE;
    }
  /* flags this build does not know are ignored (a newer writer's) */
  flags = json_object_get_member (o, "flags");
  if (flags != NULL && !JSON_NODE_HOLDS_NULL (flags))
    {
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (flags) ? json_node_get_array (flags) : NULL;
      for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
        {
          JsonNode *fn = json_array_get_element (a, i);
          const char *f = JSON_NODE_HOLDS_VALUE (fn) && json_node_get_value_type (fn) == G_TYPE_STRING
                            ? json_node_get_string (fn) : NULL;
          if (f == NULL)
            a = NULL;
          for (guint k = 0; f != NULL && k < G_N_ELEMENTS (flag_names); k++)
            if (strcmp (f, flag_names[k]) == 0)
              c->flags |= 1u << k;
        }
      if (a == NULL)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: clip “%s”: “flags” is not an array of strings",
                       name, c->name);
          wkp_clip_record_clear (rec);
          return FALSE;
        }
    }
  {
    g_autofree double *face = NULL;
    if (!read_double_array (o, "feature_mean", rec->feature_dim, &c->feature_mean, NULL, name, error)
        || !read_double_array (o, "feature_std", rec->feature_dim, &c->feature_std, NULL, name, error)
        || !read_double_array (o, "face_mean", WKP_N_LANDMARKS * 2, &face, NULL, name, error))
      {
        wkp_clip_record_clear (rec);
        return FALSE;
      }
    if (face != NULL)
      {
        rec->face_mean = g_new (float, WKP_N_LANDMARKS * 2);
        for (int i = 0; i < WKP_N_LANDMARKS * 2; i++)
          rec->face_mean[i] = (float) face[i];
      }
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The reader                                                                */

struct _WkpDataset {
  char             *dir;
  JsonNode         *manifest;
  WkpClipRecord    *clips;
  int               n_clips;
  GHashTable       *by_name;
  WkpFeatureConfig  features;
  WkpLandmarkParams landmarks;
  WkpRational       model_fps;
  int               dim;
  float            *feature_mean;
  float            *feature_std;
  float             mean_face[WKP_N_LANDMARKS * 2];
};

void
wkp_dataset_free (WkpDataset *ds)
{
  if (ds == NULL)
    return;
  for (int i = 0; i < ds->n_clips; i++)
    wkp_clip_record_clear (&ds->clips[i]);
  g_free (ds->clips);
  g_clear_pointer (&ds->by_name, g_hash_table_unref);
  g_clear_pointer (&ds->manifest, json_node_unref);
  g_free (ds->feature_mean);
  g_free (ds->feature_std);
  g_free (ds->dir);
  g_free (ds);
}

/* Per-clip feature mean/std: [n_clips, D] arrays beside the manifest. */
static gboolean
load_clip_stats (WkpDataset *ds, GError **error)
{
  const char *names[2] = { "clip_feature_mean.npy", "clip_feature_std.npy" };
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *path = g_build_filename (ds->dir, names[k], NULL);
      gint64 shape[2] = { ds->n_clips, ds->dim };
      g_autoptr(WkpNpy) npy = wkp_npy_load (path, error);
      if (npy == NULL || !wkp_npy_check (npy, path, WKP_DTYPE_F32, 2, shape, error))
        return FALSE;
      for (int i = 0; i < ds->n_clips; i++)
        {
          WkpDatasetClip *c = &ds->clips[i].clip;
          double **dst = k == 0 ? &c->feature_mean : &c->feature_std;
          const float *row = (const float *) npy->data + (gsize) i * ds->dim;
          if (c->status != WKP_CLIP_OK)
            continue;
          g_free (*dst);
          *dst = g_new (double, ds->dim);
          for (int d = 0; d < ds->dim; d++)
            (*dst)[d] = row[d];
        }
    }
  return TRUE;
}

WkpDataset *
wkp_dataset_open (const char *path, GError **error)
{
  g_autoptr(WkpDataset) ds = g_new0 (WkpDataset, 1);
  g_autofree char *manifest_path = NULL;
  JsonObject *root, *params;
  JsonNode *clips_node;
  JsonArray *clips;
  g_autofree double *mean = NULL, *std = NULL, *face = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      ds->dir = g_canonicalize_filename (path, NULL);
      manifest_path = g_build_filename (ds->dir, WKP_DATASET_MANIFEST, NULL);
    }
  else
    {
      g_autofree char *d = g_path_get_dirname (path);
      ds->dir = g_canonicalize_filename (d, NULL);
      manifest_path = g_strdup (path);
    }
  if (!g_file_test (manifest_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_NOT_FOUND,
                   "%s: not a prepared dataset (no %s; run “wav2kp prepare”)", path, WKP_DATASET_MANIFEST);
      return NULL;
    }
  ds->manifest = wkp_json_load_file (manifest_path, &local);
  if (ds->manifest == NULL || !JSON_NODE_HOLDS_OBJECT (ds->manifest)
      || g_strcmp0 (wkp_json_get_string (json_node_get_object (ds->manifest), "format"), "wav2kp-dataset") != 0)
    {
      g_autofree char *base = g_path_get_basename (path);
      if (!g_file_test (path, G_FILE_TEST_IS_DIR) && g_strcmp0 (base, WKP_DATASET_MANIFEST) != 0)
        {
          /* a file given for the dataset (the CSV it is prepared from, an
           * array, a video) is not a broken manifest */
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: not a prepared dataset: give the folder “wav2kp prepare” wrote (or its %s); a CSV "
                       "list of clips is prepared first (wav2kp prepare LIST.csv -o DS)", path,
                       WKP_DATASET_MANIFEST);
          return NULL;
        }
      if (ds->manifest == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      goto invalid;
    }
  root = json_node_get_object (ds->manifest);
  {
    JRead r = { manifest_path, "manifest", error, FALSE };
    gint64 version = jint (&r, root, "version", -1);
    if (r.failed)
      return NULL;
    if (version != WKP_DATASET_FORMAT_VERSION)
      {
        g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_UNSUPPORTED,
                     "%s: dataset format version %" G_GINT64_FORMAT " is not supported (this build reads %d); "
                     "prepare it again", manifest_path, version, WKP_DATASET_FORMAT_VERSION);
        return NULL;
      }
  }
  if (!json_object_has_member (root, "params") || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "params")))
    goto invalid;
  params = json_object_get_object_member (root, "params");
  if (!wkp_feature_config_from_json (json_object_get_member (params, "features"), &ds->features, &local)
      || !wkp_landmark_params_from_json (json_object_get_member (params, "landmarks"), &ds->landmarks, &local))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: %s", manifest_path, local->message);
      return NULL;
    }
  if (!wkp_frame_rate_parse (wkp_json_get_string (params, "model_fps"), &ds->model_fps, NULL))
    goto invalid;
  ds->dim = wkp_feature_config_dim (&ds->features);
  if (!read_double_array (root, "feature_mean", ds->dim, &mean, NULL, manifest_path, error)
      || !read_double_array (root, "feature_std", ds->dim, &std, NULL, manifest_path, error)
      || !read_double_array (root, "mean_face", WKP_N_LANDMARKS * 2, &face, NULL, manifest_path, error))
    return NULL;
  ds->feature_mean = g_new (float, ds->dim);
  ds->feature_std = g_new (float, ds->dim);
  for (int i = 0; i < ds->dim; i++)
    {
      ds->feature_mean[i] = mean ? (float) mean[i] : 0.0f;
      ds->feature_std[i] = std && isfinite (std[i]) && std[i] > 0 ? (float) std[i] : 1.0f;
    }
  for (int i = 0; i < WKP_N_LANDMARKS * 2; i++)
    ds->mean_face[i] = face ? (float) face[i] : wkp_face_canonical ()[i];

  clips_node = json_object_get_member (root, "clips");
  if (clips_node == NULL || !JSON_NODE_HOLDS_ARRAY (clips_node))
    goto invalid;
  clips = json_node_get_array (clips_node);
  ds->n_clips = (int) json_array_get_length (clips);
  ds->clips = g_new0 (WkpClipRecord, MAX (ds->n_clips, 1));
  ds->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < ds->n_clips; i++)
    {
      WkpClipRecord *rec = &ds->clips[i];
      if (!wkp_clip_record_from_json (json_array_get_element (clips, i), rec, manifest_path, error))
        {
          ds->n_clips = i;
          return NULL;
        }
      rec->clip.index = i;
      if (rec->clip.status == WKP_CLIP_OK && rec->feature_dim != ds->dim)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: clip “%s” has %d feature columns, the dataset %d", manifest_path,
                       rec->clip.name, rec->feature_dim, ds->dim);
          ds->n_clips = i + 1;
          return NULL;
        }
      /* prepare computed the features over the video's duration at the model
       * rate: a model_fps or clip fps edited by hand breaks that, and would
       * pair features and landmarks of different instants */
      if (rec->clip.status == WKP_CLIP_OK
          && rec->clip.n_feature_frames
                 != wkp_track_resample_length (rec->clip.n_frames, rec->clip.fps, ds->model_fps))
        {
          g_autofree char *vf = wkp_rational_to_string (rec->clip.fps);
          g_autofree char *mf = wkp_rational_to_string (ds->model_fps);
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: clip “%s” has %" G_GINT64_FORMAT " feature frames, but its %" G_GINT64_FORMAT
                       " video frames at %s fps make %" G_GINT64_FORMAT " at the model rate %s (model_fps or "
                       "fps edited?); prepare it again",
                       manifest_path, rec->clip.name, rec->clip.n_feature_frames, rec->clip.n_frames, vf,
                       wkp_track_resample_length (rec->clip.n_frames, rec->clip.fps, ds->model_fps), mf);
          ds->n_clips = i + 1;
          return NULL;
        }
      g_hash_table_insert (ds->by_name, rec->clip.name, GINT_TO_POINTER (i + 1));
    }
  if (!load_clip_stats (ds, error))
    return NULL;
  return g_steal_pointer (&ds);

invalid:
  g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: not a valid wav2kp dataset manifest",
               manifest_path);
  return NULL;
}

const char *
wkp_dataset_get_dir (const WkpDataset *ds)
{
  return ds->dir;
}

int
wkp_dataset_n_clips (const WkpDataset *ds)
{
  return ds->n_clips;
}

const WkpDatasetClip *
wkp_dataset_get_clip (const WkpDataset *ds, int index)
{
  g_return_val_if_fail (index >= 0 && index < ds->n_clips, NULL);
  return &ds->clips[index].clip;
}

/* the last @k '/'-separated components of @name (all of it when it has fewer) */
static const char *
name_suffix (const char *name, int k)
{
  const char *p = name + strlen (name);
  while (p > name && p[-1] == '/')   /* "dir/clip/" is clip/, not "" */
    p--;
  while (p > name)
    {
      if (p[-1] == '/' && --k == 0)
        return p;
      p--;
    }
  return name;
}

char **
wkp_path_short_names (const char * const *names, int n)
{
  char **out = g_new0 (char *, n + 1);
  g_autofree int *depth = g_new (int, MAX (n, 1));
  int unresolved = n;

  /* an image pattern (%03d) names no clip by itself: its folder too */
  for (int i = 0; i < n; i++)
    depth[i] = strchr (name_suffix (names[i], 1), '%') != NULL ? 2 : 1;
  for (int round = 0; unresolved > 0 && round < 256; round++)
    {
      g_autoptr(GHashTable) count = g_hash_table_new (g_str_hash, g_str_equal);
      /* how many names share each candidate (a resolved one keeps its own) */
      for (int i = 0; i < n; i++)
        {
          const char *sfx = out[i] != NULL ? out[i] : name_suffix (names[i], depth[i]);
          g_hash_table_insert (count, (gpointer) sfx,
                               GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (count, sfx)) + 1));
        }
      for (int i = 0; i < n; i++)
        if (out[i] == NULL)
          {
            const char *sfx = name_suffix (names[i], depth[i]);
            if (GPOINTER_TO_INT (g_hash_table_lookup (count, sfx)) == 1 || sfx == names[i])
              {
                out[i] = g_strdup (sfx);
                unresolved--;
              }
            else
              depth[i]++;
          }
    }
  for (int i = 0; i < n; i++)
    if (out[i] == NULL)
      out[i] = g_strdup (names[i]);
  return out;
}

char **
wkp_dataset_short_names (const WkpDataset *ds)
{
  g_autofree const char **names = g_new (const char *, MAX (ds->n_clips, 1));
  for (int i = 0; i < ds->n_clips; i++)
    names[i] = ds->clips[i].clip.name;
  return wkp_path_short_names (names, ds->n_clips);
}

int
wkp_dataset_find_clip (const WkpDataset *ds, const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (ds->by_name, name)) - 1;
}

GArray *
wkp_dataset_split_indices (const WkpDataset *ds, WkpSplit split)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (int));
  for (int i = 0; i < ds->n_clips; i++)
    {
      const WkpDatasetClip *c = &ds->clips[i].clip;
      if (c->status == WKP_CLIP_OK && (split == WKP_SPLIT_NONE || c->split == split))
        g_array_append_val (a, i);
    }
  return a;
}

char **
wkp_dataset_speakers (const WkpDataset *ds, WkpSplit split)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) out = g_ptr_array_new ();
  for (int i = 0; i < ds->n_clips; i++)
    {
      const WkpDatasetClip *c = &ds->clips[i].clip;
      if (c->status != WKP_CLIP_OK || (split != WKP_SPLIT_NONE && c->split != split))
        continue;
      if (g_hash_table_add (seen, c->speaker))
        g_ptr_array_add (out, g_strdup (c->speaker));
    }
  g_ptr_array_sort (out, compare_strings);
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

const WkpFeatureConfig *
wkp_dataset_get_feature_config (const WkpDataset *ds)
{
  return &ds->features;
}

const WkpLandmarkParams *
wkp_dataset_get_landmark_params (const WkpDataset *ds)
{
  return &ds->landmarks;
}

int
wkp_dataset_get_feature_dim (const WkpDataset *ds)
{
  return ds->dim;
}

WkpRational
wkp_dataset_get_model_fps (const WkpDataset *ds)
{
  return ds->model_fps;
}

const float *
wkp_dataset_get_feature_mean (const WkpDataset *ds)
{
  return ds->feature_mean;
}

const float *
wkp_dataset_get_feature_std (const WkpDataset *ds)
{
  return ds->feature_std;
}

const float *
wkp_dataset_get_mean_face (const WkpDataset *ds)
{
  return ds->mean_face;
}

JsonNode *
wkp_dataset_get_manifest (const WkpDataset *ds)
{
  return ds->manifest;
}

char *
wkp_dataset_clip_path (const WkpDataset *ds, int index, WkpClipArray which)
{
  const WkpDatasetClip *c;
  g_return_val_if_fail (index >= 0 && index < ds->n_clips, NULL);
  g_return_val_if_fail ((guint) which < G_N_ELEMENTS (array_files), NULL);
  c = &ds->clips[index].clip;
  if (c->status != WKP_CLIP_OK)
    return NULL;
  return g_build_filename (ds->dir, "clips", c->id, array_files[which], NULL);
}

/* Index of the first non-finite float of @data, or -1. */
static gint64
first_non_finite (const float *data, gint64 n)
{
  for (gint64 i = 0; i < n; i++)
    if (!isfinite (data[i]))
      return i;
  return -1;
}

gboolean
wkp_clip_array_check_values (const WkpNpy *npy, WkpClipArray which, const char *path, GError **error)
{
  gint64 bad;
  switch (which)
    {
    case WKP_CLIP_ARRAY_FEATURES:
      g_return_val_if_fail (npy->dtype == WKP_DTYPE_F32, FALSE);
      bad = first_non_finite (npy->data, npy->n_elements);
      if (bad >= 0)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: feature row %" G_GINT64_FORMAT " holds a non-finite value (NaN or infinity)", path,
                       npy->ndim == 2 && npy->shape[1] > 0 ? bad / npy->shape[1] : bad);
          return FALSE;
        }
      break;
    case WKP_CLIP_ARRAY_AUDIO:
      g_return_val_if_fail (npy->dtype == WKP_DTYPE_F32, FALSE);
      bad = first_non_finite (npy->data, npy->n_elements);
      if (bad >= 0)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: audio sample %" G_GINT64_FORMAT " is not finite (NaN or infinity)", path, bad);
          return FALSE;
        }
      break;
    case WKP_CLIP_ARRAY_STATUS:
      g_return_val_if_fail (npy->dtype == WKP_DTYPE_U8, FALSE);
      for (gint64 i = 0; i < npy->n_elements; i++)
        {
          guint8 s = ((const guint8 *) npy->data)[i];
          if (s > WKP_FACE_TRACKED)
            {
              g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                           "%s: frame %" G_GINT64_FORMAT " has the invalid face status %u (0 to %d expected)",
                           path, i, s, WKP_FACE_TRACKED);
              return FALSE;
            }
        }
      break;
    case WKP_CLIP_ARRAY_LANDMARKS:
    case WKP_CLIP_ARRAY_NORMALIZED:
      {
        g_autoptr(GError) local = NULL;
        g_return_val_if_fail (npy->dtype == WKP_DTYPE_F32, FALSE);
        if (!wkp_face_track_check (npy->data, npy->n_elements / (WKP_N_LANDMARKS * 2),
                                   which == WKP_CLIP_ARRAY_NORMALIZED, path, &local))
          {
            /* in the dataset's domain, as every other damaged array */
            g_set_error_literal (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, local->message);
            return FALSE;
          }
      }
      break;
    default:   /* transform: NaN = no face */
      break;
    }
  return TRUE;
}

WkpNpy *
wkp_dataset_clip_load (const WkpDataset *ds, int index, WkpClipArray which, GError **error)
{
  const WkpDatasetClip *c;
  g_autofree char *path = NULL;
  g_autoptr(WkpNpy) npy = NULL;
  gint64 shape[3];
  int ndim;
  WkpDtype dtype = WKP_DTYPE_F32;

  g_return_val_if_fail (index >= 0 && index < ds->n_clips, NULL);
  c = &ds->clips[index].clip;
  if (c->status != WKP_CLIP_OK)
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_NOT_FOUND, "%s: clip “%s” has no arrays (%s%s%s)",
                   ds->dir, c->name, wkp_clip_status_to_string (c->status), c->error ? ": " : "",
                   c->error ? c->error : "");
      return NULL;
    }
  path = wkp_dataset_clip_path (ds, index, which);
  switch (which)
    {
    case WKP_CLIP_ARRAY_FEATURES:
      ndim = 2, shape[0] = c->n_feature_frames, shape[1] = ds->dim;
      break;
    case WKP_CLIP_ARRAY_LANDMARKS:
    case WKP_CLIP_ARRAY_NORMALIZED:
      ndim = 3, shape[0] = c->n_frames, shape[1] = WKP_N_LANDMARKS, shape[2] = 2;
      break;
    case WKP_CLIP_ARRAY_STATUS:
      ndim = 1, shape[0] = c->n_frames, dtype = WKP_DTYPE_U8;
      break;
    case WKP_CLIP_ARRAY_TRANSFORM:
      ndim = 2, shape[0] = c->n_frames, shape[1] = 4;
      break;
    case WKP_CLIP_ARRAY_AUDIO:
      ndim = 1, shape[0] = c->n_samples;
      break;
    case WKP_CLIP_ARRAY_ENVELOPE:
      ndim = 1, shape[0] = c->n_frames;
      break;
    default:
      g_return_val_if_reached (NULL);
    }
  npy = wkp_npy_load (path, error);
  if (npy == NULL)
    return NULL;
  if (!wkp_npy_check (npy, path, dtype, ndim, shape, error)
      || !wkp_clip_array_check_values (npy, which, path, error))
    return NULL;
  return g_steal_pointer (&npy);
}

gboolean
wkp_dataset_clip_verify (const WkpDataset *ds, int index, GError **error)
{
  for (int a = WKP_CLIP_ARRAY_FEATURES; a <= WKP_CLIP_ARRAY_ENVELOPE; a++)
    {
      g_autoptr(WkpNpy) npy = wkp_dataset_clip_load (ds, index, (WkpClipArray) a, error);
      if (npy == NULL)
        return FALSE;
    }
  return TRUE;
}

float *
wkp_dataset_clip_load_targets (const WkpDataset *ds, int index, gint64 *n_out, GError **error)
{
  g_autoptr(WkpNpy) npy = wkp_dataset_clip_load (ds, index, WKP_CLIP_ARRAY_NORMALIZED, error);
  const WkpDatasetClip *c;
  if (npy == NULL)
    return NULL;
  c = &ds->clips[index].clip;
  if (n_out)
    *n_out = c->n_feature_frames;
  return wkp_track_resample (npy->data, c->n_frames, WKP_N_LANDMARKS * 2, c->fps, ds->model_fps,
                             c->n_feature_frames);
}

/* ------------------------------------------------------------------------ */
/* Resampling                                                                */

gint64
wkp_track_resample_length (gint64 n_in, WkpRational from, WkpRational to)
{
  __int128 num, den;
  g_return_val_if_fail (wkp_rational_is_valid (from) && wkp_rational_is_valid (to), 0);
  if (n_in <= 0)
    return 0;
  num = (__int128) n_in * from.den * to.num;
  den = (__int128) from.num * to.den;
  return (gint64) ((num + den - 1) / den);
}

float *
wkp_track_resample (const float *in, gint64 n_in, int width, WkpRational from, WkpRational to,
                    gint64 n_out)
{
  float *out;
  g_return_val_if_fail (width > 0 && n_out >= 0, NULL);
  g_return_val_if_fail (wkp_rational_is_valid (from) && wkp_rational_is_valid (to), NULL);

  out = g_new (float, MAX ((gsize) n_out * width, 1));
  if (n_in <= 0)
    {
      for (gint64 i = 0; i < n_out * width; i++)
        out[i] = NAN;
      return out;
    }
  for (gint64 j = 0; j < n_out; j++)
    {
      /* input position of output frame j's centre, in input frame-centre units:
       * u = ((2j+1) * to.den * from.num - to.num * from.den) / (2 * to.num * from.den) */
      __int128 num = (__int128) (2 * j + 1) * to.den * from.num - (__int128) to.num * from.den;
      __int128 den = (__int128) 2 * to.num * from.den;
      gint64 i0;
      double frac;
      const float *a, *b;
      float *o = out + j * width;

      if (num <= 0)
        i0 = 0, frac = 0;
      else
        {
          i0 = (gint64) (num / den);
          frac = (double) (num - (__int128) i0 * den) / (double) den;
        }
      if (i0 >= n_in - 1)
        i0 = n_in - 1, frac = 0;
      a = in + i0 * width;
      b = frac > 0 ? in + (i0 + 1) * width : a;
      for (int k = 0; k < width; k++)
        {
          float va = a[k], vb = b[k];
          if (isfinite (va) && isfinite (vb))
            o[k] = (float) (va + frac * ((double) vb - va));
          else
            {
              /* one neighbour unknown: the valid one if it is the nearer (or at exactly halfway) */
              if (isfinite (va) && frac <= 0.5)
                o[k] = va;
              else if (isfinite (vb) && frac >= 0.5)
                o[k] = vb;
              else
                o[k] = NAN;
            }
        }
    }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Alignment                                                                 */

float *
wkp_audio_envelope (const float *audio, gint64 n_samples, int rate, WkpRational fps, gint64 n_frames)
{
  float *env = g_new0 (float, MAX (n_frames, 1));
  for (gint64 i = 0; i < n_frames; i++)
    {
      gint64 s0 = wkp_frame_to_sample (i, fps, rate);
      gint64 s1 = wkp_frame_to_sample (i + 1, fps, rate);
      double acc = 0;
      if (s0 >= n_samples)
        break;
      s1 = MIN (s1, n_samples);
      for (gint64 s = s0; s < s1; s++)
        acc += (double) audio[s] * audio[s];
      env[i] = s1 > s0 ? (float) sqrt (acc / (double) (s1 - s0)) : 0.0f;
    }
  return env;
}

float *
wkp_audio_band_envelope (const float *audio, gint64 n_samples, int rate, WkpRational fps, gint64 n_frames,
                         double lo_hz, double hi_hz)
{
  float *env = g_new0 (float, MAX (n_frames, 1));
  AVTXContext *tx = NULL;
  av_tx_fn tx_fn = NULL;
  float *in = NULL, *out = NULL, *win = NULL;
  int nfft = 0, win_len = -1;
  float scale = 1.0f;

  for (gint64 i = 0; i < n_frames; i++)
    {
      gint64 s0 = wkp_frame_to_sample (i, fps, rate);
      gint64 s1 = MIN (wkp_frame_to_sample (i + 1, fps, rate), n_samples);
      int len = (int) (s1 - s0), need = 16;
      const AVComplexFloat *spec;
      double acc = 0;
      if (s0 >= n_samples || len <= 0)
        break;
      while (need < len)
        need *= 2;
      if (need != nfft)
        {
          av_tx_uninit (&tx);
          av_freep (&in);
          av_freep (&out);
          nfft = need;
          if (av_tx_init (&tx, &tx_fn, AV_TX_FLOAT_RDFT, 0, nfft, &scale, 0) < 0)
            break;
          in = av_mallocz ((nfft + 2) * sizeof (float));
          out = av_mallocz ((nfft + 2) * sizeof (float));
        }
      if (len != win_len)
        {
          g_free (win);
          win = g_new (float, len);
          for (int k = 0; k < len; k++)   /* symmetric Hann, as numpy.hanning */
            win[k] = len > 1 ? (float) (0.5 - 0.5 * cos (2.0 * G_PI * k / (len - 1))) : 1.0f;
          win_len = len;
        }
      memset (in, 0, (nfft + 2) * sizeof (float));
      for (int k = 0; k < len; k++)
        in[k] = audio[s0 + k] * win[k];
      tx_fn (tx, out, in, sizeof (float));
      spec = (const AVComplexFloat *) out;
      for (int k = 0; k <= nfft / 2; k++)
        {
          double f = (double) k * rate / nfft;
          if (f >= lo_hz && f < hi_hz)
            acc += (double) spec[k].re * spec[k].re + (double) spec[k].im * spec[k].im;
        }
      env[i] = (float) sqrt (acc / len);
    }
  av_tx_uninit (&tx);
  av_freep (&in);
  av_freep (&out);
  g_free (win);
  return env;
}

static double
pearson_at_lag (const float *x, const float *y, gint64 n, int k, gint64 *n_used)
{
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  gint64 m = 0;
  gint64 t0 = MAX (0, k), t1 = MIN (n, n + k);
  for (gint64 t = t0; t < t1; t++)
    {
      double a = x[t], b = y[t - k];
      if (!isfinite (a) || !isfinite (b))
        continue;
      sx += a, sy += b, sxx += a * a, syy += b * b, sxy += a * b;
      m++;
    }
  *n_used = m;
  if (m < 10)
    return NAN;
  {
    double cov = sxy - sx * sy / m;
    double vx = sxx - sx * sx / m, vy = syy - sy * sy / m;
    if (vx <= 1e-12 * MAX (sxx, 1e-30) || vy <= 1e-12 * MAX (syy, 1e-30))
      return NAN;
    return cov / sqrt (vx * vy);
  }
}

gboolean
wkp_av_offset_estimate (const float *env, const float *aperture, gint64 n, int max_lag, WkpAvOffset *out,
                        GError **error)
{
  gint64 usable = 0, used;
  int best = G_MININT;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (max_lag >= 0 && max_lag <= 31, FALSE);
  memset (out, 0, sizeof *out);
  out->max_lag = max_lag;
  out->peak_r = out->r_zero = out->null_mean = out->null_sd = out->z = out->gain = out->confidence = NAN;
  for (int i = 0; i < (int) G_N_ELEMENTS (out->r); i++)
    out->r[i] = NAN;
  for (gint64 t = 0; t < n; t++)
    if (isfinite (env[t]) && isfinite (aperture[t]))
      usable++;
  if (usable < 2 * max_lag + 10)
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                   "only %" G_GINT64_FORMAT " frames have both audio and a face (need %d) to estimate the offset",
                   usable, 2 * max_lag + 10);
      return FALSE;
    }
  for (int k = -max_lag; k <= max_lag; k++)
    {
      double r = pearson_at_lag (env, aperture, n, k, &used);
      out->r[k + max_lag] = r;
      if (!isfinite (r))
        continue;
      if (best == G_MININT || r > out->r[best + max_lag]
          || (r == out->r[best + max_lag] && ABS (k) < ABS (best)))
        {
          best = k;
          out->n_used = used;
        }
    }
  out->r_zero = out->r[max_lag];
  if (best == G_MININT)
    {
      g_set_error_literal (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                           "the audio envelope or the lip aperture is constant: no offset can be estimated");
      return FALSE;
    }
  out->offset_frames = best;
  out->peak_r = out->r[best + max_lag];

  /* null distribution: the envelope circularly shifted far from any real lag */
  out->null_mean = out->null_sd = out->z = out->gain = out->confidence = NAN;
  {
    gint64 lo = 2 * (gint64) max_lag, hi = n - 2 * (gint64) max_lag;
    gint64 step = MAX (1, (hi - lo) / 40);
    g_autofree float *shifted = g_new (float, MAX (n, 1));
    double sum = 0, sum2 = 0;
    int count = 0;
    for (gint64 sh = lo; sh < hi && count < 40; sh += step)
      {
        double r;
        for (gint64 t = 0; t < n; t++)
          shifted[t] = env[(t + sh) % n];
        r = pearson_at_lag (shifted, aperture, n, 0, &used);
        if (!isfinite (r))
          continue;
        sum += r, sum2 += r * r, count++;
      }
    if (count >= 8)
      {
        out->null_mean = sum / count;
        out->null_sd = sqrt (MAX (sum2 / count - out->null_mean * out->null_mean, 0));
        out->null_sd = MAX (out->null_sd, 0.02);
        out->z = (out->peak_r - out->null_mean) / out->null_sd;
        out->gain = out->peak_r - out->r_zero;
        out->confidence = CLAMP ((out->z - 2.0) / 3.0, 0.0, 1.0);
      }
  }
  return TRUE;
}

/* The envelope used for correlation: log energy, which follows mouth
 * opening better than linear RMS across loud and quiet speech. */
#define BAND_LO_HZ 300.0
#define BAND_HI_HZ 3000.0

gboolean
wkp_clip_offset_estimate (const float *audio, gint64 n_audio, WkpRational fps, const float *points, gint64 n_frames,
                          int max_lag, WkpAvOffset *out, GError **error)
{
  g_autofree float *band = wkp_audio_band_envelope (audio, n_audio, WKP_AUDIO_RATE, fps, n_frames, BAND_LO_HZ,
                                                    BAND_HI_HZ);
  g_autofree float *env = g_new (float, MAX (n_frames, 1));
  g_autofree float *aperture = g_new (float, MAX (n_frames, 1));
  for (gint64 t = 0; t < n_frames; t++)
    {
      /* (no audio under a frame: unknown, not silence) */
      env[t] = wkp_frame_to_sample (t, fps, WKP_AUDIO_RATE) >= n_audio ? NAN : (float) log10 (band[t] + 1e-4);
      aperture[t] = (float) wkp_face_inner_aperture (points + t * WKP_N_LANDMARKS * 2);
    }
  return wkp_av_offset_estimate (env, aperture, n_frames, max_lag, out, error);
}

/* ------------------------------------------------------------------------ */
/* Splits                                                                    */

static gboolean
strv_has (char **v, const char *s)
{
  return v != NULL && g_strv_contains ((const char * const *) v, s);
}

WkpSplit *
wkp_dataset_assign_splits (const char * const *speakers, const gint64 *frames, int n,
                           const WkpPrepareParams *params)
{
  WkpSplit *out = g_new (WkpSplit, MAX (n, 1));
  g_autofree int *rest = g_new (int, MAX (n, 1));
  g_autoptr(GRand) rng = g_rand_new_with_seed ((guint32) (params->seed ^ (params->seed >> 32)));
  gint64 total = 0;
  int n_rest = 0;

  for (int i = 0; i < n; i++)
    total += MAX (frames[i], 0);
  for (int i = 0; i < n; i++)
    {
      out[i] = WKP_SPLIT_TRAIN;
      if (!strv_has (params->train_speakers, speakers[i]))
        rest[n_rest++] = i;
    }
  /* dominant speakers (largest first) stay in train, as long as at least
   * three speakers remain eligible for val/test */
  for (;;)
    {
      int best = -1;
      for (int r = 0; r < n_rest; r++)
        if (total > 0 && (double) frames[rest[r]] / (double) total > params->dominant_share
            && (best < 0 || frames[rest[r]] > frames[rest[best]]
                || (frames[rest[r]] == frames[rest[best]] && strcmp (speakers[rest[r]], speakers[rest[best]]) < 0)))
          best = r;
      if (best < 0 || n_rest - 1 < 3)
        break;
      rest[best] = rest[--n_rest];
    }
  /* sorted order first, so that the result does not depend on the input order */
  for (int i = 1; i < n_rest; i++)
    for (int j = i; j > 0 && strcmp (speakers[rest[j - 1]], speakers[rest[j]]) > 0; j--)
      {
        int t = rest[j];
        rest[j] = rest[j - 1];
        rest[j - 1] = t;
      }
  /* Fisher-Yates with the seeded generator */
  for (int i = n_rest - 1; i > 0; i--)
    {
      int j = g_rand_int_range (rng, 0, i + 1);
      int t = rest[i];
      rest[i] = rest[j];
      rest[j] = t;
    }
  /* greedy: each speaker (in shuffled order) joins the split furthest below
   * its share of the eligible frames and speakers */
  {
    double frac[3] = { 1.0 - params->val_fraction - params->test_fraction, params->val_fraction,
                       params->test_fraction };
    double target[3], cur[3] = { 0, 0, 0 };
    int cnt[3] = { 0, 0, 0 };
    gint64 eligible = 0;
    for (int i = 0; i < n_rest; i++)
      eligible += MAX (frames[rest[i]], 0);
    for (int k = 0; k < 3; k++)
      target[k] = frac[k] * (eligible > 0 ? (double) eligible : (double) n_rest);
    for (int i = 0; i < n_rest; i++)
      {
        double w = eligible > 0 ? (double) MAX (frames[rest[i]], 0) : 1.0;
        int best = 0;
        double best_deficit = -G_MAXDOUBLE;
        for (int k = 0; k < 3; k++)
          {
            double deficit;
            if (target[k] <= 0)
              continue;
            /* relative shortfall in frames (at the speaker's midpoint) and in
             * speakers, equally weighted: several speakers per split, and
             * frames near the requested share */
            deficit = 0.5 * (target[k] - cur[k] - 0.5 * w) / target[k]
                      + 0.5 * (frac[k] * n_rest - cnt[k] - 0.5) / (frac[k] * n_rest);
            if (deficit > best_deficit)
              best = k, best_deficit = deficit;
          }
        out[rest[i]] = (WkpSplit) best;
        cur[best] += w;
        cnt[best]++;
      }
    /* at least one speaker in val and in test when there are three or more:
     * move the smallest train speaker over */
    for (int k = 1; k < 3 && n_rest >= 3; k++)
      if (cnt[k] == 0 && frac[k] > 0)
        {
          int pick = -1;
          for (int i = 0; i < n_rest; i++)
            if (out[rest[i]] == WKP_SPLIT_TRAIN && cnt[WKP_SPLIT_TRAIN] > 1
                && (pick < 0 || frames[rest[i]] < frames[pick]
                    || (frames[rest[i]] == frames[pick] && strcmp (speakers[rest[i]], speakers[pick]) < 0)))
              pick = rest[i];
          if (pick >= 0)
            {
              out[pick] = (WkpSplit) k;
              cnt[WKP_SPLIT_TRAIN]--;
              cnt[k]++;
            }
        }
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* CSV and source listing                                                    */

/* wkp_csv_parse(); @row_lines (may be NULL) receives the line on which each row starts. */
static GPtrArray *
csv_parse (const char *text, gsize length, const char *name, GArray *row_lines, GError **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GPtrArray) row = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) field = g_string_new (NULL);
  gsize i = 0;
  int line = 1, start_line = 1;
  gboolean quoted = FALSE, was_quoted = FALSE, row_started = FALSE;

  if (length >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  if (!g_utf8_validate (text + i, length - i, NULL))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: not UTF-8 text", name);
      return NULL;
    }
  for (; i <= length; i++)
    {
      char ch = i < length ? text[i] : '\n';
      gboolean at_end = i == length;

      if (quoted)
        {
          if (at_end)
            {
              g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                           "%s: line %d: quoted field not closed before the end of the file", name, line);
              return NULL;
            }
          if (ch == '"')
            {
              if (i + 1 < length && text[i + 1] == '"')
                {
                  g_string_append_c (field, '"');
                  i++;
                }
              else
                quoted = FALSE;
            }
          else
            {
              if (ch == '\n')
                line++;
              g_string_append_c (field, ch);
            }
          continue;
        }
      if (ch == '"')
        {
          if (field->len > 0 || was_quoted)
            {
              g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                           "%s: line %d: stray quote inside an unquoted field", name, line);
              return NULL;
            }
          quoted = was_quoted = row_started = TRUE;
        }
      else if (ch == ',')
        {
          g_ptr_array_add (row, g_strdup (field->str));
          g_string_truncate (field, 0);
          was_quoted = FALSE;
          row_started = TRUE;
        }
      else if (ch == '\r' && i + 1 < length && text[i + 1] == '\n')
        continue;
      else if (ch == '\n')
        {
          if (row_started || field->len > 0)
            {
              g_ptr_array_add (row, g_strdup (field->str));
              g_ptr_array_add (row, NULL);
              g_ptr_array_add (rows, g_ptr_array_free (g_steal_pointer (&row), FALSE));
              row = g_ptr_array_new_with_free_func (g_free);
              if (row_lines != NULL)
                g_array_append_val (row_lines, start_line);
            }
          g_string_truncate (field, 0);
          was_quoted = row_started = FALSE;
          start_line = ++line;
          if (at_end)
            break;
        }
      else
        {
          if (was_quoted)
            {
              g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                           "%s: line %d: text after a closing quote", name, line);
              return NULL;
            }
          g_string_append_c (field, ch);
          row_started = TRUE;
        }
    }
  return g_steal_pointer (&rows);
}

GPtrArray *
wkp_csv_parse (const char *text, gsize length, const char *name, GError **error)
{
  return csv_parse (text, length, name, NULL, error);
}

void
wkp_source_entry_free (WkpSourceEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->name);
  g_free (e->video);
  g_free (e->audio);
  g_free (e->speaker);
  g_free (e);
}

static char *
resolve (const char *base, const char *rel)
{
  if (g_path_is_absolute (rel))
    return g_canonicalize_filename (rel, NULL);
  return g_canonicalize_filename (rel, base);
}

static char *
stem_of (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_steal_pointer (&base);
}

static void
make_names_unique (GPtrArray *entries)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < entries->len; i++)
    {
      WkpSourceEntry *e = entries->pdata[i];
      if (g_hash_table_contains (seen, e->name))
        for (int k = 2;; k++)
          {
            char *alt = g_strdup_printf ("%s#%d", e->name, k);
            if (!g_hash_table_contains (seen, alt))
              {
                g_free (e->name);
                e->name = alt;
                break;
              }
            g_free (alt);
          }
      g_hash_table_add (seen, g_strdup (e->name));
    }
}

static GPtrArray *
list_csv (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = wkp_read_file (path, error);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GArray) lines = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) clips = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *base = NULL;
  int col_video = -1, col_audio = -1, col_speaker = -1, col_late = -1, n_columns;
  char **header;
  gsize len;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (!wkp_bytes_look_like_text ((const guint8 *) data, MIN (len, 4096)))
    {
      /* a video or a WAV given instead of the list (prepare clip.mpg) */
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                   "%s: not a CSV list of clips (it is not text): prepare takes a CSV with a video column "
                   "(video,audio,speaker) or a folder of clips", path);
      return NULL;
    }
  rows = csv_parse (data, len, path, lines, error);
  if (rows == NULL)
    return NULL;
  if (rows->len == 0)
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: empty manifest", path);
      return NULL;
    }
  header = rows->pdata[0];
  n_columns = (int) g_strv_length (header);
  for (int c = 0; header[c] != NULL; c++)
    {
      g_autofree char *h = g_ascii_strdown (g_strstrip (header[c]), -1);
      /* one of two same-named columns would be used silently */
      if (*h != '\0' && !g_hash_table_add (names, g_strdup (h)))
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: line %d: duplicate column %s", path,
                       g_array_index (lines, int, 0), header[c]);
          return NULL;
        }
      if (g_str_equal (h, "video") && col_video < 0)
        col_video = c;
      else if (g_str_equal (h, "audio") && col_audio < 0)
        col_audio = c;
      else if (g_str_equal (h, "speaker") && col_speaker < 0)
        col_speaker = c;
      else if (g_str_equal (h, "audio_late") && col_late < 0)
        col_late = c;
    }
  if (col_video < 0)
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                   "%s: the header has no “video” column (expected video,audio,speaker): prepare takes a CSV "
                   "list of clips or a folder of clips", path);
      return NULL;
    }
  {
    g_autofree char *abs = g_canonicalize_filename (path, NULL);
    base = g_path_get_dirname (abs);
  }
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) wkp_source_entry_free);
  for (guint r = 1; r < rows->len; r++)
    {
      char **row = rows->pdata[r];
      int n = (int) g_strv_length (row);
      const char *video = col_video < n ? g_strstrip (row[col_video]) : "";
      const char *audio = col_audio >= 0 && col_audio < n ? g_strstrip (row[col_audio]) : "";
      const char *speaker = col_speaker >= 0 && col_speaker < n ? g_strstrip (row[col_speaker]) : "";
      const char *late_text = col_late >= 0 && col_late < n ? g_strstrip (row[col_late]) : "";
      gint64 late = 0;
      int line = g_array_index (lines, int, r);
      gboolean blank = TRUE;
      WkpSourceEntry *e;
      char *key;
      gpointer first_line;

      for (int c = 0; c < n; c++)
        if (*g_strstrip (row[c]) != '\0')
          blank = FALSE;
      if (blank)
        continue;
      /* a missing or extra field shifts the columns: the values would land in the wrong ones */
      if (n != n_columns)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: line %d: %d fields, the header has %d",
                       path, line, n, n_columns);
          return NULL;
        }
      if (*video == '\0' && *audio == '\0')
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: line %d names neither a video nor an audio file", path, line);
          return NULL;
        }
      /* decimal whole frames; only a video's sound can be moved against it */
      if (*late_text != '\0' && !g_ascii_string_to_signed (late_text, 10, -100000, 100000, &late, NULL))
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: line %d: audio_late “%s” is not a whole number of frames", path, line, late_text);
          return NULL;
        }
      if (late != 0 && *video == '\0')
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID,
                       "%s: line %d: audio_late %d: an audio-only row has no pictures to move its sound against",
                       path, line, (int) late);
          return NULL;
        }
      e = g_new0 (WkpSourceEntry, 1);
      e->audio_late = (int) late;
      e->name = g_strdup (*video ? video : audio);
      e->video = *video ? resolve (base, video) : NULL;
      e->audio = *audio ? resolve (base, audio) : NULL;
      /* a silent video without an audio column: its WAV where corpora keep it,
       * as every command pairs it (recorded, so that it is hashed and listed) */
      if (e->video != NULL && e->audio == NULL)
        e->audio = wkp_media_silent_video_companion (e->video);
      /* the same clip twice would count twice, and could land in two splits */
      key = g_strconcat (e->video ? e->video : "", "\n", e->audio ? e->audio : "", NULL);
      if (g_hash_table_lookup_extended (clips, key, NULL, &first_line))
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_INVALID, "%s: lines %d and %d list the same clip %s",
                       path, GPOINTER_TO_INT (first_line), line, e->name);
          g_free (key);
          wkp_source_entry_free (e);
          return NULL;
        }
      g_hash_table_insert (clips, key, GINT_TO_POINTER (line));
      if (*speaker)
        e->speaker = g_strdup (speaker);
      else
        e->speaker = stem_of (*video ? video : audio);
      g_ptr_array_add (entries, e);
    }
  make_names_unique (entries);
  return g_steal_pointer (&entries);
}

static const char *video_exts[] = {
  ".mp4", ".mpg", ".mpeg", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".flv", ".wmv", ".ts", ".mts",
};

static gboolean
is_video_file (const char *name)
{
  g_autofree char *low = g_ascii_strdown (name, -1);
  for (guint i = 0; i < G_N_ELEMENTS (video_exts); i++)
    if (g_str_has_suffix (low, video_exts[i]))
      return TRUE;
  return FALSE;
}

static gboolean
walk_folder (const char *root, const char *rel, GPtrArray *entries, int depth, GHashTable *visited,
             GError **error)
{
  g_autofree char *dir_path = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  GStatBuf st;

  if (depth > 32)
    return TRUE;
  /* each folder once: a link back up the tree (d/up -> ..) would otherwise
   * repeat every clip below it, and two such links grow without bound */
  if (g_stat (dir_path, &st) == 0)
    {
      char *key = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, (guint64) st.st_dev,
                                   (guint64) st.st_ino);
      if (!g_hash_table_add (visited, key))
        return TRUE;
    }
  dir = g_dir_open (dir_path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((n = g_dir_read_name (dir)) != NULL)
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child_rel = rel ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          if (!walk_folder (root, child_rel, entries, depth + 1, visited, error))
            return FALSE;
        }
      else if (is_video_file (name) && g_file_test (child, G_FILE_TEST_IS_REGULAR))
        {
          WkpSourceEntry *e = g_new0 (WkpSourceEntry, 1);
          g_autofree char *stem = stem_of (name);
          g_autofree char *parent = g_path_get_dirname (dir_path);
          g_autofree char *folder = g_path_get_basename (dir_path);

          e->name = g_strdup (child_rel);
          e->video = g_canonicalize_filename (child, NULL);
          e->audio = wkp_media_companion_wav (e->video);
          /* speaker: the containing folder; a generic "video" folder defers to its parent.
           * Files directly in SRC too: a folder of one person's clips (GRID's
           * s1/) became 999 one-clip "speakers" spread over train, val and
           * test, and evaluate's held-out score was that speaker's */
          if (rel == NULL)
            {
              g_autofree char *canon = g_canonicalize_filename (root, NULL);
              g_autofree char *base = g_path_get_basename (canon);
              g_autofree char *up_dir = g_path_get_dirname (canon);
              g_autofree char *up = g_path_get_basename (up_dir);
              if ((g_ascii_strcasecmp (base, "video") == 0 || g_ascii_strcasecmp (base, "videos") == 0)
                  && !g_path_is_absolute (up) && !g_str_equal (up, "."))
                e->speaker = g_strdup (up);
              else
                e->speaker = g_path_is_absolute (base) ? g_strdup (stem) : g_strdup (base);
            }
          else if (g_ascii_strcasecmp (folder, "video") == 0 || g_ascii_strcasecmp (folder, "videos") == 0)
            {
              g_autofree char *up = g_path_get_basename (parent);
              e->speaker = g_strdup (g_path_is_absolute (up) || g_str_equal (up, ".") ? stem : up);
            }
          else
            e->speaker = g_strdup (folder);
          g_ptr_array_add (entries, e);
        }
    }
  return TRUE;
}

GPtrArray *
wkp_dataset_list_sources (const char *src, GError **error)
{
  g_return_val_if_fail (src != NULL, NULL);
  if (g_file_test (src, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) wkp_source_entry_free);
      g_autoptr(GError) local = NULL;
      g_autoptr(GHashTable) visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (!walk_folder (src, NULL, entries, 0, visited, &local))
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_IO, "%s: %s", src, local->message);
          return NULL;
        }
      if (entries->len == 0)
        {
          g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_NOT_FOUND, "%s: no video files found", src);
          return NULL;
        }
      make_names_unique (entries);
      return g_steal_pointer (&entries);
    }
  if (!g_file_test (src, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, WKP_DATASET_ERROR, WKP_ERROR_NOT_FOUND, "%s: no such file or folder", src);
      return NULL;
    }
  return list_csv (src, error);
}

/* ------------------------------------------------------------------------ */
/* check                                                                     */

JsonNode *
wkp_dataset_check_json (const WkpDataset *ds, GPtrArray *damage)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_return_val_if_fail (damage != NULL && damage->len == (guint) ds->n_clips, NULL);
  json_builder_begin_object (b);
  add_string (b, "dataset", ds->dir);
  json_builder_set_member_name (b, "clips");
  json_builder_begin_array (b);
  for (int i = 0; i < ds->n_clips; i++)
    {
      const WkpDatasetClip *c = &ds->clips[i].clip;
      json_builder_begin_object (b);
      add_string (b, "name", c->name);
      add_string (b, "speaker", c->speaker);
      add_string (b, "split", wkp_split_to_string (c->split));
      add_string (b, "status", wkp_clip_status_to_string (c->status));
      const char *damaged = g_ptr_array_index (damage, i);
      if (c->status == WKP_CLIP_OK)
        {
          add_int (b, "offset_frames", c->offset_frames);
          add_double (b, "confidence", c->offset_confidence);
          add_double (b, "peak_r", c->offset_peak_r);
          add_double (b, "gain", c->offset_gain);
          add_int (b, "offset_applied", c->offset_applied);
          add_double (b, "face_rate", c->face_rate);
          add_double (b, "audio_seconds", c->audio_seconds);
          add_double (b, "video_seconds", c->video_seconds);
        }
      else
        {
          json_builder_set_member_name (b, "offset_frames");
          json_builder_add_null_value (b);
          json_builder_set_member_name (b, "confidence");
          json_builder_add_null_value (b);
        }
      json_builder_set_member_name (b, "flags");
      json_builder_begin_array (b);
      if (c->status != WKP_CLIP_OK)
        json_builder_add_string_value (b, wkp_clip_status_to_string (c->status));
      if (damaged)
        json_builder_add_string_value (b, "damaged");
      for (guint k = 0; k < G_N_ELEMENTS (flag_names); k++)
        if (c->flags & (1u << k))
          json_builder_add_string_value (b, flag_names[k]);
      json_builder_end_array (b);
      if (c->error)
        add_string (b, "error", c->error);
      else if (damaged)
        add_string (b, "error", damaged);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

GPtrArray *
wkp_dataset_verify_all (const WkpDataset *ds, int *n_damaged)
{
  GPtrArray *damage = g_ptr_array_new_full (ds->n_clips, g_free);
  int n = 0;
  for (int i = 0; i < ds->n_clips; i++)
    {
      g_autoptr(GError) error = NULL;
      if (ds->clips[i].clip.status == WKP_CLIP_OK && !wkp_dataset_clip_verify (ds, i, &error))
        {
          g_ptr_array_add (damage, g_strdup (error->message));
          n++;
        }
      else
        g_ptr_array_add (damage, NULL);
    }
  if (n_damaged != NULL)
    *n_damaged = n;
  return damage;
}

/* ------------------------------------------------------------------------ */

void
wkp_dataset_normalize_track (const float *pixels, gint64 n, float *normalized, float *transform,
                             gint64 *n_face)
{
  gint64 found = 0;
  for (gint64 t = 0; t < n; t++)
    {
      const float *p = pixels + t * WKP_N_LANDMARKS * 2;
      float *o = normalized + t * WKP_N_LANDMARKS * 2;
      float *tr = transform + t * 4;
      WkpSimilarity sim;
      gboolean ok = TRUE;
      for (int k = 0; k < WKP_N_LANDMARKS * 2 && ok; k++)
        ok = isfinite (p[k]);
      if (ok)
        ok = wkp_face_normalize (p, o, &sim, NULL);
      if (ok)
        {
          tr[0] = (float) sim.a, tr[1] = (float) sim.b, tr[2] = (float) sim.tx, tr[3] = (float) sim.ty;
          found++;
        }
      else
        {
          for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
            o[k] = NAN;
          for (int k = 0; k < 4; k++)
            tr[k] = NAN;
        }
    }
  if (n_face)
    *n_face = found;
}
