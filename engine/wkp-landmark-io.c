/* wkp-landmark-io.c: landmark tracks on disk.
 *
 * Our format: OUT.npy float32 [T, 68, 2] + OUT.status.npy uint8 [T] +
 * OUT.json sidecar, written together through WkpOutput (all or nothing).
 * Imports: face-alignment style .npy [T, 68, 2] / [T, 68, 3] (float32 or
 * float64; x, y taken, z ignored), OpenFace 2.0 style CSV (x_0..x_67,
 * y_0..y_67; other columns ignored except frame, face_id, success, timestamp
 * and our status), and our JSON export. Exports: CSV (OpenFace column names,
 * re-importable) and JSON. Numbers never go through the locale.
 */
#include "wkp-landmarks.h"
#include "wkp-io.h"
#include "wkp-npy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N2 (WKP_N_LANDMARKS * 2)
#define FORMAT_NAME "wav2kp-landmarks"
#define JSON_FORMAT_NAME "wav2kp-landmarks-json"

static WkpRational
fps_or_default (WkpRational fps)
{
  return wkp_rational_is_valid (fps) ? fps : WKP_RATIONAL (25, 1);
}

/* A frame with any non-finite coordinate is missing, entirely NaN. */
static void
sanitize_frame (float *p, guint8 *status)
{
  gboolean ok = *status != WKP_FACE_MISSING;
  for (int i = 0; i < N2 && ok; i++)
    ok = isfinite (p[i]);
  if (!ok)
    {
      *status = WKP_FACE_MISSING;
      for (int i = 0; i < N2; i++)
        p[i] = NAN;
    }
}

/* --- our format ------------------------------------------------------------- */

/* The "units" of a track moved into the canonical face frame (`landmarks
 * --normalize`): reading it back marks the track canonical again. */
#define CANONICAL_UNITS "canonical face frame (similarity fit to the template face: eye corners near " \
                        "(-0.5, 0) and (0.5, 0)), NaN where no face"

static JsonNode *
sidecar_json (const WkpLandmarkTrack *track)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *fps = wkp_rational_to_string (track->fps);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, FORMAT_NAME);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "n_frames");
  json_builder_add_int_value (b, track->n_frames);
  json_builder_set_member_name (b, "n_points");
  json_builder_add_int_value (b, WKP_N_LANDMARKS);
  json_builder_set_member_name (b, "units");
  json_builder_add_string_value (b, track->canonical ? CANONICAL_UNITS : "pixels, NaN where no face");
  json_builder_set_member_name (b, "fps");
  json_builder_add_string_value (b, fps);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, track->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, track->height);
  json_builder_set_member_name (b, "source");
  if (track->source != NULL)
    json_builder_add_string_value (b, track->source);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "frames_with_face");
  json_builder_add_int_value (b, wkp_landmark_track_count_found (track));
  json_builder_set_member_name (b, "status_codes");
  json_builder_begin_object (b);
  for (int s = WKP_FACE_MISSING; s <= WKP_FACE_TRACKED; s++)
    {
      char key[8];
      g_snprintf (key, sizeof key, "%d", s);
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, wkp_face_status_to_string (s));
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "settings");
  if (track->settings != NULL)
    json_builder_add_value (b, json_node_copy (track->settings));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
wkp_landmark_track_save (const WkpLandmarkTrack *track, const char *path, GError **error)
{
  g_autoptr(WkpOutput) out = NULL;
  g_autoptr(GBytes) pts = NULL, st = NULL;
  g_autoptr(JsonNode) side = NULL;
  g_autofree char *status_path = NULL, *json_path = NULL;
  gint64 shape[3] = { track->n_frames, WKP_N_LANDMARKS, 2 };

  if (!wkp_path_has_suffix (path, ".npy"))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "%s: landmark output must be an .npy file (OUT.npy; OUT.status.npy and OUT.json go beside it)",
                   path);
      return FALSE;
    }
  status_path = wkp_path_replace_ext (path, ".status.npy");
  json_path = wkp_path_replace_ext (path, ".json");
  if (!wkp_check_output_path (path, error) || !wkp_check_side_output (status_path, path, error) ||
      !wkp_check_side_output (json_path, path, error))
    return FALSE;
  pts = wkp_npy_encode (WKP_DTYPE_F32, 3, shape, track->points);
  st = wkp_npy_encode (WKP_DTYPE_U8, 1, shape, track->status);
  side = sidecar_json (track);
  out = wkp_output_new ();
  return wkp_output_add_bytes (out, path, pts, error) &&
         wkp_output_add_bytes (out, status_path, st, error) &&
         wkp_output_add_json (out, json_path, side, error) &&
         wkp_output_commit (out, error);
}

