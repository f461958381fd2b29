#include "wkp-train-log.h"

#include <math.h>
#include <string.h>

#include "wkp-io.h"

#define MAX_EPOCHS 1000000

void
wkp_train_log_free (WkpTrainLog *log)
{
  if (log == NULL)
    return;
  g_free (log->name);
  g_free (log->epoch);
  g_free (log->lr);
  g_free (log->train_loss);
  g_free (log->val_loss);
  g_free (log->val_r);
  g_free (log);
}

static WkpTrainLog *
log_new (const char *name, int n)
{
  WkpTrainLog *log = g_new0 (WkpTrainLog, 1);
  log->name = g_strdup (name);
  log->n = n;
  log->epoch = g_new0 (int, MAX (n, 1));
  log->lr = g_new0 (double, MAX (n, 1));
  log->train_loss = g_new0 (double, MAX (n, 1));
  log->val_loss = g_new0 (double, MAX (n, 1));
  log->val_r = g_new0 (double, MAX (n, 1));
  log->val_loss_constant = NAN;
  return log;
}

/* A number of the log: finite, or "nan" where @nan_ok. */
static gboolean
parse_value (const char *field, gboolean nan_ok, double *out)
{
  char *end = NULL;
  double v;
  if (nan_ok && (g_ascii_strcasecmp (field, "nan") == 0 || g_ascii_strcasecmp (field, "-nan") == 0))
    {
      *out = NAN;
      return TRUE;
    }
  if (*field == '\0')
    return FALSE;
  v = g_ascii_strtod (field, &end);
  if (end == field || *end != '\0' || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
check_epochs (const WkpTrainLog *log, int i, GError **error, const char *where)
{
  if (log->epoch[i] < 1 || log->epoch[i] > MAX_EPOCHS || (i > 0 && log->epoch[i] <= log->epoch[i - 1]))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: epoch %d out of order", where, log->epoch[i]);
      return FALSE;
    }
  return TRUE;
}

WkpTrainLog *
wkp_train_log_parse (const char *text, gsize length, const char *name, GError **error)
{
  g_autofree char *copy = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(WkpTrainLog) log = NULL;
  guint n_lines;
  int n = 0;

  g_return_val_if_fail (text != NULL || length == 0, NULL);
  if (memchr (text, '\0', length) != NULL || !g_utf8_validate (text, (gssize) length, NULL))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: not a text file", name);
      return NULL;
    }
  copy = g_strndup (text, length);
  lines = g_strsplit (copy, "\n", -1);
  n_lines = g_strv_length (lines);
  for (guint i = 0; i < n_lines; i++)
    g_strchomp (lines[i]);   /* CRLF, trailing blanks */
  if (n_lines > 0 && g_str_has_prefix (lines[0], "\xef\xbb\xbf"))
    memmove (lines[0], lines[0] + 3, strlen (lines[0] + 3) + 1);
  if (n_lines == 0 || strcmp (lines[0], WKP_TRAIN_LOG_HEADER) != 0)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: not a wav2kp training log (its first line must be “%s”)", name, WKP_TRAIN_LOG_HEADER);
      return NULL;
    }
  for (guint i = 1; i < n_lines; i++)
    n += lines[i][0] != '\0';
  if (n > MAX_EPOCHS)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: more than %d epochs", name, MAX_EPOCHS);
      return NULL;
    }
  log = log_new (name, n);
  n = 0;
  for (guint i = 1; i < n_lines; i++)
    {
      g_auto(GStrv) f = NULL;
      g_autofree char *where = NULL;
      double epoch, step, v[4], best;
      if (lines[i][0] == '\0')
        continue;
      where = g_strdup_printf ("%s, line %u", name, i + 1);
      f = g_strsplit (lines[i], ",", -1);
      if (g_strv_length (f) != 9)
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: %u fields where the header has 9", where,
                       g_strv_length (f));
          return NULL;
        }
      if (!parse_value (f[0], FALSE, &epoch) || epoch != floor (epoch) || !parse_value (f[1], FALSE, &step)
          || !parse_value (f[2], FALSE, &v[0]) || !parse_value (f[3], TRUE, &v[1])
          || !parse_value (f[4], TRUE, &v[2]) || !parse_value (f[5], TRUE, &v[3])
          || !parse_value (f[8], FALSE, &best) || (best != 0 && best != 1)
          || (isfinite (v[3]) && fabs (v[3]) > 1.0 + 1e-6))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: not a row of numbers of a training log", where);
          return NULL;
        }
      log->epoch[n] = epoch < 1 || epoch > MAX_EPOCHS ? -1 : (int) epoch;
      log->lr[n] = v[0];
      log->train_loss[n] = v[1];
      log->val_loss[n] = v[2];
      log->val_r[n] = v[3];
      if (!check_epochs (log, n, error, where))
        return NULL;
      if (best == 1)
        log->best_epoch = log->epoch[n];
      n++;
    }
  return g_steal_pointer (&log);
}

