/* wkp-convert.c: PyTorch state dicts (.npz via libzip + wkp-npy, .safetensors
 * via json-glib) <-> model files. See wkp-convert.h. */
#include "wkp-convert.h"
#include "wkp-io.h"
#include "wkp-npy.h"

#include <math.h>
#include <string.h>
#include <zip.h>

#define SAFETENSORS_HEADER_MAX (100 * 1024 * 1024)

struct _WkpStateDict {
  GPtrArray  *tensors;   /* WkpTensor*, file order */
  GHashTable *by_name;   /* name -> WkpTensor* (borrowed) */
  GPtrArray  *names;     /* const char*, NULL-terminated view */
};

static void
tensor_free (gpointer p)
{
  WkpTensor *t = p;
  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

static WkpStateDict *
state_dict_new (void)
{
  WkpStateDict *sd = g_new0 (WkpStateDict, 1);
  sd->tensors = g_ptr_array_new_with_free_func (tensor_free);
  sd->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  sd->names = g_ptr_array_new ();
  return sd;
}

void
wkp_state_dict_free (WkpStateDict *sd)
{
  if (sd == NULL)
    return;
  g_hash_table_unref (sd->by_name);
  g_ptr_array_unref (sd->names);
  g_ptr_array_unref (sd->tensors);
  g_free (sd);
}

const WkpTensor *
wkp_state_dict_get (const WkpStateDict *sd, const char *name)
{
  g_return_val_if_fail (sd != NULL && name != NULL, NULL);
  return g_hash_table_lookup (sd->by_name, name);
}

const char * const *
wkp_state_dict_names (const WkpStateDict *sd, guint *n)
{
  g_return_val_if_fail (sd != NULL, NULL);
  if (n != NULL)
    *n = sd->tensors->len;
  return (const char * const *) sd->names->pdata;
}

static gboolean
add_tensor (WkpStateDict *sd, WkpTensor *t, const char *path, GError **error)
{
  if (g_hash_table_contains (sd->by_name, t->name))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s appears twice", path, t->name);
      tensor_free (t);
      return FALSE;
    }
  g_ptr_array_add (sd->tensors, t);
  g_hash_table_insert (sd->by_name, t->name, t);
  if (sd->names->len > 0)
    g_ptr_array_remove_index (sd->names, sd->names->len - 1);
  g_ptr_array_add (sd->names, t->name);
  g_ptr_array_add (sd->names, NULL);
  return TRUE;
}

static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  float f;
  if (exp == 0)
    return (sign ? -1.0f : 1.0f) * ldexpf ((float) mant, -24);
  if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  memcpy (&f, &bits, 4);
  return f;
}

/* --- .npz ------------------------------------------------------------------------- */