/* Reads fps/size/source/settings of our sidecar into @track; FALSE + error
 * when it is ours but malformed. */
static gboolean
read_sidecar (JsonObject *o, const char *json_path, WkpLandmarkTrack *track, GError **error)
{
  if (json_object_has_member (o, "fps"))
    {
      JsonNode *n = json_object_get_member (o, "fps");
      WkpRational r;
      g_autoptr(GError) local = NULL;
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING ||
          !wkp_frame_rate_parse (json_node_get_string (n), &r, &local))
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                       "%s: “fps” is not a frame rate of 1 to 1000 frames per second such as \"25/1\"", json_path);
          return FALSE;
        }
      track->fps = r;
    }
  for (int k = 0; k < 2; k++)
    {
      const char *key = k == 0 ? "width" : "height";
      JsonNode *n = json_object_get_member (o, key);
      if (n == NULL || JSON_NODE_HOLDS_NULL (n))
        continue;
      if (!wkp_json_node_is_integer (n, 0, G_MAXINT))
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: “%s” is not a size in pixels", json_path,
                       key);
          return FALSE;
        }
      *(k == 0 ? &track->width : &track->height) = (int) json_node_get_int (n);
    }
  track->source = g_strdup (wkp_json_get_string (o, "source"));
  track->canonical = g_strcmp0 (wkp_json_get_string (o, "units"), CANONICAL_UNITS) == 0;
  if (json_object_has_member (o, "settings") && !json_object_get_null_member (o, "settings"))
    track->settings = json_node_copy (json_object_get_member (o, "settings"));
  return TRUE;
}

