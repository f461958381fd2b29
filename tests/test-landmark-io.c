/* Landmark files: our .npy + .status.npy + .json, face-alignment .npy,
 * OpenFace CSV, CSV/JSON export, and clear errors on malformed files. The
 * numpy side (tests/landmarks_io.py) writes the foreign files and reads ours. */
#include "wkp-io.h"
#include "wkp-landmarks.h"
#include "wkp-npy.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define N2 (WKP_N_LANDMARKS * 2)

static WkpLandmarkTrack *
make_track (gint64 n)
{
  WkpLandmarkTrack *t = wkp_landmark_track_new (n, WKP_RATIONAL (30000, 1001));
  wkp_test_random_fill (t->points, n * N2, 5, 700);
  for (gint64 f = 0; f < n; f++)
    t->status[f] = f % 3 == 0 ? WKP_FACE_DETECTED : WKP_FACE_TRACKED;
  t->status[2] = WKP_FACE_MISSING;
  for (int i = 0; i < N2; i++)
    t->points[2 * N2 + i] = NAN;
  t->width = 720;
  t->height = 576;
  t->source = g_strdup ("some/clip.mp4");
  t->settings = json_from_string ("{\"detect_every\": 10, \"tracking\": true}", NULL);
  return t;
}

static void
assert_points_equal (const WkpLandmarkTrack *a, const WkpLandmarkTrack *b, double tol)
{
  g_assert_cmpint (a->n_frames, ==, b->n_frames);
  for (gint64 f = 0; f < a->n_frames; f++)
    {
      g_assert_cmpint (a->status[f] == WKP_FACE_MISSING, ==, b->status[f] == WKP_FACE_MISSING);
      for (int i = 0; i < N2; i++)
        {
          float x = a->points[f * N2 + i], y = b->points[f * N2 + i];
          if (isnan (x) || isnan (y))
            g_assert_true (isnan (x) && isnan (y));
          else if (tol == 0)
            g_assert_cmpfloat (x, ==, y);
          else
            g_assert_cmpfloat_with_epsilon (x, y, tol);
        }
    }
}

static void
test_track_basics (void)
{
  g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_new (4, WKP_RATIONAL (25, 1));
  for (int i = 0; i < 4 * N2; i++)
    g_assert_true (isnan (t->points[i]));
  for (int f = 0; f < 4; f++)
    g_assert_cmpint (t->status[f], ==, WKP_FACE_MISSING);
  g_assert_cmpint (wkp_landmark_track_count_found (t), ==, 0);
  t->status[1] = WKP_FACE_TRACKED;
  t->points[N2 + 3] = 7;
  g_autoptr(WkpLandmarkTrack) c = wkp_landmark_track_copy (t);
  g_assert_cmpint (wkp_landmark_track_count_found (c), ==, 1);
  g_assert_cmpfloat (c->points[N2 + 3], ==, 7);
  g_assert_cmpstr (wkp_face_status_to_string (WKP_FACE_TRACKED), ==, "tracked");
  g_autoptr(WkpLandmarkTrack) empty = wkp_landmark_track_new (0, WKP_RATIONAL (25, 1));
  g_assert_cmpint (wkp_landmark_track_count_found (empty), ==, 0);
}