static gboolean
load_npz (WkpStateDict *sd, const char *path, GError **error)
{
  int zerr = 0;
  zip_t *za = zip_open (path, ZIP_RDONLY, &zerr);
  zip_int64_t n;
  gboolean ok = FALSE;

  if (za == NULL)
    {
      zip_error_t ze;
      zip_error_init_with_code (&ze, zerr);
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: cannot read as .npz: %s", path,
                   zip_error_strerror (&ze));
      zip_error_fini (&ze);
      return FALSE;
    }
  n = zip_get_num_entries (za, 0);
  for (zip_int64_t i = 0; i < n; i++)
    {
      zip_stat_t st;
      zip_file_t *zf;
      g_autofree guint8 *buf = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(WkpNpy) npy = NULL;
      g_autofree char *member = NULL;
      WkpTensor *t;
      zip_int64_t got;

      if (zip_stat_index (za, (zip_uint64_t) i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
          !(st.valid & ZIP_STAT_NAME))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: unreadable .npz member %" G_GINT64_FORMAT,
                       path, (gint64) i);
          goto out;
        }
      if (!g_str_has_suffix (st.name, ".npy"))
        continue;
      if (st.size > (zip_uint64_t) G_MAXSIZE / 2)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: member %s is too large", path, st.name);
          goto out;
        }
      member = g_strdup_printf ("%s:%s", path, st.name);
      buf = g_malloc (MAX (st.size, 1));
      zf = zip_fopen_index (za, (zip_uint64_t) i, 0);
      if (zf == NULL)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: cannot open member: %s", member,
                       zip_strerror (za));
          goto out;
        }
      got = zip_fread (zf, buf, st.size);
      /* libzip compares the member's CRC-32 only once a read meets its end:
       * without this second read a flipped byte converted silently */
      if (got >= 0 && (zip_uint64_t) got == st.size)
        {
          char extra;
          if (zip_fread (zf, &extra, 1) != 0)
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: corrupt member (%s)", member,
                           zip_file_strerror (zf));
              zip_fclose (zf);
              goto out;
            }
        }
      zip_fclose (zf);
      if (got < 0 || (zip_uint64_t) got != st.size)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: truncated or corrupt member", member);
          goto out;
        }
      bytes = g_bytes_new_take (g_steal_pointer (&buf), st.size);
      npy = wkp_npy_load_bytes (bytes, member, error);
      if (npy == NULL)
        goto out;
      if ((npy->dtype != WKP_DTYPE_F32 && npy->dtype != WKP_DTYPE_F64) || npy->ndim > WKP_TENSOR_MAX_DIMS)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED,
                       "%s: dtype %s with %d dimensions (float32/float64, up to 4 dimensions expected)", member,
                       wkp_dtype_descr (npy->dtype), npy->ndim);
          goto out;
        }
      t = g_new0 (WkpTensor, 1);
      t->name = g_strndup (st.name, strlen (st.name) - 4);
      t->ndim = npy->ndim;
      memcpy (t->shape, npy->shape, sizeof (gint64) * npy->ndim);
      t->n_elements = npy->n_elements;
      t->data = g_new (float, MAX (t->n_elements, 1));
      if (npy->dtype == WKP_DTYPE_F32)
        memcpy (t->data, npy->data, sizeof (float) * t->n_elements);
      else
        for (gint64 k = 0; k < t->n_elements; k++)
          {
            double v;
            memcpy (&v, (const guint8 *) npy->data + 8 * k, 8);
            t->data[k] = (float) v;
          }
      if (!add_tensor (sd, t, path, error))
        goto out;
    }
  ok = TRUE;
out:
  zip_discard (za);
  return ok;
}

/* --- .safetensors --------------------------------------------------------------------- */