static WkpLandmarkTrack *
load_npy (const char *path, WkpRational fps, GError **error)
{
  g_autoptr(WkpNpy) npy = NULL;
  g_autofree char *json_path = wkp_path_replace_ext (path, ".json");
  g_autofree char *status_path = wkp_path_replace_ext (path, ".status.npy");
  g_autoptr(JsonNode) side = NULL;
  gboolean ours = FALSE;
  gint64 n_frames, dims;

  npy = wkp_npy_load (path, error);
  if (npy == NULL)
    return NULL;
  if (npy->dtype != WKP_DTYPE_F32 && npy->dtype != WKP_DTYPE_F64)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "%s: landmarks must be float32 or float64, not %s", path, wkp_dtype_descr (npy->dtype));
      return NULL;
    }
  if (npy->ndim == 3 && npy->shape[1] == WKP_N_LANDMARKS && (npy->shape[2] == 2 || npy->shape[2] == 3))
    {
      n_frames = npy->shape[0];
      dims = npy->shape[2];
    }
  else if (npy->ndim == 2 && npy->shape[0] == WKP_N_LANDMARKS && (npy->shape[1] == 2 || npy->shape[1] == 3))
    {
      n_frames = 1;   /* a single face */
      dims = npy->shape[1];
    }
  else
    {
      g_autoptr(GString) s = g_string_new ("[");
      for (int i = 0; i < npy->ndim; i++)
        g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", npy->shape[i]);
      g_string_append_c (s, ']');
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "%s: landmark array has shape %s, expected [T, 68, 2] or [T, 68, 3]", path, s->str);
      return NULL;
    }

  /* our sidecar beside it? */
  if (g_file_test (json_path, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(GError) local = NULL;
      side = wkp_json_load_file (json_path, &local);
      /* a sidecar that cannot be read would leave the track's frame rate and
       * units to guesswork (it was ignored, exit 0): said, not guessed */
      if (side == NULL || !JSON_NODE_HOLDS_OBJECT (side))
        {
          g_autofree char *why = side == NULL ? g_strdup (local->message)
                                              : g_strdup_printf ("%s is not a JSON object", json_path);
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                       "%s: its sidecar cannot be used (%s); repair or remove it", path, why);
          return NULL;
        }
      {
        JsonObject *o = json_node_get_object (side);
        ours = json_object_has_member (o, "format") &&
               g_strcmp0 (wkp_json_get_string (o, "format"), FORMAT_NAME) == 0;
      }
    }

  WkpLandmarkTrack *track = wkp_landmark_track_new (n_frames, fps_or_default (fps));
  g_autoptr(WkpLandmarkTrack) guard = track;
  for (gint64 f = 0; f < n_frames; f++)
    for (int i = 0; i < WKP_N_LANDMARKS; i++)
      for (int k = 0; k < 2; k++)
        {
          gint64 src = (f * WKP_N_LANDMARKS + i) * dims + k;
          track->points[(f * WKP_N_LANDMARKS + i) * 2 + k] =
            npy->dtype == WKP_DTYPE_F32 ? ((const float *) npy->data)[src] : (float) ((const double *) npy->data)[src];
        }

  if (ours)
    {
      if (dims != 2)
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: expected [T, 68, 2] float32 (our format)",
                       path);
          return NULL;
        }
      if (!read_sidecar (json_node_get_object (side), json_path, track, error))
        return NULL;
      if (!g_file_test (status_path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_NOT_FOUND,
                       "%s: the status file %s that belongs to it is missing", path, status_path);
          return NULL;
        }
      g_autoptr(WkpNpy) st = wkp_npy_load (status_path, error);
      if (st == NULL)
        return NULL;
      gint64 want[1] = { n_frames };
      if (!wkp_npy_check (st, status_path, WKP_DTYPE_U8, 1, want, error))
        return NULL;
      const guint8 *s = st->data;
      for (gint64 f = 0; f < n_frames; f++)
        {
          if (s[f] > WKP_FACE_TRACKED)
            {
              g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                           "%s: frame %" G_GINT64_FORMAT " has status %d (0 missing, 1 detected, 2 tracked)",
                           status_path, f, s[f]);
              return NULL;
            }
          track->status[f] = s[f];
        }
    }
  else
    {
      for (gint64 f = 0; f < n_frames; f++)
        track->status[f] = WKP_FACE_DETECTED;
      track->source = g_strdup (path);
    }
  for (gint64 f = 0; f < n_frames; f++)
    sanitize_frame (track->points + f * N2, &track->status[f]);
  return g_steal_pointer (&guard);
}

/* --- CSV ---------------------------------------------------------------------- */

/* Parses a whole field as a number: "" and "nan" are NaN, anything else that
 * is not entirely a number is an error. */
static gboolean
parse_number (const char *text, double *out, const char *path, int line, const char *column, char delim,
              GError **error)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  if (*t == '\0')
    {
      *out = NAN;
      return TRUE;
    }
  *out = g_ascii_strtod (t, &end);
  if (end == t || *end != '\0')
    {
      gboolean comma = strchr (t, ',') != NULL && delim != ',';
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "%s, line %d, column %s: “%s” is not a number%s", path, line, column, t,
                   comma ? " (decimal comma? numbers must use a decimal point)" : "");
      return FALSE;
    }
  return TRUE;
}

static char **
split_fields (const char *line, char delim)
{
  char sep[2] = { delim, '\0' };
  char **f = g_strsplit (line, sep, -1);
  for (int i = 0; f[i] != NULL; i++)
    {
      g_strstrip (f[i]);
      /* plain quoted fields: "x_0" */
      gsize n = strlen (f[i]);
      if (n >= 2 && f[i][0] == '"' && f[i][n - 1] == '"')
        {
          memmove (f[i], f[i] + 1, n - 2);
          f[i][n - 2] = '\0';
        }
    }
  return f;
}

static WkpRational
fps_from_timestamps (double t0, gint64 f0, double t1, gint64 f1)
{
  WkpRational r = { 0, 0 };
  if (f1 <= f0 || !(t1 > t0))
    return r;
  double fps = (double) (f1 - f0) / (t1 - t0);
  char buf[32];
  if (fabs (fps - round (fps)) < 0.01 * fps / 100 + 0.005)
    g_snprintf (buf, sizeof buf, "%d", (int) round (fps));
  else
    g_ascii_formatd (buf, sizeof buf, "%.2f", fps);
  if (!wkp_frame_rate_parse (buf, &r, NULL))
    r = WKP_RATIONAL (0, 0);
  return r;
}