static void
test_roundtrip_ours (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "lm.npy", NULL);
  g_autofree char *status = g_build_filename (dir, "lm.status.npy", NULL);
  g_autofree char *json = g_build_filename (dir, "lm.json", NULL);
  g_autoptr(WkpLandmarkTrack) t = make_track (9);
  g_autoptr(GError) error = NULL;

  g_assert_true (wkp_landmark_track_save (t, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (status, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (json, G_FILE_TEST_IS_REGULAR));

  g_autoptr(WkpLandmarkTrack) back = wkp_landmark_track_load (path, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  assert_points_equal (t, back, 0);
  for (int f = 0; f < 9; f++)
    g_assert_cmpint (back->status[f], ==, t->status[f]);
  g_assert_cmpint (back->fps.num, ==, 30000);
  g_assert_cmpint (back->fps.den, ==, 1001);
  g_assert_cmpint (back->width, ==, 720);
  g_assert_cmpint (back->height, ==, 576);
  g_assert_cmpstr (back->source, ==, "some/clip.mp4");
  g_assert_nonnull (back->settings);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (back->settings), "detect_every"), ==, 10);

  /* a sidecar that is not a JSON object is an error naming both files (it
   * was ignored: the track loaded at a guessed rate, exit 0) */
  {
    g_autofree char *saved = NULL;
    const char *broken[] = { "{bad", "", "[]" };
    g_assert_true (g_file_get_contents (json, &saved, NULL, NULL));
    for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
      {
        g_autoptr(GError) local = NULL;
        g_autoptr(WkpLandmarkTrack) none = NULL;
        g_assert_true (g_file_set_contents (json, broken[i], -1, NULL));
        none = wkp_landmark_track_load (path, WKP_RATIONAL (0, 0), &local);
        g_assert_null (none);
        g_assert_nonnull (local);
        g_assert_nonnull (strstr (local->message, "its sidecar cannot be used"));
        g_assert_nonnull (strstr (local->message, path));
      }
    g_assert_true (g_file_set_contents (json, saved, -1, NULL));
  }

  /* loading through the sidecar works too */
  g_autoptr(WkpLandmarkTrack) via_json = wkp_landmark_track_load (json, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  assert_points_equal (t, via_json, 0);

  /* a sidecar rate outside 1..1000 fps is refused: `evaluate` resampled
   * such a track to the clip's rate and allocated tens of gigabytes */
  {
    g_autofree char *text = NULL, *bad = NULL;
    g_autoptr(GRegex) re = g_regex_new ("\"fps\" *: *\"[0-9/]+\"", 0, 0, NULL);
    g_autoptr(WkpLandmarkTrack) none = NULL;
    g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
    bad = g_regex_replace_literal (re, text, -1, 0, "\"fps\" : \"1/100000\"", 0, NULL);
    g_assert_cmpstr (bad, !=, text);
    g_assert_true (g_file_set_contents (json, bad, -1, NULL));
    none = wkp_landmark_track_load (path, WKP_RATIONAL (0, 0), &error);
    g_assert_null (none);
    g_assert_nonnull (strstr (error->message, "1 to 1000 frames per second"));
    g_clear_error (&error);
    g_assert_true (g_file_set_contents (json, text, -1, NULL));
  }

  /* numpy sees float32 [T,68,2] and uint8 [T], one all-NaN frame */
  if (wkp_test_python ("numpy") == NULL)
    return;
  const char *args[] = { "read-ours", path, NULL };
  g_autofree char *out = wkp_test_run_python ("landmarks_io.py", args);
  double sum = 0;
  for (int f = 0; f < 9; f++)
    for (int i = 0; i < WKP_N_LANDMARKS; i++)
      if (!isnan (t->points[f * N2 + 2 * i]))
        sum += t->points[f * N2 + 2 * i];
  g_autofree char *expect = g_strdup_printf ("(9, 68, 2) float32 (9,) uint8 1 %.3f", sum);
  g_assert_cmpstr (g_strstrip (out), ==, expect);
}

static void
test_import_face_alignment (void)
{
  if (wkp_test_python ("numpy") == NULL)
    return;
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *p3 = g_build_filename (dir, "fa3.npy", NULL);
  g_autofree char *p2 = g_build_filename (dir, "fa2.npy", NULL);
  const char *args[] = { "write-fa", p3, p2, NULL };
  g_autofree char *out = wkp_test_run_python ("landmarks_io.py", args);
  const char *paths[] = { p3, p2 };
  const int missing[] = { 2, 1 };

  for (int k = 0; k < 2; k++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *truth_path = g_strconcat (paths[k], ".truth.npy", NULL);
      g_autoptr(WkpNpy) truth = wkp_npy_load (truth_path, &error);
      g_assert_no_error (error);
      g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_load (paths[k], WKP_RATIONAL (30, 1), &error);
      g_assert_no_error (error);
      g_assert_cmpint (t->n_frames, ==, truth->shape[0]);
      g_assert_cmpint (t->fps.num, ==, 30);
      const float *tv = truth->data;
      for (gint64 f = 0; f < t->n_frames; f++)
        {
          if (f == missing[k])
            {
              /* NaN (even one point) -> missing, entirely NaN, never a guess */
              g_assert_cmpint (t->status[f], ==, WKP_FACE_MISSING);
              for (int i = 0; i < N2; i++)
                g_assert_true (isnan (t->points[f * N2 + i]));
              continue;
            }
          g_assert_cmpint (t->status[f], ==, WKP_FACE_DETECTED);
          for (int i = 0; i < N2; i++)
            g_assert_cmpfloat (t->points[f * N2 + i], ==, tv[f * N2 + i]);
        }
    }
}

static void
test_import_openface (void)
{
  if (wkp_test_python ("numpy") == NULL)
    return;
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *csv = g_build_filename (dir, "openface.csv", NULL);
  g_autofree char *truth_path = g_build_filename (dir, "openface.csv.npy", NULL);
  const char *args[] = { "write-openface", csv, NULL };
  g_autofree char *out = wkp_test_run_python ("landmarks_io.py", args);
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpNpy) truth = wkp_npy_load (truth_path, &error);
  g_assert_no_error (error);
  g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_load (csv, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  /* frames 1..7 (the 6th has no row), the second face ignored, fps from the
   * timestamps */
  g_assert_cmpint (t->n_frames, ==, 7);
  g_assert_cmpint (t->fps.num, ==, 30);
  g_assert_cmpint (t->fps.den, ==, 1);
  const float *tv = truth->data;
  for (int f = 0; f < 7; f++)
    {
      g_assert_cmpint (t->status[f], ==, f == 3 || f == 5 ? WKP_FACE_MISSING : WKP_FACE_DETECTED);
      for (int i = 0; i < N2; i++)
        {
          if (f == 3 || f == 5)
            g_assert_true (isnan (t->points[f * N2 + i]));
          else
            g_assert_cmpfloat (t->points[f * N2 + i], ==, tv[f * N2 + i]);
        }
    }
}

static void
test_export (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *csv = g_build_filename (dir, "out.csv", NULL);
  g_autofree char *json = g_build_filename (dir, "out.json", NULL);
  g_autoptr(WkpLandmarkTrack) t = make_track (7);
  g_autoptr(GError) error = NULL;

  g_assert_true (wkp_landmark_track_export_csv (t, csv, &error));
  g_assert_no_error (error);
  g_assert_true (wkp_landmark_track_export_json (t, json, &error));
  g_assert_no_error (error);

  /* our readers take them back (3 decimals) */
  g_autoptr(WkpLandmarkTrack) from_csv = wkp_landmark_track_load (csv, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  assert_points_equal (t, from_csv, 0.0006);
  for (int f = 0; f < 7; f++)
    g_assert_cmpint (from_csv->status[f], ==, t->status[f]);
  g_assert_cmpint (from_csv->fps.num, ==, 30000);   /* 29.97 from the timestamps */
  g_assert_cmpint (from_csv->fps.den, ==, 1001);
  g_autoptr(WkpLandmarkTrack) from_json = wkp_landmark_track_load (json, WKP_RATIONAL (0, 0), &error);
  g_assert_no_error (error);
  assert_points_equal (t, from_json, 0.0006);
  g_assert_cmpint (from_json->fps.num, ==, 30000);
  g_assert_cmpint (from_json->width, ==, 720);

  /* the CSV has decimal points and OpenFace column names: Python's csv module
   * reads the same numbers */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "frame,timestamp,success,status,x_0,x_1,"));
  if (wkp_test_python ("numpy") == NULL)
    return;
  g_autofree char *npy = g_build_filename (dir, "csv.npy", NULL);
  const char *args[] = { "csv-to-npy", csv, npy, NULL };
  g_autofree char *out = wkp_test_run_python ("landmarks_io.py", args);
  g_autoptr(WkpNpy) py = wkp_npy_load (npy, &error);
  g_assert_no_error (error);
  const float *pv = py->data;
  for (int i = 0; i < 7 * N2; i++)
    {
      if (isnan (t->points[i]))
        g_assert_true (isnan (pv[i]));
      else
        g_assert_cmpfloat_with_epsilon (pv[i], t->points[i], 0.0006);
    }
}

