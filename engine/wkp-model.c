/* wkp-model.c: the self-describing model file and prediction.
 *
 * File layout (little-endian):
 *   0   "WKPMODEL"                8 bytes
 *   8   u32 format version        (WKP_MODEL_FORMAT_VERSION)
 *   12  u32 header length N
 *   16  header JSON, N bytes:
 *         { "format": "wav2kp-model",
 *           "metadata": { features, fps {num, den}, context, delay, per_clip_norm,
 *                         points [..], n_components, lstm {input_size, hidden_size,
 *                         num_layers, bidirectional, output_size}, training, metrics,
 *                         software },
 *           "tensors": [ { name, dtype "float32", shape [..], offset, nbytes }, ... ] }
 *   zero padding up to a multiple of 64: the data section starts there;
 *   tensor offsets are relative to it and multiples of 64.
 * Tensor names: feature_mean [dim], feature_std [dim], mean_face [68, 2],
 * pca.mean [2P], pca.basis [K, 2P], pca.scale [K], lstm.weight_ih_l{k}[_reverse]
 * [4H, in], lstm.weight_hh_l{k} [4H, H], lstm.bias_ih_l{k} [4H],
 * lstm.bias_hh_l{k} [4H], head.weight [K, H*dirs], head.bias [K].
 */
#include "wkp-model.h"
#include "wkp-io.h"
#include "wkp-config.h"

#include <math.h>
#include <string.h>

#define HEADER_MAX (64 * 1024 * 1024)
#define ALIGN 64
#define FIXED_HEADER 16

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "the model file reader assumes a little-endian host"
#endif

/* --- tensor table ------------------------------------------------------------- */

typedef WkpModelTensor Spec;

static void
spec_clear (gpointer p)
{
  g_free (((Spec *) p)->name);
}

static void
add_spec (GArray *a, char *name, int ndim, gint64 d0, gint64 d1, float **slot)
{
  Spec s = { name, ndim, { d0, d1 }, slot };
  g_array_append_val (a, s);
}

int
wkp_model_n_members (const WkpModel *model)
{
  g_return_val_if_fail (model != NULL, 0);
  return MAX (model->n_members, 1);
}

/* the speakers of one split ("train", "val") of a network's training
 * metadata, or of every member of an "ensemble" (nested ensembles too) */
static void
collect_speakers (JsonNode *training, const char *split, GPtrArray *out, int depth)
{
  JsonObject *o;
  JsonNode *n;
  if (training == NULL || !JSON_NODE_HOLDS_OBJECT (training) || depth > 8)
    return;
  o = json_node_get_object (training);
  if ((n = json_object_get_member (o, "ensemble")) != NULL && JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_OBJECT (e))
            collect_speakers (json_object_get_member (json_node_get_object (e), "training"), split, out, depth + 1);
        }
      return;
    }
  if ((n = json_object_get_member (o, split)) != NULL && JSON_NODE_HOLDS_OBJECT (n)
      && (n = json_object_get_member (json_node_get_object (n), "speakers")) != NULL && JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *spk = json_node_get_string (json_array_get_element (a, i));
          if (spk != NULL && !g_ptr_array_find_with_equal_func (out, spk, g_str_equal, NULL))
            g_ptr_array_add (out, g_strdup (spk));
        }
    }
}

char **
wkp_model_speakers (const WkpModel *model, const char *split)
{
  GPtrArray *out;
  g_return_val_if_fail (model != NULL && split != NULL, NULL);
  out = g_ptr_array_new ();
  collect_speakers (model->training, split, out, 0);
  if (out->len == 0)
    {
      g_ptr_array_free (out, TRUE);
      return NULL;
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

const WkpLstm *
wkp_model_member (const WkpModel *model, int k)
{
  g_return_val_if_fail (model != NULL && k >= 0 && k < wkp_model_n_members (model), NULL);
  return k == 0 ? model->lstm : model->extra[k - 1];
}

static WkpLstm *
member_rw (WkpModel *m, int k)
{
  return k == 0 ? m->lstm : m->extra[k - 1];
}

int
wkp_model_feature_dim (const WkpModel *model)
{
  return wkp_feature_config_dim (&model->features);
}

/* Every tensor the model has, with its expected shape (from the metadata). */
static GArray *
model_specs (WkpModel *m)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (Spec));
  WkpLstm *l = m->lstm;
  gint64 dim = wkp_model_feature_dim (m), P2 = 2 * (gint64) m->n_points, K = m->n_components;
  gint64 H = l->hidden_size;
  int dirs = l->bidirectional ? 2 : 1;

  g_array_set_clear_func (a, spec_clear);
  add_spec (a, g_strdup ("feature_mean"), 1, dim, 0, &m->feature_mean);
  add_spec (a, g_strdup ("feature_std"), 1, dim, 0, &m->feature_std);
  add_spec (a, g_strdup ("mean_face"), 2, WKP_N_LANDMARKS, 2, &m->mean_face);
  add_spec (a, g_strdup ("pca.mean"), 1, P2, 0, &m->pca_mean);
  add_spec (a, g_strdup ("pca.basis"), 2, K, P2, &m->pca_basis);
  add_spec (a, g_strdup ("pca.scale"), 1, K, 0, &m->pca_scale);
  for (int e = 0; e < wkp_model_n_members (m); e++)
    {
      WkpLstm *me = member_rw (m, e);
      g_autofree char *pre = e == 0 ? g_strdup ("") : g_strdup_printf ("member%d.", e);
      if (me == NULL)
        continue;
      for (int k = 0; k < l->num_layers; k++)
        for (int d = 0; d < dirs; d++)
          {
            g_autofree char *ih = wkp_lstm_tensor_name ("weight_ih", k, d);
            g_autofree char *hh = wkp_lstm_tensor_name ("weight_hh", k, d);
            g_autofree char *bi = wkp_lstm_tensor_name ("bias_ih", k, d);
            g_autofree char *bh = wkp_lstm_tensor_name ("bias_hh", k, d);
            add_spec (a, g_strconcat (pre, ih, NULL), 2, 4 * H, wkp_lstm_layer_input (l, k), &me->w_ih[k][d]);
            add_spec (a, g_strconcat (pre, hh, NULL), 2, 4 * H, H, &me->w_hh[k][d]);
            add_spec (a, g_strconcat (pre, bi, NULL), 1, 4 * H, 0, &me->b_ih[k][d]);
            add_spec (a, g_strconcat (pre, bh, NULL), 1, 4 * H, 0, &me->b_hh[k][d]);
          }
      add_spec (a, g_strconcat (pre, "head.weight", NULL), 2, l->output_size, H * dirs, &me->head_w);
      add_spec (a, g_strconcat (pre, "head.bias", NULL), 1, l->output_size, 0, &me->head_b);
    }
  return a;
}

static gint64
spec_count (const Spec *s)
{
  return s->ndim == 1 ? s->shape[0] : s->shape[0] * s->shape[1];
}

/* --- construction --------------------------------------------------------------- */

WkpModel *
wkp_model_new (const WkpFeatureConfig *features, WkpRational fps, int context, int delay,
               gboolean per_clip_norm, int n_points, const int *points, int n_components,
               int hidden_size, int num_layers, gboolean bidirectional)
{
  WkpModel *m;
  int dim;
  g_autoptr(GArray) specs = NULL;

  g_return_val_if_fail (features != NULL, NULL);
  g_return_val_if_fail (n_points >= 1 && n_points <= WKP_N_LANDMARKS, NULL);
  g_return_val_if_fail (n_components >= 1 && context >= 0 && delay >= 0, NULL);
  dim = wkp_feature_config_dim (features);
  g_return_val_if_fail (dim > 0, NULL);

  m = g_new0 (WkpModel, 1);
  m->features = *features;
  m->fps = fps;
  m->context = context;
  m->delay = delay;
  m->per_clip_norm = per_clip_norm ? TRUE : FALSE;
  m->n_points = n_points;
  m->point_index = g_new (int, n_points);
  for (int i = 0; i < n_points; i++)
    m->point_index[i] = points != NULL ? points[i] : i;
  m->n_components = n_components;
  m->lstm = wkp_lstm_new (dim * (2 * context + 1), hidden_size, num_layers, bidirectional, n_components);

  /* non-LSTM arrays, owned */
  specs = model_specs (m);
  for (guint i = 0; i < specs->len; i++)
    {
      Spec *s = &g_array_index (specs, Spec, i);
      if (*s->slot == NULL)
        *s->slot = g_new0 (float, spec_count (s));
    }
  for (int i = 0; i < dim; i++)
    m->feature_std[i] = 1.0f;
  memcpy (m->mean_face, wkp_face_canonical (), sizeof (float) * 2 * WKP_N_LANDMARKS);
  for (int k = 0; k < n_components; k++)
    {
      m->pca_scale[k] = 1.0f;
      if (k < 2 * n_points)
        m->pca_basis[(gsize) k * 2 * n_points + k] = 1.0f;
    }
  return m;
}