WkpTrainLog *
wkp_train_log_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize length = 0;
  GError *local = NULL;

  if (!wkp_check_input_file (path, WKP_MODEL_ERROR, error))
    return NULL;
  if (!g_file_get_contents (path, &text, &length, &local))
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_IO, "%s: %s", path, local->message);
      g_error_free (local);
      return NULL;
    }
  return wkp_train_log_parse (text, length, path, error);
}

static void
add_array (JsonBuilder *b, const char *key, const double *v, int n)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    if (isfinite (v[i]))
      json_builder_add_double_value (b, v[i]);
    else
      json_builder_add_null_value (b);
  json_builder_end_array (b);
}

JsonNode *
wkp_train_log_to_json (const WkpTrainLog *log)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "epoch");
  json_builder_begin_array (b);
  for (int i = 0; i < log->n; i++)
    json_builder_add_int_value (b, log->epoch[i]);
  json_builder_end_array (b);
  add_array (b, "lr", log->lr, log->n);
  add_array (b, "train_loss", log->train_loss, log->n);
  add_array (b, "val_loss", log->val_loss, log->n);
  add_array (b, "val_aperture_r", log->val_r, log->n);
  json_builder_set_member_name (b, "best_epoch");
  json_builder_add_int_value (b, log->best_epoch);
  if (isfinite (log->val_loss_constant))
    {
      json_builder_set_member_name (b, "val_loss_constant");
      json_builder_add_double_value (b, log->val_loss_constant);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A finite JSON number. */
static gboolean
read_array_value (JsonNode *e, double *out)
{
  if (e == NULL || !JSON_NODE_HOLDS_VALUE (e)
      || (json_node_get_value_type (e) != G_TYPE_DOUBLE && json_node_get_value_type (e) != G_TYPE_INT64)
      || !isfinite (json_node_get_double (e)))
    return FALSE;
  *out = json_node_get_double (e);
  return TRUE;
}

/* @key of @o as an array of @n numbers (null = NaN where @nan_ok). */
static gboolean
read_array (JsonObject *o, const char *key, int n, gboolean nan_ok, double *out, const char *name, GError **error)
{
  JsonNode *node = json_object_get_member (o, key);
  JsonArray *a;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) || (int) json_array_get_length (a = json_node_get_array (node)) != n)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                   "%s: training history member “%s” is not an array of %d numbers", name, key, n);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (nan_ok && JSON_NODE_HOLDS_NULL (e))
        out[i] = NAN;
      else if (!read_array_value (e, &out[i]))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "%s: training history member “%s” holds a value that is not a number", name, key);
          return FALSE;
        }
    }
  return TRUE;
}