static void
write_text (const char *path, const char *text)
{
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static char *
csv_header (char delim)
{
  GString *s = g_string_new ("frame");
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < WKP_N_LANDMARKS; i++)
      g_string_append_printf (s, "%c%c_%d", delim, k ? 'y' : 'x', i);
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

static char *
csv_row (char delim, const char *value)
{
  GString *s = g_string_new ("1");
  for (int i = 0; i < N2; i++)
    g_string_append_printf (s, "%c%s", delim, value);
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

static void
expect_load_error (const char *path, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_load (path, WKP_RATIONAL (0, 0), &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strchr (base, '.');
  if (dot != NULL)
    *dot = '\0';   /* "ours" for ours.npy or its ours.status.npy */
  g_assert_nonnull (strstr (error->message, base));   /* names the file */
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("error “%s” does not mention “%s”", error->message, fragment);
}

/* The exports as they were made before they were streamed: the whole CSV in
 * a GString, the whole JSON document as a json-glib tree. The streamed files
 * must stay byte for byte the same. */
static char *
csv_as_before (const WkpLandmarkTrack *t)
{
  GString *s = g_string_new ("frame,timestamp,success,status");
  WkpRational fps = wkp_rational_is_valid (t->fps) ? t->fps : WKP_RATIONAL (25, 1);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (int k = 0; k < 2; k++)
    for (int i = 0; i < WKP_N_LANDMARKS; i++)
      g_string_append_printf (s, ",%c_%d", k == 0 ? 'x' : 'y', i);
  g_string_append_c (s, '\n');
  for (gint64 f = 0; f < t->n_frames; f++)
    {
      g_string_append_printf (s, "%" G_GINT64_FORMAT ",%s,%d,%s", f,
                              g_ascii_formatd (buf, sizeof buf, "%.6f", wkp_frame_to_us (f, fps) / 1e6),
                              t->status[f] != WKP_FACE_MISSING, wkp_face_status_to_string (t->status[f]));
      for (int k = 0; k < 2; k++)
        for (int i = 0; i < WKP_N_LANDMARKS; i++)
          {
            double v = t->points[f * N2 + 2 * i + k];
            g_string_append_c (s, ',');
            if (isfinite (v))
              g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.3f", v));
          }
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

static char *
json_as_before (const WkpLandmarkTrack *t)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  WkpRational fps = wkp_rational_is_valid (t->fps) ? t->fps : WKP_RATIONAL (25, 1);
  g_autofree char *fps_text = wkp_rational_to_string (fps);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "wav2kp-landmarks-json");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "fps");
  json_builder_add_string_value (b, fps_text);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, t->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, t->height);
  json_builder_set_member_name (b, "source");
  if (t->source != NULL)
    json_builder_add_string_value (b, t->source);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "n_points");
  json_builder_add_int_value (b, WKP_N_LANDMARKS);
  json_builder_set_member_name (b, "frames");
  json_builder_begin_array (b);
  for (gint64 f = 0; f < t->n_frames; f++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "frame");
      json_builder_add_int_value (b, f);
      json_builder_set_member_name (b, "time_us");
      json_builder_add_int_value (b, wkp_frame_to_us (f, fps));
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, wkp_face_status_to_string (t->status[f]));
      json_builder_set_member_name (b, "points");
      if (t->status[f] == WKP_FACE_MISSING)
        json_builder_add_null_value (b);
      else
        {
          json_builder_begin_array (b);
          for (int i = 0; i < WKP_N_LANDMARKS; i++)
            {
              json_builder_begin_array (b);
              for (int k = 0; k < 2; k++)
                json_builder_add_double_value (b, round (t->points[f * N2 + 2 * i + k] * 1000.0) / 1000.0);
              json_builder_end_array (b);
            }
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = wkp_json_to_string (root, FALSE);
  return g_strconcat (text, "\n", NULL);
}