void
wkp_model_free (WkpModel *m)
{
  if (m == NULL)
    return;
  if (m->map == NULL)
    {
      g_free (m->feature_mean);
      g_free (m->feature_std);
      g_free (m->mean_face);
      g_free (m->pca_mean);
      g_free (m->pca_basis);
      g_free (m->pca_scale);
    }
  g_free (m->point_index);
  wkp_lstm_free (m->lstm);
  for (int k = 0; k < WKP_MODEL_MAX_MEMBERS - 1; k++)
    wkp_lstm_free (m->extra[k]);
  g_clear_pointer (&m->training, json_node_unref);
  g_clear_pointer (&m->metrics, json_node_unref);
  g_clear_pointer (&m->map, g_mapped_file_unref);
  g_free (m);
}

/* --- validation -------------------------------------------------------------------- */


static gboolean
check_finite (const float *a, gint64 n, const char *file, const char *tensor, GError **error)
{
  for (gint64 i = 0; i < n; i++)
    if (!isfinite (a[i]))
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                     "%s: tensor %s has a non-finite value (%s) at element %" G_GINT64_FORMAT,
                     file, tensor, isnan (a[i]) ? "NaN" : "Inf", i);
        return FALSE;
      }
    else if (fabsf (a[i]) > WKP_MODEL_MAX_ABS_VALUE)
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                     "%s: tensor %s has an absurd value (%g) at element %" G_GINT64_FORMAT, file, tensor,
                     (double) a[i], i);
        return FALSE;
      }
  return TRUE;
}

gboolean
wkp_model_validate (const WkpModel *model, const char *name, GError **error)
{
  WkpModel *m = (WkpModel *) model;
  g_autoptr(GError) local = NULL;
  g_autoptr(GArray) specs = NULL;
  gboolean seen[WKP_N_LANDMARKS] = { FALSE };
  int dim;

  if (name == NULL)
    name = "model";
  if (!wkp_feature_config_validate (&m->features, &local))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: feature config: %s", name, local->message);
      return FALSE;
    }
  dim = wkp_feature_config_dim (&m->features);
  if (!wkp_rational_is_frame_rate (m->fps))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: invalid frame rate %d/%d (1 to 1000 fps)", name,
                   m->fps.num, m->fps.den);
      return FALSE;
    }
  if (m->context < 0 || m->context > 1000 || m->delay < 0 || m->delay > 100000)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: context %d / delay %d out of range", name,
                   m->context, m->delay);
      return FALSE;
    }
  if (!(m->level_gain >= 0.0 && m->level_gain <= WKP_MODEL_LEVEL_GAIN_MAX))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: level gain %.17g out of range [0, %g]", name,
                   m->level_gain, WKP_MODEL_LEVEL_GAIN_MAX);
      return FALSE;
    }
  if (m->n_points < 1 || m->n_points > WKP_N_LANDMARKS || m->point_index == NULL)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: %d predicted points (1..68 expected)", name,
                   m->n_points);
      return FALSE;
    }
  for (int i = 0; i < m->n_points; i++)
    {
      int p = m->point_index[i];
      if (p < 0 || p >= WKP_N_LANDMARKS || seen[p])
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: landmark index %d is out of range or repeated", name, p);
          return FALSE;
        }
      seen[p] = TRUE;
    }
  if (m->n_components < 1 || m->n_components > 2 * m->n_points)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: %d PCA components for %d points (1..%d expected)", name, m->n_components,
                   m->n_points, 2 * m->n_points);
      return FALSE;
    }
  if (m->lstm == NULL || m->lstm->num_layers < 1 || m->lstm->num_layers > WKP_LSTM_MAX_LAYERS ||
      m->lstm->hidden_size < 1 || m->lstm->hidden_size > 65536)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: invalid LSTM dimensions", name);
      return FALSE;
    }
  if ((gint64) m->lstm->input_size != (gint64) dim * (2 * m->context + 1))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                   "%s: LSTM input size %d does not match %d feature columns x %d context frames", name,
                   m->lstm->input_size, dim, 2 * m->context + 1);
      return FALSE;
    }
  if (m->lstm->output_size != m->n_components)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                   "%s: LSTM head has %d outputs but the PCA has %d components", name,
                   m->lstm->output_size, m->n_components);
      return FALSE;
    }
  if (m->n_members < 0 || m->n_members > WKP_MODEL_MAX_MEMBERS)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: %d ensemble members (1..%d allowed)", name,
                   m->n_members, WKP_MODEL_MAX_MEMBERS);
      return FALSE;
    }
  for (int k = 1; k < wkp_model_n_members (m); k++)
    {
      const WkpLstm *e = m->extra[k - 1];
      if (e == NULL || e->input_size != m->lstm->input_size || e->hidden_size != m->lstm->hidden_size ||
          e->num_layers != m->lstm->num_layers || e->bidirectional != m->lstm->bidirectional ||
          e->output_size != m->lstm->output_size)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                       "%s: ensemble member %d does not have the shape of member 0", name, k);
          return FALSE;
        }
    }
  specs = model_specs (m);
  for (guint i = 0; i < specs->len; i++)
    {
      Spec *s = &g_array_index (specs, Spec, i);
      if (*s->slot == NULL)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s is missing", name, s->name);
          return FALSE;
        }
      if (!check_finite (*s->slot, spec_count (s), name, s->name, error))
        return FALSE;
    }
  for (int i = 0; i < dim; i++)
    if (!(m->feature_std[i] > 0))
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                     "%s: feature_std[%d] is %g (must be > 0)", name, i, m->feature_std[i]);
        return FALSE;
      }
  return TRUE;
}

/* --- metadata JSON --------------------------------------------------------------- */

GArray *
wkp_model_tensors (WkpModel *model)
{
  g_return_val_if_fail (model != NULL && model->lstm != NULL, NULL);
  return model_specs (model);
}

static JsonNode *
metadata_to_json (const WkpModel *m)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "features");
  json_builder_add_value (b, wkp_feature_config_to_json (&m->features));
  json_builder_set_member_name (b, "fps");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "num");
  json_builder_add_int_value (b, m->fps.num);
  json_builder_set_member_name (b, "den");
  json_builder_add_int_value (b, m->fps.den);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "context");
  json_builder_add_int_value (b, m->context);
  json_builder_set_member_name (b, "delay");
  json_builder_add_int_value (b, m->delay);
  json_builder_set_member_name (b, "per_clip_norm");
  json_builder_add_boolean_value (b, m->per_clip_norm);
  if (m->level_gain != 0.0)
    {
      json_builder_set_member_name (b, "level_gain");
      json_builder_add_double_value (b, m->level_gain);
    }
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (int i = 0; i < m->n_points; i++)
    json_builder_add_int_value (b, m->point_index[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "n_components");
  json_builder_add_int_value (b, m->n_components);
  json_builder_set_member_name (b, "lstm");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input_size");
  json_builder_add_int_value (b, m->lstm->input_size);
  json_builder_set_member_name (b, "hidden_size");
  json_builder_add_int_value (b, m->lstm->hidden_size);
  json_builder_set_member_name (b, "num_layers");
  json_builder_add_int_value (b, m->lstm->num_layers);
  json_builder_set_member_name (b, "bidirectional");
  json_builder_add_boolean_value (b, m->lstm->bidirectional);
  json_builder_set_member_name (b, "output_size");
  json_builder_add_int_value (b, m->lstm->output_size);
  json_builder_end_object (b);
  if (wkp_model_n_members (m) > 1)
    {
      json_builder_set_member_name (b, "members");
      json_builder_add_int_value (b, wkp_model_n_members (m));
    }
  json_builder_set_member_name (b, "training");
  if (m->training != NULL)
    json_builder_add_value (b, json_node_copy (m->training));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "metrics");
  if (m->metrics != NULL)
    json_builder_add_value (b, json_node_copy (m->metrics));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "software");
  json_builder_add_string_value (b, "wav2kp " WKP_VERSION);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