static WkpLandmarkTrack *
load_csv (const char *path, WkpRational fps, GError **error)
{
  g_autoptr(GBytes) bytes = wkp_read_file (path, error);
  if (bytes == NULL)
    return NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate (data, len, NULL))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: not a text CSV file", path);
      return NULL;
    }
  g_autofree char *text = g_strndup (data, len);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  int header_line = -1;
  for (int i = 0; lines[i] != NULL; i++)
    {
      g_strchomp (lines[i]);   /* also drops \r */
      if (header_line < 0 && lines[i][0] != '\0')
        header_line = i;
    }
  if (header_line < 0)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: empty CSV file", path);
      return NULL;
    }

  /* delimiter: the most frequent of , ; tab in the header */
  const char *header = lines[header_line];
  char delim = ',';
  int best = -1;
  const char cands[] = { ',', ';', '\t' };
  for (guint c = 0; c < G_N_ELEMENTS (cands); c++)
    {
      int n = 0;
      for (const char *p = header; *p; p++)
        n += *p == cands[c];
      if (n > best)
        {
          best = n;
          delim = cands[c];
        }
    }
  g_auto(GStrv) cols = split_fields (header, delim);
  int n_cols = (int) g_strv_length (cols);
  int xcol[WKP_N_LANDMARKS], ycol[WKP_N_LANDMARKS];
  int frame_col = -1, face_col = -1, success_col = -1, time_col = -1, status_col = -1;
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    xcol[i] = ycol[i] = -1;
  for (int c = 0; c < n_cols; c++)
    {
      const char *name = cols[c];
      if ((name[0] == 'x' || name[0] == 'y') && name[1] == '_' && g_ascii_isdigit (name[2]))
        {
          char *end;
          long k = strtol (name + 2, &end, 10);
          if (*end == '\0' && k >= 0 && k < WKP_N_LANDMARKS)
            (name[0] == 'x' ? xcol : ycol)[k] = c;
        }
      else if (strcmp (name, "frame") == 0)
        frame_col = c;
      else if (strcmp (name, "face_id") == 0)
        face_col = c;
      else if (strcmp (name, "success") == 0)
        success_col = c;
      else if (strcmp (name, "timestamp") == 0)
        time_col = c;
      else if (strcmp (name, "status") == 0)
        status_col = c;
    }
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    if (xcol[i] < 0 || ycol[i] < 0)
      {
        g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                     "%s: no column %s_%d in the header (expected the OpenFace 2.0 layout x_0..x_67, y_0..y_67)",
                     path, xcol[i] < 0 ? "x" : "y", i);
        return NULL;
      }

  g_autoptr(GArray) pts = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GByteArray) st = g_byte_array_new ();
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (gint64));   /* frame index of each row */
  gint64 first_frame = 0, last_index = -1;
  double first_face = NAN, t_first = NAN, t_last = NAN;
  gint64 idx_first = -1, idx_last = -1;

  for (int li = header_line + 1; lines[li] != NULL; li++)
    {
      int line_no = li + 1;
      if (lines[li][0] == '\0')
        continue;
      g_auto(GStrv) f = split_fields (lines[li], delim);
      int nf = (int) g_strv_length (f);
      if (nf != n_cols)
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                       "%s, line %d: %d fields, the header has %d%s", path, line_no, nf, n_cols,
                       nf > n_cols && delim == ',' ? " (decimal commas? numbers must use a decimal point)" : "");
          return NULL;
        }
      double v;
      if (face_col >= 0)
        {
          if (!parse_number (f[face_col], &v, path, line_no, "face_id", delim, error))
            return NULL;
          if (isnan (first_face))
            first_face = v;
          else if (v != first_face)
            continue;   /* another person: we keep the first */
        }
      gint64 index = last_index + 1;
      if (frame_col >= 0)
        {
          if (!parse_number (f[frame_col], &v, path, line_no, "frame", delim, error))
            return NULL;
          if (!isfinite (v) || v != floor (v) || fabs (v) > 1e12)
            {
              g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                           "%s, line %d: frame “%s” is not a whole number", path, line_no, f[frame_col]);
              return NULL;
            }
          if (last_index < 0)
            first_frame = (gint64) v;
          index = (gint64) v - first_frame;
          if (index <= last_index)
            {
              g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                           "%s, line %d: frame numbers must increase (frame %s after %" G_GINT64_FORMAT ")",
                           path, line_no, f[frame_col], last_index + first_frame);
              return NULL;
            }
          /* skipped frames are stored as NaN: a far jump would allocate gigabytes */
          if (index >= WKP_LANDMARK_MAX_FRAMES)
            {
              g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                           "%s, line %d: frame %s is %" G_GINT64_FORMAT " frames after the first; a file may "
                           "span at most %d frames (6 hours at 60 fps)", path, line_no, f[frame_col], index,
                           WKP_LANDMARK_MAX_FRAMES);
              return NULL;
            }
        }
      float p[N2];
      guint8 s = WKP_FACE_DETECTED;
      for (int i = 0; i < WKP_N_LANDMARKS; i++)
        for (int k = 0; k < 2; k++)
          {
            int col = k == 0 ? xcol[i] : ycol[i];
            if (!parse_number (f[col], &v, path, line_no, cols[col], delim, error))
              return NULL;
            /* as for a .npy track: 1e300 became infinity, i.e. "no face", exit 0 */
            if (isinf (v) || fabs (v) > 1e6)
              {
                g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                             "%s, line %d: %s “%s” is a coordinate beyond a million pixels", path, line_no,
                             cols[col], f[col]);
                return NULL;
              }
            p[2 * i + k] = (float) v;
          }
      if (success_col >= 0)
        {
          if (!parse_number (f[success_col], &v, path, line_no, "success", delim, error))
            return NULL;
          if (v == 0)
            s = WKP_FACE_MISSING;
        }
      if (status_col >= 0 && s != WKP_FACE_MISSING)
        {
          if (strcmp (f[status_col], "tracked") == 0)
            s = WKP_FACE_TRACKED;
          else if (strcmp (f[status_col], "missing") == 0)
            s = WKP_FACE_MISSING;
        }
      if (time_col >= 0)
        {
          if (!parse_number (f[time_col], &v, path, line_no, "timestamp", delim, error))
            return NULL;
          if (isfinite (v))
            {
              if (idx_first < 0)
                {
                  idx_first = index;
                  t_first = v;
                }
              idx_last = index;
              t_last = v;
            }
        }
      sanitize_frame (p, &s);
      g_array_append_vals (pts, p, N2);
      g_byte_array_append (st, &s, 1);
      g_array_append_val (rows, index);
      last_index = index;
    }

  if (last_index < 0)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: no data rows (only a header)", path);
      return NULL;
    }
  WkpRational rate = fps;
  if (!wkp_rational_is_valid (rate) && idx_first >= 0)
    rate = fps_from_timestamps (t_first, idx_first, t_last, idx_last);
  gint64 n = last_index + 1;
  /* only the rows read are kept while parsing; the frames the file skips
   * stay missing (NaN) in the track */
  WkpLandmarkTrack *track = wkp_landmark_track_new (n, fps_or_default (rate));
  for (guint r = 0; r < rows->len; r++)
    {
      gint64 k = g_array_index (rows, gint64, r);
      memcpy (track->points + k * N2, (const float *) pts->data + (gsize) r * N2, sizeof (float) * N2);
      track->status[k] = st->data[r];
    }
  track->source = g_strdup (path);
  return track;
}