static void
assert_file_is (const char *path, const char *want)
{
  g_autofree char *got = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &got, &len, NULL));
  g_assert_cmpuint (len, ==, strlen (want));
  g_assert_true (memcmp (got, want, len) == 0);
}

/* The streamed exports write what the whole-document ones did, byte for
 * byte, including numbers that print with an exponent or as integers,
 * negative zero, non-finite points of a frame with a face (null in JSON,
 * empty in CSV), a status out of range, a frame rate that is not set and a
 * source that needs escapes; and the same again with no source and an empty track. */
static void
test_export_as_before (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *csv = g_build_filename (dir, "out.csv", NULL);
  g_autofree char *json = g_build_filename (dir, "out.json", NULL);
  g_autoptr(GError) error = NULL;

  for (int round_ = 0; round_ < 3; round_++)
    {
      g_autoptr(WkpLandmarkTrack) t = round_ == 2 ? wkp_landmark_track_new (0, WKP_RATIONAL (25, 1)) : make_track (9);
      g_autofree char *want_csv = NULL, *want_json = NULL;

      if (round_ == 0)
        {
          const float special[] = { -0.0004f, 0.0f, 1e20f, -3e30f, 123456.789f, 1e-7f, 2.0f, -7.5f, 0.0005f,
                                    INFINITY, NAN, -INFINITY, 3.4e38f };
          for (guint i = 0; i < G_N_ELEMENTS (special); i++)
            t->points[N2 + i] = special[i];
          t->status[4] = 7;   /* out of range: "invalid" */
          g_free (t->source);
          t->source = g_strdup ("caf\xc3\xa9 \"quoted\"\\path\t/x\x01\n.mp4");
        }
      else if (round_ == 1)
        {
          g_clear_pointer (&t->source, g_free);
          t->fps = WKP_RATIONAL (0, 0);   /* exported at the default 25 */
          t->width = t->height = 0;
        }
      want_csv = csv_as_before (t);
      want_json = json_as_before (t);
      g_assert_true (wkp_landmark_track_export_csv (t, csv, &error));
      g_assert_no_error (error);
      g_assert_true (wkp_landmark_track_export_json (t, json, &error));
      g_assert_no_error (error);
      assert_file_is (csv, want_csv);
      assert_file_is (json, want_json);
      if (round_ == 0)
        {
          g_assert_nonnull (strstr (want_json, "e+20,"));
          g_assert_nonnull (strstr (want_json, "[2.0,-7.5]"));
          g_assert_nonnull (strstr (want_json, "[-0.0,0.0]"));
          g_assert_nonnull (strstr (want_json, "[null,null]"));
        }
    }
}