get_int (JsonObject *o, const char *key, gint64 lo, gint64 hi, gint64 *out, const char *file, GError **error)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header field “%s” is missing or not an integer",
                   file, key);
      return FALSE;
    }
  *out = json_node_get_int (n);
  if (*out < lo || *out > hi)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: header field “%s” = %" G_GINT64_FORMAT " is out of range [%" G_GINT64_FORMAT
                   ", %" G_GINT64_FORMAT "]", file, key, *out, lo, hi);
      return FALSE;
    }
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const char *key, gboolean *out, const char *file, GError **error)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header field “%s” is missing or not a boolean",
                   file, key);
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* optional number, default 0; the range is checked by wkp_model_validate() */
static gboolean
get_level_gain (JsonObject *o, double *out, const char *file, GError **error)
{
  JsonNode *n = json_object_get_member (o, "level_gain");
  *out = 0.0;
  if (n == NULL)
    return TRUE;
  if (!wkp_json_node_is_number (n))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header field “level_gain” is not a number", file);
      return FALSE;
    }
  *out = wkp_json_node_get_number (n);
  return TRUE;
}

static JsonObject *
get_object (JsonObject *o, const char *key, const char *file, GError **error)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header field “%s” is missing or not an object",
                   file, key);
      return NULL;
    }
  return json_node_get_object (n);
}

/* Builds a model (no tensors yet) from the metadata object. The LSTM struct
 * has no weights and owns_weights FALSE. */
static WkpModel *
model_from_metadata (JsonObject *meta, const char *file, GError **error)
{
  g_autoptr(WkpModel) m = g_new0 (WkpModel, 1);
  g_autoptr(GError) local = NULL;
  JsonObject *fps, *lo;
  JsonNode *feat, *pts;
  gint64 v, in, hid, layers, out;
  gboolean bidir;

  feat = json_object_get_member (meta, "features");
  if (feat == NULL || !wkp_feature_config_from_json (feat, &m->features, &local))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: feature config: %s", file,
                   local != NULL ? local->message : "missing");
      return NULL;
    }
  if ((fps = get_object (meta, "fps", file, error)) == NULL ||
      !get_int (fps, "num", 1, G_MAXINT32, &v, file, error))
    return NULL;
  m->fps.num = (gint32) v;
  if (!get_int (fps, "den", 1, G_MAXINT32, &v, file, error))
    return NULL;
  m->fps.den = (gint32) v;
  if (!get_int (meta, "context", 0, 1000, &v, file, error))
    return NULL;
  m->context = (int) v;
  if (!get_int (meta, "delay", 0, 100000, &v, file, error))
    return NULL;
  m->delay = (int) v;
  if (!get_bool (meta, "per_clip_norm", &m->per_clip_norm, file, error))
    return NULL;
  if (!get_level_gain (meta, &m->level_gain, file, error))
    return NULL;
  pts = json_object_get_member (meta, "points");
  if (pts == NULL || !JSON_NODE_HOLDS_ARRAY (pts) ||
      json_array_get_length (json_node_get_array (pts)) < 1 ||
      json_array_get_length (json_node_get_array (pts)) > WKP_N_LANDMARKS)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header field “points” must list 1..68 indices",
                   file);
      return NULL;
    }
  {
    JsonArray *a = json_node_get_array (pts);
    m->n_points = (int) json_array_get_length (a);
    m->point_index = g_new (int, m->n_points);
    for (int i = 0; i < m->n_points; i++)
      {
        JsonNode *e = json_array_get_element (a, i);
        if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64 ||
            json_node_get_int (e) < 0 || json_node_get_int (e) >= WKP_N_LANDMARKS)
          {
            g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                         "%s: header field “points” has an entry that is not a landmark index 0..67", file);
            return NULL;
          }
        m->point_index[i] = (int) json_node_get_int (e);
      }
  }
  if (!get_int (meta, "n_components", 1, 2 * WKP_N_LANDMARKS, &v, file, error))
    return NULL;
  m->n_components = (int) v;
  if ((lo = get_object (meta, "lstm", file, error)) == NULL ||
      !get_int (lo, "input_size", 1, 1 << 24, &in, file, error) ||
      !get_int (lo, "hidden_size", 1, 65536, &hid, file, error) ||
      !get_int (lo, "num_layers", 1, WKP_LSTM_MAX_LAYERS, &layers, file, error) ||
      !get_bool (lo, "bidirectional", &bidir, file, error) ||
      !get_int (lo, "output_size", 1, 2 * WKP_N_LANDMARKS, &out, file, error))
    return NULL;
  m->lstm = g_new0 (WkpLstm, 1);
  m->lstm->input_size = (int) in;
  m->lstm->hidden_size = (int) hid;
  m->lstm->num_layers = (int) layers;
  m->lstm->bidirectional = bidir;
  m->lstm->output_size = (int) out;
  m->lstm->owns_weights = FALSE;
  if (json_object_has_member (meta, "members"))
    {
      if (!get_int (meta, "members", 1, WKP_MODEL_MAX_MEMBERS, &v, file, error))
        return NULL;
      m->n_members = (int) v;
      for (int k = 1; k < m->n_members; k++)
        {
          m->extra[k - 1] = g_new0 (WkpLstm, 1);
          *m->extra[k - 1] = *m->lstm;   /* sizes; weights come from the tensor table */
        }
    }
  {
    JsonNode *t = json_object_get_member (meta, "training");
    JsonNode *r = json_object_get_member (meta, "metrics");
    if (t != NULL && !JSON_NODE_HOLDS_NULL (t))
      m->training = json_node_copy (t);
    if (r != NULL && !JSON_NODE_HOLDS_NULL (r))
      m->metrics = json_node_copy (r);
  }
  /* cheap consistency before any tensor is looked at */
  if (in != (gint64) wkp_feature_config_dim (&m->features) * (2 * m->context + 1) || out != m->n_components)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                   "%s: LSTM sizes (input %" G_GINT64_FORMAT ", output %" G_GINT64_FORMAT
                   ") do not match the features (%d columns, context %d) and PCA (%d components)",
                   file, in, out, wkp_feature_config_dim (&m->features), m->context, m->n_components);
      return NULL;
    }
  return g_steal_pointer (&m);
}

/* --- save ----------------------------------------------------------------------------- */

static gsize
align_up (gsize v)
{
  return (v + ALIGN - 1) / ALIGN * ALIGN;
}

gboolean
wkp_model_save (const WkpModel *model, const char *path, GError **error)
{
  WkpModel *m = (WkpModel *) model;
  g_autoptr(GArray) specs = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *header = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize header_len, data_start, total, offset = 0;
  guint8 *buf;
  guint32 u;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);
  if (!wkp_model_validate (model, path, error))
    return FALSE;
  specs = model_specs (m);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "wav2kp-model");
  json_builder_set_member_name (b, "metadata");
  json_builder_add_value (b, metadata_to_json (m));
  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (guint i = 0; i < specs->len; i++)
    {
      Spec *s = &g_array_index (specs, Spec, i);
      gsize nbytes = (gsize) spec_count (s) * sizeof (float);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, s->name);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, "float32");
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < s->ndim; d++)
        json_builder_add_int_value (b, s->shape[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "offset");
      json_builder_add_int_value (b, (gint64) offset);
      json_builder_set_member_name (b, "nbytes");
      json_builder_add_int_value (b, (gint64) nbytes);
      json_builder_end_object (b);
      offset = align_up (offset + nbytes);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  header = wkp_json_to_string (root, TRUE);
  header_len = strlen (header);
  data_start = align_up (FIXED_HEADER + header_len);
  total = data_start + offset;

  buf = g_malloc0 (total);
  memcpy (buf, WKP_MODEL_MAGIC, 8);
  u = GUINT32_TO_LE (WKP_MODEL_FORMAT_VERSION);
  memcpy (buf + 8, &u, 4);
  u = GUINT32_TO_LE ((guint32) header_len);
  memcpy (buf + 12, &u, 4);
  memcpy (buf + FIXED_HEADER, header, header_len);
  offset = 0;
  for (guint i = 0; i < specs->len; i++)
    {
      Spec *s = &g_array_index (specs, Spec, i);
      gsize nbytes = (gsize) spec_count (s) * sizeof (float);
      memcpy (buf + data_start + offset, *s->slot, nbytes);
      offset = align_up (offset + nbytes);
    }
  bytes = g_bytes_new_take (buf, total);
  return wkp_write_file_atomic (path, bytes, error);
}

/* --- load ------------------------------------------------------------------------------ */