/* --- our JSON export, read back ---------------------------------------------- */

static WkpLandmarkTrack *
load_json (const char *path, WkpRational fps, GError **error)
{
  g_autoptr(JsonNode) root = wkp_json_load_file (path, error);
  if (root == NULL)
    return NULL;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (o != NULL && json_object_has_member (o, "format") &&
      g_strcmp0 (wkp_json_get_string (o, "format"), FORMAT_NAME) == 0)
    {
      /* the sidecar: load the .npy beside it */
      g_autofree char *npy = wkp_path_replace_ext (path, ".npy");
      return load_npy (npy, fps, error);
    }
  if (o == NULL || !json_object_has_member (o, "format") ||
      g_strcmp0 (wkp_json_get_string (o, "format"), JSON_FORMAT_NAME) != 0 ||
      !json_object_has_member (o, "frames") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "frames")))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_UNSUPPORTED,
                   "%s: not a landmark JSON file written by wav2kp (format \"%s\")", path, JSON_FORMAT_NAME);
      return NULL;
    }
  JsonArray *frames = json_object_get_array_member (o, "frames");
  guint n = json_array_get_length (frames);
  g_autoptr(WkpLandmarkTrack) track = wkp_landmark_track_new (n, fps_or_default (fps));
  if (!read_sidecar (o, path, track, error))
    return NULL;
  for (guint f = 0; f < n; f++)
    {
      JsonNode *fn = json_array_get_element (frames, f);
      JsonObject *fo = JSON_NODE_HOLDS_OBJECT (fn) ? json_node_get_object (fn) : NULL;
      JsonNode *pn = fo != NULL ? json_object_get_member (fo, "points") : NULL;
      if (fo == NULL || pn == NULL)
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: frame %u has no “points”", path, f);
          return NULL;
        }
      if (JSON_NODE_HOLDS_NULL (pn))
        continue;
      JsonArray *pa = JSON_NODE_HOLDS_ARRAY (pn) ? json_node_get_array (pn) : NULL;
      if (pa == NULL || json_array_get_length (pa) != WKP_N_LANDMARKS)
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: frame %u does not have 68 points", path, f);
          return NULL;
        }
      for (int i = 0; i < WKP_N_LANDMARKS; i++)
        {
          JsonNode *xy = json_array_get_element (pa, i);
          JsonArray *xa = JSON_NODE_HOLDS_ARRAY (xy) ? json_node_get_array (xy) : NULL;
          if (xa == NULL || json_array_get_length (xa) != 2 ||
              !wkp_json_node_is_number (json_array_get_element (xa, 0)) ||
              !wkp_json_node_is_number (json_array_get_element (xa, 1)))
            {
              g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                           "%s: frame %u, point %d is not a pair of numbers", path, f, i);
              return NULL;
            }
          track->points[f * N2 + 2 * i] = (float) wkp_json_node_get_number (json_array_get_element (xa, 0));
          track->points[f * N2 + 2 * i + 1] = (float) wkp_json_node_get_number (json_array_get_element (xa, 1));
        }
      const char *s = wkp_json_get_string (fo, "status");
      if ((s == NULL && json_object_has_member (fo, "status"))
          || (s != NULL && strcmp (s, "detected") != 0 && strcmp (s, "tracked") != 0 && strcmp (s, "missing") != 0))
        {
          g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                       "%s: frame %u has status “%s” (detected, tracked or missing expected)", path, f,
                       s != NULL ? s : "not a string");
          return NULL;
        }
      track->status[f] = g_strcmp0 (s, "tracked") == 0   ? WKP_FACE_TRACKED
                         : g_strcmp0 (s, "missing") == 0 ? WKP_FACE_MISSING
                                                         : WKP_FACE_DETECTED;
      sanitize_frame (track->points + f * N2, &track->status[f]);
    }
  return g_steal_pointer (&track);
}