/* Memory of an export does not grow with the track: it used to hold the
 * whole document (12 times the JSON file as a json-glib tree, 1.5 times the
 * CSV file as one string). Measured as the rise of the peak resident set. */
static void
test_export_memory (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpLandmarkTrack) t = make_track (6000);

  for (int k = 0; k < 2; k++)
    {
      g_autofree char *path = g_build_filename (dir, k == 0 ? "big.json" : "big.csv", NULL);
      gint64 before = wkp_test_peak_reset (), peak;
      GStatBuf st;

      if (before < 0)
        {
          g_test_skip ("no /proc/self/clear_refs to measure the peak resident set");
          return;
        }
      g_assert_true (k == 0 ? wkp_landmark_track_export_json (t, path, &error)
                            : wkp_landmark_track_export_csv (t, path, &error));
      g_assert_no_error (error);
      peak = wkp_test_peak_rss ();
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_size, >, 5000000);
      g_test_message ("%s: %" G_GINT64_FORMAT " bytes, peak rose by %" G_GINT64_FORMAT " bytes", path,
                      (gint64) st.st_size, peak - before);
      g_assert_cmpint (peak - before, <, st.st_size / 4);
    }
}

static void
test_malformed (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autoptr(GError) error = NULL;

  /* missing file, a folder */
  {
    g_autofree char *p = g_build_filename (dir, "nothing.npy", NULL);
    expect_load_error (p, "no such");
    expect_load_error (dir, "folder");
  }
  /* wrong shape, wrong dtype */
  {
    g_autofree char *p = g_build_filename (dir, "shape.npy", NULL);
    gint64 shape[3] = { 3, 67, 2 };
    float data[3 * 67 * 2] = { 0 };
    g_assert_true (wkp_npy_save (p, WKP_DTYPE_F32, 3, shape, data, &error));
    expect_load_error (p, "[3, 67, 2]");
    g_autofree char *q = g_build_filename (dir, "dtype.npy", NULL);
    gint32 idata[3 * 68 * 2] = { 0 };
    gint64 shape2[3] = { 3, 68, 2 };
    g_assert_true (wkp_npy_save (q, WKP_DTYPE_I32, 3, shape2, idata, &error));
    expect_load_error (q, "float32");
  }
  /* truncated .npy: header promises more than the file holds */
  {
    g_autofree char *p = g_build_filename (dir, "trunc.npy", NULL);
    gint64 shape[3] = { 10, 68, 2 };
    g_autofree float *data = g_new0 (float, 10 * N2);
    g_autoptr(GBytes) b = wkp_npy_encode (WKP_DTYPE_F32, 3, shape, data);
    gsize len;
    const guint8 *raw = g_bytes_get_data (b, &len);
    g_assert_true (g_file_set_contents (p, (const char *) raw, (gssize) len - 100, NULL));
    expect_load_error (p, NULL);
    /* and a file that is not .npy at all */
    g_autofree char *q = g_build_filename (dir, "text.npy", NULL);
    write_text (q, "hello");
    expect_load_error (q, NULL);
  }
  /* our format with a bad status file */
  {
    g_autofree char *p = g_build_filename (dir, "ours.npy", NULL);
    g_autofree char *s = g_build_filename (dir, "ours.status.npy", NULL);
    g_autoptr(WkpLandmarkTrack) t = make_track (4);
    g_assert_true (wkp_landmark_track_save (t, p, &error));
    guint8 bad[4] = { 1, 7, 1, 1 };
    gint64 shape[1] = { 4 };
    g_assert_true (wkp_npy_save (s, WKP_DTYPE_U8, 1, shape, bad, &error));
    expect_load_error (p, "status 7");
    gint64 shape3[1] = { 3 };
    g_assert_true (wkp_npy_save (s, WKP_DTYPE_U8, 1, shape3, bad, &error));
    expect_load_error (p, NULL);
    g_assert_cmpint (g_unlink (s), ==, 0);
    expect_load_error (p, "status file");
  }
  /* CSV: a header and no rows */
  {
    g_autofree char *p = g_build_filename (dir, "header-only.csv", NULL);
    g_autofree char *h = csv_header (',');
    write_text (p, h);
    expect_load_error (p, "no data rows");
  }
  /* CSV: text in numbers */
  {
    g_autofree char *p = g_build_filename (dir, "text.csv", NULL);
    g_autofree char *h = csv_header (',');
    g_autofree char *r = csv_row (',', "12.5");
    g_autofree char *bad = g_strdup (r);
    char *at = strstr (bad, "12.5");
    memcpy (at, "ab.c", 4);
    bad[0] = '2';
    g_autofree char *all = g_strconcat (h, r, bad, NULL);
    write_text (p, all);
    expect_load_error (p, "line 3");
    expect_load_error (p, "“ab.c” is not a number");
  }
  /* CSV: coordinates beyond a million pixels are refused, as in a .npy (1e300
   * became infinity, read as "no face" in every frame, exit 0) */
  {
    g_autofree char *p = g_build_filename (dir, "huge.csv", NULL);
    g_autofree char *h = csv_header (',');
    g_autofree char *r = csv_row (',', "1e300");
    g_autofree char *all = g_strconcat (h, r, NULL);
    write_text (p, all);
    expect_load_error (p, "beyond a million pixels");
  }
  /* CSV written in a decimal-comma locale: ; separated, 12,5 */
  {
    g_autofree char *p = g_build_filename (dir, "comma.csv", NULL);
    g_autofree char *h = csv_header (';');
    g_autofree char *r = csv_row (';', "12,5");
    g_autofree char *all = g_strconcat (h, r, NULL);
    write_text (p, all);
    expect_load_error (p, "decimal comma");
    /* or , separated: too many fields */
    g_autofree char *q = g_build_filename (dir, "comma2.csv", NULL);
    g_autofree char *h2 = csv_header (',');
    g_autofree char *r2 = csv_row (',', "12,5");
    g_autofree char *all2 = g_strconcat (h2, r2, NULL);
    write_text (q, all2);
    expect_load_error (q, "decimal comma");
  }
  /* CSV without the landmark columns, empty CSV, binary junk */
  {
    g_autofree char *p = g_build_filename (dir, "cols.csv", NULL);
    write_text (p, "frame,x_0,y_0\n1,2,3\n");
    expect_load_error (p, "x_1");
    g_autofree char *q = g_build_filename (dir, "empty.csv", NULL);
    write_text (q, "");
    expect_load_error (q, "empty");
    g_autofree char *z = g_build_filename (dir, "junk.csv", NULL);
    g_assert_true (g_file_set_contents (z, "\x00\xff\xfe", 3, NULL));
    expect_load_error (z, NULL);
  }
  /* CSV frames going backwards */
  {
    g_autofree char *p = g_build_filename (dir, "order.csv", NULL);
    g_autofree char *h = csv_header (',');
    g_autofree char *r = csv_row (',', "1");
    g_autofree char *r0 = g_strdup (r);
    r0[0] = '0';
    g_autofree char *all = g_strconcat (h, r, r0, NULL);
    write_text (p, all);
    expect_load_error (p, "increase");
  }
  /* a jump to frame 3,000,000 used to write a 1.6 GB array of missing frames */
  {
    g_autofree char *p = g_build_filename (dir, "jump.csv", NULL);
    g_autofree char *h = csv_header (',');
    g_autofree char *r = csv_row (',', "5");   /* frame 1, every coordinate 5 */
    g_autofree char *all = g_strconcat (h, "0", r + 1, "3000000", r + 1, NULL);
    write_text (p, all);
    expect_load_error (p, "frame 3000000 is 3000000 frames after the first; a file may span at most 1296000 frames");
  }
  /* JSON that is not ours */
  {
    g_autofree char *p = g_build_filename (dir, "other.json", NULL);
    write_text (p, "{\"format\": 5, \"frames\": []}");
    expect_load_error (p, NULL);
    g_autofree char *q = g_build_filename (dir, "broken.json", NULL);
    write_text (q, "{\"format\": \"wav2kp-landmarks-json\", \"frames\": [");
    expect_load_error (q, NULL);
    g_autofree char *r = g_build_filename (dir, "format-array.json", NULL);
    write_text (r, "{\"format\": [1], \"frames\": []}");
    expect_load_error (r, "not a landmark JSON file");
  }
  /* our JSON with a coordinate that is not a number (found by fuzzing: a
   * null used to pass as 0 with a json-glib critical); tests make criticals
   * fatal, so reaching the error is the check */
  {
    const char *bad[] = { "null", "true", "\"7\"", "[1]", "{}" };
    for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
      {
        g_autofree char *p = g_strdup_printf ("%s/coord%u.json", dir, k);
        g_autoptr(GString) text = g_string_new ("{\"format\": \"wav2kp-landmarks-json\", \"frames\": [{\"points\": [");
        for (int i = 0; i < WKP_N_LANDMARKS; i++)
          g_string_append_printf (text, "%s[%s, 2.5]", i ? ", " : "", i == 40 ? bad[k] : "1.5");
        g_string_append (text, "]}]}");
        write_text (p, text->str);
        expect_load_error (p, "frame 0, point 40 is not a pair of numbers");
      }
  }
  /* a status that is none of ours (an audit found "bogus" read as detected),
   * one that is not a string, and "missing" with points (no face) */
  {
    g_autofree char *p = g_build_filename (dir, "status.json", NULL);
    g_autoptr(GString) pts = g_string_new ("\"points\": [");
    g_autofree char *bogus = NULL, *number = NULL, *two = NULL;
    for (int i = 0; i < WKP_N_LANDMARKS; i++)
      g_string_append_printf (pts, "%s[%d, %d]", i ? ", " : "", 100 + i, 50 + 2 * i);
    g_string_append_c (pts, ']');
    bogus = g_strdup_printf ("{\"format\": \"wav2kp-landmarks-json\", \"frames\": [{%s, \"status\": \"bogus\"}]}",
                             pts->str);
    number = g_strdup_printf ("{\"format\": \"wav2kp-landmarks-json\", \"frames\": [{%s, \"status\": 0}]}", pts->str);
    two = g_strdup_printf ("{\"format\": \"wav2kp-landmarks-json\", \"frames\": [{%s, \"status\": \"missing\"}, "
                           "{%s, \"status\": \"tracked\"}]}", pts->str, pts->str);
    write_text (p, bogus);
    expect_load_error (p, "frame 0 has status “bogus” (detected, tracked or missing expected)");
    write_text (p, number);
    expect_load_error (p, "frame 0 has status “not a string”");
    write_text (p, two);
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_load (p, WKP_RATIONAL (25, 1), &local);
      g_assert_no_error (local);
      g_assert_cmpint (t->n_frames, ==, 2);
      g_assert_cmpint (t->status[0], ==, WKP_FACE_MISSING);
      g_assert_true (isnan (t->points[0]));
      g_assert_cmpint (t->status[1], ==, WKP_FACE_TRACKED);
    }
  }
  /* our sidecar with a size that is not an integer */
  {
    g_autofree char *p = g_build_filename (dir, "sized.npy", NULL);
    g_autofree char *j = g_build_filename (dir, "sized.json", NULL);
    g_autoptr(WkpLandmarkTrack) t = make_track (3);
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    JsonArray *a = json_array_new ();
    g_assert_true (wkp_landmark_track_save (t, p, &error));
    root = wkp_json_load_file (j, &error);
    g_assert_no_error (error);
    json_array_add_int_element (a, 2);
    json_object_set_array_member (json_node_get_object (root), "width", a);
    text = wkp_json_to_string (root, TRUE);
    write_text (j, text);
    expect_load_error (p, "“width” is not a size in pixels");
  }
}