WkpModel *
wkp_model_load (const char *path, GError **error)
{
  g_autoptr(GMappedFile) map = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(WkpModel) m = NULL;
  g_autoptr(GArray) specs = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const guint8 *data;
  gsize size, data_start, data_size;
  guint32 version, header_len;
  JsonNode *root;
  JsonObject *obj, *meta;
  JsonNode *tensors_node, *fmt;
  JsonArray *tensors;

  g_return_val_if_fail (path != NULL, NULL);
  if (!wkp_check_input_file (path, WKP_MODEL_ERROR, error))
    return NULL;
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      wkp_set_file_error (error, WKP_MODEL_ERROR, path, local);
      return NULL;
    }
  wkp_io_note_input (path);
  data = (const guint8 *) g_mapped_file_get_contents (map);
  size = g_mapped_file_get_length (map);
  if (size < FIXED_HEADER || data == NULL)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: not a wav2kp model (file is %" G_GSIZE_FORMAT " bytes, truncated)", path, size);
      return NULL;
    }
  if (memcmp (data, "WKPTCKPT", 8) == 0)
    {
      /* (train's checkpoint: "bad magic" did not say what it is) */
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: a training checkpoint, not a model (train --resume reads it; give the model, MODEL.wkpm)", path);
      return NULL;
    }
  if (memcmp (data, WKP_MODEL_MAGIC, 8) != 0)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: not a wav2kp model (bad magic; expected “%s”)", path, WKP_MODEL_MAGIC);
      return NULL;
    }
  memcpy (&version, data + 8, 4);
  memcpy (&header_len, data + 12, 4);
  version = GUINT32_FROM_LE (version);
  header_len = GUINT32_FROM_LE (header_len);
  if (version != WKP_MODEL_FORMAT_VERSION)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED,
                   "%s: model format version %u is not supported by this build (it reads version %d)%s",
                   path, version, WKP_MODEL_FORMAT_VERSION,
                   version > WKP_MODEL_FORMAT_VERSION ? "; the file was written by a newer wav2kp" : "");
      return NULL;
    }
  if (header_len > HEADER_MAX || header_len > size - FIXED_HEADER)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: header length %u runs past the end of the file (%" G_GSIZE_FORMAT " bytes): truncated?",
                   path, header_len, size);
      return NULL;
    }
  if (!wkp_json_parser_load (parser, (const char *) data + FIXED_HEADER, header_len, &local))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: malformed header JSON: %s", path,
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header is not a JSON object", path);
      return NULL;
    }
  obj = json_node_get_object (root);
  fmt = json_object_get_member (obj, "format");
  if (fmt == NULL || !JSON_NODE_HOLDS_VALUE (fmt) || json_node_get_value_type (fmt) != G_TYPE_STRING ||
      g_strcmp0 (json_node_get_string (fmt), "wav2kp-model") != 0)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header format is not “wav2kp-model”", path);
      return NULL;
    }
  if ((meta = get_object (obj, "metadata", path, error)) == NULL)
    return NULL;
  tensors_node = json_object_get_member (obj, "tensors");
  if (tensors_node == NULL || !JSON_NODE_HOLDS_ARRAY (tensors_node))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: header has no tensor table", path);
      return NULL;
    }
  tensors = json_node_get_array (tensors_node);
  data_start = align_up (FIXED_HEADER + (gsize) header_len);
  if (data_start > size)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: truncated after the header", path);
      return NULL;
    }
  data_size = size - data_start;

  if ((m = model_from_metadata (meta, path, error)) == NULL)
    return NULL;
  m->map = g_steal_pointer (&map);   /* from here on arrays point into the mapping */

  /* the tensor table: every entry checked before any pointer is formed */
  specs = model_specs (m);
  g_autoptr(GArray) used = g_array_new (FALSE, FALSE, sizeof (WkpExtent));
  for (guint i = 0; i < json_array_get_length (tensors); i++)
    {
      JsonNode *tn = json_array_get_element (tensors, i);
      JsonObject *t;
      JsonNode *name_n, *dtype_n, *shape_n;
      JsonArray *shape;
      const char *name;
      gint64 offset, nbytes, count = 1, dims[4];
      guint ndim;
      Spec *spec = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (tn))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor table entry %u is not an object",
                       path, i);
          return NULL;
        }
      t = json_node_get_object (tn);
      name_n = json_object_get_member (t, "name");
      dtype_n = json_object_get_member (t, "dtype");
      shape_n = json_object_get_member (t, "shape");
      if (name_n == NULL || json_node_get_value_type (name_n) != G_TYPE_STRING || dtype_n == NULL ||
          json_node_get_value_type (dtype_n) != G_TYPE_STRING || shape_n == NULL ||
          !JSON_NODE_HOLDS_ARRAY (shape_n))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: tensor table entry %u lacks a name, dtype or shape", path, i);
          return NULL;
        }
      name = json_node_get_string (name_n);
      if (g_strcmp0 (json_node_get_string (dtype_n), "float32") != 0)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED, "%s: tensor %s has dtype %s (float32 expected)",
                       path, name, json_node_get_string (dtype_n));
          return NULL;
        }
      if (g_hash_table_contains (seen, name))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s appears twice", path, name);
          return NULL;
        }
      g_hash_table_add (seen, (gpointer) name);
      shape = json_node_get_array (shape_n);
      ndim = json_array_get_length (shape);
      if (ndim > 4)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s has %u dimensions", path, name, ndim);
          return NULL;
        }
      for (guint d = 0; d < ndim; d++)
        {
          JsonNode *e = json_array_get_element (shape, d);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64 ||
              json_node_get_int (e) < 0 || json_node_get_int (e) > (G_GINT64_CONSTANT (1) << 32))
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s has an invalid shape", path, name);
              return NULL;
            }
          dims[d] = json_node_get_int (e);
          if (dims[d] != 0 && count > G_MAXINT64 / 8 / dims[d])
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s is too large", path, name);
              return NULL;
            }
          count *= dims[d];
        }
      if (!get_int (t, "offset", 0, G_MAXINT64, &offset, path, error) ||
          !get_int (t, "nbytes", 0, G_MAXINT64, &nbytes, path, error))
        return NULL;
      if (nbytes != count * (gint64) sizeof (float))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: tensor %s: nbytes %" G_GINT64_FORMAT " does not match its shape (%" G_GINT64_FORMAT
                       " floats)", path, name, nbytes, count);
          return NULL;
        }
      if (offset % ALIGN != 0)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: tensor %s is not aligned to %d bytes (offset %" G_GINT64_FORMAT ")", path, name, ALIGN,
                       offset);
          return NULL;
        }
      if ((guint64) offset > data_size || (guint64) nbytes > data_size - (guint64) offset)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: tensor %s (bytes %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ") runs past the end of the "
                       "file (%" G_GSIZE_FORMAT " data bytes): truncated?", path, name, offset, offset + nbytes,
                       data_size);
          return NULL;
        }
      for (guint k = 0; k < specs->len; k++)
        if (strcmp (g_array_index (specs, Spec, k).name, name) == 0)
          spec = &g_array_index (specs, Spec, k);
      /* a network the header does not count: its weights would be dropped
       * without a word (a 4-network file whose header said 3 predicted with 3) */
      if (spec == NULL && g_str_has_prefix (name, "member"))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: tensor %s belongs to a network beyond the %d the header counts (\"members\")", path,
                       name, wkp_model_n_members (m));
          return NULL;
        }
      if (spec == NULL)
        continue;   /* unknown extra tensors are ignored (forward compatible within a version) */
      if ((guint) spec->ndim != ndim || dims[0] != spec->shape[0] || (ndim == 2 && dims[1] != spec->shape[1]))
        {
          g_autoptr(GString) got = g_string_new ("[");
          for (guint d = 0; d < ndim; d++)
            g_string_append_printf (got, "%s%" G_GINT64_FORMAT, d ? ", " : "", dims[d]);
          g_string_append_c (got, ']');
          if (spec->ndim == 1)
            g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                         "%s: tensor %s has shape %s, expected [%" G_GINT64_FORMAT "]", path, name, got->str,
                         spec->shape[0]);
          else
            g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                         "%s: tensor %s has shape %s, expected [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", path,
                         name, got->str, spec->shape[0], spec->shape[1]);
          return NULL;
        }
      if (*spec->slot != NULL)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s appears twice in the table", path,
                       name);
          return NULL;
        }
      *spec->slot = (float *) (data + data_start + offset);
      if (nbytes > 0)
        g_array_append_val (used, ((WkpExtent) { offset, offset + nbytes, name }));
    }
  /* two tensors sharing bytes would each read the other's weights */
  {
    const WkpExtent *a = NULL, *b = wkp_extents_find_overlap (used, &a);
    if (b != NULL)
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensors %s and %s overlap in the file", path,
                     a->name, b->name);
        return NULL;
      }
  }
  for (guint k = 0; k < specs->len; k++)
    if (*g_array_index (specs, Spec, k).slot == NULL)
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s is missing", path,
                     g_array_index (specs, Spec, k).name);
        return NULL;
      }
  if (!wkp_model_validate (m, path, error))
    return NULL;
  return g_steal_pointer (&m);
}

JsonNode *
wkp_model_metadata (const WkpModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return metadata_to_json (model);
}