WkpTrainLog *
wkp_train_log_from_json (JsonNode *history, const char *name, GError **error)
{
  JsonObject *o;
  JsonNode *en, *bn;
  g_autoptr(WkpTrainLog) log = NULL;
  g_autofree double *epochs = NULL;
  int n;

  if (history == NULL || !JSON_NODE_HOLDS_OBJECT (history)
      || (en = json_object_get_member (o = json_node_get_object (history), "epoch")) == NULL
      || !JSON_NODE_HOLDS_ARRAY (en) || json_array_get_length (json_node_get_array (en)) > MAX_EPOCHS)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: the training history is not an object with an "
                   "“epoch” array", name);
      return NULL;
    }
  n = (int) json_array_get_length (json_node_get_array (en));
  log = log_new (name, n);
  epochs = g_new (double, MAX (n, 1));
  if (!read_array (o, "epoch", n, FALSE, epochs, name, error) || !read_array (o, "lr", n, FALSE, log->lr, name, error)
      || !read_array (o, "train_loss", n, TRUE, log->train_loss, name, error)
      || !read_array (o, "val_loss", n, TRUE, log->val_loss, name, error)
      || !read_array (o, "val_aperture_r", n, TRUE, log->val_r, name, error))
    return NULL;
  for (int i = 0; i < n; i++)
    {
      log->epoch[i] = epochs[i] == floor (epochs[i]) && epochs[i] >= 1 && epochs[i] <= MAX_EPOCHS ? (int) epochs[i] : -1;
      if (!check_epochs (log, i, error, name))
        return NULL;
    }
  bn = json_object_get_member (o, "best_epoch");
  if (bn == NULL || !JSON_NODE_HOLDS_VALUE (bn) || json_node_get_value_type (bn) != G_TYPE_INT64
      || json_node_get_int (bn) < 0 || json_node_get_int (bn) > MAX_EPOCHS)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: the training history has no valid “best_epoch”",
                   name);
      return NULL;
    }
  log->best_epoch = (int) json_node_get_int (bn);
  {
    double c;
    if (json_object_has_member (o, "val_loss_constant")
        && !read_array_value (json_object_get_member (o, "val_loss_constant"), &c))
      {
        g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                     "%s: training history member “val_loss_constant” is not a number", name);
        return NULL;
      }
    log->val_loss_constant = json_object_has_member (o, "val_loss_constant") ? c : NAN;
  }
  return g_steal_pointer (&log);
}

/* the history in one network's training metadata, or NULL */
static WkpTrainLog *
history_of (JsonNode *training, const char *name)
{
  JsonNode *h;
  g_autoptr(GError) error = NULL;
  WkpTrainLog *log;
  if (training == NULL || !JSON_NODE_HOLDS_OBJECT (training)
      || (h = json_object_get_member (json_node_get_object (training), "history")) == NULL)
    return NULL;
  log = wkp_train_log_from_json (h, name, &error);
  if (log == NULL)
    g_debug ("%s", error->message);
  return log;
}

GPtrArray *
wkp_model_train_logs (const WkpModel *model, const char *model_name)
{
  GPtrArray *logs = g_ptr_array_new_with_free_func ((GDestroyNotify) wkp_train_log_free);
  JsonNode *members = NULL;
  WkpTrainLog *log;

  g_return_val_if_fail (model != NULL, logs);
  if (model->training != NULL && JSON_NODE_HOLDS_OBJECT (model->training))
    members = json_object_get_member (json_node_get_object (model->training), "ensemble");
  if (members != NULL && JSON_NODE_HOLDS_ARRAY (members))
    {
      JsonArray *a = json_node_get_array (members);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          const char *file = o != NULL ? wkp_json_get_string (o, "file") : NULL;
          g_autofree char *base = file != NULL ? g_path_get_basename (file) : NULL;
          g_autofree char *name = g_strdup_printf ("%s, member %u (%s)", model_name, i + 1,
                                                   base != NULL ? base : "?");
          if (o != NULL && (log = history_of (json_object_get_member (o, "training"), name)) != NULL)
            g_ptr_array_add (logs, log);
        }
    }
  else if ((log = history_of (model->training, model_name)) != NULL)
    g_ptr_array_add (logs, log);
  return logs;
}