static gboolean
load_safetensors (WkpStateDict *sd, const char *path, GBytes *file, GError **error)
{
  gsize size;
  const guint8 *d = g_bytes_get_data (file, &size);
  guint64 hlen;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  JsonObject *root;
  g_autoptr(GList) members = NULL;
  g_autoptr(GArray) used = g_array_new (FALSE, FALSE, sizeof (WkpExtent));
  gsize data_start, data_size;

  if (size < 8)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: not a .npz (zip) or .safetensors file (%" G_GSIZE_FORMAT " bytes)", path, size);
      return FALSE;
    }
  if (memcmp (d, "WKPTCKPT", 8) == 0)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: a training checkpoint, not a model (train --resume reads it; convert takes the model, "
                   "MODEL.wkpm)", path);
      return FALSE;
    }
  memcpy (&hlen, d, 8);
  hlen = GUINT64_FROM_LE (hlen);
  if (hlen > SAFETENSORS_HEADER_MAX || hlen > size - 8)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: not a .npz or .safetensors file (header length %" G_GUINT64_FORMAT " for a %" G_GSIZE_FORMAT
                   "-byte file)", path, hlen, size);
      return FALSE;
    }
  if (!wkp_json_parser_load (parser, (const char *) d + 8, hlen, &local) ||
      json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: malformed safetensors header%s%s", path,
                   local ? ": " : "", local ? local->message : "");
      return FALSE;
    }
  data_start = 8 + hlen;
  data_size = size - data_start;
  root = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *en = json_object_get_member (root, name);
      JsonObject *e;
      JsonArray *shape, *offs;
      const char *dtype;
      gint64 count = 1, begin, end, esize;
      WkpTensor *t;

      if (strcmp (name, "__metadata__") == 0)
        continue;
      if (!JSON_NODE_HOLDS_OBJECT (en) || !json_object_has_member ((e = json_node_get_object (en)), "dtype") ||
          !json_object_has_member (e, "shape") || !json_object_has_member (e, "data_offsets") ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (e, "shape")) ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (e, "data_offsets")) ||
          json_node_get_value_type (json_object_get_member (e, "dtype")) != G_TYPE_STRING)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: malformed entry for tensor %s", path, name);
          return FALSE;
        }
      dtype = json_object_get_string_member (e, "dtype");
      if (strcmp (dtype, "F32") == 0)
        esize = 4;
      else if (strcmp (dtype, "F64") == 0)
        esize = 8;
      else if (strcmp (dtype, "F16") == 0 || strcmp (dtype, "BF16") == 0)
        esize = 2;
      else
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED, "%s: tensor %s has dtype %s (F32, F64, F16 or "
                       "BF16 expected)", path, name, dtype);
          return FALSE;
        }
      shape = json_object_get_array_member (e, "shape");
      offs = json_object_get_array_member (e, "data_offsets");
      if (json_array_get_length (shape) > WKP_TENSOR_MAX_DIMS || json_array_get_length (offs) != 2)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s: bad shape or data_offsets", path,
                       name);
          return FALSE;
        }
      t = g_new0 (WkpTensor, 1);
      t->name = g_strdup (name);
      t->ndim = (int) json_array_get_length (shape);
      for (int k = 0; k < t->ndim; k++)
        {
          JsonNode *dn = json_array_get_element (shape, k);
          gint64 v = JSON_NODE_HOLDS_VALUE (dn) && json_node_get_value_type (dn) == G_TYPE_INT64
                       ? json_node_get_int (dn) : -1;
          if (v < 0 || v > (G_GINT64_CONSTANT (1) << 32) || (v > 0 && count > G_MAXINT64 / 16 / v))
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s has an invalid shape", path,
                           name);
              tensor_free (t);
              return FALSE;
            }
          t->shape[k] = v;
          count *= v;
        }
      t->n_elements = count;
      begin = json_node_get_value_type (json_array_get_element (offs, 0)) == G_TYPE_INT64
                ? json_array_get_int_element (offs, 0) : -1;
      end = json_node_get_value_type (json_array_get_element (offs, 1)) == G_TYPE_INT64
              ? json_array_get_int_element (offs, 1) : -1;
      if (begin < 0 || end < begin || (guint64) end > data_size || end - begin != count * esize)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: tensor %s: data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] do not match its "
                       "shape or run past the end of the file (truncated?)", path, name, begin, end);
          tensor_free (t);
          return FALSE;
        }
      t->data = g_new (float, MAX (count, 1));
      for (gint64 k = 0; k < count; k++)
        {
          const guint8 *p = d + data_start + begin + k * esize;
          if (esize == 4)
            memcpy (&t->data[k], p, 4);
          else if (esize == 8)
            {
              double v;
              memcpy (&v, p, 8);
              t->data[k] = (float) v;
            }
          else
            {
              guint16 h;
              memcpy (&h, p, 2);
              h = GUINT16_FROM_LE (h);
              if (strcmp (dtype, "F16") == 0)
                t->data[k] = half_to_float (h);
              else
                {
                  guint32 bits = (guint32) h << 16;
                  memcpy (&t->data[k], &bits, 4);
                }
            }
        }
      if (count > 0)
        g_array_append_val (used, ((WkpExtent) { begin, end, name }));
      if (!add_tensor (sd, t, path, error))
        return FALSE;
    }
  /* the format requires disjoint tensors: shared bytes are a damaged or forged header */
  {
    const WkpExtent *a = NULL, *b = wkp_extents_find_overlap (used, &a);
    if (b != NULL)
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensors %s and %s overlap in the file", path,
                     a->name, b->name);
        return FALSE;
      }
  }
  return TRUE;
}