/* --- ensembles ------------------------------------------------------------------------- */

/* Tensors of a network (each member's own); the others (normalisation,
 * mean face, PCA) are shared by an ensemble's members. */
static gboolean
is_network_tensor (const char *name)
{
  return g_str_has_prefix (name, "lstm.") || g_str_has_prefix (name, "head.") || g_str_has_prefix (name, "member");
}

/* The metadata two members must share (everything but the description). */
static JsonNode *
comparable_metadata (const WkpModel *m)
{
  JsonNode *node = metadata_to_json (m);
  JsonObject *o = json_node_get_object (node);
  const char *drop[] = { "training", "metrics", "members", "software" };
  for (guint i = 0; i < G_N_ELEMENTS (drop); i++)
    if (json_object_has_member (o, drop[i]))
      json_object_remove_member (o, drop[i]);
  return node;
}

static void
copy_lstm_weights (WkpLstm *dst, const WkpLstm *src)
{
  gsize H = (gsize) src->hidden_size;
  int dirs = src->bidirectional ? 2 : 1;
  for (int l = 0; l < src->num_layers; l++)
    for (int d = 0; d < dirs; d++)
      {
        gsize in = (gsize) wkp_lstm_layer_input (src, l);
        memcpy (dst->w_ih[l][d], src->w_ih[l][d], sizeof (float) * 4 * H * in);
        memcpy (dst->w_hh[l][d], src->w_hh[l][d], sizeof (float) * 4 * H * H);
        memcpy (dst->b_ih[l][d], src->b_ih[l][d], sizeof (float) * 4 * H);
        memcpy (dst->b_hh[l][d], src->b_hh[l][d], sizeof (float) * 4 * H);
      }
  memcpy (dst->head_w, src->head_w, sizeof (float) * src->output_size * H * dirs);
  memcpy (dst->head_b, src->head_b, sizeof (float) * src->output_size);
}

/* The same trained network (a copied file, or one member twice): its output
 * layer and first input weights are equal bit for bit, which two training
 * runs (other seeds) never give. */
static gboolean
same_network (const WkpLstm *a, const WkpLstm *b)
{
  gsize H = (gsize) a->hidden_size;
  int dirs = a->bidirectional ? 2 : 1;
  return memcmp (a->head_w, b->head_w, sizeof (float) * a->output_size * H * dirs) == 0
         && memcmp (a->head_b, b->head_b, sizeof (float) * a->output_size) == 0
         && memcmp (a->w_ih[0][0], b->w_ih[0][0], sizeof (float) * 4 * H * (gsize) wkp_lstm_layer_input (a, 0)) == 0;
}

WkpModel *
wkp_model_ensemble (WkpModel *const *models, int n, const char *const *names, GError **error)
{
  g_autoptr(WkpModel) m = NULL;
  g_autoptr(JsonNode) ref = NULL;
  g_autoptr(GArray) ref_specs = NULL, specs = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const WkpLstm *l;
  int total = 0, e = 0;

  g_return_val_if_fail (models != NULL && names != NULL && n >= 1, NULL);
  for (int i = 0; i < n; i++)
    total += wkp_model_n_members (models[i]);
  if (total > WKP_MODEL_MAX_MEMBERS)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%d networks in all; an ensemble holds at most %d", total, WKP_MODEL_MAX_MEMBERS);
      return NULL;
    }
  ref = comparable_metadata (models[0]);
  ref_specs = model_specs (models[0]);
  for (int i = 1; i < n; i++)
    {
      g_autoptr(JsonNode) other = comparable_metadata (models[i]);
      g_autoptr(GArray) os = model_specs (models[i]);
      if (!json_node_equal (ref, other))
        {
          JsonObject *a = json_node_get_object (ref), *o = json_node_get_object (other);
          g_autoptr(GList) keys = g_list_concat (json_object_get_members (a), json_object_get_members (o));
          const char *what = "metadata";
          /* a field that differs or is in one header only (e.g. level_gain, written when set) */
          for (GList *k = keys; k != NULL; k = k->next)
            if (!json_object_has_member (a, k->data) || !json_object_has_member (o, k->data) ||
                !json_node_equal (json_object_get_member (a, k->data), json_object_get_member (o, k->data)))
              {
                what = k->data;
                break;
              }
          {
            /* with the two values (it named the field only: "lstm") */
            JsonNode *va = json_object_get_member (a, what), *vo = json_object_get_member (o, what);
            g_autofree char *ta = va != NULL ? json_to_string (va, FALSE) : g_strdup ("(none)");
            g_autofree char *to = vo != NULL ? json_to_string (vo, FALSE) : g_strdup ("(none)");
            if (strlen (ta) > 200)
              strcpy (ta + 197, "...");
            if (strlen (to) > 200)
              strcpy (to + 197, "...");
            g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                         "%s and %s differ in “%s” (%s against %s): an ensemble needs models trained with the same "
                         "data and settings (only the seed may differ)", names[0], names[i], what, ta, to);
          }
          return NULL;
        }
      /* the arrays before the networks: normalisation, mean face, PCA */
      for (guint j = 0; j < ref_specs->len; j++)
        {
          Spec *r = &g_array_index (ref_specs, Spec, j), *s = &g_array_index (os, Spec, j);
          if (is_network_tensor (r->name))
            continue;
          if (memcmp (*r->slot, *s->slot, sizeof (float) * spec_count (r)) != 0)
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                           "%s and %s differ in tensor %s: an ensemble needs models trained on the same "
                           "dataset with the same settings", names[0], names[i], r->name);
              return NULL;
            }
        }
    }

  /* a network twice would only weigh it double (the same path is refused by
   * the command; a copy of the file was not) */
  for (int i = 0; i < n; i++)
    for (int k = 0; k < wkp_model_n_members (models[i]); k++)
      for (int j = i; j < n; j++)
        for (int q = j == i ? k + 1 : 0; q < wkp_model_n_members (models[j]); q++)
          if (same_network (wkp_model_member (models[i], k), wkp_model_member (models[j], q)))
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                           "%s (network %d) and %s (network %d) are the same trained network: an ensemble "
                           "averages networks trained with different seeds", names[i], k + 1, names[j], q + 1);
              return NULL;
            }

  l = models[0]->lstm;
  m = wkp_model_new (&models[0]->features, models[0]->fps, models[0]->context, models[0]->delay,
                     models[0]->per_clip_norm, models[0]->n_points, models[0]->point_index,
                     models[0]->n_components, l->hidden_size, l->num_layers, l->bidirectional);
  m->n_members = total;
  m->level_gain = models[0]->level_gain; /* equal in all: part of the compared metadata */
  for (int k = 1; k < total; k++)
    m->extra[k - 1] = wkp_lstm_new (l->input_size, l->hidden_size, l->num_layers, l->bidirectional,
                                    l->output_size);
  specs = model_specs (m);
  for (guint j = 0; j < ref_specs->len; j++)
    {
      Spec *r = &g_array_index (ref_specs, Spec, j), *s = &g_array_index (specs, Spec, j);
      if (!is_network_tensor (r->name))
        memcpy (*s->slot, *r->slot, sizeof (float) * spec_count (r));
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ensemble");
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < wkp_model_n_members (models[i]); k++, e++)
      {
        copy_lstm_weights (member_rw (m, e), wkp_model_member (models[i], k));
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "file");
        json_builder_add_string_value (b, names[i]);
        json_builder_set_member_name (b, "training");
        if (models[i]->training != NULL)
          json_builder_add_value (b, json_node_copy (models[i]->training));
        else
          json_builder_add_null_value (b);
        json_builder_end_object (b);
      }
  json_builder_end_array (b);
  json_builder_end_object (b);
  m->training = json_builder_get_root (b);
  if (!wkp_model_validate (m, "ensemble", error))
    return NULL;
  return g_steal_pointer (&m);
}

JsonNode *
wkp_model_describe (const WkpModel *model)
{
  JsonNode *node;
  JsonObject *o;

  g_return_val_if_fail (model != NULL, NULL);
  node = metadata_to_json (model);
  o = json_node_get_object (node);
  json_object_set_int_member (o, "feature_dim", wkp_model_feature_dim (model));
  {
    gint64 n = 0;
    for (int e = 0; e < wkp_model_n_members (model); e++)
      n += (gint64) wkp_lstm_n_params (wkp_model_member (model, e));
    json_object_set_int_member (o, "n_params", n);
  }
  {
    g_autofree char *fps = wkp_rational_to_string (model->fps);
    json_object_set_string_member (o, "fps_text", fps);
  }
  return node;
}