/* A failed save leaves nothing behind and never touches an existing output. */
static void
test_save_safety (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autoptr(WkpLandmarkTrack) t = make_track (3);
  g_autoptr(GError) error = NULL;

  g_autofree char *nodir = g_build_filename (dir, "missing", "x.npy", NULL);
  g_assert_false (wkp_landmark_track_save (t, nodir, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_autofree char *noext = g_build_filename (dir, "x.dat", NULL);
  g_assert_false (wkp_landmark_track_save (t, noext, &error));
  g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (g_file_test (noext, G_FILE_TEST_EXISTS));

  /* the sidecar's place is a folder: fails before writing anything */
  g_autofree char *p = g_build_filename (dir, "y.npy", NULL);
  g_autofree char *side = g_build_filename (dir, "y.json", NULL);
  write_text (p, "old");
  g_assert_cmpint (g_mkdir (side, 0755), ==, 0);
  g_assert_false (wkp_landmark_track_save (t, p, &error));
  g_assert_nonnull (error);
  g_autofree char *content = NULL;
  g_assert_true (g_file_get_contents (p, &content, NULL, NULL));
  g_assert_cmpstr (content, ==, "old");
  /* no temporaries left */
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  int n = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    n++;
  g_dir_close (d);
  g_assert_cmpint (n, ==, 2);
}

static void
test_smooth (void)
{
  g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_new (30, WKP_RATIONAL (25, 1));
  /* a straight line plus alternating noise: SG(5,2) keeps lines exactly */
  for (int f = 0; f < 30; f++)
    {
      t->status[f] = f == 14 ? WKP_FACE_MISSING : WKP_FACE_DETECTED;
      for (int i = 0; i < N2; i++)
        t->points[f * N2 + i] = f == 14 ? NAN : (float) (100 + 2 * f + i + ((f & 1) ? 1.0 : -1.0));
    }
  g_autoptr(WkpLandmarkTrack) s = wkp_landmark_track_copy (t);
  wkp_landmark_track_smooth (s);
  for (int f = 0; f < 30; f++)
    {
      gboolean near_gap = f <= 1 || f >= 28 || (f >= 12 && f <= 16);
      for (int i = 0; i < N2; i++)
        {
          float v = s->points[f * N2 + i], o = t->points[f * N2 + i];
          if (f == 14)
            g_assert_true (isnan (v));
          else if (near_gap)
            g_assert_cmpfloat (v, ==, o);   /* windows never cross a gap */
          else
            {
              /* alternating +-1 noise through (-3, 12, 17, 12, -3) / 35:
               * s * (-3 - 12 + 17 - 12 - 3) / 35 = -13/35 s; the line passes */
              double noise = (f & 1) ? 1.0 : -1.0;
              double expect = 100 + 2 * f + i - noise * 13.0 / 35.0;
              g_assert_cmpfloat_with_epsilon (v, expect, 1e-3);
            }
        }
    }
}

/* A track fits a video: same frame count and pixel coordinates of faces in
 * the frame; a track of another length, normalised points (eyes 1 unit
 * apart) and faces off the frame are refused with the file named. */
static void
test_check_fits (void)
{
  g_autoptr(WkpLandmarkTrack) t = wkp_landmark_track_new (10, WKP_RATIONAL (25, 1));
  g_autoptr(GError) error = NULL;

  for (gint64 f = 0; f < 10; f++)
    {
      for (int i = 0; i < 68; i++)
        {
          t->points[f * N2 + 2 * i] = 100.0f + (i % 9) * 10.0f;
          t->points[f * N2 + 2 * i + 1] = 80.0f + (i / 9) * 12.0f;
        }
      t->status[f] = WKP_FACE_DETECTED;
    }
  g_assert_true (wkp_landmark_track_check_fits (t, "a.npy", 10, 360, 288, &error));
  g_assert_no_error (error);
  /* size unknown (audio-only render): only the length is checked */
  g_assert_true (wkp_landmark_track_check_fits (t, "a.npy", 10, 0, 0, &error));

  g_assert_false (wkp_landmark_track_check_fits (t, "a.npy", 11, 360, 288, &error));
  g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "a.npy: has 10 frames, the video has 11"));
  g_clear_error (&error);

  /* the same face 20 px to the left of a 100 px wide frame... */
  g_assert_false (wkp_landmark_track_check_fits (t, "b.npy", 10, 100, 60, &error));
  g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "b.npy: the faces lie outside the video's 100x60 frame"));
  g_clear_error (&error);

  /* ...and normalised points (eyes one unit apart) in half the frames: still refused;
   * in fewer than half (a few bad fits): accepted */
  for (gint64 f = 0; f < 5; f++)
    for (int i = 0; i < N2; i++)
      t->points[f * N2 + i] *= 0.01f;
  g_assert_false (wkp_landmark_track_check_fits (t, "c.npy", 10, 360, 288, &error));
  g_assert_nonnull (strstr (error->message, "in 5 of 10 frames"));
  g_clear_error (&error);
  for (int i = 0; i < N2; i++)
    t->points[4 * N2 + i] *= 100.0f;
  g_assert_true (wkp_landmark_track_check_fits (t, "c.npy", 10, 360, 288, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/landmark-io/track-basics", test_track_basics);
  g_test_add_func ("/landmark-io/roundtrip-ours", test_roundtrip_ours);
  g_test_add_func ("/landmark-io/import-face-alignment", test_import_face_alignment);
  g_test_add_func ("/landmark-io/import-openface", test_import_openface);
  g_test_add_func ("/landmark-io/export", test_export);
  g_test_add_func ("/landmark-io/export-as-before", test_export_as_before);
  g_test_add_func ("/landmark-io/export-memory", test_export_memory);
  g_test_add_func ("/landmark-io/malformed", test_malformed);
  g_test_add_func ("/landmark-io/save-safety", test_save_safety);
  g_test_add_func ("/landmark-io/smooth", test_smooth);
  g_test_add_func ("/landmark-io/check-fits", test_check_fits);
  return g_test_run ();
}