WkpStateDict *
wkp_state_dict_load (const char *path, GError **error)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(WkpStateDict) sd = NULL;
  gsize size;
  const guint8 *d;

  g_return_val_if_fail (path != NULL, NULL);
  file = wkp_read_file (path, error);
  if (file == NULL)
    return NULL;
  d = g_bytes_get_data (file, &size);
  if (size == 0)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: file is empty (0 bytes)", path);
      return NULL;
    }
  sd = state_dict_new ();
  g_ptr_array_add (sd->names, NULL);
  if (size >= 4 && memcmp (d, "PK\003\004", 4) == 0)
    {
      if (!load_npz (sd, path, error))
        return NULL;
    }
  else if (size >= 4 && memcmp (d, "PK\005\006", 4) == 0)
    ;   /* empty zip: no tensors */
  else if (!load_safetensors (sd, path, file, error))
    return NULL;
  return g_steal_pointer (&sd);
}

/* --- state dict -> model ----------------------------------------------------------------- */

static const WkpTensor *
get_prefixed (const WkpStateDict *sd, const char *prefix, const char *name)
{
  g_autofree char *full = g_strconcat (prefix, name, NULL);
  return wkp_state_dict_get (sd, full);
}

static gboolean
meta_int (JsonObject *meta, const char *key, gint64 lo, gint64 hi, gint64 *out, const char *name, GError **error)
{
  JsonNode *n;
  if (meta == NULL || (n = json_object_get_member (meta, key)) == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;   /* keep the default */
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < lo ||
      json_node_get_int (n) > hi)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata “%s” must be an integer in [%"
                   G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", name, key, lo, hi);
      return FALSE;
    }
  *out = json_node_get_int (n);
  return TRUE;
}

static gboolean
copy_tensor (const WkpTensor *t, int ndim, gint64 d0, gint64 d1, float *dst, const char *name, GError **error)
{
  gboolean ok = t->ndim == ndim && t->shape[0] == d0 && (ndim == 1 || t->shape[1] == d1);
  if (!ok)
    {
      g_autoptr(GString) got = g_string_new ("[");
      for (int k = 0; k < t->ndim; k++)
        g_string_append_printf (got, "%s%" G_GINT64_FORMAT, k ? ", " : "", t->shape[k]);
      g_string_append_c (got, ']');
      if (ndim == 1)
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH, "%s: tensor %s has shape %s, expected [%"
                     G_GINT64_FORMAT "]", name, t->name, got->str, d0);
      else
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH, "%s: tensor %s has shape %s, expected [%"
                     G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", name, t->name, got->str, d0, d1);
      return FALSE;
    }
  memcpy (dst, t->data, sizeof (float) * t->n_elements);
  return TRUE;
}