gboolean
wkp_model_check_features (const WkpModel *model, const WkpFeatureConfig *config, GError **error)
{
  g_autofree char *diff = NULL;

  g_return_val_if_fail (model != NULL && config != NULL, FALSE);
  if (wkp_feature_config_equal (&model->features, config, "model", "features", &diff))
    return TRUE;
  g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
               "features were computed with another config than the model expects: %s",
               diff != NULL ? diff : "configs differ");
  return FALSE;
}

/* --- input pipeline ----------------------------------------------------------------------- */

static void
normalize_rows (const WkpModel *m, float *x, gint64 T, gint64 n_stats)
{
  int dim = wkp_model_feature_dim (m);

  if (T <= 0)
    return;
  n_stats = CLAMP (n_stats, 1, T);
  if (m->per_clip_norm)
    for (int j = 0; j < dim; j++)
      {
        double sum = 0, sq = 0, mean, sd;
        for (gint64 t = 0; t < n_stats; t++)
          sum += x[t * dim + j];
        mean = sum / (double) n_stats;
        for (gint64 t = 0; t < n_stats; t++)
          {
            double d = x[t * dim + j] - mean;
            sq += d * d;
          }
        sd = MAX (sqrt (sq / (double) n_stats), (double) WKP_MODEL_STD_FLOOR);
        for (gint64 t = 0; t < T; t++)
          x[t * dim + j] = (float) ((x[t * dim + j] - mean) / sd);
      }
  for (gint64 t = 0; t < T; t++)
    for (int j = 0; j < dim; j++)
      x[t * dim + j] = (x[t * dim + j] - m->feature_mean[j]) / m->feature_std[j];
}

void
wkp_model_normalize_features (const WkpModel *model, float *features, gint64 T)
{
  g_return_if_fail (model != NULL && (T == 0 || features != NULL));
  normalize_rows (model, features, T, T);
}

void
wkp_model_stack_context (const WkpModel *model, const float *x, gint64 T, gint64 n_steps, float *out)
{
  int dim, c;

  g_return_if_fail (model != NULL && T >= 1 && x != NULL && out != NULL);
  dim = wkp_model_feature_dim (model);
  c = model->context;
  for (gint64 t = 0; t < n_steps; t++)
    for (int k = -c; k <= c; k++)
      {
        gint64 src = CLAMP (t + k, 0, T - 1);
        memcpy (out + (t * (2 * c + 1) + (k + c)) * dim, x + src * dim, sizeof (float) * dim);
      }
}

void
wkp_model_reconstruct (const WkpModel *m, const float *coeffs, gint64 T, float *points)
{
  int K, P2;
  g_autofree float *w = NULL, *v = NULL;

  g_return_if_fail (m != NULL);
  K = m->n_components;
  P2 = 2 * m->n_points;
  w = g_new (float, K);
  v = g_new (float, P2);
  for (gint64 t = 0; t < T; t++)
    {
      float *p = points + t * 2 * WKP_N_LANDMARKS;
      memcpy (p, m->mean_face, sizeof (float) * 2 * WKP_N_LANDMARKS);
      for (int k = 0; k < K; k++)
        w[k] = coeffs[t * K + k] * m->pca_scale[k];
      for (int j = 0; j < P2; j++)
        {
          float acc = m->pca_mean[j];
          for (int k = 0; k < K; k++)
            acc += w[k] * m->pca_basis[(gsize) k * P2 + j];
          v[j] = acc;
        }
      for (int i = 0; i < m->n_points; i++)
        {
          p[2 * m->point_index[i]] = v[2 * i];
          p[2 * m->point_index[i] + 1] = v[2 * i + 1];
        }
    }
}

/* An ensemble's output, member by member: member @e's coefficients @y [n]
 * go into @acc (copied for the first, added after), and the sum becomes the
 * mean after the last. One network: @acc is exactly its output. @y may be
 * @acc for the first member. */
static void
average_member (float *acc, const float *y, gsize n, int e, int n_members)
{
  if (e == 0)
    {
      if (acc != y)
        memcpy (acc, y, sizeof (float) * n);
    }
  else
    for (gsize i = 0; i < n; i++)
      acc[i] += y[i];
  if (e == n_members - 1 && n_members > 1)
    for (gsize i = 0; i < n; i++)
      acc[i] /= (float) n_members;
}

/* c[t] += level_gain * (mean of c over the first n_stats frames), in double */
static void
apply_level_gain (const WkpModel *m, float *c, gint64 T, gint64 n_stats)
{
  int K = m->n_components;
  g_autofree double *mean = NULL;

  if (m->level_gain == 0.0 || T < 1)
    return;
  n_stats = CLAMP (n_stats, 1, T);
  mean = g_new0 (double, K);
  for (gint64 t = 0; t < n_stats; t++)
    for (int k = 0; k < K; k++)
      mean[k] += c[t * K + k];
  for (int k = 0; k < K; k++)
    mean[k] = m->level_gain * mean[k] / (double) n_stats;
  for (gint64 t = 0; t < T; t++)
    for (int k = 0; k < K; k++)
      c[t * K + k] = (float) (c[t * K + k] + mean[k]);
}

/* Coefficients for T frames from raw features; n_stats rows feed the per-clip
 * statistics. */
static float *
predict_coeffs (const WkpModel *m, const float *features, gint64 T, gint64 n_stats, int n_threads,
                GError **error)
{
  int dim, K;
  gint64 n_steps;
  g_autofree float *x = NULL, *y = NULL;
  float *out;

  dim = wkp_model_feature_dim (m);
  K = m->n_components;
  if (T <= 0)
    return g_new (float, 1);
  n_steps = T + m->delay;
  x = g_try_new (float, (gsize) T * dim);
  y = g_try_new (float, (gsize) n_steps * K);
  if (x == NULL || y == NULL)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_FAILED, "out of memory for %" G_GINT64_FORMAT " frames", T);
      return NULL;
    }
  memcpy (x, features, sizeof (float) * T * dim);
  normalize_rows (m, x, T, n_stats);
  /* context stacking with edge padding happens inside, without the (2c+1)x copy */
  out = g_new (float, (gsize) T * K);
  for (int e = 0; e < wkp_model_n_members (m); e++)
    {
      if (!wkp_lstm_forward_context (wkp_model_member (m, e), x, T, m->context, n_steps, y, n_threads, error))
        {
          g_free (out);
          return NULL;
        }
      average_member (out, y + (gsize) m->delay * K, (gsize) T * K, e, wkp_model_n_members (m));
    }
  apply_level_gain (m, out, T, n_stats);
  return out;
}

float *
wkp_model_predict_coeffs (const WkpModel *model, const float *features, gint64 T, int n_threads, GError **error)
{
  g_return_val_if_fail (model != NULL && T >= 0 && (T == 0 || features != NULL), NULL);
  return predict_coeffs (model, features, T, T, n_threads, error);
}

void
wkp_model_resample (const float *in, gint64 T_in, int width, WkpRational in_fps, float *out, gint64 n_out,
                    WkpRational out_fps)
{
  /* centre of output frame i in input-frame units minus 0.5:
   *   p = ((2i+1) * in_num * out_den - out_num * in_den) / (2 * out_num * in_den) */
  __int128 den = (__int128) 2 * out_fps.num * in_fps.den;

  g_return_if_fail (T_in >= 1 && wkp_rational_is_valid (in_fps) && wkp_rational_is_valid (out_fps));
  for (gint64 i = 0; i < n_out; i++)
    {
      __int128 num = (__int128) (2 * i + 1) * in_fps.num * out_fps.den - (__int128) out_fps.num * in_fps.den;
      float *o = out + i * width;
      gint64 k0;
      double frac;

      if (num <= 0)
        {
          memcpy (o, in, sizeof (float) * width);
          continue;
        }
      k0 = (gint64) (num / den);
      frac = (double) (num - (__int128) k0 * den) / (double) den;
      if (k0 >= T_in - 1)
        {
          memcpy (o, in + (T_in - 1) * width, sizeof (float) * width);
          continue;
        }
      for (int j = 0; j < width; j++)
        o[j] = (float) ((1.0 - frac) * in[k0 * width + j] + frac * in[(k0 + 1) * width + j]);
    }
}

static float *
predict_features_stats (const WkpModel *m, const float *features, gint64 T, gint64 n_stats, WkpRational fps,
                        gint64 n_frames, int n_threads, GError **error)
{
  g_autofree float *coeffs = NULL, *rs = NULL;
  float *points;
  int K = m->n_components;

  if (n_frames == 0)
    return g_new (float, 1);
  if (T < 1)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "no feature frames to predict %" G_GINT64_FORMAT
                   " frames from", n_frames);
      return NULL;
    }
  coeffs = predict_coeffs (m, features, T, n_stats, n_threads, error);
  if (coeffs == NULL)
    return NULL;
  rs = g_try_new (float, (gsize) n_frames * K);
  points = g_try_new (float, (gsize) n_frames * 2 * WKP_N_LANDMARKS);
  if (rs == NULL || points == NULL)
    {
      g_free (points);
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_FAILED, "out of memory for %" G_GINT64_FORMAT " frames",
                   n_frames);
      return NULL;
    }
  wkp_model_resample (coeffs, T, K, m->fps, rs, n_frames, fps);
  wkp_model_reconstruct (m, rs, n_frames, points);
  return points;
}