/* What every reader of a track file checks: frames, plausible coordinates
 * (the bounds the keypoint readers apply), and faces of zero size (all 68
 * points on one spot: OpenFace writes zeros for a failed frame) as missing. */
static WkpLandmarkTrack *
check_loaded (WkpLandmarkTrack *track, const char *path, GError **error)
{
  if (track == NULL)
    return NULL;
  if (track->n_frames == 0)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s: holds no frames", path);
      wkp_landmark_track_free (track);
      return NULL;
    }
  if (!wkp_face_track_check (track->points, track->n_frames, track->canonical, path, error))
    {
      wkp_landmark_track_free (track);
      return NULL;
    }
  for (gint64 f = 0; f < track->n_frames; f++)
    {
      float *p = track->points + f * N2;
      gboolean spread = FALSE;
      if (track->status[f] == WKP_FACE_MISSING)
        continue;
      for (int i = 1; i < WKP_N_LANDMARKS && !spread; i++)
        spread = p[2 * i] != p[0] || p[2 * i + 1] != p[1];
      if (!spread)
        {
          track->status[f] = WKP_FACE_MISSING;
          for (int i = 0; i < N2; i++)
            p[i] = NAN;
        }
    }
  return track;
}

static WkpLandmarkTrack *
load_any (const char *path, WkpRational fps, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_NOT_FOUND, "%s: no such landmark file", path);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "%s is a folder, not a landmark file", path);
      return NULL;
    }
  if (wkp_path_has_suffix (path, ".csv") || wkp_path_has_suffix (path, ".txt"))
    return load_csv (path, fps, error);
  if (wkp_path_has_suffix (path, ".json"))
    return load_json (path, fps, error);
  if (wkp_path_has_suffix (path, ".status.npy"))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "%s is the status file of a landmark track; open the .npy beside it", path);
      return NULL;
    }
  return load_npy (path, fps, error);
}