WkpModel *
wkp_model_from_state_dict (const WkpStateDict *sd, JsonObject *meta, const char *lstm_prefix,
                           const char *head_prefix, const char *name, GError **error)
{
  const WkpTensor *ih0, *hh0, *hw, *basis, *t;
  WkpFeatureConfig fc;
  WkpRational fps = WKP_RATIONAL (25, 1);
  gint64 context = -1, delay = 0, layers = 0, members = 1, H, input, out, dim, n_points, K;
  gboolean bidir, per_clip = FALSE;
  g_autofree int *points = NULL;
  g_autoptr(WkpModel) m = NULL;
  g_autoptr(GArray) specs = NULL;

  g_return_val_if_fail (sd != NULL, NULL);
  if (lstm_prefix == NULL)
    lstm_prefix = "lstm.";
  if (head_prefix == NULL)
    head_prefix = "head.";
  if (name == NULL)
    name = "state dict";

  /* LSTM shape from the tensors */
  ih0 = get_prefixed (sd, lstm_prefix, "weight_ih_l0");
  hh0 = get_prefixed (sd, lstm_prefix, "weight_hh_l0");
  hw = get_prefixed (sd, head_prefix, "weight");
  if (ih0 == NULL || hh0 == NULL || hw == NULL)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: no %sweight_ih_l0 / %sweight_hh_l0 / %sweight tensors: not an nn.LSTM + nn.Linear state "
                   "dict with these prefixes (see --lstm-prefix, --head-prefix)", name, lstm_prefix, lstm_prefix,
                   head_prefix);
      return NULL;
    }
  if (hh0->ndim != 2 || hh0->shape[0] % 4 != 0 || hh0->shape[1] * 4 != hh0->shape[0] || ih0->ndim != 2 ||
      ih0->shape[0] != hh0->shape[0] || hw->ndim != 2)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: LSTM tensors have unexpected shapes", name);
      return NULL;
    }
  H = hh0->shape[1];
  input = ih0->shape[1];
  out = hw->shape[0];
  while (layers < WKP_LSTM_MAX_LAYERS)
    {
      g_autofree char *n1 = g_strdup_printf ("weight_ih_l%" G_GINT64_FORMAT, layers);
      if (get_prefixed (sd, lstm_prefix, n1) == NULL)
        break;
      layers++;
    }
  bidir = get_prefixed (sd, lstm_prefix, "weight_ih_l0_reverse") != NULL;
  if (out < 1 || out > 2 * WKP_N_LANDMARKS || H < 1 || H > 65536 || input < 1 || input > (1 << 24))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: LSTM/head sizes out of range", name);
      return NULL;
    }

  /* metadata */
  wkp_feature_config_init_default (&fc);
  if (meta != NULL)
    {
      JsonNode *f = json_object_get_member (meta, "features");
      JsonNode *r = json_object_get_member (meta, "fps");
      JsonNode *b = json_object_get_member (meta, "per_clip_norm");
      g_autoptr(GError) local = NULL;
      if (f != NULL && !JSON_NODE_HOLDS_NULL (f) && !wkp_feature_config_from_json (f, &fc, &local))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata features: %s", name, local->message);
          return NULL;
        }
      if (r != NULL && JSON_NODE_HOLDS_OBJECT (r))
        {
          JsonObject *o = json_node_get_object (r);
          gint64 num = 0, den = 0;
          if (!meta_int (o, "num", 1, G_MAXINT32, &num, name, error) ||
              !meta_int (o, "den", 1, G_MAXINT32, &den, name, error))
            return NULL;
          fps = WKP_RATIONAL ((gint32) num, (gint32) den);
        }
      else if (r != NULL && JSON_NODE_HOLDS_VALUE (r) && json_node_get_value_type (r) == G_TYPE_STRING)
        {
          if (!wkp_rational_parse (json_node_get_string (r), &fps, &local))
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata fps: %s", name, local->message);
              return NULL;
            }
        }
      else if (r != NULL && JSON_NODE_HOLDS_VALUE (r) && json_node_get_value_type (r) == G_TYPE_INT64)
        fps = WKP_RATIONAL ((gint32) json_node_get_int (r), 1);
      else if (r != NULL && !JSON_NODE_HOLDS_NULL (r))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata fps must be {num, den} or text",
                       name);
          return NULL;
        }
      if (!wkp_rational_is_valid (fps))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata fps is not a valid rate", name);
          return NULL;
        }
      if (b != NULL && !JSON_NODE_HOLDS_NULL (b))
        {
          if (!JSON_NODE_HOLDS_VALUE (b) || json_node_get_value_type (b) != G_TYPE_BOOLEAN)
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata per_clip_norm must be a boolean",
                           name);
              return NULL;
            }
          per_clip = json_node_get_boolean (b);
        }
      if (!meta_int (meta, "context", 0, 1000, &context, name, error) ||
          !meta_int (meta, "delay", 0, 100000, &delay, name, error) ||
          !meta_int (meta, "members", 1, WKP_MODEL_MAX_MEMBERS, &members, name, error))
        return NULL;
    }
  /* an ensemble exported by `wav2kp convert` (member k's networks are
   * member<k>.lstm.* and member<k>.head.*): without a "members" entry, as many
   * networks as there are member<k>.head.weight tensors */
  if (meta == NULL || !json_object_has_member (meta, "members"))
    while (members < WKP_MODEL_MAX_MEMBERS)
      {
        g_autofree char *head = g_strdup_printf ("member%" G_GINT64_FORMAT ".head.weight", members);
        if (wkp_state_dict_get (sd, head) == NULL)
          break;
        members++;
      }
  dim = wkp_feature_config_dim (&fc);
  if (context < 0)
    {
      if (input % dim != 0 || (input / dim) % 2 != 1)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                       "%s: LSTM input size %" G_GINT64_FORMAT " is not an odd multiple of the feature dimension %"
                       G_GINT64_FORMAT " (give the feature config and context in the metadata)", name, input, dim);
          return NULL;
        }
      context = (input / dim - 1) / 2;
    }
  if (input != dim * (2 * context + 1))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                   "%s: LSTM input size %" G_GINT64_FORMAT " does not match %" G_GINT64_FORMAT
                   " feature columns x %" G_GINT64_FORMAT " context frames", name, input, dim, 2 * context + 1);
      return NULL;
    }

  /* points and PCA */
  basis = wkp_state_dict_get (sd, "pca.basis");
  {
    JsonNode *p = meta != NULL ? json_object_get_member (meta, "points") : NULL;
    if (p != NULL && JSON_NODE_HOLDS_ARRAY (p))
      {
        JsonArray *a = json_node_get_array (p);
        n_points = json_array_get_length (a);
        if (n_points < 1 || n_points > WKP_N_LANDMARKS)
          {
            g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata points must list 1..68 indices", name);
            return NULL;
          }
        points = g_new (int, n_points);
        for (gint64 i = 0; i < n_points; i++)
          {
            JsonNode *e = json_array_get_element (a, (guint) i);
            if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64)
              {
                g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata points must be integers", name);
                return NULL;
              }
            points[i] = (int) json_node_get_int (e);
          }
      }
    else
      {
        const char *which = p != NULL && JSON_NODE_HOLDS_VALUE (p) && json_node_get_value_type (p) == G_TYPE_STRING
                              ? json_node_get_string (p) : NULL;
        gint64 p2 = basis != NULL && basis->ndim == 2 ? basis->shape[1] : out;
        if (which != NULL && strcmp (which, "mouth") != 0 && strcmp (which, "all") != 0)
          {
            g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                         "%s: metadata points must be a list of indices, “mouth” or “all”", name);
            return NULL;
          }
        if (g_strcmp0 (which, "all") == 0 || (which == NULL && p2 > 2 * WKP_MOUTH_COUNT))
          {
            n_points = WKP_N_LANDMARKS;
            points = g_new (int, n_points);
            for (int i = 0; i < n_points; i++)
              points[i] = i;
          }
        else
          {
            n_points = WKP_MOUTH_COUNT;
            points = g_new (int, n_points);
            for (int i = 0; i < n_points; i++)
              points[i] = WKP_MOUTH_FIRST + i;
          }
      }
  }
  K = out;
  if (basis != NULL && basis->ndim == 2 && basis->shape[0] != K)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                   "%s: the head has %" G_GINT64_FORMAT " outputs (tensor %sweight) but pca.basis has %"
                   G_GINT64_FORMAT " components", name, K, head_prefix, basis->shape[0]);
      return NULL;
    }
  if (basis == NULL && K != 2 * n_points)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH,
                   "%s: no pca.basis tensor, so the head must output the %" G_GINT64_FORMAT " point coordinates "
                   "directly, but it has %" G_GINT64_FORMAT " outputs", name, 2 * n_points, K);
      return NULL;
    }
  if (K > 2 * n_points)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_MISMATCH, "%s: %" G_GINT64_FORMAT " outputs for %" G_GINT64_FORMAT
                   " points", name, K, n_points);
      return NULL;
    }
  for (gint64 i = 0; i < n_points; i++)
    if (points[i] < 0 || points[i] >= WKP_N_LANDMARKS)
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: landmark index %d out of range", name, points[i]);
        return NULL;
      }

  m = wkp_model_new (&fc, fps, (int) context, (int) delay, per_clip, (int) n_points, points, (int) K, (int) H,
                     (int) layers, bidir);
  m->n_members = (int) members;
  for (int k = 1; k < m->n_members; k++)
    m->extra[k - 1] = wkp_lstm_new ((int) input, (int) H, (int) layers, bidir, (int) K);
  if (meta != NULL)
    {
      JsonNode *tr = json_object_get_member (meta, "training"), *mt = json_object_get_member (meta, "metrics");
      if (tr != NULL && !JSON_NODE_HOLDS_NULL (tr))
        m->training = json_node_copy (tr);
      if (mt != NULL && !JSON_NODE_HOLDS_NULL (mt))
        m->metrics = json_node_copy (mt);
      /* the clip-level gain of an exported model (its range is checked by validate below) */
      {
        JsonNode *g = json_object_get_member (meta, "level_gain");
        if (g != NULL && !JSON_NODE_HOLDS_NULL (g))
          {
            if (!wkp_json_node_is_number (g))
              {
                g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: metadata level_gain must be a number",
                             name);
                return NULL;
              }
            m->level_gain = wkp_json_node_get_number (g);
          }
      }
    }
  /* copy every tensor: LSTM and head required, the rest optional */
  specs = wkp_model_tensors (m);
  for (guint i = 0; i < specs->len; i++)
    {
      WkpModelTensor *s = &g_array_index (specs, WkpModelTensor, i);
      gboolean is_lstm = g_str_has_prefix (s->name, "lstm.");
      gboolean is_head = g_str_has_prefix (s->name, "head.");
      gboolean is_member = g_str_has_prefix (s->name, "member");
      if (is_lstm)
        t = get_prefixed (sd, lstm_prefix, s->name + strlen ("lstm."));
      else if (is_head)
        t = get_prefixed (sd, head_prefix, s->name + strlen ("head."));
      else
        t = wkp_state_dict_get (sd, s->name);
      if (t == NULL)
        {
          if (is_lstm || is_head)
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s%s is missing", name,
                           is_lstm ? lstm_prefix : head_prefix, s->name + 5);
              return NULL;
            }
          if (is_member)
            {
              g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: tensor %s is missing (the metadata "
                           "lists %" G_GINT64_FORMAT " networks)", name, s->name, members);
              return NULL;
            }
          continue;
        }
      if (!copy_tensor (t, s->ndim, s->shape[0], s->shape[1], *s->slot, name, error))
        return NULL;
    }
  if (!wkp_model_validate (m, name, error))
    return NULL;
  return g_steal_pointer (&m);
}