float *
wkp_model_predict_features (const WkpModel *model, const float *features, gint64 T, WkpRational fps,
                            gint64 n_frames, int n_threads, GError **error)
{
  g_return_val_if_fail (model != NULL && T >= 0 && n_frames >= 0, NULL);
  if (!wkp_rational_is_valid (fps))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "invalid frame rate %d/%d", fps.num, fps.den);
      return NULL;
    }
  return predict_features_stats (model, features, T, T, fps, n_frames, n_threads, error);
}

float *
wkp_model_predict_audio (const WkpModel *model, const float *audio, gint64 n_samples, WkpRational fps,
                         gint64 n_frames, int n_threads, GCancellable *cancellable, GError **error)
{
  gint64 T_audio, T_clip, T;
  g_autofree float *feats = NULL;
  int rate;

  g_return_val_if_fail (model != NULL && n_samples >= 0 && n_frames >= 0, NULL);
  g_return_val_if_fail (n_samples == 0 || audio != NULL, NULL);
  if (!wkp_rational_is_valid (fps))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "invalid frame rate %d/%d", fps.num, fps.den);
      return NULL;
    }
  if (wkp_check_cancelled (cancellable, error))
    return NULL;
  if (n_frames == 0)
    return g_new (float, 1);
  rate = model->features.sample_rate;
  /* internal frames: those with audio (they feed the per-clip statistics,
   * independent of the clip rate), extended to cover the clip's duration,
   * plus the frames the last of those looks at (context and delay): after the
   * audio comes silence, computed as such, never the edge padding of the
   * network's input, so that how far the clip extends (which depends on the
   * frame rate asked for) changes no frame's prediction */
  T_audio = wkp_frames_for_samples (n_samples, model->fps, rate);
  T_clip = wkp_muldiv_floor (n_frames, (gint64) model->fps.num * fps.den, (gint64) model->fps.den * fps.num) + 1;
  T = MAX (MAX (T_audio, T_clip), 1) + model->context + model->delay;
  feats = wkp_features_compute (&model->features, audio, n_samples, model->fps, T, error);
  if (feats == NULL)
    return NULL;
  if (wkp_check_cancelled (cancellable, error))
    return NULL;
  return predict_features_stats (model, feats, T, MAX (T_audio, 1), fps, n_frames, n_threads, error);
}

void
wkp_model_to_pixels (const float *canonical, gint64 n, const WkpSimilarity *tf, const gboolean *valid,
                     float *pixels)
{
  for (gint64 f = 0; f < n; f++)
    {
      const float *c = canonical + f * 2 * WKP_N_LANDMARKS;
      float *p = pixels + f * 2 * WKP_N_LANDMARKS;
      const WkpSimilarity *t = &tf[f];
      double s2 = t->a * t->a + t->b * t->b;

      if ((valid != NULL && !valid[f]) || !(s2 > 0) || !isfinite (s2))
        {
          for (int i = 0; i < 2 * WKP_N_LANDMARKS; i++)
            p[i] = NAN;
          continue;
        }
      /* invert x' = a x - b y + tx, y' = b x + a y + ty */
      for (int i = 0; i < WKP_N_LANDMARKS; i++)
        {
          double u = c[2 * i] - t->tx, v = c[2 * i + 1] - t->ty;
          p[2 * i] = (float) ((t->a * u + t->b * v) / s2);
          p[2 * i + 1] = (float) ((-t->b * u + t->a * v) / s2);
        }
    }
}

/* --- streaming ------------------------------------------------------------------------------- */

struct _WkpModelStream {
  const WkpModel *model;
  WkpLstmStream  *lstm[WKP_MODEL_MAX_MEMBERS];   /* one per ensemble member */
  int             dim;
  gint64          n_rows;      /* feature rows received */
  gint64          n_steps;     /* LSTM steps run */
  gint64          base;        /* row index of rows[0] */
  GArray         *rows;        /* normalised rows [base, n_rows) */
  double         *sum, *sq;    /* running per-clip statistics */
  gint64          n_stats;     /* rows in them */
  gboolean        finished;
};

WkpModelStream *
wkp_model_stream_new (const WkpModel *model, int n_threads, GError **error)
{
  WkpModelStream *s;

  g_return_val_if_fail (model != NULL, NULL);
  s = g_new0 (WkpModelStream, 1);
  s->model = model;
  s->rows = g_array_new (FALSE, FALSE, sizeof (float));
  for (int e = 0; e < wkp_model_n_members (model); e++)
    if ((s->lstm[e] = wkp_lstm_stream_new (wkp_model_member (model, e), n_threads, error)) == NULL)
      {
        wkp_model_stream_free (s);
        return NULL;
      }
  s->dim = wkp_model_feature_dim (model);
  s->sum = g_new0 (double, s->dim);
  s->sq = g_new0 (double, s->dim);
  return s;
}

void
wkp_model_stream_free (WkpModelStream *s)
{
  if (s == NULL)
    return;
  for (int e = 0; e < WKP_MODEL_MAX_MEMBERS; e++)
    wkp_lstm_stream_free (s->lstm[e]);
  g_array_unref (s->rows);
  g_free (s->sum);
  g_free (s->sq);
  g_free (s);
}

/* Runs steps [n_steps, upto) given rows up to @last_row (clamp bound), and
 * returns the frames that come out. */
static gint64
stream_run (WkpModelStream *s, gint64 upto, gint64 last_row, gint64 max_frame, float **coeffs, GError **error)
{
  const WkpModel *m = s->model;
  int c = m->context, K = m->n_components, in_size = m->lstm->input_size;
  gint64 n = upto - s->n_steps, first_frame, n_out;
  g_autofree float *in = NULL, *y = NULL;
  const float *rows = (const float *) s->rows->data;

  *coeffs = NULL;
  if (n <= 0)
    return 0;
  in = g_new (float, (gsize) n * in_size);
  y = g_new (float, (gsize) n * K);
  for (gint64 k = 0; k < n; k++)
    {
      gint64 t = s->n_steps + k;
      for (int j = -c; j <= c; j++)
        {
          gint64 src = CLAMP (t + j, 0, last_row);
          g_assert (src >= s->base);
          memcpy (in + ((gsize) k * (2 * c + 1) + (j + c)) * s->dim, rows + (src - s->base) * s->dim,
                  sizeof (float) * s->dim);
        }
    }
  {
    int n_members = wkp_model_n_members (m);
    g_autofree float *ye = n_members > 1 ? g_new (float, (gsize) n * K) : NULL;
    for (int e = 0; e < n_members; e++)
      {
        float *dst = e == 0 ? y : ye;
        if (!wkp_lstm_stream_push (s->lstm[e], in, n, dst, error))
          return -1;
        average_member (y, dst, (gsize) n * K, e, n_members);
      }
  }
  /* step t -> frame t - delay */
  first_frame = MAX (s->n_steps - m->delay, 0);
  n_out = MIN (upto - m->delay, max_frame) - first_frame;
  if (n_out > 0)
    {
      gint64 skip = first_frame + m->delay - s->n_steps;
      *coeffs = g_new (float, (gsize) n_out * K);
      memcpy (*coeffs, y + skip * K, sizeof (float) * n_out * K);
    }
  else
    n_out = 0;
  s->n_steps = upto;
  /* rows before n_steps - c are no longer needed (row 0 is, while n_steps <= c;
   * the last row always is: later steps may clamp to it) */
  {
    gint64 keep_from = CLAMP (s->n_steps - c, 0, MAX (s->n_rows - 1, 0));
    if (keep_from > s->base)
      {
        g_array_remove_range (s->rows, 0, (guint) ((keep_from - s->base) * s->dim));
        s->base = keep_from;
      }
  }
  return n_out;
}

/* Normalises and appends @n raw rows; with @update_stats they also enter the
 * running per-clip statistics (rows of silence after the audio do not, as in
 * wkp_model_predict_audio()). */