WkpLandmarkTrack *
wkp_landmark_track_load (const char *path, WkpRational fps, GError **error)
{
  return check_loaded (load_any (path, fps, error), path, error);
}

gboolean
wkp_landmark_track_check_fits (const WkpLandmarkTrack *track, const char *path, gint64 n_frames, int width,
                               int height, GError **error)
{
  gint64 found = 0, fitting = 0;

  if (track->n_frames != n_frames)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_MISMATCH,
                   "%s: has %" G_GINT64_FORMAT " frames, the video has %" G_GINT64_FORMAT
                   " (landmarks of another clip?)", path, track->n_frames, n_frames);
      return FALSE;
    }
  if (track->canonical)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_MISMATCH,
                   "%s: the points are in the canonical face frame (written by `landmarks --normalize`), not "
                   "pixels of the video", path);
      return FALSE;
    }
  if (width <= 0 || height <= 0)
    return TRUE;
  for (gint64 f = 0; f < track->n_frames; f++)
    {
      const float *p = track->points + f * N2;
      double cx = 0, cy = 0;
      if (!isfinite (p[0]))
        continue;
      found++;
      for (int i = 0; i < WKP_N_LANDMARKS; i++)
        {
          cx += p[2 * i];
          cy += p[2 * i + 1];
        }
      cx /= WKP_N_LANDMARKS;
      cy /= WKP_N_LANDMARKS;
      if (cx >= -0.1 * width && cx <= 1.1 * width && cy >= -0.1 * height && cy <= 1.1 * height
          && hypot (p[2 * 45] - p[2 * 36], p[2 * 45 + 1] - p[2 * 36 + 1]) >= 2.0)
        fitting++;
    }
  if (found > 0 && 2 * fitting <= found)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_MISMATCH,
                   "%s: the faces lie outside the video's %dx%d frame or are under 2 px wide in %"
                   G_GINT64_FORMAT " of %" G_GINT64_FORMAT " frames: not pixel coordinates of this video"
                   " (normalised landmarks?)", path, width, height, found - fitting, found);
      return FALSE;
    }
  return TRUE;
}

/* --- exports ------------------------------------------------------------------
 *
 * Both exports are written frame by frame straight to the output's temporary
 * (WkpOutput: renamed into place only when complete), so their memory does
 * not grow with the length of the track: a 10-minute track used to take
 * 12 times its JSON file (the whole json-glib tree) or 1.5 times its CSV. */

static void
put_number (FILE *fp, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (isfinite (v))
    fputs (g_ascii_formatd (buf, sizeof buf, "%.3f", v), fp);
}

gboolean
wkp_landmark_track_export_csv (const WkpLandmarkTrack *track, const char *path, GError **error)
{
  g_autoptr(WkpOutput) out = NULL;
  WkpRational fps = fps_or_default (track->fps);
  FILE *fp;

  if (!wkp_check_output_path (path, error))
    return FALSE;
  out = wkp_output_new ();
  if ((fp = wkp_output_add_file (out, path, error)) == NULL)
    return FALSE;
  fputs ("frame,timestamp,success,status", fp);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < WKP_N_LANDMARKS; i++)
      fprintf (fp, ",%c_%d", k == 0 ? 'x' : 'y', i);
  fputc ('\n', fp);
  for (gint64 f = 0; f < track->n_frames && !ferror (fp); f++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      gint64 us = wkp_frame_to_us (f, fps);
      fprintf (fp, "%" G_GINT64_FORMAT ",%s,%d,%s", f, g_ascii_formatd (buf, sizeof buf, "%.6f", us / 1e6),
               track->status[f] != WKP_FACE_MISSING, wkp_face_status_to_string (track->status[f]));
      for (int k = 0; k < 2; k++)
        for (int i = 0; i < WKP_N_LANDMARKS; i++)
          {
            fputc (',', fp);
            put_number (fp, track->points[f * N2 + 2 * i + k]);
          }
      fputc ('\n', fp);
    }
  return wkp_output_finish_file (out, fp, error) && wkp_output_commit (out, error);
}