/* --- model -> .npz ------------------------------------------------------------------------ */

gboolean
wkp_model_export_npz (const WkpModel *model, const char *path, GError **error)
{
  g_autoptr(WkpOutput) out = wkp_output_new ();
  g_autoptr(GArray) specs = NULL;
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(JsonNode) meta = NULL;
  g_autofree char *sidecar = NULL;
  const char *tmp;
  zip_t *za;
  int zerr = 0;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);
  if (!wkp_model_validate (model, path, error))
    return FALSE;
  tmp = wkp_output_add_stream (out, path, error);
  if (tmp == NULL)
    return FALSE;
  za = zip_open (tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
  if (za == NULL)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: cannot create zip archive (libzip error %d)", path, zerr);
      return FALSE;
    }
  specs = wkp_model_tensors ((WkpModel *) model);
  for (guint i = 0; i < specs->len; i++)
    {
      WkpModelTensor *s = &g_array_index (specs, WkpModelTensor, i);
      GBytes *b = wkp_npy_encode (WKP_DTYPE_F32, s->ndim, s->shape, *s->slot);
      g_autofree char *member = g_strconcat (s->name, ".npy", NULL);
      gsize n;
      gconstpointer d = g_bytes_get_data (b, &n);
      zip_source_t *src;
      g_ptr_array_add (keep, b);
      src = zip_source_buffer (za, d, n, 0);
      if (src == NULL || zip_file_add (za, member, src, ZIP_FL_ENC_UTF_8) < 0)
        {
          g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: cannot add %s: %s", path, member, zip_strerror (za));
          if (src != NULL)
            zip_source_free (src);
          zip_discard (za);
          return FALSE;
        }
    }
  if (zip_close (za) != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_IO, "%s: cannot write zip archive: %s", path, zip_strerror (za));
      zip_discard (za);
      return FALSE;
    }
  meta = wkp_model_metadata (model);
  sidecar = wkp_path_replace_ext (path, ".json");
  if (!wkp_output_add_json (out, sidecar, meta, error))
    return FALSE;
  return wkp_output_commit (out, error);
}