static void
stream_append (WkpModelStream *s, const float *features, gint64 n, gboolean update_stats)
{
  const WkpModel *m = s->model;
  int dim = s->dim;

  for (gint64 t = 0; t < n; t++)
    {
      g_autofree float *row = g_memdup2 (features + t * dim, sizeof (float) * dim);
      if (update_stats)
        s->n_stats++;
      s->n_rows++;
      if (m->per_clip_norm)
        for (int j = 0; j < dim; j++)
          {
            double mean, sd;
            if (update_stats)
              {
                s->sum[j] += row[j];
                s->sq[j] += (double) row[j] * row[j];
              }
            mean = s->n_stats > 0 ? s->sum[j] / (double) s->n_stats : 0.0;
            sd = s->n_stats > 0 ? sqrt (MAX (s->sq[j] / (double) s->n_stats - mean * mean, 0.0)) : 0.0;
            sd = MAX (sd, (double) WKP_MODEL_STD_FLOOR);
            row[j] = (float) ((row[j] - mean) / sd);
          }
      for (int j = 0; j < dim; j++)
        row[j] = (row[j] - m->feature_mean[j]) / m->feature_std[j];
      g_array_append_vals (s->rows, row, (guint) dim);
    }
}

gint64
wkp_model_stream_push (WkpModelStream *s, const float *features, gint64 n, float **coeffs, GError **error)
{
  g_return_val_if_fail (s != NULL && coeffs != NULL && n >= 0, -1);
  *coeffs = NULL;
  if (s->finished)
    {
      g_set_error_literal (error, WKP_MODEL_ERROR, WKP_ERROR_FAILED, "stream already finished");
      return -1;
    }
  stream_append (s, features, n, TRUE);
  /* step t is final once row t + context exists */
  return stream_run (s, MAX (s->n_rows - s->model->context, s->n_steps), s->n_rows - 1, G_MAXINT64, coeffs, error);
}

gint64
wkp_model_stream_finish (WkpModelStream *s, float **coeffs, GError **error)
{
  g_return_val_if_fail (s != NULL && coeffs != NULL, -1);
  *coeffs = NULL;
  if (s->finished || s->n_rows == 0)
    {
      s->finished = TRUE;
      return 0;
    }
  s->finished = TRUE;
  return stream_run (s, s->n_rows + s->model->delay, s->n_rows - 1, s->n_rows, coeffs, error);
}

/* --- audio-level streaming -------------------------------------------------------------------- */

struct _WkpModelAudioStream {
  const WkpModel *model;
  WkpModelStream *features;
  gint64          spf;          /* samples per internal frame */
  int             margin;       /* frames each side that a segment's edge effects reach */
  GArray         *audio;        /* samples [buf_start, n_total) */
  gint64          buf_start;
  gint64          n_total;
  gint64          rows_done;    /* feature rows fed to the feature stream */
  gboolean        finished;
};

WkpModelAudioStream *
wkp_model_audio_stream_new (const WkpModel *model, int n_threads, GError **error)
{
  const WkpFeatureConfig *c;
  WkpModelAudioStream *s;
  WkpModelStream *fs;
  gint64 num, den, sub_samples;
  double half_window_frames;

  g_return_val_if_fail (model != NULL, NULL);
  c = &model->features;
  num = (gint64) c->sample_rate * model->fps.den;
  den = model->fps.num;
  if (num % (den * c->subframes) != 0)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED,
                   "audio streaming needs a whole number of samples per sub-frame; the model runs at %d/%d fps "
                   "with %d sub-frames at %d Hz", model->fps.num, model->fps.den, c->subframes, c->sample_rate);
      return NULL;
    }
  fs = wkp_model_stream_new (model, n_threads, error);
  if (fs == NULL)
    return NULL;
  s = g_new0 (WkpModelAudioStream, 1);
  s->model = model;
  s->features = fs;
  s->spf = num / den;
  sub_samples = s->spf / c->subframes;
  /* reach of a row beyond its frame: half an analysis window (+ the FFT
   * frame, conservatively), the delta regression over deltas * delta_width
   * sub-frames, one sample of pre-emphasis; rounded up to whole frames + 1 */
  half_window_frames = (MAX (c->window_ms * 1e-3 * c->sample_rate, (double) c->n_fft) / 2.0 + 1) / (double) s->spf;
  s->margin = 1 + (int) ceil (half_window_frames) +
              (int) ((c->deltas * c->delta_width * sub_samples + s->spf - 1) / s->spf);
  s->audio = g_array_new (FALSE, FALSE, sizeof (float));
  return s;
}

int
wkp_model_audio_stream_lag (const WkpModelAudioStream *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->margin;
}

void
wkp_model_audio_stream_free (WkpModelAudioStream *s)
{
  if (s == NULL)
    return;
  wkp_model_stream_free (s->features);
  g_array_unref (s->audio);
  g_free (s);
}

/* Computes feature rows [rows_done, upto) from a segment of frames
 * [seg0, seg1) (seg1 frames of audio, or the end of the audio at finish). */
static gint64
audio_stream_rows (WkpModelAudioStream *s, gint64 upto, gint64 seg1, float **coeffs, GError **error)
{
  const WkpModel *m = s->model;
  gint64 seg0 = MAX (s->rows_done - s->margin, 0);
  gint64 a0 = seg0 * s->spf, a1 = MIN (seg1 * s->spf, s->n_total);
  g_autofree float *rows = NULL;
  gint64 k;
  int dim = wkp_model_feature_dim (m);

  *coeffs = NULL;
  if (upto <= s->rows_done)
    return 0;
  g_assert (a0 >= s->buf_start);
  rows = wkp_features_compute (&m->features, (const float *) s->audio->data + (a0 - s->buf_start), a1 - a0, m->fps,
                               seg1 - seg0, error);
  if (rows == NULL)
    return -1;
  k = wkp_model_stream_push (s->features, rows + (s->rows_done - seg0) * dim, upto - s->rows_done, coeffs, error);
  if (k < 0)
    return -1;
  s->rows_done = upto;
  /* audio before the next segment's start is no longer needed */
  {
    gint64 keep = MAX (s->rows_done - s->margin, 0) * s->spf;
    if (keep > s->buf_start)
      {
        g_array_remove_range (s->audio, 0, (guint) (keep - s->buf_start));
        s->buf_start = keep;
      }
  }
  return k;
}

gint64
wkp_model_audio_stream_push (WkpModelAudioStream *s, const float *audio, gint64 n, float **coeffs, GError **error)
{
  gint64 whole, upto;

  g_return_val_if_fail (s != NULL && coeffs != NULL && n >= 0 && (n == 0 || audio != NULL), -1);
  *coeffs = NULL;
  if (s->finished)
    {
      g_set_error_literal (error, WKP_MODEL_ERROR, WKP_ERROR_FAILED, "stream already finished");
      return -1;
    }
  g_array_append_vals (s->audio, audio, (guint) n);
  s->n_total += n;
  whole = s->n_total / s->spf;            /* frames whose audio is complete */
  upto = whole - s->margin;               /* rows whose look-ahead is complete */
  return audio_stream_rows (s, upto, whole, coeffs, error);
}

gint64
wkp_model_audio_stream_finish (WkpModelAudioStream *s, float **coeffs, GError **error)
{
  return wkp_model_audio_stream_finish_frames (s, 0, coeffs, error);
}

gint64
wkp_model_audio_stream_finish_frames (WkpModelAudioStream *s, gint64 min_frames, float **coeffs, GError **error)
{
  const WkpModel *m;
  WkpModelStream *fs;
  gint64 T, N, R, seg0, a0, k;
  g_autofree float *rows = NULL;
  int dim;

  g_return_val_if_fail (s != NULL && coeffs != NULL, -1);
  *coeffs = NULL;
  if (s->finished)
    return 0;
  s->finished = TRUE;
  m = s->model;
  fs = s->features;
  dim = wkp_model_feature_dim (m);
  T = wkp_frames_for_samples (s->n_total, m->fps, m->features.sample_rate);
  if (T == 0)
    return 0;
  /* frames [.., N), whose network input reaches row N - 1 + delay + context:
   * rows past the audio are features of silence, as in predict_audio */
  N = MAX (T, min_frames);
  R = N + m->context + m->delay;
  seg0 = MAX (s->rows_done - s->margin, 0);
  a0 = seg0 * s->spf;
  g_assert (a0 >= s->buf_start);
  rows = wkp_features_compute (&m->features, (const float *) s->audio->data + (a0 - s->buf_start), s->n_total - a0,
                               m->fps, R - seg0, error);
  if (rows == NULL)
    return -1;
  stream_append (fs, rows + (s->rows_done - seg0) * dim, T - s->rows_done, TRUE);
  stream_append (fs, rows + (T - seg0) * dim, R - T, FALSE);
  s->rows_done = R;
  k = stream_run (fs, N + m->delay, fs->n_rows - 1, N, coeffs, error);
  fs->finished = TRUE;
  return k;
}