/* A JSON string as json-glib writes it (the same escapes as before). */
static char *
json_string (const char *s)
{
  g_autoptr(JsonNode) n = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (n, s);
  return wkp_json_to_string (n, FALSE);
}

static void
put_json_string (FILE *fp, const char *s)
{
  g_autofree char *text = json_string (s);
  fputs (text, fp);
}

/* A real as json-glib writes it through wkp_json_to_string(): the shortest
 * text that reads back to the same double (g_ascii_dtostr, never the
 * locale), ".0" added when it would read as an integer, null for what JSON
 * cannot hold. */
static void
put_json_double (FILE *fp, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    {
      fputs ("null", fp);
      return;
    }
  g_ascii_dtostr (buf, sizeof buf, v);
  fputs (buf, fp);
  if (strchr (buf, '.') == NULL && strchr (buf, 'e') == NULL)
    fputs (".0", fp);
}

gboolean
wkp_landmark_track_export_json (const WkpLandmarkTrack *track, const char *path, GError **error)
{
  g_autoptr(WkpOutput) out = NULL;
  g_autofree char *fps_text = wkp_rational_to_string (fps_or_default (track->fps));
  WkpRational fps = fps_or_default (track->fps);
  /* the status names, escaped once (nothing is allocated per frame); the
   * last one for a value out of range */
  const int n_status = WKP_FACE_TRACKED + 2;
  g_auto(GStrv) status_text = g_new0 (char *, n_status + 1);
  FILE *fp;

  if (!wkp_check_output_path (path, error))
    return FALSE;
  for (int s = 0; s < n_status; s++)
    status_text[s] = json_string (wkp_face_status_to_string ((WkpFaceStatus) s));
  out = wkp_output_new ();
  if ((fp = wkp_output_add_file (out, path, error)) == NULL)
    return FALSE;
  /* the layout json-glib's generator gave the whole document (compact) */
  fputs ("{\"format\":", fp);
  put_json_string (fp, JSON_FORMAT_NAME);
  fputs (",\"version\":1,\"fps\":", fp);
  put_json_string (fp, fps_text);
  fprintf (fp, ",\"width\":%d,\"height\":%d,\"source\":", track->width, track->height);
  if (track->source != NULL)
    put_json_string (fp, track->source);
  else
    fputs ("null", fp);
  fprintf (fp, ",\"n_points\":%d,\"frames\":[", WKP_N_LANDMARKS);
  for (gint64 f = 0; f < track->n_frames && !ferror (fp); f++)
    {
      fprintf (fp, "%s{\"frame\":%" G_GINT64_FORMAT ",\"time_us\":%" G_GINT64_FORMAT ",\"status\":", f > 0 ? "," : "",
               f, wkp_frame_to_us (f, fps));
      fputs (status_text[MIN ((int) track->status[f], n_status - 1)], fp);
      fputs (",\"points\":", fp);
      if (track->status[f] == WKP_FACE_MISSING)
        fputs ("null", fp);
      else
        {
          fputc ('[', fp);
          for (int i = 0; i < WKP_N_LANDMARKS; i++)
            {
              fputs (i > 0 ? ",[" : "[", fp);
              put_json_double (fp, round (track->points[f * N2 + 2 * i] * 1000.0) / 1000.0);
              fputc (',', fp);
              put_json_double (fp, round (track->points[f * N2 + 2 * i + 1] * 1000.0) / 1000.0);
              fputc (']', fp);
            }
          fputc (']', fp);
        }
      fputc ('}', fp);
    }
  fputs ("]}\n", fp);
  return wkp_output_finish_file (out, fp, error) && wkp_output_commit (out, error);
}
